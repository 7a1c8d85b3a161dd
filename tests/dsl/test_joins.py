"""Joins through the DSL and the TopologyTestDriver (Kafka Streams' semantics)."""

from __future__ import annotations

from typing import Any

import pytest

from streams_app import (
    Joined,
    JoinWindows,
    Materialized,
    StreamJoined,
    StreamsBuilder,
    TableJoined,
)
from tests.dsl.conftest import J, S


def pair(left: Any, right: Any) -> dict[str, Any]:
    return {"l": left, "r": right}


def streams(b: StreamsBuilder) -> tuple[Any, Any]:
    return (b.stream("left", key_serde=S, value_serde=J),
            b.stream("right", key_serde=S, value_serde=J))


def table(b: StreamsBuilder, topic: str, store: str | None = None) -> Any:
    mat = Materialized(store_name=store) if store else None
    return b.table(topic, materialized=mat, key_serde=S, value_serde=J)


# -- stream-stream --------------------------------------------------------------------------


def test_inner_stream_join_matches_within_the_window_with_max_timestamp(harness: Any) -> None:
    b = StreamsBuilder()
    left, right = streams(b)
    left.join(right, pair, JoinWindows.of_time_difference_with_no_grace(5)).to("output")
    h = harness(b)
    h.input("left").pipe_input("a", 1, 10)
    h.input("right").pipe_input("a", 2, 14)  # within 5 ms: joins
    h.input("right").pipe_input("a", 3, 16)  # 6 ms away: no
    h.input("left").pipe_input("a", 4, 20)  # joins 2@14? no (6 away); 3@16 yes
    assert h.out() == [("a", pair(1, 2), 14), ("a", pair(4, 3), 20)]


def test_joiner_with_key_is_recognised_by_arity(harness: Any) -> None:
    b = StreamsBuilder()
    left, right = streams(b)
    left.join(right, lambda k, lv, rv: f"{k}:{lv}:{rv}",
              JoinWindows.of_time_difference_with_no_grace(5)).to("output")
    h = harness(b)
    h.input("left").pipe_input("a", 1, 10)
    h.input("right").pipe_input("a", 2, 11)
    assert h.out() == [("a", "a:1:2", 11)]


def test_left_join_holds_unmatched_records_until_the_window_closes(harness: Any) -> None:
    b = StreamsBuilder()
    left, right = streams(b)
    left.left_join(right, pair, JoinWindows.of_time_difference_and_grace(5, 2),
                   StreamJoined.with_(S, J, J)).to("output")
    h = harness(b)
    h.input("left").pipe_input("a", 1, 10)
    h.input("left").pipe_input("b", 2, 11)
    h.input("right").pipe_input("b", 3, 12)  # b joins: never emitted with a null partner
    assert h.out() == [("b", pair(2, 3), 12)]
    h.input("right").pipe_input("z", 0, 17)  # 10 + 5 + 2 = 17: a's window is not closed yet
    assert h.out() == []
    h.input("right").pipe_input("z", 0, 18)  # now it is
    assert h.out() == [("a", pair(1, None), 10)]


def test_outer_join_emits_both_sides_unmatched(harness: Any) -> None:
    b = StreamsBuilder()
    left, right = streams(b)
    left.outer_join(right, pair, JoinWindows.of_time_difference_with_no_grace(1)).to("output")
    h = harness(b)
    h.input("right").pipe_input("r", 7, 1)
    h.input("left").pipe_input("l", 8, 2)
    h.input("left").pipe_input("x", 0, 10)
    assert h.out() == [("r", pair(None, 7), 1), ("l", pair(8, None), 2)]


def test_asymmetric_windows_with_before_and_after(harness: Any) -> None:
    b = StreamsBuilder()
    left, right = streams(b)
    w = JoinWindows.of_time_difference_with_no_grace(0).after(5)
    left.join(right, pair, w).to("output")
    h = harness(b)
    h.input("right").pipe_input("a", 1, 8)  # before the left record: outside [10, 15]
    h.input("left").pipe_input("a", 2, 10)
    h.input("right").pipe_input("a", 3, 15)
    assert h.out() == [("a", pair(2, 3), 15)]


def test_rekeyed_stream_is_repartitioned_before_joining(harness: Any) -> None:
    b = StreamsBuilder()
    left, right = streams(b)
    left.select_key(lambda k, v: str(v)).join(
        right, pair, JoinWindows.of_time_difference_with_no_grace(5)).to("output")
    topo = b.build()
    assert "KSTREAM-KEY-SELECT-0000000002-repartition" in topo.internal_topics
    h = harness(b)
    h.input("left").pipe_input("x", 7, 1)
    h.input("right").pipe_input("7", 70, 2)
    assert h.out() == [("7", pair(7, 70), 2)]


