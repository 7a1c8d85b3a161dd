"""What the harness and every contestant share: run configuration, result record, helpers."""

from __future__ import annotations

import dataclasses
import json
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

PIPELINES = ("count", "windowed_count", "zone_join", "session")
CONTESTANTS = ("streams_app", "faust", "quixstreams", "aiokafka", "aiokafka_keys", "kafka_streams")

WINDOW_MS = 60_000  # windowed_count: 1-minute tumbling windows
SESSION_GAP_MS = 300_000  # session: 5-minute inactivity gap
GRACE_MS = 60_000  # both: the generator delays records by at most 30 s, so nothing is dropped


@dataclass
class RunConfig:
    """One contestant run: consume ``input_topic`` from the start under a fresh group id.

    ``mode`` is ``throughput`` (stop once the results cover ``n_records``) or ``latency``
    (the total arrives later on stdin, see ``TargetReader``).
    """

    bootstrap: str
    input_topic: str
    zones_topic: str
    pipeline: str
    n_records: int
    group_id: str
    out: str
    mode: str = "throughput"
    state_dir: str = ""

    def to_json(self) -> str:
        """Serialise for the child process command line."""
        return json.dumps(dataclasses.asdict(self))

    @classmethod
    def from_json(cls, text: str) -> RunConfig:
        """Inverse of ``to_json``."""
        return cls(**json.loads(text))


@dataclass
class RunResult:
    """What a contestant reports; times are wall-clock epoch seconds (same host as the harness).

    ``results`` maps a result key (see ``bench.pipelines``) to its final count.
    """

    status: str  # "ok" | "missing" | "error"
    t_start: float = 0.0  # consumer created / subscribe called
    t_first: float = 0.0  # first input record consumed
    t_done: float = 0.0  # results cover every input record and are committed
    records: int = 0
    peak_rss_mb: float = 0.0
    results: dict[str, int] = field(default_factory=dict)
    latencies_ms: list[float] = field(default_factory=list)
    detail: str = ""

    def write(self, path: str) -> None:
        """Write as JSON to ``path`` (atomically, so the harness never reads half a file)."""
        tmp = f"{path}.tmp"
        Path(tmp).write_text(json.dumps(dataclasses.asdict(self)))
        os.replace(tmp, path)

    @classmethod
    def read(cls, path: str) -> RunResult:
        """Load a result written by ``write``."""
        return cls(**json.loads(Path(path).read_text()))


class Missing(Exception):
    """Raised by a contestant that does not implement a pipeline (reported as "missing")."""


def peak_rss_mb() -> float:
    """This process's peak resident set size (VmHWM) in MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def announce_ready() -> None:
    """Tell the harness (latency mode) that the first record was consumed.

    Written to file descriptor 1 directly: workers such as Faust's redirect ``sys.stdout``
    into their logger.
    """
    os.write(1, b"READY\n")


class TargetReader:
    """The record total to wait for: known up front, or (latency mode) read from stdin.

    In latency mode the harness only knows the total after its timed producer finishes, so it
    writes it as one line on the child's stdin.
    """

    def __init__(self, cfg: RunConfig) -> None:
        self._total: int | None = cfg.n_records if cfg.mode == "throughput" else None
        if self._total is None:
            threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        # From descriptor 0 itself, whatever a framework did to ``sys.stdin``. No number (the
        # harness died) leaves the total unknown: the run never completes and is killed.
        with os.fdopen(os.dup(0)) as stdin:
            line = stdin.readline().strip()
        if line:
            self._total = int(line)

    @property
    def total(self) -> int | None:
        """The total, or None while it is not known yet."""
        return self._total

    def reached(self, processed: int) -> bool:
        """True once ``processed`` covers the total."""
        return self._total is not None and processed >= self._total


def latency_ms(ts_ms: int, t_ready: float, now: float | None = None) -> float | None:
    """End-to-end latency of a record created at ``ts_ms``; None for warm-up records."""
    if ts_ms < t_ready * 1000:
        return None
    return (time.time() if now is None else now) * 1000 - ts_ms
