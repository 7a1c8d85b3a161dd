"""Metrics without a broker: per-batch counters, the scrape-time families, the commit timer,
the collector's per-send hook, the restore round; the exposition parsed back by
prometheus-client's parser (what a Prometheus server and `streams-app status` read)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable, Mapping
from typing import Any

from faust.types import TP
from prometheus_client.parser import text_string_to_metric_families

from streams_app.runtime.metrics import MeteredCheckpoint, RuntimeView, StreamsMetrics
from streams_app.runtime.record_collector import RecordCollector


def samples(metrics: StreamsMetrics) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = metrics.render().decode()
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def test_batches_count_consumed_processed_and_positions() -> None:
    m = StreamsMetrics("app")
    meter = m.task("0_1")
    meter.batch("rides", 1, consumed=500, processed=500, next_offset=500)
    meter.batch("rides", 1, consumed=7, processed=3, next_offset=503)
    got = samples(m)
    assert got[("streams_records_consumed_total", (("task", "0_1"), ("topic", "rides")))] == 507
    assert got[("streams_process_total", (("task", "0_1"),))] == 503
    assert got[("streams_app_info", (("application_id", "app"),))] == 1
    assert m.positions == {("rides", 1): 503}


def test_collector_send_counts_output_changelog_and_samples_e2e_latency() -> None:
    m = StreamsMetrics("app")
    collector = RecordCollector(partition=0)
    collector.on_sent = m.task("0_0").sent
    collector.changelog("app-store-changelog", None, None,
                        lambda topic, _k, _v, entries: [(topic, b"k", b"v", 0, ())
                                                        for _ in entries])("entry")
    now_ms = int(time.time() * 1000)
    collector.output.extend([("out", b"a", b"1", now_ms - 5000, ()),
                             ("out", b"b", b"2", now_ms - 2000, ())])

    class Sender:
        async def send(self, records: Iterable[Any], partition: int | None = None) -> int:
            return len(list(records))

    asyncio.run(collector.send(Sender()))
    asyncio.run(collector.send(Sender()))  # nothing collected: no call, no sample
    got = samples(m)
    task = ("task", "0_0")
    assert got[("streams_records_produced_total", (("kind", "output"), task))] == 2
    assert got[("streams_records_produced_total", (("kind", "changelog"), task))] == 1
    assert got[("streams_record_e2e_latency_seconds_count", (task,))] == 1
    # The sample is the last output record's: ~2 s old, in the (1, 2.5] bucket.
    assert got[("streams_record_e2e_latency_seconds_bucket", (("le", "1.0"), task))] == 0
    assert got[("streams_record_e2e_latency_seconds_bucket", (("le", "2.5"), task))] == 1


def test_scrape_time_families_read_the_runtime_view() -> None:
    m = StreamsMetrics("app")
    m.view = RuntimeView(
        lag=lambda: {("rides", 0): 12, ("rides", 1): 0},
        restore=lambda: {"counts": {0: 40, 1: 0}},
        tasks=lambda: ["0_0", "0_1"],
        dropped=lambda: {("dead_letter", "deserialization"): 2},
        rebalances=lambda: 3,
        ready=lambda: True,
    )
    got = samples(m)
    assert got[("streams_records_lag", (("partition", "0"), ("topic", "rides")))] == 12
    assert got[("streams_records_lag", (("partition", "1"), ("topic", "rides")))] == 0
    assert got[("streams_restore_remaining_records", (("partition", "0"),
                                                      ("store", "counts")))] == 40
    assert got[("streams_active_task_count", ())] == 2
    assert got[("streams_active_tasks", (("task", "0_1"),))] == 1
    assert got[("streams_dropped_records_total", (("kind", "deserialization"),
                                                  ("reason", "dead_letter")))] == 2
    assert got[("streams_rebalances_total", ())] == 3
    assert got[("streams_ready", ())] == 1


def test_restore_round_progress_reaches_one_when_ended() -> None:
    m = StreamsMetrics("app")
    remaining = {"counts": {0: 75}}
    m.view = RuntimeView(restore=lambda: remaining)
    recovering = True
    written: list[int] = []
    restore = m.restorer("counts", lambda records: written.append(len(records)),
                         lambda: recovering)
    m.restore_started(["counts"])
    restore([object()] * 25)
    got = samples(m)
    assert written == [25]
    assert got[("streams_restore_records_total", (("store", "counts"),))] == 25
    assert got[("streams_restore_progress_ratio", (("store", "counts"),))] == 0.25
    remaining["counts"] = {0: 0}
    m.restore_ended()
    recovering = False
    restore([object()] * 4)  # after the restore: a standby/global update, not a restore
    got = samples(m)
    assert got[("streams_restore_progress_ratio", (("store", "counts"),))] == 1.0
    assert got[("streams_restore_records_total", (("store", "counts"),))] == 25
    assert got[("streams_update_records_total", (("store", "counts"),))] == 4
    assert got[("streams_restore_seconds", (("store", "counts"),))] >= 0


def test_process_rate_is_windowed() -> None:
    m = StreamsMetrics("app")
    meter = m.task("0_0")
    m.tick(100.0)
    meter.batch("t", 0, 1000, 1000, 1000)
    m.tick(102.0)
    assert m.process_rate() == 500.0
    for second in range(103, 140):  # no records for longer than the window
        m.tick(float(second))
    assert m.process_rate() == 0.0


class Source:
    """The consumer side of a commit (an OffsetSource) that records nothing."""

    def __init__(self, committed: bool) -> None:
        self.committed = committed

    def partitions_with_acks(self) -> list[TP]:
        return []

    def snapshot_offsets(self) -> Mapping[TP, int]:
        return {TP("t", 0): 1} if self.committed else {}

    async def commit_snapshot(self, tps: Iterable[TP]) -> bool:
        await asyncio.sleep(0.01)
        return self.committed

    def release_snapshot(self, snapshot: Mapping[TP, int], committed: bool) -> None:
        pass


def test_metered_checkpoint_times_every_commit_and_counts_those_that_wrote() -> None:
    m = StreamsMetrics("app")
    checkpoint = MeteredCheckpoint(metrics=m)
    assert asyncio.run(checkpoint.commit(Source(True), [TP("t", 0)])) is True
    assert asyncio.run(checkpoint.commit(Source(False), [])) is False
    got = samples(m)
    assert got[("streams_commit_latency_seconds_count", ())] == 2
    assert got[("streams_commit_latency_seconds_sum", ())] >= 0.02
    assert got[("streams_commit_total", ())] == 1


def _runtime(tmp_path: Any, **settings: Any) -> Any:
    from streams_app import Serdes, StreamsBuilder
    from streams_app.runtime.faust_runtime import FaustRuntime
    from streams_app.settings import Settings

    b = StreamsBuilder()
    b.stream("in", key_serde=Serdes.string(), value_serde=Serdes.string()) \
        .group_by_key().count("counts").to_stream().to("out")
    return FaustRuntime(b.build(), Settings(app_id="metrics-wiring", data_dir=tmp_path,
                                            **settings))


def test_runtime_meters_batches_only_with_metrics_enabled(tmp_path: Any) -> None:
    on = _runtime(tmp_path / "on")
    assert isinstance(on.checkpoint, MeteredCheckpoint) and on.metrics is not None
    assert on.app.first_start_hooks == []  # web off by default: no server
    off = _runtime(tmp_path / "off", metrics_enabled=False, web_enabled=True)
    assert off.metrics is None and not isinstance(off.checkpoint, MeteredCheckpoint)
    assert len(off.app.first_start_hooks) == 1  # probes still served, /metrics not


def test_runtime_handler_counts_a_batch_and_its_output(tmp_path: Any) -> None:
    from aiokafka.structs import ConsumerRecord

    runtime = _runtime(tmp_path, store="memory", cache_max_bytes=0)
    sent: list[int] = []

    class Producer:
        async def send(self, records: Iterable[Any], partition: int | None = None) -> int:
            sent.append(len(list(records)))
            return sent[-1]

    runtime._producer = Producer()
    now_ms = int(time.time() * 1000)
    records = [ConsumerRecord("in", 0, offset, now_ms, 0, b"k", b"v", None, 1, 1, ())
               for offset in range(5)]
    asyncio.run(runtime.hooks.handlers["in"](TP("in", 0), records))
    got = samples(runtime.metrics)
    task = ("task", "0_0")
    assert got[("streams_process_total", (task,))] == 5
    assert got[("streams_records_produced_total", (("kind", "output"), task))] == 5
    assert got[("streams_record_e2e_latency_seconds_count", (task,))] == 1
    assert runtime.metrics.positions == {("in", 0): 5}


def _batch(runtime: Any, keys: list[bytes]) -> None:
    from aiokafka.structs import ConsumerRecord

    class Producer:
        async def send(self, records: Iterable[Any], partition: int | None = None) -> int:
            return len(list(records))

    runtime._producer = Producer()
    records = [ConsumerRecord("in", 0, offset, 0, 0, key, b"v", None, 1, 1, ())
               for offset, key in enumerate(keys)]
    asyncio.run(runtime.hooks.handlers["in"](TP("in", 0), records))


def test_cache_hit_ratio_only_at_the_debug_recording_level(tmp_path: Any) -> None:
    debug = _runtime(tmp_path / "debug", store="memory", metrics_recording_level="debug")
    _batch(debug, [b"a", b"a", b"a", b"b", b"a"])  # misses: first a, first b
    got = samples(debug.metrics)
    assert got[("streams_record_cache_hit_ratio", (("store", "counts"),))] == 3 / 5
    info = _runtime(tmp_path / "info", store="memory")
    _batch(info, [b"a", b"a"])
    assert not [k for k in samples(info.metrics) if k[0] == "streams_record_cache_hit_ratio"]
