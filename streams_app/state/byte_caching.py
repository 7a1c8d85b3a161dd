"""Key-value record cache on the thread's byte-sized :class:`ThreadCache` (Kafka Streams'
CachingKeyValueStore): reads move an entry to most recent, a read miss caches the inner
store's value as a clean entry, writes are dirty entries sized by their serialized bytes and
record context; eviction and commits flush through :meth:`_apply`."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from streams_app.state.api import KeyValueStore
from streams_app.state.caching import CachingKeyValueStore
from streams_app.state.memory import _in_range, sort_keys
from streams_app.state.thread_cache import (
    CacheEntry,
    NamedCache,
    ThreadCache,
    context_size,
    entry_size,
)

__all__ = [
    "ByteCachingKeyValueStore",
    "fixed_value_size",
    "task_context",
    "serialized_size",
]


def serialized_size(serde: Any) -> Callable[[Any], int]:
    """Bytes of a value under ``serde``; fixed-size serdes answer without serializing."""
    fixed = getattr(serde, "fixed_size", None)
    if isinstance(fixed, int):
        return lambda _value: fixed
    size_of = getattr(serde, "size_of", None)
    if size_of is not None:
        return size_of  # type: ignore[no-any-return]
    serialize = serde.serialize

    def size(value: Any) -> int:
        raw = serialize(value)
        return 0 if raw is None else len(raw)

    return size


_NO_KEY = object()


def task_context(context: Any) -> bool:
    """Whether ``context`` keeps its current record in ``_timestamp``, ``_headers`` and
    ``_topic`` (StreamTask): the caches read those on every put, properties cost ~3x more."""
    return bool(getattr(type(context), "RECORD_FIELDS_DIRECT", False))


def fixed_value_size(serde: Any) -> int:
    """The serde's size of every value, -1 when values differ in size."""
    fixed = getattr(serde, "fixed_size", None)
    return fixed if isinstance(fixed, int) else -1


