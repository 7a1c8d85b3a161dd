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

from streams_app.processors.api import Change, Processor, ProcessorContext, Record
from streams_app.processors.window_aggregate import (
    DEFAULT_EMIT_INTERVAL_MS,
    NO_TIMESTAMP,
    emit_interval,
    skip_record,
)
from streams_app.state.api import Windowed

__all__ = ["KStreamSessionWindowAggregate"]


class KStreamSessionWindowAggregate(Processor):
    """Session count, reduce and aggregate; ``merger(key, agg1, agg2)`` joins sessions."""

    def __init__(self, store_name: str, windows: Any, initializer: Callable[[], Any],
                 aggregator: Callable[[Any, Any, Any], Any],
                 merger: Callable[[Any, Any, Any], Any], emit_final: bool = False,
                 send_old_values: bool = False,
                 emit_interval_ms: int = DEFAULT_EMIT_INTERVAL_MS) -> None:
        self.store_name = store_name
        self.gap = windows.gap_ms
        self.grace = windows.grace_ms
        self.initializer = initializer
        self.aggregator = aggregator
        self.merger = merger
        self.emit_final = emit_final
        self.send_old_values = send_old_values
        self.emit_interval_ms = emit_interval_ms
        self.observed_stream_time = NO_TIMESTAMP
        self.last_emit_window_close_time = NO_TIMESTAMP
        self.next_time_to_emit = 0
        self.caching = False

    def init(self, context: ProcessorContext) -> None:
        """Look up the store; with a cache (and updates emitted) it forwards on flush."""
        self.context = context
        self.store = context.get_state_store(self.store_name)
        self.node = getattr(context, "current_node", None)
        setter = getattr(self.store, "set_flush_listener", None)
        if not self.emit_final and setter is not None:
            self.caching = bool(setter(self._on_flush, self.send_old_values))

    def process(self, record: Record) -> None:
        """Merge the record with its key's nearby sessions."""
        key = record.key
        if key is None:
            skip_record(self.context, "due to null key")
            return
        ts = record.timestamp
        if ts > self.observed_stream_time:
            self.observed_stream_time = ts
        close_time = self.observed_stream_time - self.grace - self.gap
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
        self._maybe_forward_final(record, close_time)

    def _forward(self, session: Windowed, new: Any, old: Any) -> None:
        if self.emit_final or self.caching:
            return
        self.context.forward(Record(
            session, Change(new, old if self.send_old_values else None), session.end
        ))

    def _on_flush(self, session: Windowed, new: Any, old: Any, _ts: int, headers: Any) -> None:
        ctx = self.context
        prev = ctx.current_node  # type: ignore[attr-defined]
        ctx.current_node = self.node  # type: ignore[attr-defined]
        try:
            ctx.forward(Record(session, Change(new, old), session.end, headers))
        finally:
            ctx.current_node = prev  # type: ignore[attr-defined]

    def _maybe_forward_final(self, record: Record, close_time: int) -> None:
        if not self.emit_final:
            return
        now = self.context.wall_clock_time
        if now < self.next_time_to_emit:
            return
        self.next_time_to_emit = now + emit_interval(self.context, self.emit_interval_ms)
        last = self.last_emit_window_close_time
        if last != NO_TIMESTAMP and last >= close_time:
            return
        upper = close_time - 1  # session ends are inclusive
        if upper < 0:
            return
        lower = max(0, last)
        if upper < lower:
            return
        for session, value in list(self.store.find_sessions_ending(lower, upper)):
            self.context.forward(Record(session, Change(value, None), session.end,
                                        record.headers))
        self.last_emit_window_close_time = close_time
