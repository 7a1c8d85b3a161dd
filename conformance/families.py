"""What each catalogue topology reads: its family, input topics, value shapes and the
parameter variants the scenario generator and the property test draw from.

Both engines implement the topologies by name (oracle: conformance/oracle, Java;
streams_app: conformance/catalogue.py); this module is the shared description of their inputs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import product
from typing import Any

FAMILIES = ("stream", "aggregate", "table", "windows", "joins")
CACHE_ON = {"cache_max_bytes": 10 * 1024 * 1024}
# The cache set through Kafka Streams' raw property, which overrides cache_max_bytes (the
# shape that hid issue 16's held-out differences: the drivers read the cache differently).
RAW_CACHE_ON = {"streams": {"statestore.cache.max.bytes": str(10 * 1024 * 1024)}}
RAW_CACHE_OFF = {**CACHE_ON, "streams": {"statestore.cache.max.bytes": "0"}}
RAW_CONFIGS = (RAW_CACHE_ON, RAW_CACHE_OFF)
# Topologies without a store: the record cache cannot change them.
STATELESS = frozenset({
    "stream_map_values", "stream_filter", "stream_filter_not", "stream_map",
    "stream_select_key", "stream_flat_map", "stream_flat_map_values", "stream_branch",
    "stream_merge", "join_stream_stream",
})


@dataclass(frozen=True)
class TopologySpec:
    """One reference topology: where its records come from and how to parametrize it."""

    name: str
    family: str
    inputs: tuple[str, ...] = ("input",)
    # Topics whose values are {"fk": str|None, "v": int} instead of plain integers.
    fk_topics: tuple[str, ...] = ()
    variants: tuple[dict[str, Any], ...] = ({},)
    # Scenario configs to cover besides the default (record cache off).
    configs: tuple[dict[str, Any], ...] = ({},)
    # Whether wall-clock advances matter (EmitStrategy.onWindowClose is wall-clock throttled).
    wall_clock: bool = False
    tags: tuple[str, ...] = field(default=())


# The history retention (ms) of versioned table variants: short, so that the generated
# timestamps reach past it.
HISTORY = 7


def _grid(**axes: list[Any]) -> tuple[dict[str, Any], ...]:
    """Every combination of the given parameter values (None values are dropped)."""
    keys = list(axes)
    return tuple(
        {k: v for k, v in zip(keys, combo, strict=True) if v is not None}
        for combo in product(*(axes[k] for k in keys))
    )


def _specs() -> list[TopologySpec]:
    s: list[TopologySpec] = [
        TopologySpec("stream_map_values", "stream", variants=({"add": 1}, {"add": -3})),
        TopologySpec("stream_filter", "stream", variants=({"min": 0}, {"min": 5})),
        TopologySpec("stream_filter_not", "stream", variants=({"min": 0}, {"min": 5})),
        TopologySpec("stream_map", "stream",
                     variants=({"suffix": "x", "add": 0}, {"suffix": "-k", "add": 2})),
        TopologySpec("stream_select_key", "stream", variants=({"mod": 3}, {"mod": 2})),
        TopologySpec("stream_flat_map", "stream", variants=({"n": 0}, {"n": 2}, {"n": 3})),
        TopologySpec("stream_flat_map_values", "stream", variants=({"n": 1}, {"n": 3})),
        TopologySpec("stream_branch", "stream",
                     variants=({"first": 0, "second": 10}, {"first": 5, "second": 5})),
        TopologySpec("stream_merge", "stream", inputs=("input", "input2"),
                     variants=({"add": 0}, {"add": 1})),
        TopologySpec("stream_to_table", "stream", variants=({}, {"versioned": HISTORY})),
        TopologySpec("group_by_key_count", "aggregate", configs=({}, CACHE_ON)),
        TopologySpec("group_by_key_reduce", "aggregate", variants=({}, {"versioned": HISTORY})),
        TopologySpec("group_by_key_aggregate", "aggregate",
                     variants=({"init": 0}, {"init": 100})),
        TopologySpec("group_by_count", "aggregate", variants=({"mod": 3}, {"mod": 2}),
                     configs=({}, CACHE_ON)),
        TopologySpec("group_by_reduce", "aggregate", variants=({"mod": 3},)),
        TopologySpec("group_by_aggregate", "aggregate", variants=({"mod": 2, "init": 5},)),
        TopologySpec("cogroup_aggregate", "aggregate", inputs=("input", "input2"),
                     variants=({"mod": 0, "init": 0}, {"mod": 2, "init": 5}),
                     configs=({}, CACHE_ON)),
        TopologySpec("table_source", "table",
                     variants=({"materialized": True}, {"materialized": False},
                               {"materialized": True, "versioned": HISTORY})),
        TopologySpec("table_filter", "table", variants=(
            {"min": 0}, {"min": 5, "result_materialized": True},
            {"min": 5, "materialized": False}, {"min": 5, "versioned": HISTORY})),
        TopologySpec("table_filter_not", "table",
                     variants=({"min": 5}, {"min": 5, "result_materialized": True})),
        TopologySpec("table_map_values", "table",
                     variants=({"mul": 2}, {"mul": -1, "result_materialized": True},
                               {"mul": 2, "result_materialized": True,
                                "result_versioned": HISTORY})),
        TopologySpec("table_group_by_count", "table",
                     variants=({"mod": 3}, {"mod": 2, "materialized": False},
                               {"mod": 3, "versioned": HISTORY}),
                     configs=({}, CACHE_ON)),
        TopologySpec("table_group_by_reduce", "table", variants=({"mod": 3}, {"mod": 2})),
        TopologySpec("table_group_by_aggregate", "table", variants=({"mod": 2},),
                     configs=({}, CACHE_ON)),
    ]
    emits = ["update", "suppress", "on_window_close"]
    s += [
        TopologySpec("window_tumbling", "windows", wall_clock=True, variants=_grid(
            size=[10], grace=[0, 5, None], agg=["count", "reduce"], emit=emits) + _grid(
            size=[10], grace=[5], retention=[40], agg=["count"], emit=["update"])),
        TopologySpec("window_hopping", "windows", wall_clock=True, variants=_grid(
            size=[10], advance=[5], grace=[0, 5], agg=["count"], emit=emits)),
        TopologySpec("window_sliding", "windows", wall_clock=True, variants=_grid(
            diff=[10], grace=[0, 5], agg=["count", "reduce"], emit=emits)),
        # retention: Materialized.with_retention, past gap + grace (and past 2 segments)
        TopologySpec("window_session", "windows", wall_clock=True, variants=_grid(
            gap=[5], grace=[0, 5], agg=["count", "reduce"], emit=emits) + _grid(
            gap=[5], grace=[2], retention=[12, 130_000], agg=["count"], emit=emits)),
        TopologySpec("cogroup_window", "windows", inputs=("input", "input2"), variants=_grid(
            kind=["tumbling", "sliding", "session"], grace=[0, 5])),
        TopologySpec("join_stream_stream", "joins", inputs=("left", "right"), variants=_grid(
            kind=["inner", "left", "outer"], diff=[5], grace=[0, 5, None])),
        TopologySpec("join_stream_table", "joins", inputs=("left", "right"),
                     variants=_grid(kind=["inner", "left"])
                     + _grid(kind=["inner", "left"], versioned=[HISTORY])
                     + _grid(kind=["inner", "left"], versioned=[HISTORY], grace=[3])),
        # materialized False: plain builder.table sources the join materializes itself
        TopologySpec("join_table_table", "joins", inputs=("left", "right"), variants=_grid(
            kind=["inner", "left", "outer"], result_materialized=[False, True])
            + _grid(kind=["inner", "left", "outer"], versioned=[HISTORY])
            + _grid(kind=["inner", "left", "outer"], materialized=[False])),
        TopologySpec("join_stream_globaltable", "joins", inputs=("left", "right"),
                     variants=_grid(kind=["inner", "left"], mapper=["key", "value_mod"])),
        TopologySpec("join_foreign_key", "joins", inputs=("left", "right"), fk_topics=("left",),
                     variants=_grid(kind=["inner", "left"])
                     + _grid(kind=["inner", "left"], versioned=[HISTORY])),
    ]
    # Every stateful topology runs with the record cache on as well as off, set both ways.
    return [t if t.name in STATELESS else
            TopologySpec(t.name, t.family, t.inputs, t.fk_topics, t.variants,
                         ({}, CACHE_ON, *RAW_CONFIGS), t.wall_clock, t.tags)
            for t in s]


TOPOLOGIES: dict[str, TopologySpec] = {t.name: t for t in _specs()}


def by_family(family: str) -> list[TopologySpec]:
    """The topologies of one family, in catalogue order."""
    return [t for t in TOPOLOGIES.values() if t.family == family]


def family_of(topology: str) -> str:
    """The family a topology belongs to ("other" for names outside the catalogue)."""
    spec = TOPOLOGIES.get(topology)
    return spec.family if spec else "other"


def null_keys_allowed(topology: str, params: dict[str, Any]) -> bool:
    """False where Kafka Streams 4.4 fails on a null-key record instead of dropping it: a
    stream-table join with a grace period (a NullPointerException in its grace buffer)."""
    return not (topology == "join_stream_table" and params.get("grace"))
