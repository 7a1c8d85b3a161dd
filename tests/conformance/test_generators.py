"""The generators reach what they claim: window/grace/retention boundaries, segment-scale
gaps where keys go quiet and return, out-of-order records, tombstones for absent keys, and
the record cache on for every stateful topology."""

from __future__ import annotations

import random

from conformance.families import CACHE_ON, RAW_CONFIGS, STATELESS, TOPOLOGIES
from conformance.generate import MESSY, make_inputs, scenarios_for
from conformance.scenarios import cache_max_bytes
from conformance.timing import SEGMENT_MS, boundary_times, time_units, wide_steps

SESSION = {"gap": 5, "grace": 5}


def test_time_units_cover_window_grace_and_retention() -> None:
    assert time_units(SESSION) == [5, 10]  # gap, grace, and retention gap + grace
    assert time_units({"size": 10, "advance": 5, "grace": 0}) == [5, 10]
    assert time_units({"diff": 5, "grace": 5}) == [5, 10, 15]  # join span 2*diff (+ grace)


def test_boundary_times_sit_on_and_beside_each_boundary() -> None:
    times = set(boundary_times(SESSION))
    for t in (0, 4, 5, 6, 9, 10, 11, 19, 20, 21):
        assert t in times


def test_wide_steps_outlast_retention_and_segments() -> None:
    steps = wide_steps(SESSION)
    assert 11 in steps  # one past gap + grace: a session falls out of retention
    assert max(steps) > 2 * SEGMENT_MS  # whole segments expire


def _records(events: list[dict]) -> list[dict]:
    return [e for e in events if "topic" in e]


def test_messy_styles_are_each_generated_and_reach_their_class() -> None:
    spec = TOPOLOGIES["window_session"]
    rng = random.Random(7)
    late = quiet = boundary = 0
    for _ in range(200):
        for style in MESSY:
            recs = _records(make_inputs(spec, rng, style, SESSION))
            ts = [r["timestamp"] for r in recs]
            late += any(b < max(ts[:i + 1]) for i, b in enumerate(ts))
            if style == "wide":
                quiet += any(b - a > SEGMENT_MS for a, b in zip(ts, ts[1:], strict=False))
            if style == "boundary":
                boundary += all(t in set(boundary_times(SESSION)) for t in ts[:-1])
    assert late > 100 and quiet > 50 and boundary > 150


def test_tombstones_for_absent_and_present_keys_on_table_inputs() -> None:
    spec = TOPOLOGIES["join_table_table"]
    rng = random.Random(3)
    absent = present = 0
    for _ in range(200):
        held: dict[str, set[str]] = {"left": set(), "right": set()}
        for r in _records(make_inputs(spec, rng, "narrow", {})):
            if r["key"] is None:
                continue
            if r["value"] is None:
                if r["key"] in held[r["topic"]]:
                    present += 1
                else:
                    absent += 1
                held[r["topic"]].discard(r["key"])
            else:
                held[r["topic"]].add(r["key"])
    assert absent > 50 and present > 50


def test_every_stateful_topology_runs_with_the_cache_on() -> None:
    for spec in TOPOLOGIES.values():
        assert (CACHE_ON in spec.configs) == (spec.name not in STATELESS), spec.name
    names = [s["name"] for s in scenarios_for(TOPOLOGIES["window_session"])]
    assert any(".cache." in n for n in names) and any(".cache." not in n for n in names)


def test_every_stateful_topology_also_sets_the_cache_through_the_raw_property() -> None:
    # on while cache_max_bytes is absent, and off while cache_max_bytes says on
    assert [bool(cache_max_bytes({"config": c})) for c in RAW_CONFIGS] == [True, False]
    for spec in TOPOLOGIES.values():
        assert all((c in spec.configs) == (spec.name not in STATELESS) for c in RAW_CONFIGS)
    for spec in TOPOLOGIES.values():
        if spec.name in STATELESS:
            continue
        configs = [s.get("config") for s in scenarios_for(spec)]
        assert any(c in RAW_CONFIGS for c in configs), spec.name


def test_session_and_window_stores_run_with_a_retention_of_their_own() -> None:
    for name in ("window_session", "window_tumbling"):
        variants = TOPOLOGIES[name].variants
        assert any(v.get("retention", 0) > v.get("gap", v.get("size", 0)) + v.get("grace", 0)
                   for v in variants), name
    retained = {"gap": 5, "grace": 2, "retention": 12}
    assert {12, 17} <= set(time_units(retained))  # the store's limit, and one gap past it
    assert {11, 12, 13} <= set(boundary_times(retained))


def test_table_table_joins_run_on_plain_tables_too() -> None:
    # builder.table without a store: the join materializes both sides itself
    assert {v.get("materialized", True) for v in TOPOLOGIES["join_table_table"].variants} == {
        True, False}
