"""Change-logging and caching layers for window and session stores.

Logging: every write goes to the task's record collector, serialized for the changelog with
Kafka's layouts (:mod:`streams_app.state.window_keys`): window stores log
``key + start + seq(0)`` with the plain value and the value's timestamp as record timestamp;
session stores log ``key + end + start`` with the value and the current record's timestamp.
A ``None`` value is a tombstone.

Caching (Kafka's CachingWindowStore / CachingSessionStore): writes stay in a dirty map until
:meth:`flush`, which writes each dirty entry through once and hands it to the flush
listener with the value it replaced, oldest dirty entry first.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import nullcontext
from typing import TYPE_CHECKING, Any

from streams_app.state.api import (
    FlushListener,
    SessionStore,
    ValueAndTimestamp,
    Windowed,
    WindowStore,
)
from streams_app.state.byte_caching import serialized_size, task_context
from streams_app.state.logging import changelog_writer, log_before_init
from streams_app.state.memory import sort_keys
from streams_app.state.thread_cache import (
    CacheEntry,
    NamedCache,
    ThreadCache,
    context_size,
    entry_size,
)
from streams_app.state.window_keys import session_store_key, window_store_key

if TYPE_CHECKING:
    from streams_app.processors.api import OutputRecord

__all__ = [
    "ChangeLoggingWindowStore",
    "ChangeLoggingSessionStore",
    "CachingWindowStore",
    "CachingSessionStore",
    "PlainWindowValues",
]


def encode_window(topic: str, key_serde: Any, value_serde: Any,
                  entries: list[tuple[Any, int, Any, int]]) -> list[OutputRecord]:
    """Changelog records of window writes ``(key, start, plain value, ts)``."""
    ks, vs = key_serde.serialize, value_serde.serialize
    return [(topic, window_store_key(ks(k), start), vs(v), ts, ()) for k, start, v, ts in entries]


def encode_session(topic: str, key_serde: Any, value_serde: Any,
                   entries: list[tuple[Windowed, Any, int]]) -> list[OutputRecord]:
    """Changelog records of session writes ``(session, value or None, ts)``."""
    ks, vs = key_serde.serialize, value_serde.serialize
    return [(topic, session_store_key(ks(w.key), w.start, w.end), vs(v), ts, ())
            for w, v, ts in entries]


class _Layer:
    """Delegates reads and attributes (window_size, retention_ms...) to the inner store."""

    inner: Any
    _context: Any = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self.__dict__["inner"], name)

    def init(self, context: Any) -> None:
        """Keep the context (record timestamps) and init the inner store."""
        self._context = context
        self.inner.init(context)

    def _ts(self) -> int:
        return self._context.timestamp if self._context is not None else 0

    def flush(self) -> None:
        """Flush the inner store."""
        self.inner.flush()

    def close(self) -> None:
        """Close the inner store."""
        self.inner.close()

    @property
    def persistent(self) -> bool:
        """Whether the inner store is persistent."""
        return bool(self.inner.persistent)

    @property
    def observed_stream_time(self) -> int:
        """The inner store's observed stream time."""
        return int(self.inner.observed_stream_time)


class ChangeLoggingWindowStore(_Layer, WindowStore):
    """Logs window writes as ``(key, start, plain value, timestamp)``."""

    def __init__(self, inner: WindowStore, timestamped: bool) -> None:
        self.inner = inner
        self.name = inner.name
        self.timestamped = timestamped
        # read per flushed window by the cache: not through __getattr__
        self.window_size = inner.window_size  # type: ignore[attr-defined]
        self._log: Callable[[tuple[Any, int, Any, int]], None] = log_before_init

    def init(self, context: Any) -> None:
        """Log to the context's record collector; init the inner store."""
        self._log = changelog_writer(context, self.name, encode_window)
        super().init(context)

    def put(self, key: Any, value: Any, window_start: int) -> None:
        """Write and log."""
        self.put_at(key, value, window_start, self._ts())

    def put_at(self, key: Any, value: Any, window_start: int, record_ts: int) -> None:
        """Write and log with ``record_ts`` as the current record's timestamp."""
        self.inner.put(key, value, window_start)
        if value is not None and self.timestamped:
            self._log((key, window_start, value.value, value.timestamp))
        else:
            self._log((key, window_start, value, record_ts))

    def fetch(self, key: Any, window_start: int) -> Any:
        """Read through."""
        return self.inner.fetch(key, window_start)

    def fetch_range(self, key: Any, time_from: int, time_to: int,
                    backward: bool = False) -> Iterator[tuple[int, Any]]:
        """Read through."""
        return self.inner.fetch_range(key, time_from, time_to, backward)

    def fetch_all(self, time_from: int, time_to: int) -> Iterator[tuple[Windowed, Any]]:
        """Read through."""
        return self.inner.fetch_all(time_from, time_to)

    def all(self) -> Iterator[tuple[Windowed, Any]]:
        """Read through."""
        return self.inner.all()

    def restore(self, key: Any, window_start: int, value: Any, timestamp: int) -> None:
        """Apply one changelog record without logging it again."""
        if value is not None and self.timestamped:
            value = ValueAndTimestamp(value, timestamp)
        self.inner.put(key, value, window_start)


