"""Topologies whose state lives in the stores made durable last: a stream-stream join's window
stores (and the outer join's shared store) and a suppression buffer.

Each builder takes the topic prefix. Keys are strings, values JSON ``{"n": int}``.
"""

from __future__ import annotations

from collections.abc import Callable

from streams_app import (
    JoinWindows,
    Materialized,
    Serdes,
    StreamsBuilder,
    Suppressed,
    TimeWindows,
    Topology,
)

S, J = Serdes.string(), Serdes.json()

# join window: records at most JOIN_MS apart join; GRACE_MS more before outer results
JOIN_MS, GRACE_MS = 1_000, 500
# suppression: 1 s tumbling windows closing GRACE_MS after their end
WINDOW_MS = 1_000


def _pair(left: dict, right: dict | None) -> dict:
    return {"l": left and left["n"], "r": right and right["n"]}


def _join(p: str, kind: str) -> Topology:
    b = StreamsBuilder()
    left = b.stream(f"{p}left", key_serde=S, value_serde=J)
    right = b.stream(f"{p}right", key_serde=S, value_serde=J)
    join = getattr(left, kind)
    join(right, _pair, JoinWindows.of_time_difference_and_grace(JOIN_MS, GRACE_MS)).to(
        f"{p}out", value_serde=J)
    return b.build()


def stream_join(p: str) -> Topology:
    """An inner windowed join of ``left`` and ``right`` into ``out``."""
    return _join(p, "join")


def stream_left_join(p: str) -> Topology:
    """A left windowed join: unmatched left records wait in the shared store."""
    return _join(p, "left_join")


def suppressed_count(p: str) -> Topology:
    """Final per-window counts of ``in`` into ``out`` (key ``<key>@<window start>``)."""
    b = StreamsBuilder()
    (b.stream(f"{p}in", key_serde=S, value_serde=J).group_by_key()
     .windowed_by(TimeWindows.of_size_and_grace(WINDOW_MS, GRACE_MS))
     .count(Materialized.as_("counts"))
     .suppress(Suppressed.until_window_closes(Suppressed.BufferConfig.unbounded()))
     .to_stream().map(lambda k, v: (f"{k.key}@{k.start}", v))
     .to(f"{p}out", key_serde=S, value_serde=J))
    return b.build()


TOPOLOGIES: dict[str, Callable[[str], Topology]] = {
    "stream_join": stream_join,
    "stream_left_join": stream_left_join,
    "suppressed_count": suppressed_count,
}
