"""The dashboard's live status: one JSON snapshot per tick, shared by every client.

Read from what the metrics scrape reads (:class:`~streams_app.runtime.metrics.RuntimeView`:
lag, restore, tasks, dropped records, readiness), the per-task processed counters and the
error handlers' ring of recent dead letters. A snapshot is built at most once per ``tick_s``
however many tabs poll or listen; between ticks they get the same bytes, so an open
dashboard costs the worker one small dict walk a second.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from streams_app.errors import DeadLetterNote
from streams_app.runtime.metrics import StreamsMetrics

__all__ = ["StatusFeed", "StatusSource"]

#: Dead letters a snapshot lists (newest first).
SHOWN_DEAD_LETTERS = 20


@dataclass
class StatusSource:
    """What a snapshot reads: the worker's metrics (with their runtime view), the input topic
    -> sub-topology map (tasks are ``<sub-topology>_<partition>``) and the dead-letter ring."""

    app_id: str
    metrics: StreamsMetrics
    subtopology_of: Mapping[str, int]
    dead_letters: Callable[[], Sequence[DeadLetterNote]]
    dropped_topic: str


class StatusFeed:
    """Builds and caches the snapshot; :meth:`current` is all a request handler calls."""

    def __init__(self, source: StatusSource, tick_s: float = 1.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.source, self.tick_s, self.clock = source, tick_s, clock
        self._at = float("-inf")
        self._bytes = b"{}"
        self._previous: tuple[float, dict[str, int]] | None = None
        self.built = 0  # snapshots built so far (tests: shared, not one per client)

    def due_in(self) -> float:
        """Seconds until the next snapshot is due."""
        return max(0.0, self._at + self.tick_s - self.clock())

    def current(self) -> bytes:
        """The snapshot's JSON, rebuilt when older than a tick."""
        now = self.clock()
        if now - self._at >= self.tick_s:
            self._bytes = orjson.dumps(self._build(now))
            self._at = now
            self.built += 1
        return self._bytes

    def _rates(self, now: float, processed: dict[str, int]) -> dict[str, float]:
        rates: dict[str, float] = {}
        if self._previous is not None:
            then, before = self._previous
            if now > then:
                rates = {t: max(0, n - before.get(t, 0)) / (now - then)
                         for t, n in processed.items()}
        self._previous = (now, processed)
        return rates

    def _build(self, now: float) -> dict[str, Any]:
        src = self.source
        view, metrics = src.metrics.view, src.metrics
        processed = {tid: meter.processed_count for tid, meter in metrics.meters.items()}
        rates = self._rates(now, processed)
        tasks: dict[str, dict[str, Any]] = {
            tid: {"id": tid, "lag": None, "partitions": []} for tid in view.tasks()}
        for (topic, partition), behind in sorted(view.lag().items()):
            sub = src.subtopology_of.get(topic)
            if sub is None:
                continue
            task = tasks.setdefault(f"{sub}_{partition}",
                                    {"id": f"{sub}_{partition}", "lag": None,
                                     "partitions": []})
            task["lag"] = (task["lag"] or 0) + behind  # None: no fetch answered yet
            task["partitions"].append({"topic": topic, "partition": partition, "lag": behind})
        for tid, task in tasks.items():
            task["processed"] = processed.get(tid, 0)
            task["rate"] = round(rates.get(tid, 0.0), 1)
        restore = [{"store": store, **p, "seconds": None if p["seconds"] is None
                    else round(p["seconds"], 2)}
                   for store, p in metrics.restore_progress(view.restore()).items()]
        dropped: dict[str, dict[str, int]] = {}
        for (reason, kind), n in view.dropped().items():
            dropped.setdefault(reason, {})[kind] = n
        known = [t["lag"] for t in tasks.values() if t["lag"] is not None]
        notes = list(src.dead_letters())[-SHOWN_DEAD_LETTERS:][::-1]
        return {
            "app_id": src.app_id, "time": time.time(), "ready": bool(view.ready()),
            "tasks": sorted(tasks.values(), key=lambda t: t["id"]),
            "lag": None if not known else sum(known),
            "process_rate": round(sum(rates.values()), 1),
            "processed": sum(processed.values()),
            "restore": restore, "dropped": dropped, "dead_letter_topic": src.dropped_topic,
            "dead_letters": [{"at": n.at, "kind": n.kind, "where": n.where, "error": n.error,
                              "message": n.message} for n in notes],
        }
