"""One byte-sized record cache per stream thread (Kafka Streams' ThreadCache + NamedCache).

Each caching store owns a :class:`NamedCache` (an LRU of its cache keys) inside one
:class:`ThreadCache` shared by all stores of all tasks of a thread. Sizes follow Kafka
Streams 4.4 byte for byte (:func:`entry_size`). After each put, while the thread's total
exceeds ``max_bytes``, the eldest entry of the store that was put to is evicted; evicting a
dirty entry flushes every dirty entry of that store (the evicted one first, then the rest in
dirty-insertion order) through the store's listener. Clean entries stay cached and count.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable
from typing import Any

__all__ = ["CacheEntry", "NamedCache", "ThreadCache", "entry_size", "context_size"]

# LRUNode: references to the entry, the previous and the next node
_NODE_OVERHEAD = 8 + 8 + 8
# LRUCacheEntry's dirty flag; ProcessorRecordContext's timestamp, offset and partition
_ENTRY_OVERHEAD = 1 + 8 + 8 + 4


def _chars(text: str) -> int:
    """Java's ``toCharArray().length``: UTF-16 code units."""
    return len(text) if text.isascii() else len(text.encode("utf-16-le")) // 2


def context_size(topic: str | None, headers: Iterable[tuple[str, bytes | None]]) -> int:
    """The variable part of ProcessorRecordContext.residentMemorySizeEstimate."""
    size = _chars(topic) if topic else 0
    for key, value in headers:
        size += _chars(key) + (len(value) if value is not None else 0)
    return size


def entry_size(key_bytes: int, value_bytes: int, context_bytes: int = 0) -> int:
    """Bytes an entry counts for: its cache key, its value, its record context, the node."""
    return key_bytes + _NODE_OVERHEAD + _ENTRY_OVERHEAD + value_bytes + context_bytes


class CacheEntry:
    """A cached value (``None`` = a cached delete) with the context it was written in."""

    __slots__ = ("value", "dirty", "timestamp", "headers", "size", "topic", "value_size",
                 "context_size")

    def __init__(self, value: Any, dirty: bool, timestamp: int, headers: Any,
                 size: int, topic: str | None = None) -> None:
        self.topic = topic
        self.value_size = self.context_size = 0  # parts of size, kept by key-value caches
        self.value = value
        self.dirty = dirty
        self.timestamp = timestamp
        self.headers = headers
        self.size = size


#: Receives a store's flushed dirty entries, in flush order.
DirtyListener = Callable[[list[tuple[Any, CacheEntry]]], None]


class NamedCache:
    """One store's LRU within a :class:`ThreadCache`; iteration order = least recent first."""

    def __init__(self, name: str, owner: ThreadCache, listener: DirtyListener) -> None:
        self.name = name
        self.owner = owner
        self.listener = listener
        self.entries: OrderedDict[Any, CacheEntry] = OrderedDict()
        self.dirty: dict[Any, None] = {}  # dirty keys, oldest write first
        self.hits = 0
        self.misses = 0

    def get(self, key: Any) -> CacheEntry | None:
        """The entry, moved to most recently used; None on a miss."""
        entry = self.entries.get(key)
        if entry is None:
            self.misses += 1
            return None
        self.hits += 1
        self.entries.move_to_end(key)
        return entry

    def peek(self, key: Any) -> CacheEntry | None:
        """The entry without touching the LRU order (range overlays)."""
        return self.entries.get(key)

    def put(self, key: Any, entry: CacheEntry) -> None:
        """Insert or replace ``key`` as most recent, then evict while the thread is over."""
        entries = self.entries
        old = entries.get(key)
        if old is not None:
            if not entry.dirty and old.dirty:
                raise RuntimeError(f"cache {self.name}: clean put over a dirty entry {key!r}")
            self.owner.size_bytes -= old.size
            entries.move_to_end(key)
        entries[key] = entry
        if entry.dirty:
            self.dirty.pop(key, None)
            self.dirty[key] = None
        self.owner.size_bytes += entry.size
        self.evict_over()

    def evict_over(self) -> None:
        """Evict the eldest entries while the thread's total is over its maximum (Kafka's
        maybeEvict: only from this store, which may run empty first)."""
        owner, entries = self.owner, self.entries
        while owner.size_bytes > owner.max_bytes and entries:
            self._evict()

    def delete(self, key: Any) -> CacheEntry | None:
        """Drop ``key`` from the cache (it must not be flushed any more)."""
        entry = self.entries.pop(key, None)
        if entry is not None:
            self.dirty.pop(key, None)
            self.owner.size_bytes -= entry.size
        return entry

    def _evict(self) -> None:
        key, eldest = self.entries.popitem(last=False)
        self.owner.size_bytes -= eldest.size
        if eldest.dirty:
            self._flush((key, eldest))

    def flush(self) -> None:
        """Hand every dirty entry to the listener; cached deletes leave the cache."""
        self._flush(None)

    def _flush(self, evicted: tuple[Any, CacheEntry] | None) -> None:
        dirty = self.dirty
        if not dirty:
            return
        batch: list[tuple[Any, CacheEntry]] = []
        if evicted is not None:
            batch.append(evicted)
            dirty.pop(evicted[0], None)
            evicted[1].dirty = False
        deleted = []
        entries = self.entries
        for key in dirty:
            entry = entries[key]
            entry.dirty = False
            batch.append((key, entry))
            if entry.value is None:
                deleted.append(key)
        # cleared before the listener runs (it may put to this cache again); the same dict,
        # as the stores' put paths hold it
        dirty.clear()
        self.listener(batch)
        for key in deleted:
            self.delete(key)

    def clear(self) -> None:
        """Forget every entry (store closed or task migrated away)."""
        for entry in self.entries.values():
            self.owner.size_bytes -= entry.size
        self.entries.clear()
        self.dirty.clear()


class ThreadCache:
    """The record cache of one stream thread, ``max_bytes`` over all its stores."""

    def __init__(self, max_bytes: int) -> None:
        if max_bytes < 0:
            raise ValueError("cache max bytes must be >= 0")
        self.max_bytes = max_bytes
        self.size_bytes = 0
        self.caches: dict[str, NamedCache] = {}

    def named(self, name: str, listener: DirtyListener) -> NamedCache:
        """The store's cache (created on first use; a re-created store replaces it)."""
        old = self.caches.get(name)
        if old is not None:
            old.clear()
        cache = self.caches[name] = NamedCache(name, self, listener)
        return cache

    def remove(self, name: str) -> None:
        """Drop a store's cache and its bytes."""
        cache = self.caches.pop(name, None)
        if cache is not None:
            cache.clear()