def test_named_stream_join_names_processors_and_stores() -> None:
    b = StreamsBuilder()
    left, right = streams(b)
    left.left_join(right, pair, JoinWindows.of_time_difference_with_no_grace(5),
                   StreamJoined(store_name="st", name="j")).to("output")
    topo = b.build()
    assert {"j-this-windowed", "j-other-windowed", "j-this-join", "j-outer-other-join",
            "j-merge"} <= set(topo.nodes)
    assert {"st-this-join-store", "st-outer-other-join-store",
            "st-left-shared-join-store"} == set(topo.stores)


def test_generated_names_follow_kafka() -> None:
    b = StreamsBuilder()
    left, right = streams(b)
    left.outer_join(right, pair, JoinWindows.of_time_difference_with_no_grace(5)).to("output")
    stores = set(b.build().stores)
    assert stores == {"KSTREAM-OUTERTHIS-0000000004-store",
                      "KSTREAM-OUTEROTHER-0000000005-store",
                      "KSTREAM-OUTERSHARED-0000000004-store"}


def test_join_windows_validate_settings() -> None:
    with pytest.raises(ValueError, match="time_difference"):
        JoinWindows.of_time_difference_with_no_grace(-1)
    with pytest.raises(ValueError, match="grace"):
        JoinWindows.of_time_difference_and_grace(5, -1)
    with pytest.raises(ValueError, match="before \\+ after"):
        JoinWindows.of_time_difference_with_no_grace(2).before(-3)
    with pytest.raises(TypeError, match="windows"):
        StreamsBuilder().stream("a").join(StreamsBuilder().stream("b"), pair)


# -- stream-table and global table ----------------------------------------------------------


def test_stream_table_join_is_driven_by_the_stream(harness: Any) -> None:
    b = StreamsBuilder()
    s = b.stream("left", key_serde=S, value_serde=J)
    s.left_join(table(b, "right"), pair, Joined.with_(S, J, J)).to("output")
    h = harness(b)
    h.input("left").pipe_input("a", 1, 5)
    h.input("right").pipe_input("a", 10, 6)  # table updates never emit
    h.input("left").pipe_input("a", 2, 4)
    h.input("left").pipe_input(None, 3, 7)  # left join keeps a null-keyed record
    assert h.out() == [("a", pair(1, None), 5), ("a", pair(2, 10), 4), (None, pair(3, None), 7)]


def test_stream_joins_a_filtered_unmaterialized_table(harness: Any) -> None:
    b = StreamsBuilder()
    s = b.stream("left", key_serde=S, value_serde=J)
    t = table(b, "right").filter(lambda k, v: v > 0).map_values(lambda v: v * 10)
    s.join(t, pair).to("output")
    h = harness(b)
    h.input("right").pipe_input("a", 1, 1)
    h.input("right").pipe_input("b", -1, 1)
    h.input("left").pipe_input("a", "x", 2)
    h.input("left").pipe_input("b", "y", 2)
    assert h.out() == [("a", pair("x", 10), 2)]


def test_stream_global_table_join_with_key_mapper(harness: Any) -> None:
    b = StreamsBuilder()
    s = b.stream("left", key_serde=S, value_serde=J)
    g = b.global_table("right", key_serde=S, value_serde=J,
                       materialized=Materialized(store_name="g"))
    s.join(g, lambda k, v: v["ref"], lambda v, gv: pair(v["n"], gv)).to("output")
    h = harness(b)
    h.input("right").pipe_input("r1", "one", 1)
    h.input("left").pipe_input("a", {"ref": "r1", "n": 1}, 2)
    h.input("left").pipe_input("b", {"ref": "r2", "n": 2}, 3)  # no row: inner drops it
    assert h.out() == [("a", pair(1, "one"), 2)]
    assert h.driver.get_key_value_store("g").get("r1") == "one"


def test_stream_global_table_left_join_drops_null_table_keys_and_values(harness: Any) -> None:
    # Kafka's KStreamKTableJoinProcessor: a null table key or null value drops the record,
    # except a left join's null-keyed record, which joins with no partner
    b = StreamsBuilder()
    s = b.stream("left", key_serde=S, value_serde=J)
    g = b.global_table("right", key_serde=S, value_serde=J,
                       materialized=Materialized(store_name="g"))
    s.left_join(g, lambda k, v: None if v is None else v.get("ref"),
                lambda k, v, gv: pair(k, gv)).to("output")
    h = harness(b)
    h.input("right").pipe_input("r1", "one", 1)
    h.input("left").pipe_input("a", {"ref": "r1"}, 2)
    h.input("left").pipe_input("b", {"ref": "r2"}, 3)  # no row: a left join keeps it
    h.input("left").pipe_input("c", {}, 4)  # null table key: dropped
    h.input("left").pipe_input("d", None, 5)  # null value: dropped
    h.input("left").pipe_input(None, {}, 6)  # null key and table key: joins with nothing
    assert h.out() == [("a", pair("a", "one"), 2), ("b", pair("b", None), 3),
                       (None, pair(None, None), 6)]


# -- table-table ----------------------------------------------------------------------------


