"""Run a job module as a Faust worker in a child process (used by the CLI, the demo and tests)."""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

JOBS = {
    "rides-vendor-count": "streams_app.jobs.rides_vendor_count",
    "pulocation-count": "streams_app.jobs.pulocation_count",
    "rides-windowed-count": "streams_app.jobs.rides_windowed_count",
    "rides-zone-join": "streams_app.jobs.rides_zone_join",
    "rides-price-branch": "streams_app.jobs.rides_price_branch",
    "rides-all": "streams_app.jobs.rides_all",
}
#: One line per job, for `streams-app jobs` (listing a job needs no import of its module).
JOB_DESCRIPTIONS = {
    "rides-vendor-count": "rides per vendor; rides split by amount; bad rides to dead letters",
    "pulocation-count": "rides per pick-up location, re-keyed through a repartition topic",
    "rides-windowed-count": "rides per PULocationID in 10-minute tumbling windows of the "
                            "pick-up time (seed's JsonKStreamWindow)",
    "rides-zone-join": "rides joined with the taxi zones (GlobalKTable), counted per borough "
                       "(seed's JsonKStreamJoins)",
    "rides-price-branch": "rides split by price into rides-price-high (>= $40) / "
                          "rides-price-low (Faust example)",
    "rides-all": "rides, rides-green and rides-fhv merged into rides-all (Faust example)",
}

_PR_SET_PDEATHSIG = 1
# STREAMS_LOG_LEVEL's names that `faust worker -l` spells differently (it refuses "warning").
_FAUST_LEVELS = {"warning": "warn", "critical": "crit"}


def _die_with_parent() -> None:
    # The worker must not outlive whoever started it (a failed test, a Ctrl-C'd demo).
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except OSError:
        pass


def job_module(name: str) -> str:
    """The module of a job given by name (or a module path, passed through)."""
    if name in JOBS:
        return JOBS[name]
    if "." in name:
        return name
    raise ValueError(f"unknown job {name!r}; known jobs: {', '.join(sorted(JOBS))}")


def worker_argv(module: str, loglevel: str = "warn", extra: list[str] | None = None,
                env: Mapping[str, str] | None = None) -> list[str]:
    """The ``faust -A module worker`` command line, run by this interpreter through
    :mod:`streams_app.jobs.worker` (a bad setting fails first, in one line).

    The same command an operator types: Faust's web server stays off either way (see
    ``streams_app.app``), the worker's endpoints follow ``STREAMS_WEB_ENABLED``. With
    ``STREAMS_LOG_FORMAT=json`` in ``env`` (default: this process's), ``--quiet`` keeps
    Faust's start-up banner off stdout: every line is then a JSON log line."""
    env = os.environ if env is None else env
    quiet = ["--quiet"] if env.get("STREAMS_LOG_FORMAT", "").strip().lower() == "json" else []
    return [sys.executable, "-m", "streams_app.jobs.worker", "-A", module, *quiet, "worker",
            "-l", _FAUST_LEVELS.get(loglevel, loglevel), *(extra or [])]


class JobProcess:
    """A Faust worker child process for one job; ``stop()`` ends it, ``kill()`` SIGKILLs it."""

    def __init__(self, job: str, env: Mapping[str, str] | None = None, *,
                 log_path: Path | None = None, loglevel: str = "warn") -> None:
        self.module = job_module(job)
        self.env = {**os.environ, **(env or {})}
        self.log_path = log_path
        self.loglevel = loglevel
        self.proc: subprocess.Popen | None = None

    def start(self) -> JobProcess:
        """Start the worker; output goes to ``log_path`` (appended) or is inherited."""
        out = open(self.log_path, "ab") if self.log_path else None  # noqa: SIM115
        self.proc = subprocess.Popen(
            worker_argv(self.module, self.loglevel, env=self.env), env=self.env, stdout=out,
            stderr=subprocess.STDOUT if out else None, stdin=subprocess.DEVNULL,
            preexec_fn=_die_with_parent,
        )
        if out:
            out.close()
        return self

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout: float = 20.0) -> int | None:
        """SIGTERM (Faust shuts down cleanly, committing), then SIGKILL after ``timeout``."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode

    def kill(self) -> None:
        """SIGKILL: a crash with no chance to commit or flush."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def log_tail(self, lines: int = 40) -> str:
        if not self.log_path or not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def __enter__(self) -> JobProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