class ChangeLoggingSessionStore(_Layer, SessionStore):
    """Logs session writes and removals as ``(session, value or None, record timestamp)``."""

    def __init__(self, inner: SessionStore) -> None:
        self.inner = inner
        self.name = inner.name
        self._log: Callable[[tuple[Windowed, Any, int]], None] = log_before_init

    def init(self, context: Any) -> None:
        """Log to the context's record collector; init the inner store."""
        self._log = changelog_writer(context, self.name, encode_session)
        super().init(context)

    def put(self, session: Windowed, value: Any) -> None:
        """Write and log."""
        self.put_at(session, value, self._ts())

    def put_at(self, session: Windowed, value: Any, record_ts: int) -> None:
        """Write and log with ``record_ts`` as the record timestamp."""
        self.inner.put(session, value)
        self._log((session, value, record_ts))

    def remove(self, session: Windowed) -> None:
        """Remove and log a tombstone."""
        self.inner.remove(session)
        self._log((session, None, self._ts()))

    def find_sessions(self, key: Any, earliest_end: int, latest_start: int
                      ) -> Iterator[tuple[Windowed, Any]]:
        """Read through."""
        return self.inner.find_sessions(key, earliest_end, latest_start)

    def find_sessions_ending(self, earliest_end: int, latest_end: int
                             ) -> Iterator[tuple[Windowed, Any]]:
        """Read through."""
        return self.inner.find_sessions_ending(earliest_end, latest_end)

    def fetch_session(self, key: Any, start: int, end: int) -> Any:
        """Read through."""
        return self.inner.fetch_session(key, start, end)

    def all(self) -> Iterator[tuple[Windowed, Any]]:
        """Read through."""
        return self.inner.all()

    def restore(self, session: Windowed, value: Any) -> None:
        """Apply one changelog record without logging it again."""
        self.inner.put(session, value)


