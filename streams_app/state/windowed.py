"""In-memory window and session stores with Kafka Streams' segmented-store retention.

Kafka's default (RocksDB) window and session stores keep data in time segments of
``max(retention / 2, 60 s)``: a write to a segment older than ``observed - retention`` is
dropped and older segments are deleted, where ``observed`` is the largest window start
(window stores) or session end (session stores) written. Key-based reads additionally hide
entries older than ``observed - retention + 1`` (``observed - retention`` for the
time-ordered stores used by emit-on-window-close). These classes reproduce exactly that, so
results match Kafka record for record.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator
from typing import Any

from streams_app.state.api import SessionStore, Windowed, WindowStore
from streams_app.state.memory import sort_keys

__all__ = [
    "SegmentedWindowStore",
    "SegmentedSessionStore",
    "segment_interval",
    "java_div",
    "checked_retention",
]

NO_TIMESTAMP = -1
MIN_SEGMENT_INTERVAL_MS = 60_000


def segment_interval(retention_ms: int) -> int:
    """Kafka's default segment interval for a window or session store."""
    return max(retention_ms // 2, MIN_SEGMENT_INTERVAL_MS)


def checked_retention(store: str, retention_ms: int) -> int:
    """``retention_ms``, or a clear error naming the store when it is negative."""
    if retention_ms < 0:
        raise ValueError(f"store {store!r}: retention_ms must be >= 0, got {retention_ms}")
    return retention_ms


def java_div(a: int, b: int) -> int:
    """Integer division truncating toward zero (Java's ``/``)."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b > 0) else -q


def _key_order(keys: Any) -> dict[Any, int]:
    return {k: i for i, k in enumerate(sort_keys(set(keys)))}


class _Segments:
    """Which segments are live; tracks the store's observed stream time."""

    def __init__(self, retention_ms: int, interval: int | None = None) -> None:
        self.retention_ms = retention_ms
        self.interval = interval or segment_interval(retention_ms)
        self.observed = NO_TIMESTAMP

    def segment_id(self, timestamp: int) -> int:
        return java_div(timestamp, self.interval)

    def min_live_segment(self) -> int:
        return self.segment_id(self.observed - self.retention_ms)

    def advance(self, timestamp: int) -> None:
        if timestamp > self.observed:
            self.observed = timestamp


class SegmentedWindowStore(WindowStore):
    """Values per ``(key, window_start)``; windows are ``[start, start + window_size)``."""

    def __init__(self, name: str, window_size: int, retention_ms: int,
                 time_ordered: bool = False) -> None:
        self.name = name
        self.window_size = window_size
        self.retention_ms = checked_retention(name, retention_ms)
        self.time_ordered = time_ordered
        self._segments = _Segments(retention_ms)
        self._data: dict[tuple[Any, int], Any] = {}
        self._starts: dict[Any, list[int]] = {}  # key -> sorted window starts
        self._by_segment: dict[int, set[tuple[Any, int]]] = {}

    @property
    def observed_stream_time(self) -> int:
        """The largest window start written (-1 before any write)."""
        return self._segments.observed

    def _live_from(self) -> int:
        # time-ordered stores keep one more millisecond (Kafka's emit-final edge case)
        offset = 0 if self.time_ordered else 1
        return self._segments.observed - self.retention_ms + offset

    def _drop_segments_before(self, segment: int) -> None:
        for sid in [s for s in self._by_segment if s < segment]:
            for key, start in self._by_segment.pop(sid):
                self._delete(key, start)

    def _delete(self, key: Any, start: int) -> None:
        if self._data.pop((key, start), _MISSING) is _MISSING:
            return
        starts = self._starts[key]
        starts.pop(bisect.bisect_left(starts, start))
        if not starts:
            del self._starts[key]

    def put(self, key: Any, value: Any, window_start: int) -> None:
        """Write one window (``None`` deletes); writes to expired segments are dropped."""
        seg = self._segments
        seg.advance(window_start)
        live = seg.min_live_segment()
        self._drop_segments_before(live)
        sid = seg.segment_id(window_start)
        if sid < live:
            return
        if value is None:
            self._delete(key, window_start)
            self._by_segment.get(sid, set()).discard((key, window_start))
            return
        if (key, window_start) not in self._data:
            bisect.insort(self._starts.setdefault(key, []), window_start)
            self._by_segment.setdefault(sid, set()).add((key, window_start))
        self._data[(key, window_start)] = value

    def fetch(self, key: Any, window_start: int) -> Any:
        """The value of one window, or ``None`` (also when expired)."""
        if window_start < self._live_from():
            return None
        return self._data.get((key, window_start))

    def fetch_range(self, key: Any, time_from: int, time_to: int,
                    backward: bool = False) -> Iterator[tuple[int, Any]]:
        """``(start, value)`` of ``key``'s windows starting in ``[time_from, time_to]``."""
        lo = max(time_from, self._live_from())
        starts = self._starts.get(key, [])
        i, j = bisect.bisect_left(starts, lo), bisect.bisect_right(starts, time_to)
        hits = [(s, self._data[(key, s)]) for s in starts[i:j]]
        return iter(hits[::-1] if backward else hits)

    def _ordered(self, lo: int, hi: int) -> list[tuple[Windowed, Any]]:
        items = [(k, s) for (k, s) in self._data if lo <= s <= hi]
        order = _key_order(k for k, _ in items)
        seg = self._segments.segment_id
        if self.time_ordered:  # time-first key schema: by start, then key
            items.sort(key=lambda ks: (ks[1], order[ks[0]]))
        else:  # key-first schema, segment by segment
            items.sort(key=lambda ks: (seg(ks[1]), order[ks[0]], ks[1]))
        size = self.window_size
        return [(Windowed(k, s, s + size), self._data[(k, s)]) for k, s in items]

    def fetch_all(self, time_from: int, time_to: int) -> Iterator[tuple[Windowed, Any]]:
        """Every window starting in ``[time_from, time_to]`` (time order when time-ordered)."""
        return iter(self._ordered(max(time_from, self._live_from()), time_to))

    def all(self) -> Iterator[tuple[Windowed, Any]]:
        """Every live window."""
        return iter(self._ordered(max(0, self._live_from()), 2**63 - 1))

    def approximate_num_entries(self) -> int:
        """Stored windows, expired ones included until their segment is dropped."""
        return len(self._data)


class SegmentedSessionStore(SessionStore):
    """Session values keyed by :class:`Windowed` ``(key, start, end)``, segmented by end."""

    def __init__(self, name: str, retention_ms: int) -> None:
        self.name = name
        self.retention_ms = checked_retention(name, retention_ms)
        self._segments = _Segments(retention_ms)
        self._data: dict[Windowed, Any] = {}
        self._by_key: dict[Any, list[tuple[int, int]]] = {}  # key -> sorted (end, start)
        self._by_segment: dict[int, set[Windowed]] = {}

    @property
    def observed_stream_time(self) -> int:
        """The largest session end written or removed (-1 before any write)."""
        return self._segments.observed

    def _delete(self, session: Windowed) -> None:
        if self._data.pop(session, _MISSING) is _MISSING:
            return
        sessions = self._by_key[session.key]
        sessions.pop(bisect.bisect_left(sessions, (session.end, session.start)))
        if not sessions:
            del self._by_key[session.key]

    def _advance(self, end: int) -> int:
        seg = self._segments
        seg.advance(end)
        live = seg.min_live_segment()
        for sid in [s for s in self._by_segment if s < live]:
            for session in self._by_segment.pop(sid):
                self._delete(session)
        return live

    def put(self, session: Windowed, value: Any) -> None:
        """Store a session's value (``None`` removes it); expired segments drop writes."""
        live = self._advance(session.end)
        sid = self._segments.segment_id(session.end)
        if sid < live:
            return
        if value is None:
            self._delete(session)
            self._by_segment.get(sid, set()).discard(session)
            return
        if session not in self._data:
            bisect.insort(self._by_key.setdefault(session.key, []), (session.end, session.start))
            self._by_segment.setdefault(sid, set()).add(session)
        self._data[session] = value

    def remove(self, session: Windowed) -> None:
        """Remove a session."""
        self._advance(session.end)
        self._delete(session)

    def find_sessions(self, key: Any, earliest_end: int, latest_start: int
                      ) -> Iterator[tuple[Windowed, Any]]:
        """Sessions of ``key`` with ``end >= earliest_end`` and ``start <= latest_start``,
        ordered by end then start (live ones only)."""
        lo = max(earliest_end, self._segments.observed - self.retention_ms + 1)
        sessions = self._by_key.get(key, [])
        i = bisect.bisect_left(sessions, (lo, -(2**63)))
        hits = []
        for end, start in sessions[i:]:
            if start <= latest_start:
                w = Windowed(key, start, end)
                hits.append((w, self._data[w]))
        return iter(hits)

    def find_sessions_ending(self, earliest_end: int, latest_end: int
                             ) -> Iterator[tuple[Windowed, Any]]:
        """Every stored session ending in ``[earliest_end, latest_end]``, by end, start, key
        (the time-ordered session store's scan used to emit final results)."""
        items = [w for w in self._data if earliest_end <= w.end <= latest_end]
        order = _key_order(w.key for w in items)
        items.sort(key=lambda w: (w.end, w.start, order[w.key]))
        return iter([(w, self._data[w]) for w in items])

    def fetch_session(self, key: Any, start: int, end: int) -> Any:
        """The value of one exact session, or ``None``."""
        if end < self._segments.observed - self.retention_ms + 1:
            return None
        return self._data.get(Windowed(key, start, end))

    def all(self) -> Iterator[tuple[Windowed, Any]]:
        """Every live session, by key, then end, then start."""
        lo = self._segments.observed - self.retention_ms + 1
        items = [w for w in self._data if w.end >= lo]
        order = _key_order(w.key for w in items)
        items.sort(key=lambda w: (order[w.key], w.end, w.start))
        return iter([(w, self._data[w]) for w in items])

    def approximate_num_entries(self) -> int:
        """Stored sessions."""
        return len(self._data)


_MISSING = object()
