"""Small topologies with one store of each kind, for the query tests."""

from __future__ import annotations

from streams_app import (
    Materialized,
    Serdes,
    SessionWindows,
    StreamsBuilder,
    TimeWindows,
    Topology,
)

WINDOW_MS = 10_000
GAP_MS = 5_000


def counts_topology() -> Topology:
    """``in`` (string keys): a count per key (``counts``), per 10 s window (``windowed``)
    and per session of 5 s inactivity (``sessions``)."""
    b = StreamsBuilder()
    grouped = b.stream("in", key_serde=Serdes.string(), value_serde=Serdes.json()).group_by_key()
    grouped.count(Materialized.as_("counts"))
    grouped.windowed_by(TimeWindows.of_size_and_grace(WINDOW_MS, 10 * WINDOW_MS)) \
        .count(Materialized.as_("windowed"))
    grouped.windowed_by(SessionWindows.of_inactivity_gap_and_grace(GAP_MS, 10 * GAP_MS)) \
        .count(Materialized.as_("sessions"))
    return b.build()


def long_keys_topology() -> Topology:
    """``nums`` (long keys) summed per key into ``sums``."""
    b = StreamsBuilder()
    (b.stream("nums", key_serde=Serdes.long(), value_serde=Serdes.json())
     .group_by_key().reduce(lambda a, v: a + v, Materialized.as_("sums")))
    return b.build()
