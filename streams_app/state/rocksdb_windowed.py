"""Window and session stores on one raw-mode rocksdict database (one per store and
partition), with the retention semantics of :mod:`streams_app.state.windowed`.

Two key spaces live in the database:

* ``b"K" + key-first key`` -> stored value: window stores use Kafka's store key
  ``key + 8-byte start + 4-byte seq(0)``, session stores ``key + 8-byte end + 8-byte start``
  (the changelog keys, see :mod:`streams_app.state.window_keys`), so a scan by key runs in
  time order;
* ``b"T" + time + key-first key`` -> ``b""``: a time-first index (time = window start or
  session end) that expires old entries and serves time-range scans without a full scan.

Window values of timestamped stores are ``8-byte timestamp + value bytes`` (Kafka's
timestamped layout); session values are the serialized value. Timestamps are assumed >= 0
(big-endian bytes then sort like numbers). Faust's bookkeeping keys (``__faust...``) are
outside both key spaces.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from typing import Any

import rocksdict

from streams_app.serdes import Serde
from streams_app.state.api import SessionStore, ValueAndTimestamp, Windowed, WindowStore
from streams_app.state.window_keys import (
    session_store_key,
    split_session_store_key,
    split_window_store_key,
    window_store_key,
)
from streams_app.state.windowed import (
    NO_TIMESTAMP,
    checked_retention,
    java_div,
    segment_interval,
)

__all__ = ["RocksDictWindowStore", "RocksDictSessionStore"]

_Q = struct.Struct(">q")
_PRIMARY = b"K"
_PRIMARY_END = b"L"
_QI = struct.Struct(">qi")
# Windowed((key, start, end)) and ValueAndTimestamp((value, ts)) without NamedTuple's
# Python-level __new__ (half the cost: a full read decodes every window)
_windowed = partial(tuple.__new__, Windowed)
_value_and_timestamp = partial(tuple.__new__, ValueAndTimestamp)
_INDEX = b"T"
_INDEX_END = b"U"


def _below(upper: bytes) -> Any:
    """Read options ending a scan before ``upper``: a scan by key would otherwise walk
    through every longer key sharing its bytes as a prefix ("1" -> "10", "100", ...)."""
    opts = rocksdict.ReadOptions()
    opts.set_iterate_upper_bound(upper)
    return opts


class _BatchingDb:
    """A store's database while a cache flush writes through: writes gather in one
    WriteBatch (a fraction of a put's cost each); every read applies them first, so reads
    see every write before them."""

    __slots__ = ("db", "batch")

    def __init__(self, db: Any) -> None:
        self.db = db
        self.batch = rocksdict.WriteBatch(raw_mode=True)

    def put(self, key: bytes, value: bytes) -> None:
        self.batch.put(key, value)

    def delete(self, key: bytes) -> None:
        self.batch.delete(key)

    def apply(self) -> None:
        """Write the gathered writes."""
        if not self.batch.is_empty():
            self.db.write(self.batch)  # consumes the batch
            self.batch = rocksdict.WriteBatch(raw_mode=True)

    def get(self, key: bytes) -> Any:
        self.apply()
        return self.db.get(key)

    def items(self, **kwargs: Any) -> Any:
        self.apply()
        return self.db.items(**kwargs)

    def keys(self, **kwargs: Any) -> Any:
        self.apply()
        return self.db.keys(**kwargs)


class _Retained:
    """Observed stream time and index-driven expiry shared by both stores."""

    def __init__(self, name: str, db: Any, key_serde: Serde, value_serde: Serde,
                 retention_ms: int) -> None:
        self.name = name
        self.db = db
        self.key_serde = key_serde
        self.value_serde = value_serde
        self.retention_ms = checked_retention(name, retention_ms)
        self._interval = segment_interval(retention_ms)
        # the largest indexed time is the stream time the store had observed
        last = next(iter(self.db.keys(backwards=True, from_key=_INDEX_END)), None)
        self.observed = (_Q.unpack_from(last, 1)[0]
                         if last is not None and last[:1] == _INDEX else NO_TIMESTAMP)
        self._purged_segment: int | None = None

    @property
    def persistent(self) -> bool:
        return True

    @contextmanager
    def batched(self) -> Iterator[None]:
        """Writes inside go to RocksDB as one write batch (a cache flush)."""
        if isinstance(self.db, _BatchingDb):
            yield
            return
        real, self.db = self.db, _BatchingDb(self.db)
        try:
            yield
        finally:
            batching, self.db = self.db, real
            batching.apply()

    @property
    def observed_stream_time(self) -> int:
        """The largest window start / session end written (-1 before any write)."""
        return self.observed

    def _min_live_segment(self) -> int:
        return java_div(self.observed - self.retention_ms, self._interval)

    def _advance(self, time: int) -> int:
        """Advance stream time; drop entries of expired segments; return the live segment."""
        purged = self._purged_segment
        if time <= self.observed and purged is not None:
            return purged  # stream time unchanged: so is the live segment (every write of a flush)
        if time > self.observed:
            self.observed = time
        live = self._min_live_segment()
        if purged is None or live > purged:
            self._purge_before(live * self._interval)
            self._purged_segment = live
        return live

    def _purge_before(self, time: int) -> None:
        bound = _INDEX + _Q.pack(max(time, 0))
        doomed = []
        for k in self.db.keys(from_key=_INDEX):
            if k >= bound:
                break
            doomed.append(k)
        for index_key in doomed:
            self.db.delete(index_key)
            self.db.delete(_PRIMARY + index_key[9:])

    def _write(self, store_key: bytes, time: int, value: bytes | None) -> None:
        """Write (``None``: delete) one entry and its index; a write to an expired segment
        is dropped."""
        live = self._advance(time)
        if value is not None and (time // self._interval if time >= 0
                                  else java_div(time, self._interval)) < live:
            return
        index_key = _INDEX + _Q.pack(time) + store_key
        if value is None:
            self.db.delete(_PRIMARY + store_key)
            self.db.delete(index_key)
        else:
            self.db.put(_PRIMARY + store_key, value)
            self.db.put(index_key, b"")

    def _index_scan(self, lo: int, hi: int) -> Iterator[tuple[int, bytes]]:
        """``(time, key-first key)`` of index entries with time in ``[lo, hi]``."""
        for k in self.db.keys(from_key=_INDEX + _Q.pack(max(lo, 0))):
            if k[:1] != _INDEX:
                return
            time = _Q.unpack_from(k, 1)[0]
            if time > hi:
                return
            yield time, k[9:]


class RocksDictWindowStore(_Retained, WindowStore):
    """A :class:`WindowStore` over a raw-mode ``rocksdict.Rdict`` owned by the caller."""

    def __init__(self, name: str, db: Any, key_serde: Serde, value_serde: Serde,
                 window_size: int, retention_ms: int, timestamped: bool = True,
                 time_ordered: bool = False) -> None:
        super().__init__(name, db, key_serde, value_serde, retention_ms)
        self.window_size = window_size
        self.timestamped = timestamped
        self.time_ordered = time_ordered

    def _live_from(self) -> int:
        return self.observed - self.retention_ms + (0 if self.time_ordered else 1)

    def _decode(self, raw: bytes) -> Any:
        if self.timestamped:
            return _value_and_timestamp((self.value_serde.deserialize(raw[8:]),
                                         _Q.unpack_from(raw)[0]))
        return self.value_serde.deserialize(raw)

    def _encode(self, value: Any) -> bytes:
        if self.timestamped:
            return _Q.pack(value.timestamp) + (self.value_serde.serialize(value.value) or b"")
        return self.value_serde.serialize(value) or b""

    def put(self, key: Any, value: Any, window_start: int) -> None:
        """Write one window (``None`` deletes); writes to expired segments are dropped."""
        store_key = window_store_key(self.key_serde.serialize(key) or b"", window_start)
        self._write(store_key, window_start, None if value is None else self._encode(value))

    def put_raw(self, store_key: bytes, value: bytes | None, timestamp: int) -> None:
        """Restore one changelog record (``key + start + seq`` -> plain value bytes)."""
        _, start, _ = split_window_store_key(store_key)
        if value is not None and self.timestamped:
            value = _Q.pack(timestamp) + value
        self._write(store_key, start, value)

    def fetch(self, key: Any, window_start: int) -> Any:
        """The value of one window, or ``None`` (also when expired)."""
        # no stored window starts after the observed stream time: a new window (most
        # fetches of an in-order stream) needs no RocksDB read
        if window_start > self.observed or window_start < self._live_from():
            return None
        raw = self.db.get(_PRIMARY + window_store_key(self.key_serde.serialize(key) or b"",
                                                       window_start))
        return None if raw is None else self._decode(raw)

    def fetch_range(self, key: Any, time_from: int, time_to: int,
                    backward: bool = False) -> Iterator[tuple[int, Any]]:
        """``(start, value)`` of ``key``'s windows starting in ``[time_from, time_to]``."""
        kb = self.key_serde.serialize(key) or b""
        lo = max(time_from, self._live_from(), 0)
        prefix = _PRIMARY + kb
        if lo > time_to:
            return iter(())
        hits = []
        upper = prefix + _Q.pack(time_to + 1)  # alive while the scan runs
        for raw_key, raw in self.db.items(from_key=prefix + _Q.pack(lo), read_opt=_below(upper)):
            if not raw_key.startswith(prefix):
                break
            if len(raw_key) != len(prefix) + 12:
                continue  # a longer key sharing this prefix
            start = _Q.unpack_from(raw_key, len(prefix))[0]
            if start > time_to:
                break
            hits.append((start, self._decode(raw)))
        return iter(hits[::-1] if backward else hits)

    def _windowed(self, store_key: bytes) -> Windowed:
        kb, start, _ = split_window_store_key(store_key)
        return Windowed(self.key_serde.deserialize(kb), start, start + self.window_size)

    def fetch_all(self, time_from: int, time_to: int) -> Iterator[tuple[Windowed, Any]]:
        """Windows starting in ``[time_from, time_to]``: by start then key when
        time-ordered, else by key bytes then start."""
        hits = []
        for _, store_key in self._index_scan(max(time_from, self._live_from()), time_to):
            raw = self.db.get(_PRIMARY + store_key)
            if raw is not None:
                hits.append((store_key, raw))
        if not self.time_ordered:
            hits.sort(key=lambda h: h[0])
        return iter([(self._windowed(k), self._decode(raw)) for k, raw in hits])

    def all(self) -> Iterator[tuple[Windowed, Any]]:
        """Every live window, by key bytes then start."""
        live = self._live_from()
        size, key_of, unpack = self.window_size, self.key_serde.deserialize, _QI.unpack_from
        decode = self._decode
        out = []
        # one pass over every window (what a full read of the results costs): no call
        # per row beyond the two deserializers
        for raw_key, raw in self.db.items(from_key=_PRIMARY, read_opt=_below(_PRIMARY_END)):
            start = unpack(raw_key, len(raw_key) - 12)[0]
            if start >= live:
                out.append((_windowed((key_of(raw_key[1:-12]), start, start + size)),
                            decode(raw)))
        return iter(out)

    def approximate_num_entries(self) -> int:
        """Stored windows (expired ones included until purged)."""
        return sum(1 for _ in self._index_scan(0, 2**63 - 1))


class RocksDictSessionStore(_Retained, SessionStore):
    """A :class:`SessionStore` over a raw-mode ``rocksdict.Rdict`` owned by the caller."""

    def _store_key(self, session: Windowed) -> bytes:
        return session_store_key(self.key_serde.serialize(session.key) or b"", session.start,
                                 session.end)

    def put(self, session: Windowed, value: Any) -> None:
        """Store a session's value (``None`` removes it)."""
        encoded = None if value is None else self.value_serde.serialize(value) or b""
        self._write(self._store_key(session), session.end, encoded)

    def remove(self, session: Windowed) -> None:
        """Remove a session."""
        self._write(self._store_key(session), session.end, None)

    def put_raw(self, store_key: bytes, value: bytes | None) -> None:
        """Restore one changelog record (``key + end + start`` -> value bytes or None)."""
        _, _, end = split_session_store_key(store_key)
        self._write(store_key, end, value)

    def _session(self, store_key: bytes, raw: bytes) -> tuple[Windowed, Any]:
        kb, start, end = split_session_store_key(store_key)
        return (Windowed(self.key_serde.deserialize(kb), start, end),
                self.value_serde.deserialize(raw))

    def find_sessions(self, key: Any, earliest_end: int, latest_start: int
                      ) -> Iterator[tuple[Windowed, Any]]:
        """Sessions of ``key`` with ``end >= earliest_end`` and ``start <= latest_start``,
        by end then start (live ones only)."""
        kb = self.key_serde.serialize(key) or b""
        lo = max(earliest_end, self.observed - self.retention_ms + 1, 0)
        prefix = _PRIMARY + kb
        if lo > self.observed:  # no stored session ends after the observed stream time
            return iter(())
        hits = []
        upper = prefix + _Q.pack(self.observed + 1)  # alive while the scan runs
        for raw_key, raw in self.db.items(from_key=prefix + _Q.pack(lo), read_opt=_below(upper)):
            if not raw_key.startswith(prefix):
                break
            if len(raw_key) != len(prefix) + 16:
                continue
            _, start, _ = split_session_store_key(raw_key[1:])
            if start <= latest_start:
                hits.append(self._session(raw_key[1:], raw))
        return iter(hits)

    def find_sessions_ending(self, earliest_end: int, latest_end: int
                             ) -> Iterator[tuple[Windowed, Any]]:
        """Sessions ending in ``[earliest_end, latest_end]``, by end, start, key bytes (Kafka's
        time-ordered session store, used to emit final results: end + start + key)."""
        found = []
        for _, store_key in self._index_scan(earliest_end, latest_end):
            raw = self.db.get(_PRIMARY + store_key)
            if raw is not None:
                kb, start, end = split_session_store_key(store_key)
                found.append(((end, start, kb), store_key, raw))
        found.sort(key=lambda hit: hit[0])
        return iter([self._session(store_key, raw) for _, store_key, raw in found])

    def fetch_session(self, key: Any, start: int, end: int) -> Any:
        """The value of one exact session, or ``None``."""
        if end < self.observed - self.retention_ms + 1:
            return None
        raw = self.db.get(_PRIMARY + self._store_key(Windowed(key, start, end)))
        return None if raw is None else self.value_serde.deserialize(raw)

    def all(self) -> Iterator[tuple[Windowed, Any]]:
        """Every live session, by key bytes, then end, then start."""
        live = self.observed - self.retention_ms + 1
        out = []
        for raw_key, raw in self.db.items(from_key=_PRIMARY):
            if raw_key[:1] != _PRIMARY:
                break
            session = self._session(raw_key[1:], raw)
            if session[0].end >= live:
                out.append(session)
        return iter(out)

    def approximate_num_entries(self) -> int:
        """Stored sessions (expired ones included until purged)."""
        return sum(1 for _ in self._index_scan(0, 2**63 - 1))
