"""Partition planning: internal topic counts, task counts and co-partitioning, as Kafka Streams
plans them (RepartitionTopics, CopartitionedTopicsEnforcer)."""

from __future__ import annotations

import pytest

from streams_app import StreamsBuilder
from streams_app.dsl import JoinWindows, Repartitioned, Topology
from streams_app.dsl.partitions import CopartitionError, check_copartitioned, plan_partitions
from streams_app.processors import KStreamPassThrough
from streams_app.settings import ConfigError
from streams_app.state.spec import StoreSpec

WINDOW = JoinWindows.of_time_difference_with_no_grace(5)


def pair(a: object, b: object) -> tuple[object, object]:
    return (a, b)


def test_repartitioned_num_partitions_wins() -> None:
    b = StreamsBuilder()
    b.stream("input").repartition(Repartitioned(name="r", num_partitions=8)).to("output")
    topo = b.build()
    assert topo.internal_partitions == {"r-repartition": 8}
    plan = plan_partitions(topo, {"input": 2}, default=1)
    assert plan.internal_partitions() == {"r-repartition": 8}
    assert plan.tasks == {0: 2, 1: 8}


def test_repartitioned_num_partitions_must_be_positive() -> None:
    with pytest.raises(ValueError, match="num_partitions must be an integer >= 1, got 0"):
        Repartitioned(num_partitions=0)


def test_group_by_gets_the_source_count() -> None:
    b = StreamsBuilder()
    b.stream("input").group_by(lambda k, v: v).count().to_stream().to("output")
    plan = plan_partitions(b.build(), {"input": 4}, default=1)
    assert list(plan.internal_partitions().values()) == [4]
    assert plan.tasks == {0: 4, 1: 4}


def test_repartition_takes_the_max_of_its_writers_sources_recursively() -> None:
    b = StreamsBuilder()
    merged = b.stream("a").merge(b.stream("b"))
    regrouped = merged.repartition("first").repartition("second")
    regrouped.group_by(lambda k, v: v).count().to_stream().to("output")
    plan = plan_partitions(b.build(), {"a": 3, "b": 5}, default=1)
    assert set(plan.internal_partitions().values()) == {5}
    assert len(plan.internal_partitions()) == 3
    assert set(plan.tasks.values()) == {5}


def test_unknown_source_counts_as_the_default() -> None:
    b = StreamsBuilder()
    b.stream("input").group_by(lambda k, v: v).count()
    plan = plan_partitions(b.build(), {}, default=6)
    assert list(plan.internal_partitions().values()) == [6]
    assert plan.topics["input"] == 6


def test_stream_stream_join_of_different_counts_names_both_topics() -> None:
    b = StreamsBuilder()
    b.stream("left").join(b.stream("right"), pair, WINDOW).to("output")
    topo = b.build()
    with pytest.raises(CopartitionError, match=r"Topics not co-partitioned: \[left=2, right=3\]"):
        plan_partitions(topo, {"left": 2, "right": 3}, default=1)
    assert issubclass(CopartitionError, ConfigError)
    assert plan_partitions(topo, {"left": 3, "right": 3}, default=1).tasks == {0: 3}


def test_repartitioned_join_side_gets_the_other_sides_count() -> None:
    b = StreamsBuilder()
    rekeyed = b.stream("left").select_key(lambda k, v: v)  # 8 partitions, key changed
    rekeyed.join(b.stream("right"), pair, WINDOW).to("output")
    plan = plan_partitions(b.build(), {"left": 8, "right": 3}, default=1)
    assert list(plan.internal_partitions().values()) == [3]
    assert plan.tasks == {0: 8, 1: 3}


def test_stream_table_join_copartitions_the_table_source() -> None:
    b = StreamsBuilder()
    b.stream("clicks").join(b.table("users"), pair).to("output")
    topo = b.build()
    assert [sorted(g) for g in topo.copartition_groups] == [["clicks", "users"]]
    with pytest.raises(CopartitionError, match=r"clicks=4, users=2"):
        plan_partitions(topo, {"clicks": 4, "users": 2}, default=1)


def test_table_table_join_is_copartitioned() -> None:
    b = StreamsBuilder()
    b.table("a").join(b.table("b"), pair).to_stream().to("output")
    with pytest.raises(CopartitionError, match=r"a=1, b=2"):
        plan_partitions(b.build(), {"a": 1, "b": 2}, default=1)


