"""Client for the Kafka Streams oracle: builds it with Maven if needed, runs one JVM, and
exchanges scenarios and results as JSON lines (pipelined, so a batch costs one round trip)."""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

from conformance.scenarios import Scenario, for_oracle

ORACLE_DIR = Path(__file__).resolve().parent / "oracle"
BUILD_DIR = ORACLE_DIR.parent / "target" / "oracle"
CLASSPATH_FILE = BUILD_DIR / "classpath.txt"
LOG_FILE = ORACLE_DIR.parent / "target" / "oracle.log"
KAFKA_VERSION = "4.4.0"


class OracleError(RuntimeError):
    """The oracle could not be built or stopped answering."""


def _stale() -> bool:
    if not CLASSPATH_FILE.exists() or not (BUILD_DIR / "classes").exists():
        return True
    built = CLASSPATH_FILE.stat().st_mtime
    sources = [ORACLE_DIR / "pom.xml", *ORACLE_DIR.joinpath("src").rglob("*.java")]
    return any(p.stat().st_mtime > built for p in sources)


def ensure_built() -> None:
    """Compile the oracle (mvn compile) when its classes are missing or older than sources."""
    if not _stale():
        return
    mvn = shutil.which("mvn")
    if mvn is None:
        raise OracleError("the conformance oracle needs Maven ('mvn') on PATH to build")
    proc = subprocess.run(
        [mvn, "-q", "-B", "-f", str(ORACLE_DIR / "pom.xml"), "compile"],
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        raise OracleError(f"mvn compile of the oracle failed:\n{proc.stdout}\n{proc.stderr}")
    CLASSPATH_FILE.touch()  # dependency:build-classpath may leave an old mtime


class Oracle:
    """One long-lived oracle JVM. Use as a context manager, or call close()."""

    def __init__(self, java: str = "java") -> None:
        ensure_built()
        cp = f"{BUILD_DIR / 'classes'}:{CLASSPATH_FILE.read_text().strip()}"
        LOG_FILE.parent.mkdir(parents=True, exist_ok=True)
        self._log = LOG_FILE.open("ab")
        self._proc = subprocess.Popen(
            [java, "-XX:+UseSerialGC", "-Xss4m", "-cp", cp, "conformance.Oracle"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
        )
        self._lock = threading.Lock()

    def run_many(self, scenarios: Iterable[Scenario]) -> list[dict[str, Any]]:
        """Results for ``scenarios``, in order (each a dict with outputs/stores or error)."""
        lines = [json.dumps(for_oracle(s)).encode() + b"\n" for s in scenarios]
        with self._lock:
            stdin, stdout = self._pipes()
            # A writer thread keeps both pipes moving: a large batch would otherwise fill
            # the JVM's stdout while we are still writing its stdin.
            writer = threading.Thread(target=self._write, args=(stdin, lines), daemon=True)
            writer.start()
            results = []
            for _ in lines:
                raw = stdout.readline()
                if not raw:
                    raise OracleError(f"the oracle exited (code {self._proc.poll()}); "
                                      f"see {LOG_FILE}")
                results.append(json.loads(raw))
            writer.join()
        return results

    def run(self, scenario: Scenario) -> dict[str, Any]:
        """The result for one scenario."""
        return self.run_many([scenario])[0]

    def _pipes(self) -> tuple[IO[bytes], IO[bytes]]:
        if self._proc.stdin is None or self._proc.stdout is None or self._proc.poll() is not None:
            raise OracleError(f"the oracle is not running; see {LOG_FILE}")
        return self._proc.stdin, self._proc.stdout

    @staticmethod
    def _write(stdin: IO[bytes], lines: list[bytes]) -> None:
        try:
            for line in lines:
                stdin.write(line)
            stdin.flush()
        except BrokenPipeError:
            pass  # the reader reports the exit

    def close(self) -> None:
        """Stop the JVM (closing stdin ends its loop) and wait for it."""
        if self._proc.stdin:
            self._proc.stdin.close()
        try:
            self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        if self._proc.stdout:
            self._proc.stdout.close()
        self._log.close()

    def __enter__(self) -> Oracle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
