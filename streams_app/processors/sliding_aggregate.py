"""Sliding-window aggregation (Kafka Streams' KStreamSlidingWindowAggregate).

Windows are ``[start, start + difference]`` (both inclusive) and exist only where records
are: each record has a left window ending at its timestamp and, when later records fall in
it, a right window starting just after it. A new record updates every existing window it
falls in, and creates its own left window, its right window and the previous record's
right window when they are missing. Windows are scanned newest first, as Kafka does with
its reverse iterator.
"""

from __future__ import annotations

from typing import Any

from streams_app.processors.api import Record
from streams_app.processors.window_aggregate import (
    NO_TIMESTAMP,
    WindowAggregateBase,
    skip_record,
)
from streams_app.state.api import ValueAndTimestamp, Windowed

__all__ = ["KStreamSlidingWindowAggregate"]


class KStreamSlidingWindowAggregate(WindowAggregateBase):
    """Sliding-window count, reduce and aggregate; null keys and values are dropped."""

    def __init__(self, store_name: str, windows: Any, *args: Any, **kwargs: Any) -> None:
        """As :class:`WindowAggregateBase`; ``windows`` are SlidingWindows."""
        super().__init__(store_name, windows, *args, **kwargs)
        self.diff = windows.time_difference_ms

    def process(self, record: Record) -> None:
        """Update and create the windows the record belongs to."""
        if record.key is None or record.value is None:
            skip_record(self.context, "due to null key or value")
            return
        ts = record.timestamp
        close_time = self.observe(ts)
        if ts + self.diff < close_time:
            skip_record(self.context, f"for expired window [{ts},{ts + self.diff}]")
            return
        if ts < self.diff:
            self._process_early(record, close_time)
            return
        self._process_reverse(record, close_time)
        self.maybe_forward_final(record, close_time)

    def _process_reverse(self, record: Record, close_time: int) -> None:
        key, ts, diff = record.key, record.timestamp, self.diff
        starts: set[int] = set()
        left_agg = right_agg = None
        left_created = right_created = False
        previous_ts: int | None = None
        for start, vt in list(self.store.fetch_range(key, max(0, ts - 2 * diff), ts + 1,
                                                     backward=True)):
            starts.add(start)
            end = start + diff
            if start == ts + 1:
                right_created = True
            elif end > ts:
                if right_agg is None:
                    right_agg = vt
                self._update(start, vt, record, close_time)
            elif end == ts:
                left_created = True
                self._update(start, vt, record, close_time)
                if vt.timestamp < ts:
                    previous_ts = vt.timestamp
                else:
                    return  # the left window already held a record at ts: nothing to create
            else:
                left_agg = vt
                previous_ts = vt.timestamp
                break
        self._create_windows(record, close_time, starts, right_agg, left_agg, left_created,
                             right_created, previous_ts)

    def _process_early(self, record: Record, close_time: int) -> None:
        """0 <= ts < difference: the window [0, difference] collects every early record."""
        key, ts = record.key, record.timestamp
        combined: tuple[int, ValueAndTimestamp] | None = None
        right_agg = None
        right_created = False
        starts: set[int] = set()
        previous_ts: int | None = None
        for start, vt in list(self.store.fetch_range(key, 0, ts + 1)):
            starts.add(start)
            if start == 0:
                combined = (start, vt)
                if vt.timestamp < ts:
                    previous_ts = vt.timestamp
            elif start <= ts:
                right_agg = vt
                self._update(start, vt, record, close_time)
            elif start == ts + 1:
                right_created = True
        if right_agg is None and combined is not None and combined[1].timestamp > ts:
            right_agg = combined[1]
        if not right_created and self._right_not_empty(right_agg, ts):
            self._create_right_window(record, right_agg)
        if previous_ts is not None and previous_ts + 1 not in starts:
            self._update(previous_ts + 1, self._fresh(ts), record, close_time)
        if combined is None:
            self._update(0, self._fresh(ts), record, close_time)
        else:
            self._update(0, combined[1], record, close_time)

    def _create_windows(self, record: Record, close_time: int, starts: set[int],
                        right_agg: ValueAndTimestamp | None, left_agg: ValueAndTimestamp | None,
                        left_created: bool, right_created: bool,
                        previous_ts: int | None) -> None:
        ts, diff = record.timestamp, self.diff
        if previous_ts is not None:
            prev_right = previous_ts + 1
            if prev_right not in starts and prev_right + diff >= ts:
                self._update(prev_right, self._fresh(ts), record, close_time)
        if not left_created:
            if previous_ts is not None and ts - diff <= previous_ts:
                vt = ValueAndTimestamp(left_agg.value, ts)  # type: ignore[union-attr]
            else:
                vt = self._fresh(ts)
            self._update(ts - diff, vt, record, close_time)
        if not right_created and self._right_not_empty(right_agg, ts):
            self._create_right_window(record, right_agg)

    def _fresh(self, ts: int) -> ValueAndTimestamp | None:
        agg = self.initializer()
        return None if agg is None else ValueAndTimestamp(agg, ts)

    @staticmethod
    def _right_not_empty(right_agg: ValueAndTimestamp | None, ts: int) -> bool:
        return right_agg is not None and right_agg.timestamp > ts

    def _create_right_window(self, record: Record, right_agg: Any) -> None:
        start = record.timestamp + 1
        self.store.put(record.key, right_agg, start)
        self.forward_update(record, Windowed(record.key, start, start + self.diff), None,
                            right_agg.value, right_agg.timestamp)

    def _update(self, start: int, vt: ValueAndTimestamp | None, record: Record,
                close_time: int) -> None:
        end = start + self.diff
        if end < close_time:
            skip_record(self.context, f"for expired window [{start},{end}]")
            return
        old_agg = None if vt is None else vt.value
        new_agg = self.aggregator(record.key, record.value, old_agg)
        new_ts = record.timestamp if old_agg is None else max(record.timestamp, vt.timestamp)
        self.store.put(record.key,
                       None if new_agg is None else ValueAndTimestamp(new_agg, new_ts), start)
        self.forward_update(record, Windowed(record.key, start, end), old_agg, new_agg, new_ts)

    def emit_lower_bound(self, close_time: int) -> int:
        """Starts already emitted are below this."""
        last = self.last_emit_window_close_time
        return 0 if last == NO_TIMESTAMP else max(0, last - self.diff)

    def emit_upper_bound(self, close_time: int) -> int:
        """The latest start of a closed window (ends are inclusive, hence -1)."""
        return close_time - self.diff - 1
