"""KGroupedStream.cogroup -> CogroupedKStream.aggregate (test driver)."""

from __future__ import annotations

import random
from typing import Any

import pytest

from streams_app import Grouped, Materialized, StreamsBuilder
from streams_app.dsl.partitions import CopartitionError, plan_partitions
from tests.dsl.conftest import J, L, S


def add_click(_key: str, _value: Any, agg: dict) -> dict:
    return {**agg, "clicks": agg["clicks"] + 1}


def add_spend(_key: str, value: Any, agg: dict) -> dict:
    return {**agg, "spend": agg["spend"] + value["amount"]}


def init() -> dict:
    return {"clicks": 0, "spend": 0}


def cogrouped(b: StreamsBuilder, rekey_purchases: bool = False,
              materialized: Any = "per-user") -> Any:
    clicks = b.stream("clicks").group_by_key()
    purchases = b.stream("purchases")
    grouped = (purchases.group_by(lambda _k, v: v["user"], Grouped("purchases-by-user"))
               if rekey_purchases else purchases.group_by_key())
    return clicks.cogroup(add_click).cogroup(grouped, add_spend).aggregate(init, materialized)


def events(seed: int, n: int = 200) -> list[tuple[str, str, dict]]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        user = f"u{rng.randrange(6)}"
        if rng.random() < 0.6:
            out.append(("clicks", user, {"page": rng.randrange(9)}))
        else:
            out.append(("purchases", user, {"user": user, "amount": rng.randrange(1, 50)}))
    return out


def plain(evts: list[tuple[str, str, dict]]) -> list[tuple[str, dict]]:
    """Every update the aggregate must emit, computed directly."""
    state: dict[str, dict] = {}
    updates = []
    for topic, user, value in evts:
        agg = state.get(user, init())
        agg = add_click(user, value, agg) if topic == "clicks" else add_spend(user, value, agg)
        state[user] = agg
        updates.append((user, agg))
    return updates


@pytest.mark.parametrize("rekey", [False, True])
@pytest.mark.parametrize("seed", [1, 2])
def test_cogroup_of_two_streams_matches_a_plain_computation(harness, seed, rekey) -> None:
    b = StreamsBuilder()
    cogrouped(b, rekey).to_stream().to("output")
    h = harness(b)
    inputs = {t: h.driver.create_input_topic(t, S, J) for t in ("clicks", "purchases")}
    # a purchase's key is not its user when rekeyed: group_by must move it
    evts = events(seed)
    for ts, (topic, user, value) in enumerate(evts):
        inputs[topic].pipe_input(f"order-{ts}" if rekey and topic == "purchases" else user,
                                 value, ts)
    expected = plain(evts)
    assert [(k, v) for k, v, _ in h.out()] == expected
    store = h.driver.get_key_value_store("per-user")
    assert {k: store.get(k) for k, _ in expected} == dict(expected)


def test_cogroup_topology_shares_one_store_and_copartitions_its_inputs() -> None:
    b = StreamsBuilder()
    cogrouped(b, rekey_purchases=True).to_stream().to("output")
    topology = b.build()
    described = str(topology.describe())
    assert described.count("(stores: [per-user])") == 2  # one aggregate processor per input
    assert "COGROUPKSTREAM-MERGE-" in described
    assert "purchases-by-user-repartition" in described
    assert frozenset({"clicks", "purchases-by-user-repartition"}) in topology.copartition_groups
    plan = plan_partitions(topology, {"clicks": 4, "purchases": 2}, 1)
    assert plan.topics["purchases-by-user-repartition"] == 4  # follows the stream it meets

    b2 = StreamsBuilder()
    cogrouped(b2).to_stream().to("output")
    with pytest.raises(CopartitionError, match="clicks=4, purchases=2"):
        plan_partitions(b2.build(), {"clicks": 4, "purchases": 2}, 1)


