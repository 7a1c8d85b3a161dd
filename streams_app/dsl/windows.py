"""Window specifications (Kafka Streams' TimeWindows, SlidingWindows, SessionWindows) and
EmitStrategy. Durations are milliseconds (``int``) or ``datetime.timedelta``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from enum import Enum

__all__ = ["TimeWindows", "SlidingWindows", "SessionWindows", "EmitStrategy", "to_ms"]


def to_ms(value: int | timedelta, setting: str, minimum: int = 0) -> int:
    """``value`` in ms; fails naming ``setting`` when it is not a duration >= ``minimum``."""
    if isinstance(value, timedelta):
        ms = value // timedelta(milliseconds=1)
    elif isinstance(value, int) and not isinstance(value, bool):
        ms = value
    else:
        raise TypeError(f"{setting}: expected milliseconds (int) or timedelta, got {value!r}")
    if ms < minimum:
        raise ValueError(f"{setting}: must be >= {minimum} ms, got {ms}")
    return ms


@dataclass(frozen=True)
class TimeWindows:
    """Fixed-size windows ``[start, start + size)`` every ``advance`` ms (tumbling when equal).

    A record belongs to every window containing its timestamp; a window accepts records
    until stream time passes its end plus the grace period.
    """

    size_ms: int
    advance_ms: int
    grace_ms: int

    @classmethod
    def of_size_with_no_grace(cls, size: int | timedelta) -> TimeWindows:
        """Tumbling windows of ``size``; out-of-order records after the window end are dropped."""
        ms = to_ms(size, "TimeWindows size", 1)
        return cls(ms, ms, 0)

    @classmethod
    def of_size_and_grace(cls, size: int | timedelta, grace: int | timedelta) -> TimeWindows:
        """Tumbling windows of ``size`` accepting records up to ``grace`` after their end."""
        ms = to_ms(size, "TimeWindows size", 1)
        return cls(ms, ms, to_ms(grace, "TimeWindows grace"))

    def advance_by(self, advance: int | timedelta) -> TimeWindows:
        """Hopping windows: a new window every ``advance`` (0 < advance <= size)."""
        ms = to_ms(advance, "TimeWindows advance", 1)
        if ms > self.size_ms:
            raise ValueError(
                f"TimeWindows advance: must be <= the window size ({self.size_ms} ms), got {ms}"
            )
        return TimeWindows(self.size_ms, ms, self.grace_ms)

    def size(self) -> int:
        """Window size in ms."""
        return self.size_ms

    def grace_period_ms(self) -> int:
        """Grace period in ms."""
        return self.grace_ms

    def windows_for(self, timestamp: int) -> dict[int, int]:
        """``{start: end}`` of the windows containing ``timestamp``, oldest first."""
        start = (max(0, timestamp - self.size_ms + self.advance_ms) // self.advance_ms
                 * self.advance_ms)
        result: dict[int, int] = {}
        while start <= timestamp:
            result[start] = start + self.size_ms
            start += self.advance_ms
        return result


@dataclass(frozen=True)
class SlidingWindows:
    """Windows of ``time_difference`` ms (both ends inclusive) created where records are, so
    every distinct set of records no further apart than the difference gets one window."""

    time_difference_ms: int
    grace_ms: int

    @classmethod
    def of_time_difference_with_no_grace(cls, difference: int | timedelta) -> SlidingWindows:
        """Sliding windows with no grace period."""
        return cls(to_ms(difference, "SlidingWindows time difference"), 0)

    @classmethod
    def of_time_difference_and_grace(cls, difference: int | timedelta,
                                     grace: int | timedelta) -> SlidingWindows:
        """Sliding windows accepting records up to ``grace`` after a window's end."""
        return cls(to_ms(difference, "SlidingWindows time difference"),
                   to_ms(grace, "SlidingWindows grace"))

    def grace_period_ms(self) -> int:
        """Grace period in ms."""
        return self.grace_ms


@dataclass(frozen=True)
class SessionWindows:
    """Per-key sessions: records closer than ``gap`` ms merge into one window ``[first, last]``."""

    gap_ms: int
    grace_ms: int

    @classmethod
    def of_inactivity_gap_with_no_grace(cls, gap: int | timedelta) -> SessionWindows:
        """Sessions split by ``gap`` of inactivity, no grace period."""
        return cls(to_ms(gap, "SessionWindows inactivity gap", 1), 0)

    @classmethod
    def of_inactivity_gap_and_grace(cls, gap: int | timedelta,
                                    grace: int | timedelta) -> SessionWindows:
        """Sessions split by ``gap`` of inactivity, accepting late records for ``grace``."""
        return cls(to_ms(gap, "SessionWindows inactivity gap", 1),
                   to_ms(grace, "SessionWindows grace"))

    def inactivity_gap(self) -> int:
        """The inactivity gap in ms."""
        return self.gap_ms

    def grace_period_ms(self) -> int:
        """Grace period in ms."""
        return self.grace_ms


class EmitStrategy(Enum):
    """When a windowed aggregation emits: on every update, or once when the window closes."""

    ON_WINDOW_UPDATE = "on_window_update"
    ON_WINDOW_CLOSE = "on_window_close"

    @staticmethod
    def on_window_update() -> EmitStrategy:
        """Emit every update (the default)."""
        return EmitStrategy.ON_WINDOW_UPDATE

    @staticmethod
    def on_window_close() -> EmitStrategy:
        """Emit each window's final result once it closes (checked at most every
        ``emit_interval_ms`` of wall-clock time, Kafka's 1 s default)."""
        return EmitStrategy.ON_WINDOW_CLOSE
