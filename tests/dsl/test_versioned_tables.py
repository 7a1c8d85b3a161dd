"""Versioned tables through the DSL and the TopologyTestDriver (KIP-914 semantics, as Kafka
Streams' KTableSource, KStreamKTableJoinProcessor and KTableKTable*Join implement them)."""

from __future__ import annotations

from typing import Any

import pytest

from streams_app import Joined, Materialized, Stores, StreamsBuilder, TimeWindows
from streams_app.dsl.options import Grouped
from streams_app.dsl.topology import TopologyError
from streams_app.state.versioned import VersionedRecord
from tests.dsl.conftest import J, L, S


def versioned(b: StreamsBuilder, topic: str, store: str, history_ms: int = 100) -> Any:
    supplier = Stores.persistent_versioned_key_value_store(store, history_ms)
    return b.table(topic, materialized=Materialized.as_(supplier), key_serde=S, value_serde=J)


def pair(left: Any, right: Any) -> dict[str, Any]:
    return {"l": left, "r": right}


def test_source_forwards_out_of_order_versions_and_drops_expired_ones(harness: Any) -> None:
    b = StreamsBuilder()
    versioned(b, "input", "store").to_stream().to("output")
    h = harness(b)
    inp = h.input()
    for key, value, ts in [("a", 1, 10), ("a", 2, 30), ("a", 3, 20), ("b", 9, 200),
                           ("a", 5, 50)]:  # 50 < stream time 200 - history 100: not put
        inp.pipe_input(key, value, ts)
    assert h.out() == [("a", 1, 10), ("a", 2, 30), ("a", 3, 20), ("b", 9, 200)]
    store = h.driver.get_versioned_key_value_store("store")
    assert store.get("a") == VersionedRecord(2, 30)
    assert store.get("a", 25) is None  # history before 200 - 100 is gone
    assert store.get("a", 150) == VersionedRecord(2, 30)


def test_stream_table_join_reads_the_table_as_of_the_stream_record(harness: Any) -> None:
    b = StreamsBuilder()
    table = versioned(b, "right", "right-store")
    stream = b.stream("left", key_serde=S, value_serde=J)
    stream.join(table, pair).to("output")
    stream.left_join(table, pair).to("output-left")
    h = harness(b)
    h.input("right").pipe_input("a", 1, 10)
    h.input("right").pipe_input("a", 2, 30)
    h.input("right").pipe_input("a", None, 40)
    for value, ts in [("x", 20), ("y", 35), ("z", 5), ("w", 45)]:
        h.input("left").pipe_input("a", value, ts)
    assert h.out() == [("a", pair("x", 1), 20), ("a", pair("y", 2), 35)]
    assert h.out("output-left") == [("a", pair("x", 1), 20), ("a", pair("y", 2), 35),
                                    ("a", pair("z", None), 5), ("a", pair("w", None), 45)]


def test_unversioned_stream_table_join_reads_the_latest_row(harness: Any) -> None:
    b = StreamsBuilder()
    table = b.table("right", materialized="right-store", key_serde=S, value_serde=J)
    b.stream("left", key_serde=S, value_serde=J).join(table, pair).to("output")
    h = harness(b)
    h.input("right").pipe_input("a", 1, 10)
    h.input("right").pipe_input("a", 2, 30)
    h.input("left").pipe_input("a", "x", 20)
    assert h.out() == [("a", pair("x", 2), 20)]


def test_filtered_versioned_table_keeps_the_as_of_lookup(harness: Any) -> None:
    b = StreamsBuilder()
    table = versioned(b, "right", "right-store").filter(lambda k, v: v > 1)
    b.stream("left", key_serde=S, value_serde=J).left_join(table, pair).to("output")
    table.to_stream().to("filtered")
    h = harness(b)
    h.input("right").pipe_input("a", 2, 10)
    h.input("right").pipe_input("a", 1, 30)
    h.input("right").pipe_input("b", 0, 31)  # filtered out, never held: still a tombstone
    h.input("left").pipe_input("a", "x", 20)
    h.input("left").pipe_input("a", "y", 35)
    assert h.out() == [("a", pair("x", 2), 20), ("a", pair("y", None), 35)]
    assert h.out("filtered") == [("a", 2, 10), ("a", None, 30), ("b", None, 31)]


def test_table_table_join_skips_out_of_order_updates_of_a_versioned_side(harness: Any) -> None:
    b = StreamsBuilder()
    left = versioned(b, "left", "left-store")
    right = b.table("right", materialized="right-store", key_serde=S, value_serde=J)
    left.join(right, pair).to_stream().to("output")
    h = harness(b)
    h.input("right").pipe_input("a", "r", 1)
    h.input("left").pipe_input("a", 1, 10)
    h.input("left").pipe_input("a", 2, 5)  # out of order: stored as history, no join result
    h.input("right").pipe_input("a", "s", 2)  # the right side is not versioned: joins
    assert h.out() == [("a", pair(1, "r"), 10), ("a", pair(1, "s"), 10)]


def test_group_by_of_a_versioned_table_aggregates_latest_rows_only(harness: Any) -> None:
    b = StreamsBuilder()
    (versioned(b, "input", "source")
     .group_by(lambda k, v: ("all", v), Grouped(key_serde=S, value_serde=J))
     .reduce(lambda a, v: a + v, lambda a, v: a - v, Materialized.as_("sum"))
     .to_stream().to("output"))
    h = harness(b)
    inp = h.input()
    inp.pipe_input("a", 1, 10)
    inp.pipe_input("b", 2, 10)
    inp.pipe_input("a", 5, 5)  # older than a's latest: skipped
    assert [v for _, v, _ in h.out()] == [1, 3]


