"""In-memory stores: plain dicts, ordered on demand for range queries."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from streams_app.state.api import KeyValueStore, SessionStore, Windowed, WindowStore

__all__ = ["InMemoryKeyValueStore", "InMemoryWindowStore", "InMemorySessionStore", "sort_keys"]


def sort_keys(keys: Any) -> list[Any]:
    """Keys in natural order; mixed, unorderable keys fall back to ordering by repr."""
    try:
        return sorted(keys)
    except TypeError:
        return sorted(keys, key=repr)


def _in_range(key: Any, start: Any, end: Any) -> bool:
    try:
        return (start is None or key >= start) and (end is None or key <= end)
    except TypeError:
        return False


class InMemoryKeyValueStore(KeyValueStore):
    """A dict-backed key-value store (Kafka's InMemoryKeyValueStore)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.data: dict[Any, Any] = {}

    def get(self, key: Any) -> Any:
        """The value for ``key`` or ``None``."""
        return self.data.get(key)

    def put(self, key: Any, value: Any) -> None:
        """Set ``key``; ``None`` deletes."""
        if value is None:
            self.data.pop(key, None)
        else:
            self.data[key] = value

    def delete(self, key: Any) -> Any:
        """Remove ``key`` and return its old value."""
        return self.data.pop(key, None)

    def range(self, start: Any = None, end: Any = None) -> Iterator[tuple[Any, Any]]:
        """Pairs with keys in ``[start, end]`` in key order (a snapshot)."""
        data = self.data
        keys = [k for k in data if _in_range(k, start, end)]
        return iter([(k, data[k]) for k in sort_keys(keys)])

    def approximate_num_entries(self) -> int:
        """The exact number of keys."""
        return len(self.data)


class InMemoryWindowStore(WindowStore):
    """Windowed values keyed by ``(key, window_start)``; ``window_size`` gives ends."""

    def __init__(self, name: str, window_size: int) -> None:
        self.name = name
        self.window_size = window_size
        self.data: dict[tuple[Any, int], Any] = {}
        self._observed = -1

    @property
    def observed_stream_time(self) -> int:
        """The largest window start written (a restore too)."""
        return self._observed

    def put(self, key: Any, value: Any, window_start: int) -> None:
        """Set one window's value; ``None`` deletes it."""
        if window_start > self._observed:
            self._observed = window_start
        if value is None:
            self.data.pop((key, window_start), None)
        else:
            self.data[(key, window_start)] = value

    def fetch(self, key: Any, window_start: int) -> Any:
        """The value of ``key`` in one window."""
        return self.data.get((key, window_start))

    def fetch_range(self, key: Any, time_from: int, time_to: int,
                    backward: bool = False) -> Iterator[tuple[int, Any]]:
        """Windows of ``key`` starting within ``[time_from, time_to]``, oldest first
        (newest first when ``backward``)."""
        hits = [(s, v) for (k, s), v in self.data.items() if k == key and time_from <= s <= time_to]
        return iter(sorted(hits, key=lambda item: item[0], reverse=backward))

    def fetch_all(self, time_from: int, time_to: int) -> Iterator[tuple[Windowed, Any]]:
        """Windows starting in ``[time_from, time_to]``, ordered by key then start."""
        return iter([(w, v) for w, v in self.all() if time_from <= w.start <= time_to])

    def all(self) -> Iterator[tuple[Windowed, Any]]:
        """Every window, ordered by key then start."""
        items = [(Windowed(k, s, s + self.window_size), v) for (k, s), v in self.data.items()]
        return iter(sorted(items, key=lambda item: (repr(item[0].key), item[0].start)))


class InMemorySessionStore(SessionStore):
    """Session values keyed by :class:`Windowed` sessions."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.data: dict[Windowed, Any] = {}

    def put(self, session: Windowed, value: Any) -> None:
        """Store a session's value; ``None`` removes it."""
        if value is None:
            self.data.pop(session, None)
        else:
            self.data[session] = value

    def remove(self, session: Windowed) -> None:
        """Remove a session."""
        self.data.pop(session, None)

    def find_sessions(
        self, key: Any, earliest_end: int, latest_start: int
    ) -> Iterator[tuple[Windowed, Any]]:
        """Sessions of ``key`` overlapping ``[earliest_end, latest_start]``, oldest first."""
        hits = [
            (w, v)
            for w, v in self.data.items()
            if w.key == key and w.end >= earliest_end and w.start <= latest_start
        ]
        return iter(sorted(hits, key=lambda item: (item[0].start, item[0].end)))

    def find_sessions_ending(self, earliest_end: int, latest_end: int
                             ) -> Iterator[tuple[Windowed, Any]]:
        """Sessions ending in ``[earliest_end, latest_end]``, by end, start, key (Kafka's
        time-ordered session store)."""
        hits = [(w, v) for w, v in self.data.items() if earliest_end <= w.end <= latest_end]
        return iter(sorted(hits, key=lambda item: (item[0].end, item[0].start,
                                                   repr(item[0].key))))

    def fetch_session(self, key: Any, start: int, end: int) -> Any:
        """The value of the exact session ``(key, start, end)``."""
        return self.data.get(Windowed(key, start, end))

    def all(self) -> Iterator[tuple[Windowed, Any]]:
        """Every session, by key, end, start."""
        return iter(sorted(self.data.items(), key=lambda item: (repr(item[0].key), item[0].end,
                                                                item[0].start)))