class _Cache(_Layer):
    """Kafka's NamedCache for one store: entries stay cached (clean) after a flush until
    evicted least-recently-used, and reads see them before the store, expired or not.

    With a thread cache entries are sized in bytes (Kafka Streams' cache keys: segment id +
    the store's binary key; values: the stored bytes) and share its budget; without one the
    store has a cache of its own counting each entry as 1 against ``max_entries``."""

    #: bytes a cache key adds to the serialized record key (segment id + binary key suffix)
    KEY_OVERHEAD = 0

    def __init__(self, inner: Any, max_entries: int,
                 thread_cache: ThreadCache | None = None) -> None:
        if thread_cache is None and max_entries <= 0:
            raise ValueError("cache_max_entries must be > 0 for a caching store")
        self.inner = inner
        self.name = inner.name
        self.max_entries = max_entries
        self._sized = thread_cache is not None
        self.thread_cache = thread_cache or ThreadCache(max_entries)
        self._named = NamedCache(self.name, self.thread_cache, self._write_through)
        # record key -> cache keys written with a value: range reads visit only these
        # (stale ones, evicted or deleted since, are skipped and dropped on the way)
        self._live_by_key: dict[Any, dict[Any, None]] = {}
        self._listener: FlushListener | None = None
        self._send_old_values = False
        self._key_size: Callable[[Any], int] = lambda _k: 0
        self._value_size: Callable[[Any], int] = lambda _v: 0
        self._topic_sizes: dict[str | None, int] = {}
        self._task_context = False

    def init(self, context: Any) -> None:
        """Join the thread cache as ``<task id>-<store>``; size entries with the serdes."""
        self._context = context
        self._task_context = task_context(context)
        if self._sized:
            task_id = getattr(context, "task_id", None)
            self._named = self.thread_cache.named(f"{task_id}-{self.name}", self._write_through)
            serdes = getattr(context, "store_serdes", None)
            if serdes is not None:
                key_serde, value_serde = serdes(self.name)
                self._key_size = serialized_size(key_serde)
                self._value_size = self._stored_value_size(serialized_size(value_serde))
        self.inner.init(context)

    def _stored_value_size(self, plain: Callable[[Any], int]) -> Callable[[Any], int]:
        return plain

    @property
    def _entries(self) -> Any:
        return self._named.entries

    def set_flush_listener(self, listener: FlushListener, send_old_values: bool) -> bool:
        """Register the processor's listener; True tells it caching is on."""
        self._listener = listener
        self._send_old_values = send_old_values
        return True

    def _cache(self, ckey: Any, value: Any) -> None:
        ctx = self._context
        if self._task_context:  # a StreamTask: the fields behind its properties
            ts, headers, topic = ctx._timestamp, ctx._headers, ctx._topic
        elif ctx is not None:
            ts, headers, topic = ctx.timestamp, ctx.headers, ctx.topic
        else:
            ts, headers, topic = 0, (), None
        named = self._named
        entries = named.entries
        old = entries.get(ckey)
        # a cache key holding a value is already listed as live (see _live)
        if value is not None and (old is None or old.value is None):
            live = self._live_by_key.get(key := self._record_key(ckey))
            if live is None:
                self._live_by_key[key] = {ckey: None}
            else:
                live[ckey] = None
        if not self._sized:
            named.put(ckey, CacheEntry(value, True, ts, headers, 1))
            return
        if headers:
            ctx_bytes = context_size(topic, headers)
        else:  # the common case: the topic's size, computed once
            ctx_bytes = self._topic_sizes.get(topic)  # type: ignore[assignment]
            if ctx_bytes is None:
                ctx_bytes = self._topic_sizes[topic] = context_size(topic, ())
        vsize = 0 if value is None else self._value_size(value)
        if old is None or not old.dirty:
            entry = CacheEntry(value, True, ts, headers, entry_size(
                self._key_size(self._record_key(ckey)) + self.KEY_OVERHEAD, vsize, ctx_bytes),
                topic)
            entry.value_size, entry.context_size = vsize, ctx_bytes
            named.put(ckey, entry)
            return
        # a dirty entry updated in place: same cache key, only value and context sizes change
        delta = vsize - old.value_size + ctx_bytes - old.context_size
        old.value, old.timestamp, old.headers, old.topic = value, ts, headers, topic
        entries.move_to_end(ckey)
        dirty = named.dirty
        del dirty[ckey]
        dirty[ckey] = None
        owner = self.thread_cache
        if delta:
            old.size += delta
            old.value_size, old.context_size = vsize, ctx_bytes
            owner.size_bytes += delta
        if owner.size_bytes > owner.max_bytes:
            named.evict_over()

    def _record_key(self, ckey: Any) -> Any:
        return ckey[0]

    def _live(self, key: Any) -> list[Any]:
        """Cache keys of ``key`` that hold a value now."""
        live = self._live_by_key.get(key)
        if not live:
            return []
        entries = self._entries
        current = [c for c in live if (e := entries.get(c)) is not None and e.value is not None]
        if len(current) != len(live):
            if current:
                self._live_by_key[key] = dict.fromkeys(current)
            else:
                del self._live_by_key[key]
        return current

    def _cached(self, ckey: Any) -> tuple[bool, Any]:
        entry = self._named.get(ckey)
        if entry is None:
            return False, None
        return True, entry.value

    def _overlay(self, stored: list[tuple[Any, Any]], cache_keys: list[Any],
                 to_item: Callable[[Any], Any]) -> dict[Any, Any]:
        merged = dict(stored)
        entries = self._entries
        for ckey in cache_keys:
            item = to_item(ckey)
            value = entries[ckey].value
            if value is None:
                merged.pop(item, None)
            else:
                merged[item] = value
        return merged

    def flush(self) -> None:
        """Write every dirty entry through and forward it, oldest first; cached deletes
        are dropped from the cache afterwards."""
        self._named.flush()
        self.inner.flush()

    def close(self) -> None:
        """Leave the thread cache, close the inner store."""
        self.thread_cache.remove(self._named.name)
        self.inner.close()

    def _write_through(self, batch: list[tuple[Any, CacheEntry]]) -> None:
        batched = getattr(self.inner, "batched", None)  # RocksDB: one write batch
        with batched() if batched is not None else nullcontext():
            self._forward(batch)

    def _forward(self, batch: list[tuple[Any, CacheEntry]]) -> None:
        listener = self._listener
        for ckey, entry in batch:
            new, ts = entry.value, entry.timestamp
            if listener is None:
                self._write(ckey, new, ts)
                continue
            # read only for a delete or to send it downstream (Kafka Streams' rule)
            old = self._stored(ckey) if new is None or self._send_old_values else None
            if new is None and old is None:
                continue  # never existed: nothing to store or forward
            self._write(ckey, new, ts)
            listener(self._windowed(ckey), new, old if self._send_old_values else None, ts,
                     entry.headers)

    def _write(self, ckey: Any, value: Any, ts: int) -> None:
        raise NotImplementedError

    def _stored(self, ckey: Any) -> Any:
        raise NotImplementedError

    def _windowed(self, ckey: Any) -> Windowed:
        raise NotImplementedError