def test_versioned_tables_reject_suppress_and_global_tables() -> None:
    from streams_app import Suppressed

    b = StreamsBuilder()
    table = versioned(b, "input", "source")
    with pytest.raises(TopologyError, match="non-versioned"):
        table.map_values(lambda v: v).suppress(
            Suppressed.until_time_limit(10, Suppressed.BufferConfig.unbounded()))
    supplier = Stores.persistent_versioned_key_value_store("global", 10)
    with pytest.raises(NotImplementedError, match="versioned store supplier"):
        b.global_table("g", materialized=Materialized.as_(supplier))
    with pytest.raises(NotImplementedError, match="windowed aggregation"):
        b.stream("s", key_serde=S, value_serde=J).group_by_key().windowed_by(
            TimeWindows.of_size_with_no_grace(10)).count(Materialized.as_(supplier))


def test_versioned_aggregate_drops_updates_past_the_history_retention(harness: Any) -> None:
    b = StreamsBuilder()
    counts = Materialized.as_(Stores.in_memory_versioned_key_value_store("counts", 10))
    counts.value_serde = L
    (b.stream("input", key_serde=S, value_serde=J).group_by_key().count(counts)
     .to_stream().to("output", value_serde=L))
    h = harness(b)
    for key, ts in [("a", 100), ("b", 10), ("b", 95), ("a", 50)]:
        h.input().pipe_input(key, 1, ts)
    # b@10 is older than stream time 100 - 10: not put, not counted; a@50 counts at 100
    assert h.out(value_serde=L) == [("a", 1, 100), ("b", 1, 95), ("a", 2, 100)]
    assert h.driver.get_versioned_key_value_store("counts").get("a", 99) is None


@pytest.mark.parametrize("retention", [-1, 1.5, True])
def test_bad_history_retention_fails_naming_it(retention: Any) -> None:
    with pytest.raises(ValueError, match="history_retention_ms"):
        Stores.persistent_versioned_key_value_store("v", retention)


def test_grace_period_buffers_stream_records_until_late_table_updates(harness: Any) -> None:
    b = StreamsBuilder()
    table = versioned(b, "right", "right-store")
    joined = Joined(key_serde=S, value_serde=J, other_value_serde=J).with_grace_period(10)
    b.stream("left", key_serde=S, value_serde=J).join(table, pair, joined).to("output")
    h = harness(b)
    h.input("right").pipe_input("a", 1, 10)
    h.input("left").pipe_input("a", "x", 20)  # waits until stream time 30
    h.input("right").pipe_input("a", 2, 15)  # a late update the waiting record will see
    assert h.out() == []
    h.input("left").pipe_input("a", "y", 30)
    assert h.out() == [("a", pair("x", 2), 20)]
    h.input("left").pipe_input("a", "z", 5)  # past the grace period: joins at once
    assert h.out() == []  # (nothing was valid at 5)
    assert h.driver.get_state_store("KSTREAM-JOIN-0000000003-Buffer") is not None


def test_grace_period_needs_a_versioned_table() -> None:
    b = StreamsBuilder()
    table = b.table("right", materialized="right-store", key_serde=S, value_serde=J)
    with pytest.raises(ValueError, match="must be versioned"):
        b.stream("left", key_serde=S, value_serde=J).join(
            table, pair, Joined().with_grace_period(10))


def test_process_reads_a_versioned_store_as_of_a_time(harness: Any) -> None:
    from streams_app import Processor, Record

    class PriceAt(Processor):
        def init(self, context: Any) -> None:
            super().init(context)
            self.prices = context.get_state_store("prices")

        def process(self, record: Any) -> None:
            kind, value = record.value
            if kind == "price":
                self.prices.put(record.key, value, record.timestamp)
            else:
                found = self.prices.get(record.key, value)
                self.context.forward(Record(record.key, found and found.value, record.timestamp))

    b = StreamsBuilder()
    b.add_state_store(Stores.versioned_key_value_store_builder(
        Stores.persistent_versioned_key_value_store("prices", 100), S, J))
    b.stream("input", key_serde=S, value_serde=J).process(PriceAt, "prices").to("output")
    h = harness(b)
    for value, ts in [(("price", 5), 10), (("price", 7), 20), (("at", 15), 30), (("at", 25), 31)]:
        h.input().pipe_input("p", value, ts)
    assert h.out() == [("p", 5, 30), ("p", 7, 31)]


def test_faust_runtime_needs_rocksdb_for_a_versioned_store(tmp_path: Any) -> None:
    from streams_app.runtime.faust_runtime import FaustRuntime
    from streams_app.settings import ConfigError, Settings

    b = StreamsBuilder()
    versioned(b, "input", "store").to_stream().to("output")
    settings = Settings.from_env(env={}, bootstrap_servers="127.0.0.1:9", app_id="v",
                                 data_dir=str(tmp_path), topic_partitions=1, store="memory")
    with pytest.raises(ConfigError, match=r"STREAMS_STORE \(store\): versioned store"):
        FaustRuntime(b.build(), settings, config={"default_key_serde": "string"})
