"""Session-window aggregation (Kafka Streams' KStreamSessionWindowAggregate).

A record opens the session ``[ts, ts]`` and merges every session of its key that ends
within ``gap`` before it or starts within ``gap`` after it: merged sessions are removed (a
tombstone is forwarded for each) and the merged aggregate is stored under the combined
window. A session closes when stream time passes ``end + gap + grace``; records that would
only extend closed sessions are dropped. Updates carry the session end as timestamp.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from streams_app.processors.api import Record
from streams_app.processors.window_aggregate import (
    DEFAULT_EMIT_INTERVAL_MS,
    WindowAggregateBase,
    skip_record,
)
from streams_app.state.api import Windowed

__all__ = ["KStreamSessionWindowAggregate"]


class KStreamSessionWindowAggregate(WindowAggregateBase):
    """Session count, reduce and aggregate; ``merger(key, agg1, agg2)`` joins sessions."""

    timestamped = False

    def __init__(self, store_name: str, windows: Any, initializer: Callable[[], Any],
                 aggregator: Callable[[Any, Any, Any], Any],
                 merger: Callable[[Any, Any, Any], Any], emit_final: bool = False,
                 send_old_values: bool = False,
                 emit_interval_ms: int = DEFAULT_EMIT_INTERVAL_MS) -> None:
        super().__init__(store_name, windows, initializer, aggregator, emit_final,
                         send_old_values, emit_interval_ms)
        self.gap = windows.gap_ms
        self.grace_ms = windows.gap_ms + windows.grace_ms  # a session closes gap + grace late
        self.merger = merger

    def process(self, record: Record) -> None:
        """Merge the record with its key's nearby sessions."""
        key, ts = record.key, record.timestamp
        if key is None:
            skip_record(self.context, "due to null key")
            return
        if ts > self.observed_stream_time:
            self.observed_stream_time = ts
        close_time = self.observed_stream_time - self.grace_ms
        merged = list(self.store.find_sessions(key, ts - self.gap, ts + self.gap))
        agg = self.initializer()
        start = end = ts
        for session, value in merged:
            agg = self.merger(key, agg, value)
            start, end = min(start, session.start), max(end, session.end)
        if end < close_time:
            skip_record(self.context, f"for expired window [{start},{end}]")
        else:
            if (start, end) != (ts, ts):
                for session, value in merged:
                    self.store.remove(session)
                    self._forward(session, None, value)
            agg = self.aggregator(key, record.value, agg)
            session = Windowed(key, start, end)
            self.store.put(session, agg)
            self._forward(session, agg, None)
        self.maybe_forward_final(record, close_time)

    def _forward(self, session: Windowed, new: Any, old: Any) -> None:
        if not self.emit_final:
            self.forwarder.forward_change(session, new, old, session.end, ())

    def emit_lower_bound(self, close_time: int) -> int:
        """Sessions ending before this were emitted."""
        return max(0, self.last_emit_window_close_time)

    def emit_upper_bound(self, close_time: int) -> int:
        """The latest end of a closed session (ends are inclusive)."""
        return close_time - 1

    def should_range_fetch(self, lower: int, upper: int) -> bool:
        """Anything to scan at all."""
        return upper >= lower

    def closed_windows(self, lower: int, upper: int) -> list[tuple[Windowed, Any, int]]:
        """Sessions ending in ``[lower, upper]``, stamped with their end."""
        return [(s, v, s.end) for s, v in self.store.find_sessions_ending(lower, upper)]