def test_table_table_outer_join_sends_tombstones_and_max_timestamps(harness: Any) -> None:
    b = StreamsBuilder()
    table(b, "left").outer_join(table(b, "right"), pair, Materialized(store_name="out")
                                ).to_stream().to("output")
    h = harness(b)
    h.input("left").pipe_input("a", 1, 5)
    h.input("right").pipe_input("a", 2, 3)
    h.input("left").pipe_input("a", None, 4)
    h.input("right").pipe_input("a", None, 9)
    assert h.out() == [("a", pair(1, None), 5), ("a", pair(1, 2), 5), ("a", pair(None, 2), 4),
                       ("a", None, 9)]
    assert h.driver.get_key_value_store("out").get("a") is None


def test_table_table_join_result_can_be_joined_again(harness: Any) -> None:
    b = StreamsBuilder()
    ab = table(b, "left").join(table(b, "right"), lambda x, y: x + y)
    b.stream("s", key_serde=S, value_serde=J).join(ab, pair).to("output")
    h = harness(b)
    h.input("left").pipe_input("k", 1, 1)
    h.input("right").pipe_input("k", 2, 2)
    h.input("s").pipe_input("k", "x", 3)
    assert h.out() == [("k", pair("x", 3), 3)]


def test_left_table_join_downstream_filter_gets_old_values(harness: Any) -> None:
    b = StreamsBuilder()
    j = table(b, "left").left_join(table(b, "right"), pair)
    j.filter(lambda k, v: v["r"] is not None).to_stream().to("output")
    h = harness(b)
    h.input("left").pipe_input("a", 1, 1)  # filtered out, nothing was in the result: no output
    h.input("right").pipe_input("a", 2, 2)
    h.input("right").pipe_input("a", None, 3)
    assert h.out() == [("a", pair(1, 2), 2), ("a", None, 3)]


# -- foreign key ----------------------------------------------------------------------------


def test_foreign_key_join_follows_the_foreign_key(harness: Any) -> None:
    b = StreamsBuilder()
    orders = table(b, "left", "orders")
    customers = table(b, "right", "customers")
    orders.join(customers, lambda v: v["c"], pair, Materialized(store_name="res"),
                table_joined=TableJoined.as_("fk")).to_stream().to("output")
    topo = b.build()
    assert {"fk-subscription-registration-topic", "fk-subscription-response-topic"} <= set(
        topo.internal_topics)
    h = harness(b)
    h.input("right").pipe_input("c1", "Ann", 1)
    h.input("left").pipe_input("o1", {"c": "c1"}, 2)
    h.input("left").pipe_input("o2", {"c": "c2"}, 3)  # no customer yet: inner join waits
    h.input("right").pipe_input("c2", "Bob", 4)
    h.input("right").pipe_input("c1", "Anne", 5)
    h.input("left").pipe_input("o1", {"c": "c2"}, 6)  # moves to another customer
    h.input("left").pipe_input("o2", None, 7)
    assert h.out() == [
        ("o1", pair({"c": "c1"}, "Ann"), 2),
        ("o2", pair({"c": "c2"}, "Bob"), 4),
        ("o1", pair({"c": "c1"}, "Anne"), 5),
        ("o1", pair({"c": "c2"}, "Bob"), 6),
        ("o2", None, 7),
    ]
    assert h.driver.get_key_value_store("res").get("o1") == pair({"c": "c2"}, "Bob")


def test_left_foreign_key_join_with_key_extractor_and_null_fk(harness: Any) -> None:
    b = StreamsBuilder()
    table(b, "left").left_join(table(b, "right"), lambda k, v: v.get("c"), pair
                               ).to_stream().to("output")
    h = harness(b)
    h.input("left").pipe_input("o1", {"c": None}, 1)
    h.input("left").pipe_input("o2", {"c": "x"}, 2)
    h.input("right").pipe_input("x", 5, 3)
    assert h.out() == [("o1", pair({"c": None}, None), 1), ("o2", pair({"c": "x"}, None), 2),
                       ("o2", pair({"c": "x"}, 5), 3)]


def test_outer_foreign_key_join_is_rejected() -> None:
    b = StreamsBuilder()
    with pytest.raises(TypeError, match="outer"):
        table(b, "left").outer_join(table(b, "right"), lambda v: v, pair)  # type: ignore[arg-type]


def test_joins_read_upstream_tables_through_their_view() -> None:
    from streams_app import Suppressed
    from streams_app.processors.table_values import ComputedValueGetter

    b = StreamsBuilder()
    source = table(b, "t")
    assert not source._supplier.queryable
    view = source._supplier.view()  # a source table read by a join gets materialized
    assert source._supplier.queryable and [s.name for s in view.store_specs] == [
        source._supplier.spec.name]
    mapped = source.map_values(lambda v: v)
    assert isinstance(mapped._supplier.view().get(), ComputedValueGetter)
    suppressed = mapped.suppress(Suppressed.until_time_limit(10, Suppressed.BufferConfig()))
    with pytest.raises(TypeError, match="cannot be read by a join"):
        b.stream("s", key_serde=S, value_serde=J).join(suppressed, pair)
