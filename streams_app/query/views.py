"""Read-only views over one store's partitions (Kafka's ReadOnly*Store and their composites).

A view reads the outermost layer of each partition's store stack, so updates still in the
record cache (not flushed by a commit yet) are seen, as Kafka Streams' queries see them.
Timestamped values are unwrapped: the value is returned, the timestamp is kept where asked.
Views never write.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, NamedTuple

from streams_app.query.keys import key_order
from streams_app.state.api import (
    KeyValueStore,
    SessionStore,
    ValueAndTimestamp,
    Windowed,
    WindowStore,
)
from streams_app.state.versioned import VersionedRecord

__all__ = ["Entry", "KeyValueView", "SessionView", "VersionedView", "WindowEntry", "WindowView",
           "unwrap"]

_FOREVER = 2**62


class Entry(NamedTuple):
    """One key's value, its last update's timestamp (None if the store keeps none), and
    the partition it lives in."""

    key: Any
    value: Any
    timestamp: int | None
    partition: int


class WindowEntry(NamedTuple):
    """One window (or session) of a key: ``[start, end)`` and its value."""

    key: Any
    start: int
    end: int
    value: Any
    partition: int


def unwrap(stored: Any) -> tuple[Any, int | None]:
    """``(value, timestamp)`` of a stored value (timestamp None for plain stores)."""
    if isinstance(stored, ValueAndTimestamp | VersionedRecord):
        return stored.value, stored.timestamp
    return stored, None


class _View:
    def __init__(self, name: str, parts: Sequence[tuple[int, Any]]) -> None:
        self.name = name
        self.parts = list(parts)  # (partition, store), by partition

    @property
    def partitions(self) -> list[int]:
        """The partitions this view reads."""
        return [p for p, _ in self.parts]


class VersionedView(_View):
    """A versioned key-value store over ``parts``: point reads, latest or as of a time
    (Kafka's ``VersionedKeyQuery``; a versioned store has no range reads)."""

    def entry(self, key: Any, as_of: int | None = None) -> Entry | None:
        """``key``'s version valid at ``as_of`` (None: the latest), or None."""
        for partition, store in self.parts:
            found = store.get(key, as_of)
            if found is not None:
                return Entry(key, found.value, found.timestamp, partition)
        return None

    def get(self, key: Any, as_of: int | None = None) -> Any:
        """``key``'s value at ``as_of`` (None: the latest), or None."""
        found = self.entry(key, as_of)
        return None if found is None else found.value


class KeyValueView(_View):
    """A key-value store over ``parts``: ``[(partition, store)]``."""

    parts: list[tuple[int, KeyValueStore]]

    def entry(self, key: Any) -> Entry | None:
        """``key``'s entry, or None."""
        for partition, store in self.parts:
            stored = store.get(key)
            if stored is not None:
                value, ts = unwrap(stored)
                return Entry(key, value, ts, partition)
        return None

    def get(self, key: Any) -> Any:
        """``key``'s value, or None."""
        found = self.entry(key)
        return None if found is None else found.value

    def range_entries(self, start: Any = None, end: Any = None) -> Iterator[Entry]:
        """Entries with ``start <= key <= end`` (None: open), merged across partitions in
        key order."""
        # Sorted here: a RocksDB store orders keys by their serialized bytes, which is not
        # the values' order for every serde (negative longs).
        found = [Entry(key, *unwrap(stored), partition) for partition, store in self.parts
                 for key, stored in store.range(start, end)]
        found.sort(key=lambda e: key_order(e.key))
        return iter(found)

    def range(self, start: Any = None, end: Any = None) -> Iterator[tuple[Any, Any]]:
        """``(key, value)`` with ``start <= key <= end``, in key order."""
        return ((e.key, e.value) for e in self.range_entries(start, end))

    def all(self) -> Iterator[tuple[Any, Any]]:
        """Every ``(key, value)``, in key order."""
        return self.range(None, None)

    def approximate_num_entries(self) -> int:
        """The stores' estimates, summed."""
        return sum(store.approximate_num_entries() for _, store in self.parts)


class WindowView(_View):
    """A window store over ``parts``; windows are ``window_size_ms`` long."""

    parts: list[tuple[int, WindowStore]]

    def __init__(self, name: str, parts: Sequence[tuple[int, WindowStore]],
                 window_size_ms: int) -> None:
        super().__init__(name, parts)
        self.window_size_ms = window_size_ms

    def windows(self, key: Any, time_from: int, time_to: int) -> list[WindowEntry]:
        """``key``'s windows starting in ``[time_from, time_to]``, oldest first."""
        out = []
        for partition, store in self.parts:
            for start, stored in store.fetch_range(key, time_from, time_to):
                out.append(WindowEntry(key, start, start + self.window_size_ms,
                                       unwrap(stored)[0], partition))
        out.sort(key=lambda w: w.start)
        return out

    def fetch(self, key: Any, time_from: int, time_to: int) -> Iterator[tuple[int, Any]]:
        """``(window start, value)`` of ``key`` for starts in ``[time_from, time_to]``."""
        return ((w.start, w.value) for w in self.windows(key, time_from, time_to))

    def fetch_all(self, time_from: int, time_to: int) -> Iterator[tuple[Windowed, Any]]:
        """Every window starting in ``[time_from, time_to]``, by start, then key."""
        found = [(windowed, unwrap(stored)[0]) for _, store in self.parts
                 for windowed, stored in store.fetch_all(time_from, time_to)]
        found.sort(key=lambda item: (item[0].start, key_order(item[0].key)))
        return iter(found)


class SessionView(_View):
    """A session store over ``parts``."""

    parts: list[tuple[int, SessionStore]]

    def sessions(self, key: Any) -> list[WindowEntry]:
        """Every session of ``key``, by start."""
        out = [WindowEntry(key, s.start, s.end, unwrap(stored)[0], partition)
               for partition, store in self.parts
               for s, stored in store.find_sessions(key, 0, _FOREVER)]
        out.sort(key=lambda w: w.start)
        return out

    def fetch(self, key: Any) -> Iterator[tuple[Windowed, Any]]:
        """``(session, value)`` of every session of ``key``."""
        return ((Windowed(key, w.start, w.end), w.value) for w in self.sessions(key))
