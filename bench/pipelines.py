"""The four pipelines: result-key formats, expected results and plain-dict aggregators.

Every pipeline reduces to counts, so every contestant reports ``{result_key: count}`` and the
counts always sum to the records processed (the harness's completion and correctness check):

* ``count``           key ``"<zone>"``                           rides per PULocationID
* ``windowed_count``  key ``"<zone>@<window start ms>"``         1-minute tumbling windows
* ``zone_join``       key ``"<borough>"``                        rides joined with the zones
* ``session``         key ``"<zone>@<first ts ms>-<last ts ms>"`` 5-minute-gap sessions
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable

from bench.common import SESSION_GAP_MS, WINDOW_MS


def window_key(zone: object, ts_ms: int) -> str:
    """Result key of the tumbling window holding ``ts_ms``."""
    return f"{zone}@{ts_ms - ts_ms % WINDOW_MS}"


def session_key(zone: object, start_ms: int, end_ms: int) -> str:
    """Result key of a session spanning first to last event timestamp (inclusive)."""
    return f"{zone}@{start_ms}-{end_ms}"


def expected(pipeline: str, events: Iterable[tuple[int, int]], boroughs: dict[int, str]) -> dict:
    """Final results of ``pipeline`` over ``(zone, ts_ms)`` events, whatever their order."""
    if pipeline == "count":
        return {str(z): n for z, n in Counter(z for z, _ in events).items()}
    if pipeline == "windowed_count":
        return dict(Counter(window_key(z, ts) for z, ts in events))
    if pipeline == "zone_join":
        return dict(Counter(boroughs[z] for z, _ in events))
    if pipeline == "session":
        per_zone: dict[int, list[int]] = defaultdict(list)
        for z, ts in events:
            per_zone[z].append(ts)
        out: dict[str, int] = {}
        for z, stamps in per_zone.items():
            stamps.sort()
            start = prev = stamps[0]
            n = 0
            for ts in stamps:
                if ts - prev > SESSION_GAP_MS:
                    out[session_key(z, start, prev)] = n
                    start, n = ts, 0
                prev, n = ts, n + 1
            out[session_key(z, start, prev)] = n
        return out
    raise ValueError(f"unknown pipeline {pipeline!r}; choose from count, windowed_count, "
                     "zone_join, session")


class Sessions:
    """Incremental session windows per key with Kafka Streams' merge rule (gap inclusive)."""

    def __init__(self, gap_ms: int = SESSION_GAP_MS) -> None:
        self.gap = gap_ms
        self.by_key: dict[object, list[list[int]]] = defaultdict(list)  # [start, end, count]

    def add(self, key: object, ts: int) -> None:
        """Put one event into its session, merging every session within the gap of ``ts``.

        Live sessions are always more than a gap apart, so a merge never reaches further.
        """
        sessions = self.by_key[key]
        merged = [ts, ts, 1]
        keep = []
        for s in sessions:
            if s[0] - self.gap <= ts <= s[1] + self.gap:
                merged = [min(merged[0], s[0]), max(merged[1], s[1]), merged[2] + s[2]]
            else:
                keep.append(s)
        keep.append(merged)
        sessions[:] = keep

    def results(self) -> dict[str, int]:
        """``{session_key: count}`` of every live session."""
        return {session_key(k, s, e): n for k, ss in self.by_key.items() for s, e, n in ss}
