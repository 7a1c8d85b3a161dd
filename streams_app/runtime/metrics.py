"""A worker's metrics: Kafka Streams' metric families in Prometheus style (``prometheus-client``).

Names follow Kafka Streams' metrics (``process-total`` -> ``streams_process_total``); the
full list is in README "Production". Counting is per batch, never per record: a batch handler
knows ``len(records)``, a record collector's send knows how many records it sends, and the
end-to-end latency is one sample per send (the last output record's timestamp to now).
Lag, restore progress, tasks, rebalances and dropped records are read when scraped (a
custom collector), so they cost nothing between scrapes.

Each runtime has its own :class:`~prometheus_client.CollectorRegistry` (several runtimes in one
process, e.g. tests, never clash); :meth:`StreamsMetrics.render` gives the exposition text.
"""

from __future__ import annotations

import collections
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from streams_app.runtime.checkpoint import Checkpoint, OffsetSource

__all__ = ["RuntimeView", "StreamsMetrics", "TaskMeter", "MeteredCheckpoint",
           "CONTENT_TYPE"]

# The *_created series double every family for no use here (process-wide setting).
disable_created_metrics()

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

#: Seconds: record timestamp to output (event time far behind shows in the last bucket).
E2E_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
               300.0, float("inf"))
COMMIT_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
                  10.0, float("inf"))
#: Kafka Streams' rates are windowed (30 s samples); process-rate here too.
RATE_WINDOW_S = 30.0


@dataclass
class RuntimeView:
    """What the scrape-time collector reads, as callables (the runtime's live state).

    ``lag()``: ``{(topic, partition): records behind the high watermark}`` for the input
    partitions this worker owns; ``restore()``: ``{store: {partition: remaining}}`` from the
    recovery; ``tasks()``: the active task ids; ``dropped()``: ``{(reason, kind): count}``;
    ``rebalances()``: rebalances so far; ``cache()``: ``{store: (hits, misses)}`` of the
    record caches (debug recording level only); ``ready()``: what /ready answers.
    """

    lag: Callable[[], Mapping[tuple[str, int], int]] = dict
    restore: Callable[[], Mapping[str, Mapping[int, int]]] = dict
    tasks: Callable[[], Iterable[str]] = tuple
    dropped: Callable[[], Mapping[tuple[str, str], int]] = dict
    rebalances: Callable[[], int] = lambda: 0
    cache: Callable[[], Mapping[str, tuple[int, int]]] = dict
    ready: Callable[[], bool] = lambda: False


@dataclass
class _Restore:
    """One store's restore round: from the rebalance that started it to its completion."""

    restored: int = 0
    started: float | None = None
    ended: float | None = None
    remaining: dict[int, int] = field(default_factory=dict)


class TaskMeter:
    """The per-batch counters of one task (label children resolved once)."""

    __slots__ = ("_consumed", "_processed", "_output", "_changelog", "_e2e", "_metrics",
                 "task_id", "processed_count")

    def __init__(self, metrics: StreamsMetrics, task_id: str) -> None:
        self.task_id = task_id
        self._metrics = metrics
        #: Records processed so far (the dashboard's per-task rate, without a scrape).
        self.processed_count = 0
        self._consumed: dict[str, Any] = {}
        self._processed = metrics.processed.labels(task=task_id)
        self._output = metrics.produced.labels(task=task_id, kind="output")
        self._changelog = metrics.produced.labels(task=task_id, kind="changelog")
        self._e2e = metrics.e2e_latency.labels(task=task_id)

    def batch(self, topic: str, partition: int, consumed: int, processed: int,
              next_offset: int) -> None:
        """A handled fetch: ``consumed`` records read, ``processed`` of them done."""
        child = self._consumed.get(topic)
        if child is None:
            child = self._consumed[topic] = self._metrics.consumed.labels(
                task=self.task_id, topic=topic)
        child.inc(consumed)
        self._processed.inc(processed)
        self.processed_count += processed
        self._metrics.processed_total += processed
        self._metrics.positions[(topic, partition)] = next_offset

    def sent(self, output: int, changelog: int, last_timestamp_ms: int | None) -> None:
        """A collector send: output and changelog records; one end-to-end latency sample."""
        if output:
            self._output.inc(output)
            if last_timestamp_ms is not None and last_timestamp_ms >= 0:
                self._e2e.observe(max(0.0, time.time() - last_timestamp_ms / 1000.0))
        if changelog:
            self._changelog.inc(changelog)


