"""Time-windowed aggregation (Kafka Streams' KStreamWindowAggregate) and the forwarding and
emit-final machinery it shares with sliding and session windows.

Records land in every window containing their timestamp that has not closed yet; a window
closes when the processor's observed stream time passes ``end + grace``. The stored value is
``ValueAndTimestamp(aggregate, max record timestamp)`` and updates go out as
``Record(Windowed(key, start, end), Change(new, old))``. With emit-on-window-close nothing is
forwarded per update: closed windows are scanned from the store, throttled by wall-clock
time (``emit_interval_ms``), and sent once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial
from typing import Any

from streams_app.processors.aggregate import AggregateSupplier
from streams_app.processors.api import Change, Processor, ProcessorContext, Record
from streams_app.processors.forwarding import TupleForwarder
from streams_app.state.api import ValueAndTimestamp, Windowed
from streams_app.state.spec import StoreSpec

__all__ = [
    "KStreamWindowAggregate",
    "WindowAggregateSupplier",
    "WindowAggregateBase",
    "DEFAULT_EMIT_INTERVAL_MS",
    "emit_interval",
]

log = logging.getLogger(__name__)

NO_TIMESTAMP = -1
# ValueAndTimestamp((value, ts)) without NamedTuple's Python-level __new__ (half the cost)
_value_and_timestamp = partial(tuple.__new__, ValueAndTimestamp)
DEFAULT_EMIT_INTERVAL_MS = 1000  # Kafka's emit.interval.ms.kstreams.windowed.aggregation


def emit_interval(context: ProcessorContext, default: int) -> int:
    """The emit-final throttle: a runtime may override it on its context (the test driver
    sets ``windowed_emit_interval_ms = 0``, as Kafka's TopologyTestDriver does)."""
    return int(getattr(context, "windowed_emit_interval_ms", default))


def skip_record(ctx: ProcessorContext, why: str) -> None:
    """Log a dropped record with its position (Kafka's wording)."""
    log.warning("Skipping record %s. topic=[%s] partition=[%s] offset=[%s]",
                why, ctx.topic, ctx.partition, ctx.offset)


class WindowAggregateSupplier(AggregateSupplier):
    """A windowed aggregation (time, sliding or session windows); ``grace_ms`` is how long
    after a window's end its result can still change (what ``suppress(until_window_closes)``
    waits for)."""

    def __init__(self, spec: StoreSpec, make: Callable[[str, bool], Processor],
                 grace_ms: int) -> None:
        super().__init__(spec, make)
        self.grace_ms = grace_ms

    def window_grace_ms(self) -> int | None:
        """The windows' grace."""
        return self.grace_ms


class WindowAggregateBase(Processor):
    """Store lookup, per-update forwarding and throttled emit-final of windowed
    aggregations (time, sliding and session windows)."""

    # window stores hold ValueAndTimestamp; session stores plain values
    timestamped = True

    def __init__(self, store_name: str, windows: Any, initializer: Callable[[], Any],
                 aggregator: Callable[[Any, Any, Any], Any], emit_final: bool = False,
                 send_old_values: bool = False,
                 emit_interval_ms: int = DEFAULT_EMIT_INTERVAL_MS) -> None:
        self.store_name = store_name
        self.windows = windows
        self.grace_ms = windows.grace_ms
        self.initializer = initializer
        self.aggregator = aggregator
        self.emit_final = emit_final
        self.send_old_values = send_old_values
        self.emit_interval_ms = emit_interval_ms
        self.observed_stream_time = NO_TIMESTAMP
        self.last_emit_window_close_time = NO_TIMESTAMP
        self.next_time_to_emit = 0

    def init(self, context: ProcessorContext) -> None:
        """Look up the store; updates go through its cache unless emitting final results."""
        self.context = context
        self.store = context.get_state_store(self.store_name)
        if not self.emit_final:
            self.forwarder = TupleForwarder(self.store, context, self.send_old_values,
                                            self.timestamped)

    def forward_update(self, record: Record, key: Windowed, old: Any, new: Any,
                       timestamp: int) -> None:
        """Forward one window's update (nothing when emitting final results)."""
        if self.emit_final:
            return
        self.forwarder.forward_change(key, new, old, timestamp, record.headers)

    def observe(self, timestamp: int) -> int:
        """Advance the observed stream time; return the window close time."""
        if timestamp > self.observed_stream_time:
            self.observed_stream_time = timestamp
        return self.observed_stream_time - self.grace_ms

    # -- emit final ---------------------------------------------------------------------

    def emit_lower_bound(self, close_time: int) -> int:
        raise NotImplementedError

    def emit_upper_bound(self, close_time: int) -> int:
        raise NotImplementedError

    def should_range_fetch(self, lower: int, upper: int) -> bool:
        return True

    def closed_windows(self, lower: int, upper: int) -> list[tuple[Windowed, Any, int]]:
        """``(window, aggregate, timestamp)`` of the windows starting in ``[lower, upper]``."""
        return [(w, vt.value, vt.timestamp) for w, vt in self.store.fetch_all(lower, upper)]

    def maybe_forward_final(self, record: Record, close_time: int) -> None:
        """Emit windows closed since the last emit, at most once per emit interval."""
        if not self.emit_final:
            return
        now = self.context.wall_clock_time
        if now < self.next_time_to_emit:
            return
        # schedule from now so a wall-clock jump does not trigger an emit per record
        self.next_time_to_emit = now + emit_interval(self.context, self.emit_interval_ms)
        last = self.last_emit_window_close_time
        if last != NO_TIMESTAMP and last >= close_time:
            return
        upper = self.emit_upper_bound(close_time)
        if upper < 0:
            return
        lower = self.emit_lower_bound(close_time)
        if not self.should_range_fetch(lower, upper):
            return
        for window, value, timestamp in self.closed_windows(lower, upper):
            self.context.forward(Record(window, Change(value, None), timestamp,
                                        record.headers))
        self.last_emit_window_close_time = close_time


class KStreamWindowAggregate(WindowAggregateBase):
    """Tumbling and hopping window aggregation (count, reduce and aggregate).

    ``windows_for(ts) -> {start: end}`` and ``size_ms`` come from :class:`TimeWindows`.
    Records with a null key are dropped; null values reach the aggregator.
    """

    def init(self, context: ProcessorContext) -> None:
        """Bind the per-record calls once (this is a hot path)."""
        super().init(context)
        w = self.windows
        self._tumbling_size = w.size_ms if w.advance_ms == w.size_ms else 0
        self._fetch = self.store.fetch
        self._put = self.store.put
        # with the cache on (and not emitting final results) the cache forwards on flush:
        # no Windowed key is built per record
        self._forwards = self.emit_final or not self.forwarder.caching

    def process(self, record: Record) -> None:
        """Fold the record into each of its windows that is still open."""
        key = record.key
        if key is None:
            skip_record(self.context, "due to null key")
            return
        ts = record.timestamp
        if ts > self.observed_stream_time:
            self.observed_stream_time = ts
        close_time = self.observed_stream_time - self.grace_ms
        size = self._tumbling_size
        if size and ts >= 0:  # the one window, without windows_for's dict
            start = ts - ts % size
            windows: Any = ((start, start + size),)
        else:
            windows = self.windows.windows_for(ts).items()
        for start, end in windows:
            if end <= close_time:
                skip_record(self.context, f"for expired window [{start},{end})")
                continue
            old = self._fetch(key, start)
            if old is None or old[0] is None:  # ValueAndTimestamp (value, timestamp)
                old_agg = self.initializer()
                new_ts = ts
            else:
                old_agg = old[0]
                new_ts = ts if ts > old[1] else old[1]
            new_agg = self.aggregator(key, record.value, old_agg)
            self._put(key, None if new_agg is None
                      else _value_and_timestamp((new_agg, new_ts)), start)
            if self._forwards:
                self.forward_update(record, Windowed(key, start, end), old_agg, new_agg, new_ts)
        if self.emit_final:
            self.maybe_forward_final(record, close_time)

    def emit_lower_bound(self, close_time: int) -> int:
        """Window starts already emitted are below this (end is exclusive, hence +1)."""
        last = self.last_emit_window_close_time
        if last == NO_TIMESTAMP:
            return 0
        return max(0, last - self.windows.size_ms) + 1

    def emit_upper_bound(self, close_time: int) -> int:
        """The latest start of a closed window."""
        return close_time - self.windows.size_ms

    def should_range_fetch(self, lower: int, upper: int) -> bool:
        """Skip the scan when no new window closed since the last emit."""
        if self.last_emit_window_close_time == NO_TIMESTAMP:
            return True
        windows_for = self.windows.windows_for
        return windows_for(upper) != windows_for(lower - 1)