class CachingWindowStore(_Cache, WindowStore):
    """Record cache over a window store; cache keys are ``(key, window_start)``."""

    KEY_OVERHEAD = 8 + 8 + 4  # segment id; window start and sequence number

    def _stored_value_size(self, plain: Callable[[Any], int]) -> Callable[[Any], int]:
        # timestamped window stores keep timestamp (8 bytes) + value
        return lambda v: 8 + plain(v.value) if isinstance(v, ValueAndTimestamp) else plain(v)

    def put(self, key: Any, value: Any, window_start: int) -> None:
        """Cache the write."""
        self._cache((key, window_start), value)

    def fetch(self, key: Any, window_start: int) -> Any:
        """Cached value if dirty, else the store's."""
        hit, value = self._cached((key, window_start))
        return value if hit else self.inner.fetch(key, window_start)

    def fetch_range(self, key: Any, time_from: int, time_to: int,
                    backward: bool = False) -> Iterator[tuple[int, Any]]:
        """The store's windows overlaid with dirty ones, by start."""
        entries = self._entries
        merged = [(start, v) for start, v in self.inner.fetch_range(key, time_from, time_to)
                  if (key, start) not in entries]
        merged += [(c[1], entries[c].value) for c in self._live(key)
                   if time_from <= c[1] <= time_to]
        return iter(sorted(merged, key=lambda item: item[0], reverse=backward))

    def _merged_windows(self, stored: list[tuple[Windowed, Any]], lo: int, hi: int
                        ) -> list[tuple[Windowed, Any]]:
        size = self.inner.window_size
        dirty = [c for c in self._entries if lo <= c[1] <= hi]
        merged = self._overlay(stored, dirty, lambda c: Windowed(c[0], c[1], c[1] + size))
        order = {k: i for i, k in enumerate(sort_keys({w.key for w in merged}))}
        if self.inner.time_ordered:
            key = lambda w: (w.start, order[w.key])  # noqa: E731
        else:
            key = lambda w: (order[w.key], w.start)  # noqa: E731
        return [(w, merged[w]) for w in sorted(merged, key=key)]

    def fetch_all(self, time_from: int, time_to: int) -> Iterator[tuple[Windowed, Any]]:
        """Every window starting in the range, dirty ones included."""
        stored = list(self.inner.fetch_all(time_from, time_to))
        return iter(self._merged_windows(stored, time_from, time_to))

    def all(self) -> Iterator[tuple[Windowed, Any]]:
        """Every window, dirty ones included."""
        return iter(self._merged_windows(list(self.inner.all()), -(2**63), 2**63 - 1))

    def _write(self, ckey: Any, value: Any, ts: int) -> None:
        put_at = getattr(self.inner, "put_at", None)
        if put_at is not None:
            put_at(ckey[0], value, ckey[1], ts)
        else:
            self.inner.put(ckey[0], value, ckey[1])

    def _stored(self, ckey: Any) -> Any:
        return self.inner.fetch(ckey[0], ckey[1])

    def _windowed(self, ckey: Any) -> Windowed:
        return Windowed(ckey[0], ckey[1], ckey[1] + self.inner.window_size)


