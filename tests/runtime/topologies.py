"""Topologies run both in the TopologyTestDriver and on Kafka through the Faust runtime.

Each entry: a builder ``f(prefix) -> Topology``, its input topic suffixes, its output topic
suffixes, and whether its outputs are table updates (compared by final value per key when
the record cache is on). Keys are strings, values JSON.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from streams_app import (
    Grouped,
    Materialized,
    Serdes,
    SessionWindows,
    StreamsBuilder,
    TimeWindows,
    Topology,
)

S, J = Serdes.string(), Serdes.json()


@dataclass(frozen=True)
class Case:
    """``inputs`` are produced phase by phase: each phase is fully processed before the next
    is produced (the runtimes need not agree on how two topics interleave, only on results).
    """

    build: Callable[[str], Topology]
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    table_outputs: bool
    phases: tuple[tuple[str, ...], ...] = ()
    # With the cache on, a group whose adds and subtracts cancel within one flush is never
    # created: it may be absent where the uncached run shows this empty aggregate.
    empty_aggregate: object = None

    @property
    def input_phases(self) -> tuple[tuple[str, ...], ...]:
        return self.phases or (self.inputs,)


def _stateless(p: str) -> Topology:
    b = StreamsBuilder()
    s = b.stream(f"{p}in", key_serde=S, value_serde=J)
    s.filter(lambda k, v: v is None or v["n"] % 3 != 0).map_values(
        lambda v: v and {"n": v["n"] * 10}).to(f"{p}out")
    s.flat_map(lambda k, v: [(f"{k}-{i}", i) for i in range(v["n"] % 3 if v else 1)]).select_key(
        lambda k, v: k.upper()).to(f"{p}out2")
    return b.build()


def _count(p: str) -> Topology:
    b = StreamsBuilder()
    b.stream(f"{p}in", key_serde=S, value_serde=J).group_by_key().count(
        Materialized.as_("counts")).to_stream().to(f"{p}out", value_serde=J)
    return b.build()


def _regroup_aggregate(p: str) -> Topology:
    b = StreamsBuilder()
    (b.stream(f"{p}in", key_serde=S, value_serde=J)
     .group_by(lambda k, v: v and str(v["n"] % 4), Grouped(name="by-mod", key_serde=S))
     .aggregate(lambda: 0, lambda k, v, agg: agg + v["n"], Materialized.as_("sums"))
     .to_stream().to(f"{p}out", value_serde=J))
    return b.build()


def _table_ops(p: str) -> Topology:
    b = StreamsBuilder()
    t = b.table(f"{p}in", key_serde=S, value_serde=J)
    t.filter(lambda k, v: v["n"] % 2 == 0).map_values(lambda v: v["n"] + 1).to_stream().to(
        f"{p}out", value_serde=J)
    return b.build()


def _table_regroup(p: str) -> Topology:
    b = StreamsBuilder()
    (b.table(f"{p}in", key_serde=S, value_serde=J)
     .group_by(lambda k, v: (str(v["n"] % 3), v["n"]), Grouped(name="regroup", key_serde=S,
                                                                 value_serde=J))
     .reduce(lambda agg, v: agg + v, lambda agg, v: agg - v, Materialized.as_("totals"))
     .to_stream().to(f"{p}out", value_serde=J))
    return b.build()


def _windowed_count(p: str) -> Topology:
    b = StreamsBuilder()
    (b.stream(f"{p}in", key_serde=S, value_serde=J).group_by_key()
     .windowed_by(TimeWindows.of_size_and_grace(100, 50)).count(Materialized.as_("wcounts"))
     .to_stream().map(lambda k, v: (f"{k.key}@{k.start}", v)).to(f"{p}out", key_serde=S,
                                                                  value_serde=J))
    return b.build()


def _session_count(p: str) -> Topology:
    b = StreamsBuilder()
    (b.stream(f"{p}in", key_serde=S, value_serde=J).group_by_key()
     .windowed_by(SessionWindows.of_inactivity_gap_and_grace(30, 20))
     .count(Materialized.as_("scounts"))
     .to_stream().map(lambda k, v: (f"{k.key}@{k.start}-{k.end}", v)).to(
         f"{p}out", key_serde=S, value_serde=J))
    return b.build()


def _stream_table_join(p: str) -> Topology:
    b = StreamsBuilder()
    table = b.table(f"{p}in2", key_serde=S, value_serde=J)
    (b.stream(f"{p}in", key_serde=S, value_serde=J)
     .left_join(table, lambda v, t: {"n": v and v["n"], "t": t and t["n"]})
     .to(f"{p}out", value_serde=J))
    return b.build()


def _global_join(p: str) -> Topology:
    b = StreamsBuilder()
    zones = b.global_table(f"{p}in2", key_serde=S, value_serde=J)
    (b.stream(f"{p}in", key_serde=S, value_serde=J)
     .join(zones, lambda k, v: v and f"k{v['n'] % 7}", lambda v, z: {"n": v["n"], "z": z["n"]})
     .to(f"{p}out", value_serde=J))
    return b.build()


def _table_table_join(p: str) -> Topology:
    b = StreamsBuilder()
    left = b.table(f"{p}in", key_serde=S, value_serde=J)
    right = b.table(f"{p}in2", key_serde=S, value_serde=J)
    left.join(right, lambda a, c: a["n"] + c["n"]).to_stream().to(f"{p}out", value_serde=J)
    return b.build()


CASES: dict[str, Case] = {
    "stateless": Case(_stateless, ("in",), ("out", "out2"), False),
    "count": Case(_count, ("in",), ("out",), True),
    "regroup_aggregate": Case(_regroup_aggregate, ("in",), ("out",), True),
    "table_ops": Case(_table_ops, ("in",), ("out",), True),
    "table_regroup": Case(_table_regroup, ("in",), ("out",), True, empty_aggregate=0),
    "windowed_count": Case(_windowed_count, ("in",), ("out",), True),
    "session_count": Case(_session_count, ("in",), ("out",), True),
    "stream_table_join": Case(_stream_table_join, ("in", "in2"), ("out",), False,
                              phases=(("in2",), ("in",))),
    "global_join": Case(_global_join, ("in", "in2"), ("out",), False,
                        phases=(("in2",), ("in",))),
    "table_table_join": Case(_table_table_join, ("in", "in2"), ("out",), True,
                             phases=(("in2",), ("in",))),
}
