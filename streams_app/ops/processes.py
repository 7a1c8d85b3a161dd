"""``streams-app job NAME --processes N``: N worker processes of one job on one machine.

The workers share the job's application id, so they form one consumer group and split the
input partitions between them (as Kafka Streams instances do). Each gets its own data dir
(``<data_dir>/p<i>``: RocksDB stores, the transactional id and the clean-shutdown marker are
per worker) and, with the web server on, its own port (``web_port + i``). Their output is
relayed line by line with the worker's name in front. SIGTERM/SIGINT go to every worker; the
supervisor waits for them (the shutdown timeout plus a margin), kills what is left, and exits
non-zero if any worker failed. A worker that dies on its own is reported; the others keep
running (the group gives them its partitions).
"""

from __future__ import annotations

import contextlib
import ctypes
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from streams_app.settings import ConfigError, Settings, env_name

__all__ = ["Supervisor", "Worker", "create_data_dirs", "stop_timeout_s", "worker_envs"]

#: Time past the workers' own shutdown timeout for interpreter and client teardown.
STOP_MARGIN_S = 5.0
_PR_SET_PDEATHSIG = 1


def worker_envs(settings: Settings, n: int, env: Mapping[str, str]) -> list[dict[str, str]]:
    """The environment of each of ``n`` workers: ``env`` with its own data dir and web port."""
    if n < 1:
        raise ValueError(f"--processes must be at least 1, got {n}")
    last_port = settings.web_port + n - 1
    if settings.web_enabled and last_port > 65535:
        raise ConfigError(f"{env_name('web_port')} (web_port): {n} processes need ports "
                          f"{settings.web_port}..{last_port}, past 65535")
    envs = []
    for i in range(n):
        child = {**env, env_name("data_dir"): str(settings.data_dir / f"p{i}")}
        if settings.web_enabled:
            child[env_name("web_port")] = str(settings.web_port + i)
        envs.append(child)
    return envs


def create_data_dirs(envs: Sequence[Mapping[str, str]]) -> None:
    """Create each worker's data dir (Faust creates only the last level of its own)."""
    for env in envs:
        Path(env[env_name("data_dir")]).mkdir(parents=True, exist_ok=True)


def prefixed(name: str, line: str, json_logs: bool) -> str:
    """``line`` marked as ``name``'s: a ``process`` field in a JSON log line, else a prefix."""
    if json_logs and line.startswith("{") and line.rstrip().endswith("}"):
        rest = line[1:].lstrip()
        sep = "" if rest.startswith("}") else ", "
        return f'{{"process": "{name}"{sep}{rest}'
    return f"{name} | {line}"


def _die_with_parent() -> None:
    # A SIGKILLed supervisor must not leave its workers consuming in the background.
    with contextlib.suppress(OSError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


@dataclass
class Worker:
    """One worker process and its output relay."""

    name: str
    proc: subprocess.Popen
    relay: threading.Thread
    reported: bool = False


class Supervisor:
    """Starts the workers, relays their output, forwards stop signals, reports exits."""

    def __init__(self, argv: Sequence[str], envs: Sequence[Mapping[str, str]], *,
                 stop_timeout_s: float, json_logs: bool = False,
                 out: IO[str] | None = None, err: IO[str] | None = None) -> None:
        self.argv = list(argv)
        self.envs = [dict(e) for e in envs]
        self.stop_timeout_s = stop_timeout_s
        self.json_logs = json_logs
        self.out = out or sys.stdout
        self.err = err or sys.stderr
        self.workers: list[Worker] = []
        # Reentrant: the signal handler reports from the main thread, which may hold it already.
        self._lock = threading.RLock()
        self._stop_signal: int | None = None
        self._stop_deadline = 0.0

    def run(self) -> int:
        """Run until every worker has exited; 0 only if each exited with 0."""
        previous = {s: signal.signal(s, self._on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
        try:
            for i, env in enumerate(self.envs):
                self._start(f"p{i}", env)
            self._report(f"started {len(self.workers)} workers: " + ", ".join(
                f"{w.name} (pid {w.proc.pid})" for w in self.workers))
            while any(w.proc.poll() is None for w in self.workers):
                self._check_exits()
                if self._stop_signal is not None and time.monotonic() > self._stop_deadline:
                    self._kill_rest()
                time.sleep(0.1)  # polling the children: their exits arrive as no event here
            self._check_exits()
        finally:
            for w in self.workers:
                if w.proc.poll() is None:  # an exception in here: leave nothing behind
                    w.proc.kill()
                    w.proc.wait()
                w.relay.join(timeout=5)
            for s, handler in previous.items():
                signal.signal(s, handler)
        failed = [w for w in self.workers if w.proc.returncode != 0]
        return 1 if failed else 0

    def _start(self, name: str, env: Mapping[str, str]) -> None:
        # Own process group: a terminal's Ctrl-C reaches the supervisor only, which forwards it
        # once (a second SIGINT would make a worker skip its clean shutdown).
        proc = subprocess.Popen(self.argv, env=env, stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                process_group=0, preexec_fn=_die_with_parent)
        relay = threading.Thread(target=self._relay, args=(name, proc), daemon=True,
                                 name=f"relay-{name}")
        relay.start()
        self.workers.append(Worker(name, proc, relay))

    def _relay(self, name: str, proc: subprocess.Popen) -> None:
        assert proc.stdout is not None
        for raw in proc.stdout:
            line = raw.decode(errors="replace")
            with self._lock:
                self.out.write(prefixed(name, line if line.endswith("\n") else line + "\n",
                                        self.json_logs))
                self.out.flush()

    def _on_signal(self, signum: int, _frame: object) -> None:
        if self._stop_signal is None:
            self._stop_signal = signum
            self._stop_deadline = time.monotonic() + self.stop_timeout_s
            self._report(f"{signal.Signals(signum).name}: stopping {self._alive_names()}")
        for w in self.workers:
            if w.proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    w.proc.send_signal(signum)

    def _check_exits(self) -> None:
        for w in self.workers:
            code = w.proc.poll()
            if code is None or w.reported:
                continue
            w.reported = True
            how = (f"killed by {signal.Signals(-code).name}" if code < 0
                   else f"exited with code {code}")
            when = "" if self._stop_signal is not None else " unexpectedly"
            left = self._alive_names()
            self._report(f"{w.name} (pid {w.proc.pid}) {how}{when}; "
                         f"{'still running: ' + left if left else 'none left running'}")

    def _kill_rest(self) -> None:
        for w in self.workers:
            if w.proc.poll() is None:
                self._report(f"{w.name} (pid {w.proc.pid}) still running "
                             f"{self.stop_timeout_s:.0f} s after the stop signal: SIGKILL")
                w.proc.kill()

    def _alive_names(self) -> str:
        return ", ".join(w.name for w in self.workers if w.proc.poll() is None)

    def _report(self, message: str) -> None:
        with self._lock:
            self.err.write(f"streams-app job: {message}\n")
            self.err.flush()


def stop_timeout_s(settings: Settings) -> float:
    """How long the supervisor waits after a stop signal before it kills the workers."""
    return settings.shutdown_timeout_ms / 1000 + STOP_MARGIN_S