class CachingSessionStore(_Cache, SessionStore):
    """Record cache over a session store; cache keys are the sessions."""

    KEY_OVERHEAD = 8 + 8 + 8  # segment id; session end and start

    def _record_key(self, ckey: Any) -> Any:
        return ckey.key

    def put(self, session: Windowed, value: Any) -> None:
        """Cache the write."""
        self._cache(session, value)

    def remove(self, session: Windowed) -> None:
        """Cache a removal."""
        self._cache(session, None)

    def fetch_session(self, key: Any, start: int, end: int) -> Any:
        """Cached value if dirty, else the store's."""
        hit, value = self._cached(Windowed(key, start, end))
        return value if hit else self.inner.fetch_session(key, start, end)

    def find_sessions(self, key: Any, earliest_end: int, latest_start: int
                      ) -> Iterator[tuple[Windowed, Any]]:
        """The store's matching sessions overlaid with dirty ones, by end then start."""
        entries = self._entries
        merged = [(w, v) for w, v in self.inner.find_sessions(key, earliest_end, latest_start)
                  if w not in entries]
        merged += [(w, entries[w].value) for w in self._live(key)
                   if w.end >= earliest_end and w.start <= latest_start]
        return iter(sorted(merged, key=lambda item: (item[0].end, item[0].start)))

    def find_sessions_ending(self, earliest_end: int, latest_end: int
                             ) -> Iterator[tuple[Windowed, Any]]:
        """Sessions ending in the range, dirty ones included, by end, start, key."""
        dirty = [w for w in self._entries if earliest_end <= w.end <= latest_end]
        stored = list(self.inner.find_sessions_ending(earliest_end, latest_end))
        merged = self._overlay(stored, dirty, lambda w: w)
        order = {k: i for i, k in enumerate(sort_keys({w.key for w in merged}))}
        ordered = sorted(merged, key=lambda w: (w.end, w.start, order[w.key]))
        return iter([(w, merged[w]) for w in ordered])

    def all(self) -> Iterator[tuple[Windowed, Any]]:
        """Every session, dirty ones included."""
        merged = self._overlay(list(self.inner.all()), list(self._entries), lambda w: w)
        order = {k: i for i, k in enumerate(sort_keys({w.key for w in merged}))}
        ordered = sorted(merged, key=lambda w: (order[w.key], w.end, w.start))
        return iter([(w, merged[w]) for w in ordered])

    def _write(self, ckey: Any, value: Any, ts: int) -> None:
        put_at = getattr(self.inner, "put_at", None)
        if put_at is not None:
            put_at(ckey, value, ts)
        else:
            self.inner.put(ckey, value)

    def _stored(self, ckey: Any) -> Any:
        return self.inner.fetch_session(ckey.key, ckey.start, ckey.end)

    def _windowed(self, ckey: Any) -> Windowed:
        return ckey


class PlainWindowValues(WindowStore):
    """A read view of a timestamped window store with the timestamps stripped."""

    def __init__(self, store: Any) -> None:
        self._store = store
        self.name = store.name

    def put(self, key: Any, value: Any, window_start: int) -> None:
        """Write a plain value (stamped with timestamp 0)."""
        self._store.put(key, None if value is None else ValueAndTimestamp(value, 0),
                        window_start)

    def fetch(self, key: Any, window_start: int) -> Any:
        """The plain value of one window."""
        vt = self._store.fetch(key, window_start)
        return None if vt is None else vt.value

    def fetch_range(self, key: Any, time_from: int, time_to: int, backward: bool = False
                    ) -> Iterator[tuple[int, Any]]:
        """Plain ``(start, value)`` pairs."""
        return iter([(s, vt.value) for s, vt in self._store.fetch_range(key, time_from,
                                                                           time_to, backward)])

    def fetch_all(self, time_from: int, time_to: int) -> Iterator[tuple[Windowed, Any]]:
        """Plain ``(Windowed, value)`` pairs in the time range."""
        return iter([(w, vt.value) for w, vt in self._store.fetch_all(time_from, time_to)])

    def all(self) -> Iterator[tuple[Windowed, Any]]:
        """Plain ``(Windowed, value)`` pairs."""
        return iter([(w, vt.value) for w, vt in self._store.all()])

    @property
    def observed_stream_time(self) -> int:
        """The viewed store's observed stream time."""
        return int(self._store.observed_stream_time)
