"""Timestamp shapes shared by the corpus generator and the property test.

Three styles, each reaching a different class of behaviour:

- ``narrow``: timestamps in ``[0, 40]``: plenty of out-of-order, late and equal timestamps.
- ``boundary``: timestamps at (and one off) multiples of the topology's time parameters
  (window size, advance, gap, join/sliding difference, grace, and their sums): records
  landing exactly on window ends, grace and store-retention limits.
- ``wide``: stream time jumps forward by retention-scale steps (up to past Kafka Streams'
  60 s minimum segment interval) and records go back by as much: keys go quiet for longer
  than a store's retention and then return, and whole segments expire.
"""

from __future__ import annotations

from typing import Any

__all__ = ["STYLES", "GENERATORS", "time_units", "boundary_times", "wide_steps"]

STYLES = ("narrow", "boundary", "wide")

# What each generator axis reaches, and the classes of difference it found (for REPORT.md).
GENERATORS: tuple[tuple[str, str, str], ...] = (
    ("timestamps `narrow`", "out-of-order, late and equal timestamps in [0, 40]",
     "none new (the original corpus' style)"),
    ("timestamps `boundary`",
     "records on and one off multiples of size, advance, gap, difference, grace and "
     "retention (their sums)",
     "session windows with `emit: on_window_close`: sessions closing together were emitted "
     "by end, key, start; Kafka's time-ordered session store emits by end, start, key"),
    ("timestamps `wide`",
     "stream time jumps of retention and segment scale (to 120 s); records late by as "
     "much: keys go quiet past retention and return, segments expire", "none"),
    ("tombstones", "null values on every input, so table inputs delete present and absent "
     "keys (both sides of table-table and foreign-key joins)", "none"),
    ("record cache on", "every stateful topology with `cache_max_bytes` set as well as off "
     "(window, session and join stores included)",
     "with `boundary`, the session emit-order difference above"),
    ("record cache as a raw property",
     "every stateful topology with `config.streams` `statestore.cache.max.bytes` turning the "
     "cache on without `cache_max_bytes`, and off over `cache_max_bytes`",
     "issue 16's held-out classes: streams_app's driver read only `cache_max_bytes`, so it ran "
     "cached where Kafka Streams did not: table-table joins dropped deletes of keys a side "
     "never held (Kafka forwards a tombstone / the unmatched row) and sessions merged with a "
     "session past the store's retention (Kafka starts a new one); both drivers now read one "
     "resolution and non-integer sizes are rejected"),
    ("store retention", "`Materialized.with_retention` on session (gap + grace + 5, 130 s) "
     "and tumbling windows, with `boundary` and `wide` times at and past it", "none"),
)
SEGMENT_MS = 60_000  # Kafka Streams' minimum segment interval for window/session stores


def time_units(params: dict[str, Any]) -> list[int]:
    """The topology's time parameters and their sums (its window, grace and retention)."""
    size = params.get("size", params.get("gap", params.get("diff", 10)))
    grace = params.get("grace") or 0
    units = {size, grace, size + grace, params.get("advance", size)}
    if "diff" in params:  # join/sliding windows span 2 * diff (+ grace)
        units |= {2 * params["diff"], 2 * params["diff"] + grace}
    if params.get("versioned"):  # a versioned table's history retention
        units.add(params["versioned"])
    if "retention" in params:  # Materialized.with_retention: the store's own limit
        units |= {params["retention"], params["retention"] + size}
    return sorted(u for u in units if u > 0) or [10]


def boundary_times(params: dict[str, Any], limit: int = 5) -> list[int]:
    """Timestamps on, and one either side of, small multiples of each time unit."""
    out = {0}
    for unit in time_units(params):
        for k in range(1, limit):
            out |= {k * unit - 1, k * unit, k * unit + 1}
    return sorted(t for t in out if t >= 0)


def wide_steps(params: dict[str, Any]) -> list[int]:
    """Stream-time steps: the time units, one past them, and segment-scale jumps."""
    steps = {0, 1}
    for unit in time_units(params):
        steps |= {unit, unit + 1}
    return sorted(steps | {SEGMENT_MS // 2, SEGMENT_MS, 2 * SEGMENT_MS + 1})