class StreamsMetrics:
    """The metrics of one worker (one runtime)."""

    def __init__(self, app_id: str, view: RuntimeView | None = None) -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        self.view = view or RuntimeView()
        reg = self.registry
        self.consumed = Counter("streams_records_consumed", "records fetched and handed to a "
                                "task (Kafka: records-consumed-total)", ["task", "topic"],
                                registry=reg)
        self.processed = Counter("streams_process", "records processed by a task (Kafka: "
                                 "process-total)", ["task"], registry=reg)
        self.produced = Counter("streams_records_produced", "records sent by a task, output or "
                                "changelog (Kafka: record-send-total)", ["task", "kind"],
                                registry=reg)
        self.e2e_latency = Histogram(
            "streams_record_e2e_latency_seconds", "record timestamp to output, one sample per "
            "send (Kafka: record-e2e-latency)", ["task"], buckets=E2E_BUCKETS, registry=reg)
        self.commit_latency = Histogram(
            "streams_commit_latency_seconds", "one commit: caches flushed, records produced "
            "and acknowledged, offsets committed (Kafka: commit-latency)",
            buckets=COMMIT_BUCKETS, registry=reg)
        self.commits = Counter("streams_commit", "commits that wrote offsets (Kafka: "
                               "commit-total)", registry=reg)
        self.restored = Counter("streams_restore_records", "changelog records restored into a "
                                "store (Kafka: restore-records-total)", ["store"], registry=reg)
        self.updated = Counter("streams_update_records", "changelog records applied after the "
                               "restore: standby and global stores (Kafka: "
                               "update-records-total)", ["store"], registry=reg)
        self.loop_lag = Gauge("streams_event_loop_lag_seconds", "how late the worker's event "
                              "loop woke a 1 s timer (the /health probe)", registry=reg)
        info = Gauge("streams_app_info", "the application id", ["application_id"],
                     registry=reg)
        info.labels(application_id=app_id).set(1)
        #: Next offset to process per input (topic, partition), set per batch.
        self.positions: dict[tuple[str, int], int] = {}
        self.processed_total = 0
        self._rate_samples: collections.deque[tuple[float, int]] = collections.deque()
        self._restores: dict[str, _Restore] = {}
        #: Per task id, kept across a revoke (counters only grow).
        self.meters: dict[str, TaskMeter] = {}
        reg.register(_ScrapeCollector(self))

    # -- hot path helpers -----------------------------------------------------------------

    def task(self, task_id: str) -> TaskMeter:
        """The counters of task ``task_id`` (one per id, kept across a revoke)."""
        meter = self.meters.get(task_id)
        if meter is None:
            meter = self.meters[task_id] = TaskMeter(self, task_id)
        return meter

    def attach(self, task: Any) -> TaskMeter:
        """Meter a new :class:`~streams_app.runtime.task.StreamTask`: its collector's sends.
        (Its record caches count reads when the task is built with ``count_cache_reads``.)"""
        meter = self.task(task.task_id)
        task.record_collector.on_sent = meter.sent
        return meter

    def restorer(self, store: str, restore: Callable[[list[Any]], None],
                 in_recovery: Callable[[], bool]) -> Callable[[list[Any]], None]:
        """``restore`` (a changelog batch writer) counted per batch for ``store``."""
        restored, updated = self.restored.labels(store=store), self.updated.labels(store=store)

        def counted(records: list[Any]) -> None:
            restore(records)
            if in_recovery():
                restored.inc(len(records))
                state = self._restores.setdefault(store, _Restore())
                state.restored += len(records)
            else:
                updated.inc(len(records))

        return counted

    # -- events ---------------------------------------------------------------------------

    def restore_started(self, stores: Iterable[str]) -> None:
        """A rebalance began: every store starts a new restore round."""
        now = time.monotonic()
        for store in stores:
            self._restores[store] = _Restore(started=now)

    def restore_ended(self) -> None:
        """The active stores are restored (readiness): rounds in progress end now."""
        now = time.monotonic()
        for state in self._restores.values():
            if state.ended is None:
                state.ended = now

    def committed(self, seconds: float, wrote_offsets: bool) -> None:
        self.commit_latency.observe(seconds)
        if wrote_offsets:
            self.commits.inc()

    def tick(self, now: float | None = None) -> None:
        """Sample the processed total for the windowed process rate (about once a second)."""
        now = time.monotonic() if now is None else now
        samples = self._rate_samples
        samples.append((now, self.processed_total))
        while len(samples) > 2 and now - samples[1][0] >= RATE_WINDOW_S:
            samples.popleft()

    def process_rate(self) -> float:
        """Records per second over the last ``RATE_WINDOW_S`` (Kafka: process-rate)."""
        samples = self._rate_samples
        if len(samples) < 2:
            return 0.0
        (t0, n0), (t1, n1) = samples[0], samples[-1]
        return (n1 - n0) / (t1 - t0) if t1 > t0 else 0.0

    def restore_progress(self, by_store: Mapping[str, Mapping[int, int]]
                         ) -> dict[str, dict[str, Any]]:
        """Per store, the current or last restore round: ``restored``, ``remaining``,
        ``ratio`` (1 when done), ``done``, ``seconds`` (None before any round);
        ``by_store`` is :attr:`RuntimeView.restore`'s answer."""
        now = time.monotonic()
        out: dict[str, dict[str, Any]] = {}
        for store in sorted(set(by_store) | set(self._restores)):
            state = self._restores.get(store, _Restore())
            left = sum(max(0, n) for n in by_store.get(store, {}).values())
            done = state.ended is not None
            total = state.restored + left
            out[store] = {
                "restored": state.restored, "remaining": left, "done": done,
                "ratio": 1.0 if done or total == 0 else state.restored / total,
                "seconds": None if state.started is None
                else (state.ended or now) - state.started}
        return out

    def render(self) -> bytes:
        """The Prometheus text exposition of every metric."""
        return generate_latest(self.registry)