def test_explicit_count_conflicting_with_the_join_is_an_error() -> None:
    b = StreamsBuilder()
    side = b.stream("left").repartition(Repartitioned(name="r", num_partitions=8))
    side.join(b.stream("right"), pair, WINDOW).to("output")
    with pytest.raises(CopartitionError,
                       match=r"\[8\] of repartition topic \[r-repartition\].*\[3\].*right=3"):
        plan_partitions(b.build(), {"left": 2, "right": 3}, default=1)


def test_two_repartitioned_sides_take_the_larger_count() -> None:
    b = StreamsBuilder()
    left = b.stream("left").select_key(lambda k, v: v)
    right = b.stream("right").select_key(lambda k, v: v)
    left.join(right, pair, WINDOW).to("output")
    plan = plan_partitions(b.build(), {"left": 2, "right": 5}, default=1)
    assert set(plan.internal_partitions().values()) == {5}


def test_two_explicit_sides_must_agree() -> None:
    b = StreamsBuilder()
    left = b.stream("left").repartition(Repartitioned(name="l", num_partitions=2))
    right = b.stream("right").repartition(Repartitioned(name="r", num_partitions=4))
    left.join(right, pair, WINDOW).to("output")
    with pytest.raises(CopartitionError, match=r"l-repartition=2, r-repartition=4"):
        plan_partitions(b.build(), {"left": 1, "right": 1}, default=1)


def test_groups_sharing_a_topic_merge() -> None:
    b = StreamsBuilder()
    users = b.table("users")
    b.stream("clicks").join(users, pair).to("out1")
    b.stream("views").join(users, pair).to("out2")
    with pytest.raises(CopartitionError, match=r"clicks=2, users=2, views=3"):
        plan_partitions(b.build(), {"clicks": 2, "users": 2, "views": 3}, default=1)


def test_global_table_is_exempt() -> None:
    b = StreamsBuilder()
    b.stream("clicks").join(b.global_table("users"), lambda k, v: k, pair).to("output")
    topo = b.build()
    assert topo.copartition_groups == []
    plan = plan_partitions(topo, {"clicks": 4, "users": 1}, default=1)
    assert plan.tasks == {0: 4}
    assert "users" not in plan.topics


def test_foreign_key_join_topics_follow_their_tables() -> None:
    b = StreamsBuilder()
    orders, products = b.table("orders"), b.table("products")
    orders.join(products, lambda v: v, pair).to_stream().to("output")
    plan = plan_partitions(b.build(), {"orders": 6, "products": 2}, default=1)
    internal = plan.internal_partitions()
    subscription = next(t for t in internal if "REGISTRATION" in t)
    response = next(t for t in internal if "RESPONSE" in t)
    assert (internal[subscription], internal[response]) == (2, 6)


def test_processor_api_topology_plans_from_its_sources() -> None:
    topo = Topology()
    topo.add_source("src", ["in"]).add_processor("p", KStreamPassThrough, "src")
    topo.add_sink("sink", "x-repartition", "p").add_internal_topic("x-repartition")
    topo.add_source("src2", ["x-repartition"]).add_processor("q", KStreamPassThrough, "src2")
    topo.add_state_store(StoreSpec("s"), "q")
    plan = plan_partitions(topo, {"in": 7}, default=1)
    assert plan.topics == {"in": 7, "x-repartition": 7}
    assert plan.tasks == {0: 7, 1: 7}


def test_bad_counts_are_rejected() -> None:
    b = StreamsBuilder()
    b.stream("input").to("output")
    with pytest.raises(ValueError, match=r"source topic 'input' must have an integer count"):
        plan_partitions(b.build(), {"input": 0}, default=1)
    with pytest.raises(ValueError, match=r"default must have an integer count"):
        plan_partitions(b.build(), {}, default=0)


def test_check_copartitioned_validates_actual_counts() -> None:
    b = StreamsBuilder()
    rekeyed = b.stream("left").select_key(lambda k, v: v)
    rekeyed.join(b.stream("right"), pair, WINDOW).to("output")
    topo = b.build()
    (topic,) = topo.internal_topics
    check_copartitioned(topo, {"left": 8, "right": 3, topic: 3})
    check_copartitioned(topo, {"left": 8, "right": 3})  # the internal topic is not known yet
    with pytest.raises(CopartitionError, match=rf"\[{topic}=4, right=3\]"):
        check_copartitioned(topo, {"left": 8, "right": 3, topic: 4})