def test_cogroup_table_sends_old_values_downstream(harness) -> None:
    """A table built by cogroup re-grouped: the subtractor needs its old values."""
    b = StreamsBuilder()
    table = cogrouped(b, materialized=Materialized.as_("per-user"))
    (table.group_by(lambda user, agg: ("big" if agg["spend"] >= 10 else "small", user))
     .count().to_stream().to("tiers", value_serde=L))
    h = harness(b)
    clicks = h.driver.create_input_topic("clicks", S, J)
    purchases = h.driver.create_input_topic("purchases", S, J)
    clicks.pipe_input("u1", {}, 1)
    clicks.pipe_input("u2", {}, 2)
    purchases.pipe_input("u1", {"user": "u1", "amount": 20}, 3)
    tiers = dict((k, v) for k, v, _ in h.out("tiers", L))
    assert tiers == {"small": 1, "big": 1}  # u1 moved from small to big


def test_cogroup_bad_arguments() -> None:
    b = StreamsBuilder()
    g = b.stream("clicks").group_by_key()
    with pytest.raises(TypeError, match="aggregator must be callable"):
        g.cogroup(None)  # type: ignore[arg-type]
    c = g.cogroup(add_click)
    with pytest.raises(TypeError, match="KGroupedStream"):
        c.cogroup(b.stream("x"), add_spend)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="already in the cogroup"):
        c.cogroup(g, add_spend)
    with pytest.raises(ValueError, match="different StreamsBuilders"):
        c.cogroup(StreamsBuilder().stream("y").group_by_key(), add_spend)
    with pytest.raises(TypeError, match="initializer must be callable"):
        c.aggregate(0)  # type: ignore[arg-type]


def window_key(k: Any, _v: Any) -> str:
    return f"{k.key}@{k.start}/{k.end}"


def tagged(topic: str) -> Any:
    return lambda v: {"topic": topic, **v}


def dispatch(key: str, value: dict, agg: dict) -> dict:
    return add_click(key, value, agg) if value["topic"] == "clicks" else add_spend(key, value, agg)


@pytest.mark.parametrize("windows", ["tumbling", "hopping", "sliding", "session"])
def test_windowed_cogroup_matches_a_windowed_aggregate_of_the_merged_streams(harness, windows
                                                                             ) -> None:
    """In timestamp order (nothing late) the per-input processors agree with one processor
    over the merged inputs."""
    from streams_app import SessionWindows, SlidingWindows, TimeWindows

    w = {"tumbling": TimeWindows.of_size_and_grace(10, 100),
         "hopping": TimeWindows.of_size_and_grace(10, 100).advance_by(5),
         "sliding": SlidingWindows.of_time_difference_and_grace(10, 100),
         "session": SessionWindows.of_inactivity_gap_and_grace(5, 100)}[windows]

    def merge_sessions(_k: str, a: dict, b: dict) -> dict:
        return {"clicks": a["clicks"] + b["clicks"], "spend": a["spend"] + b["spend"]}

    def agg_of(windowed: Any, *aggregator: Any) -> Any:
        if windows == "session":
            return windowed.aggregate(init, *aggregator, merge_sessions)
        return windowed.aggregate(init, *aggregator)

    b = StreamsBuilder()
    clicks, purchases = b.stream("clicks"), b.stream("purchases")
    agg_of(clicks.group_by_key().cogroup(add_click)
           .cogroup(purchases.group_by_key(), add_spend).windowed_by(w)
           ).to_stream().select_key(window_key).to("cogrouped")
    merged = clicks.map_values(tagged("clicks")).merge(purchases.map_values(tagged("purchases")))
    agg_of(merged.group_by_key().windowed_by(w), dispatch
           ).to_stream().select_key(window_key).to("merged")
    h = harness(b)
    inputs = {t: h.driver.create_input_topic(t, S, J) for t in ("clicks", "purchases")}
    for ts, (topic, user, value) in enumerate(events(3, 120)):
        inputs[topic].pipe_input(user, value, ts * 2)
    got, want = h.out("cogrouped"), h.out("merged")
    assert len(got) > 20 and got == want


def test_windowed_cogroup_bad_windows() -> None:
    b = StreamsBuilder()
    c = b.stream("clicks").group_by_key().cogroup(add_click)
    with pytest.raises(TypeError, match="expected TimeWindows"):
        c.windowed_by(10)