class ByteCachingKeyValueStore(CachingKeyValueStore):
    """A key-value store's NamedCache inside the thread's cache."""

    def __init__(self, wrapped: KeyValueStore, thread_cache: ThreadCache,
                 timestamped: bool) -> None:
        self.wrapped = wrapped
        self.name = wrapped.name
        self.thread_cache = thread_cache
        self.timestamped = timestamped
        self._listener = None
        self._send_old_values = False
        self._context: Any = None
        self._task_context = False
        self._key_size: Callable[[Any], int] = lambda _k: 0
        self._value_size: Callable[[Any], int] = lambda _v: 0
        self._fixed_value_size = 0  # >= 0: every value's size (no call per put)
        self._topic_sizes: dict[str | None, int] = {}
        self._bind(NamedCache(self.name, thread_cache, self._apply))

    def _bind(self, cache: NamedCache) -> None:
        self.cache = cache
        # the hot paths reach the LRU and the dirty keys without going through the cache
        self._entries = cache.entries
        self._entry = cache.entries.get  # bound once: OrderedDict.get is slow to look up
        self._dirty = cache.dirty
        # the most recently used key: every insert or move in this LRU goes through this
        # store's get and put, which keep it (a move to where the key already is is skipped)
        self._mru: Any = _NO_KEY

    def init(self, context: Any) -> None:
        """Size keys and values with the store's serdes (the bytes Kafka would cache)."""
        self._context = context
        self._task_context = task_context(context)
        # one cache per task and store, as Kafka's "<task id>-<store>" namespace
        task_id = getattr(context, "task_id", None)
        self._bind(self.thread_cache.named(f"{task_id}-{self.name}", self._apply))
        serdes = getattr(context, "store_serdes", None)
        if serdes is not None:
            key_serde, value_serde = serdes(self.name)
            self._key_size = serialized_size(key_serde)
            plain = serialized_size(value_serde)
            # timestamped stores cache timestamp (8 bytes) + value
            self._value_size = (lambda v: 8 + plain(v.value)) if self.timestamped else plain
            fixed = fixed_value_size(value_serde)
            self._fixed_value_size = fixed + 8 * self.timestamped if fixed >= 0 else -1
        self.wrapped.init(context)

    def count_reads(self) -> None:
        """Count hits and misses of :meth:`get` from now on: a per-read cost, so only at the
        metrics' debug recording level, as in Kafka Streams."""
        self.hits = self.misses = 0
        self.get = self._counted_get  # type: ignore[method-assign]

    def _counted_get(self, key: Any) -> Any:
        if key in self._entries:
            self.hits += 1
        else:
            self.misses += 1
        return ByteCachingKeyValueStore.get(self, key)

    def get(self, key: Any) -> Any:
        """Cached value, else the inner store's, which is then cached clean."""
        entry = self._entry(key)
        if entry is not None:
            if key is not self._mru:
                self._entries.move_to_end(key)
                self._mru = key
            return entry.value
        value = self.wrapped.get(key)
        if value is not None:
            vsize = self._fixed_value_size
            if vsize < 0:
                vsize = self._value_size(value)
            entry = CacheEntry(value, False, -1, None,
                               entry_size(self._key_size(key), vsize))
            entry.value_size = vsize
            self.cache.put(key, entry)
            self._mru = key
        return value

    def put(self, key: Any, value: Any) -> None:
        """A dirty entry stamped with the current record's context."""
        ctx = self._context
        if self._task_context:  # a StreamTask: the fields behind its properties
            ts, headers, topic = ctx._timestamp, ctx._headers, ctx._topic
        elif ctx is not None:
            ts, headers, topic = ctx.timestamp, ctx.headers, ctx.topic
        else:
            ts, headers, topic = 0, (), None
        old = self._entry(key)
        if (old is not None and old.dirty and not headers and topic == old.topic
                and value is not None and old.value is not None
                and self._fixed_value_size >= 0):
            # the hot path, a dirty entry updated in place with nothing resized: same key
            # and value sizes, same context size (no headers, the same topic)
            old.value, old.timestamp, old.headers = value, ts, headers
            if key is not self._mru:  # after a get of the key (an aggregation) it is already
                self._entries.move_to_end(key)
                self._mru = key
            dirty = self._dirty
            del dirty[key]
            dirty[key] = None
            owner = self.thread_cache
            if owner.size_bytes > owner.max_bytes:
                self.cache.evict_over()
            return
        self._put_sized(key, value, old, ts, headers, topic)

    def _put_sized(self, key: Any, value: Any, old: CacheEntry | None, ts: int, headers: Any,
                   topic: str | None) -> None:
        if headers:
            ctx_bytes = context_size(topic, headers)
        else:  # the common case: the topic's size, computed once
            ctx_bytes = self._topic_sizes.get(topic)  # type: ignore[assignment]
            if ctx_bytes is None:
                ctx_bytes = self._topic_sizes[topic] = context_size(topic, ())
        if value is None:
            vsize = 0
        else:
            vsize = self._fixed_value_size
            if vsize < 0:
                vsize = self._value_size(value)
        if old is None or not old.dirty:
            entry = CacheEntry(value, True, ts, headers,
                               entry_size(self._key_size(key), vsize, ctx_bytes), topic)
            entry.value_size, entry.context_size = vsize, ctx_bytes
            self.cache.put(key, entry)
            self._mru = key
            return
        # a dirty entry updated in place: same key bytes, so only the value's and the
        # context's sizes change; the LRU and dirty order move it to most recent
        delta = vsize - old.value_size + ctx_bytes - old.context_size
        old.value, old.timestamp, old.headers, old.topic = value, ts, headers, topic
        self._entries.move_to_end(key)
        self._mru = key
        dirty = self._dirty
        del dirty[key]
        dirty[key] = None
        owner = self.thread_cache
        if delta:
            old.size += delta
            old.value_size, old.context_size = vsize, ctx_bytes
            owner.size_bytes += delta
        if owner.size_bytes > owner.max_bytes:
            self.cache.evict_over()

    def range(self, start: Any = None, end: Any = None) -> Iterator[tuple[Any, Any]]:
        """The inner store's range overlaid with every cached entry, in key order."""
        merged = dict(self.wrapped.range(start, end))
        for key, entry in self._entries.items():
            if _in_range(key, start, end):
                if entry.value is None:
                    merged.pop(key, None)
                else:
                    merged[key] = entry.value
        return iter([(k, merged[k]) for k in sort_keys(merged)])

    def approximate_num_entries(self) -> int:
        """Inner count plus cached keys (an estimate, as in Kafka)."""
        return self.wrapped.approximate_num_entries() + len(self._entries)

    def flush(self) -> None:
        """Flush the dirty entries, then the inner store."""
        self.cache.flush()
        self.wrapped.flush()

    def _apply(self, batch: list[tuple[Any, CacheEntry]]) -> None:
        wrapped = self.wrapped
        put = getattr(wrapped, "put_at", None) or (lambda k, v, _ts: wrapped.put(k, v))
        listener = self._listener
        swap = getattr(self._context, "swap_record_topic", None)
        for key, entry in batch:
            new, ts = entry.value, entry.timestamp
            if listener is None:
                put(key, new, ts)
                continue
            # old value only where needed (Kafka's rule); an absent key deleted is dropped
            old = wrapped.get(key) if new is None or self._send_old_values else None
            if new is None and old is None:
                continue
            put(key, new, ts)
            # downstream caches see the flushed record's context, topic included
            prev = swap(entry.topic) if swap is not None else None
            try:
                listener(key, new, old if self._send_old_values else None, ts, entry.headers)
            finally:
                if swap is not None:
                    swap(prev)

    def close(self) -> None:
        """Drop this store's cache, close the inner store."""
        self.thread_cache.remove(self.cache.name)
        self.wrapped.close()