class _ScrapeCollector(Collector):
    """Metrics read from the runtime when scraped."""

    def __init__(self, metrics: StreamsMetrics) -> None:
        self.metrics = metrics

    def collect(self) -> Iterator[Metric]:
        m, view = self.metrics, self.metrics.view
        rate = GaugeMetricFamily("streams_process_rate", "records processed per second over "
                                 f"the last {RATE_WINDOW_S:.0f} s (Kafka: process-rate)")
        rate.add_metric([], m.process_rate())
        yield rate
        lag = GaugeMetricFamily("streams_records_lag", "records of an input partition not "
                                "processed yet: high watermark minus next offset (Kafka: "
                                "records-lag)", labels=["topic", "partition"])
        for (topic, partition), behind in sorted(view.lag().items()):
            lag.add_metric([topic, str(partition)], behind)
        yield lag
        yield from self._restore(view)
        tasks = list(view.tasks())
        owned = GaugeMetricFamily("streams_active_tasks", "active tasks (sub-topology_"
                                  "partition) this worker runs", labels=["task"])
        for task in sorted(tasks):
            owned.add_metric([task], 1)
        yield owned
        count = GaugeMetricFamily("streams_active_task_count", "number of active tasks")
        count.add_metric([], len(tasks))
        yield count
        dropped = CounterMetricFamily("streams_dropped_records", "records an error handler "
                                      "skipped or dead-lettered (Kafka: dropped-records-total)",
                                      labels=["reason", "kind"])
        for (reason, kind), n in sorted(view.dropped().items()):
            dropped.add_metric([reason, kind], n)
        yield dropped
        rebalances = CounterMetricFamily("streams_rebalances", "consumer group rebalances "
                                         "this worker took part in")
        rebalances.add_metric([], view.rebalances())
        yield rebalances
        hit = GaugeMetricFamily("streams_record_cache_hit_ratio", "record cache reads served "
                                "from the cache, debug recording level (Kafka: hit-ratio)",
                                labels=["store"])
        for store, (hits, misses) in sorted(view.cache().items()):
            if hits + misses:
                hit.add_metric([store], hits / (hits + misses))
        yield hit
        ready = GaugeMetricFamily("streams_ready", "1 once partitions are assigned and every "
                                  "store is restored (the /ready probe)")
        ready.add_metric([], 1.0 if view.ready() else 0.0)
        yield ready

    def _restore(self, view: RuntimeView) -> Iterator[Metric]:
        m = self.metrics
        remaining = GaugeMetricFamily("streams_restore_remaining_records", "changelog records "
                                      "still to restore (Kafka: restore-remaining-records-"
                                      "total)", labels=["store", "partition"])
        ratio = GaugeMetricFamily("streams_restore_progress_ratio", "restored / (restored + "
                                  "remaining) in the current or last restore; 1 when done",
                                  labels=["store"])
        seconds = GaugeMetricFamily("streams_restore_seconds", "duration of the current or "
                                    "last restore", labels=["store"])
        by_store = view.restore()
        for store, progress in m.restore_progress(by_store).items():
            for partition, n in sorted(by_store.get(store, {}).items()):
                remaining.add_metric([store, str(partition)], max(0, n))
            ratio.add_metric([store], progress["ratio"])
            if progress["seconds"] is not None:
                seconds.add_metric([store], progress["seconds"])
        yield remaining
        yield ratio
        yield seconds


class MeteredCheckpoint(Checkpoint):
    """A :class:`Checkpoint` that times every commit into ``metrics``."""

    def __init__(self, *args: Any, metrics: StreamsMetrics, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.metrics = metrics

    async def commit(self, source: OffsetSource, tps: Iterable[Any]) -> bool:
        started = time.perf_counter()
        committed = await super().commit(source, tps)
        self.metrics.committed(time.perf_counter() - started, committed)
        return committed
