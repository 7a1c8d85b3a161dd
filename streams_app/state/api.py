"""Store interfaces, modeled on Kafka Streams' ``StateStore`` family.

Stores hold deserialized Python objects. Persistent implementations (rocksdict) encode
keys and values with the store's serdes; the in-memory one keeps objects as they are.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

__all__ = [
    "ValueAndTimestamp",
    "StateStore",
    "KeyValueStore",
    "WindowStore",
    "SessionStore",
    "Windowed",
    "value_or_none",
    "FlushListener",
]

# listener(key, new value, old value, timestamp, headers): what a caching store hands its
# processor on flush (values as the store holds them)
FlushListener = Callable[[Any, Any, Any, int, Any], None]


class ValueAndTimestamp(NamedTuple):
    """A value with the timestamp of its last update (Kafka's ValueAndTimestamp)."""

    value: Any
    timestamp: int


def value_or_none(vt: ValueAndTimestamp | None) -> Any:
    """The value of ``vt`` or ``None`` (Kafka's ``getValueOrNull``)."""
    return None if vt is None else vt.value


class Windowed(NamedTuple):
    """A key with the window ``[start, end)`` it belongs to."""

    key: Any
    start: int
    end: int


class StateStore(ABC):
    """Any store: a name, a lifecycle and a flush point."""

    name: str

    def init(self, context: Any) -> None:  # noqa: B027 - optional hook
        """Called once before the first record; ``context`` is the processor context."""

    def flush(self) -> None:  # noqa: B027 - optional hook
        """Make buffered writes durable (and, for caches, forward them downstream)."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release resources."""

    def set_flush_listener(self, listener: FlushListener, send_old_values: bool) -> bool:
        """Have a caching store forward its writes through ``listener`` on flush; True
        when the store caches (the processor then forwards nothing itself)."""
        return False

    @property
    def persistent(self) -> bool:
        """True for stores that survive a restart without their changelog."""
        return False


class KeyValueStore(StateStore):
    """A key-value store. Timestamped stores hold :class:`ValueAndTimestamp` values."""

    @abstractmethod
    def get(self, key: Any) -> Any:
        """The value for ``key`` or ``None``."""

    @abstractmethod
    def put(self, key: Any, value: Any) -> None:
        """Set ``key`` to ``value``; ``None`` deletes."""

    @abstractmethod
    def delete(self, key: Any) -> Any:
        """Remove ``key``; return its old value or ``None``."""

    def put_if_absent(self, key: Any, value: Any) -> Any:
        """Put only when ``key`` has no value; return the existing value (or ``None``)."""
        old = self.get(key)
        if old is None:
            self.put(key, value)
        return old

    def put_all(self, entries: list[tuple[Any, Any]]) -> None:
        """Put every ``(key, value)`` pair."""
        for key, value in entries:
            self.put(key, value)

    @abstractmethod
    def range(self, start: Any = None, end: Any = None) -> Iterator[tuple[Any, Any]]:
        """Pairs with ``start <= key <= end`` (open bounds when ``None``), in key order."""

    def all(self) -> Iterator[tuple[Any, Any]]:
        """Every pair, in key order."""
        return self.range(None, None)

    @abstractmethod
    def approximate_num_entries(self) -> int:
        """An estimate of the number of keys."""


class WindowStore(StateStore):
    """Values per (key, window start): windowed aggregations and stream-stream joins."""

    @abstractmethod
    def put(self, key: Any, value: Any, window_start: int) -> None:
        """Set the value of ``key`` in the window starting at ``window_start``."""

    @abstractmethod
    def fetch(self, key: Any, window_start: int) -> Any:
        """The value of ``key`` in one window, or ``None``."""

    @abstractmethod
    def fetch_range(
        self, key: Any, time_from: int, time_to: int, backward: bool = False
    ) -> Iterator[tuple[int, Any]]:
        """``(window_start, value)`` of ``key`` for starts in ``[time_from, time_to]``,
        oldest first (newest first when ``backward``)."""

    @abstractmethod
    def fetch_all(self, time_from: int, time_to: int) -> Iterator[tuple[Windowed, Any]]:
        """Every window starting in ``[time_from, time_to]`` (by start, then key, in
        time-ordered stores; by key, then start, otherwise)."""

    @abstractmethod
    def all(self) -> Iterator[tuple[Windowed, Any]]:
        """Every windowed pair."""

    @property
    @abstractmethod
    def observed_stream_time(self) -> int:
        """The largest window start written, restores included (-1 before any write)."""


class SessionStore(StateStore):
    """Session-windowed values: session aggregations."""

    @abstractmethod
    def put(self, session: Windowed, value: Any) -> None:
        """Store ``value`` for the session; ``None`` removes it."""

    @abstractmethod
    def remove(self, session: Windowed) -> None:
        """Remove the session."""

    @abstractmethod
    def find_sessions(
        self, key: Any, earliest_end: int, latest_start: int
    ) -> Iterator[tuple[Windowed, Any]]:
        """Sessions of ``key`` ending at or after ``earliest_end`` and starting at or
        before ``latest_start``."""

    @abstractmethod
    def find_sessions_ending(
        self, earliest_end: int, latest_end: int
    ) -> Iterator[tuple[Windowed, Any]]:
        """Every session ending in ``[earliest_end, latest_end]``, by end, key, start
        (the scan that emits final results)."""

    @abstractmethod
    def fetch_session(self, key: Any, start: int, end: int) -> Any:
        """The value of one exact session, or ``None``."""

    @abstractmethod
    def all(self) -> Iterator[tuple[Windowed, Any]]:
        """Every session."""
