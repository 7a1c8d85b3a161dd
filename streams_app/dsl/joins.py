"""Join options: JoinWindows, StreamJoined, Joined, TableJoined (Kafka Streams' classes)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta

from streams_app.serdes import Serde

__all__ = ["JoinWindows", "StreamJoined", "Joined", "TableJoined", "to_ms"]


def to_ms(value: int | timedelta, setting: str) -> int:
    """Milliseconds from an int or a ``timedelta``; negative values fail naming ``setting``."""
    ms = int(value.total_seconds() * 1000) if isinstance(value, timedelta) else value
    if not isinstance(ms, int) or isinstance(ms, bool):
        raise TypeError(f"{setting}: expected milliseconds (int) or timedelta, got {value!r}")
    if ms < 0:
        raise ValueError(f"{setting} must not be negative, got {ms}")
    return ms


@dataclass(frozen=True)
class JoinWindows:
    """How close two records' timestamps must be to join: a left record at ``t`` joins right
    records in ``[t - before_ms, t + after_ms]``. ``grace_ms`` keeps accepting late records
    (and delays left/outer results with no partner until the window closes)."""

    before_ms: int
    after_ms: int
    grace_ms: int

    @classmethod
    def of_time_difference_and_grace(cls, time_difference: int | timedelta,
                                     grace: int | timedelta) -> JoinWindows:
        """Symmetric windows of ``time_difference`` with a grace period."""
        diff = to_ms(time_difference, "JoinWindows time_difference")
        return cls(diff, diff, to_ms(grace, "JoinWindows grace"))

    @classmethod
    def of_time_difference_with_no_grace(cls, time_difference: int | timedelta) -> JoinWindows:
        """Symmetric windows of ``time_difference`` and no grace period."""
        return cls.of_time_difference_and_grace(time_difference, 0)

    def before(self, time_difference: int | timedelta) -> JoinWindows:
        """Change how far back (from a left record) right records may be."""
        before = time_difference
        ms = int(before.total_seconds() * 1000) if isinstance(before, timedelta) else before
        if ms + self.after_ms < 0:
            raise ValueError("JoinWindows before + after must not be negative")
        return replace(self, before_ms=ms)

    def after(self, time_difference: int | timedelta) -> JoinWindows:
        """Change how far ahead (from a left record) right records may be."""
        after = time_difference
        ms = int(after.total_seconds() * 1000) if isinstance(after, timedelta) else after
        if ms + self.before_ms < 0:
            raise ValueError("JoinWindows before + after must not be negative")
        return replace(self, after_ms=ms)

    def size(self) -> int:
        """``before + after``: the window store's window size."""
        return self.before_ms + self.after_ms

    def grace_period_ms(self) -> int:
        """The grace period."""
        return self.grace_ms

    def retention_ms(self) -> int:
        """How long the join's window stores keep records: size plus grace."""
        return self.size() + self.grace_ms


@dataclass
class StreamJoined:
    """Serdes, processor name prefix and store name prefix of a stream-stream join."""

    key_serde: Serde | None = None
    value_serde: Serde | None = None
    other_value_serde: Serde | None = None
    name: str | None = None
    store_name: str | None = None
    logging: bool = True

    @classmethod
    def with_(cls, key_serde: Serde | None, value_serde: Serde | None,
              other_value_serde: Serde | None) -> StreamJoined:
        """Serdes of the key and of both sides' values."""
        return cls(key_serde, value_serde, other_value_serde)

    @classmethod
    def as_(cls, store_name: str) -> StreamJoined:
        """Name the join's stores (``<store_name>-this-join-store`` ...)."""
        return cls(store_name=store_name)


@dataclass
class Joined:
    """Serdes and processor name of a stream-table join."""

    key_serde: Serde | None = None
    value_serde: Serde | None = None
    other_value_serde: Serde | None = None
    name: str | None = None
    #: stream-table joins on a versioned table: how long stream records wait for late
    #: table updates (KIP-923); ``None``: they join at once
    grace_period_ms: int | None = None

    def with_grace_period(self, grace: int | timedelta) -> Joined:
        """Buffer stream records for ``grace`` before joining (Kafka's ``withGracePeriod``;
        the table must be versioned)."""
        return replace(self, grace_period_ms=to_ms(grace, "Joined grace period"))

    @classmethod
    def with_(cls, key_serde: Serde | None, value_serde: Serde | None,
              other_value_serde: Serde | None) -> Joined:
        """Serdes of the key, the stream's values and the table's values."""
        return cls(key_serde, value_serde, other_value_serde)

    @classmethod
    def as_(cls, name: str) -> Joined:
        """Name the join processor (and its repartition topic)."""
        return cls(name=name)


@dataclass
class TableJoined:
    """Name prefix for a foreign-key join's processors, stores and internal topics."""

    name: str | None = None

    @classmethod
    def as_(cls, name: str) -> TableJoined:
        """A named foreign-key join."""
        return cls(name=name)
