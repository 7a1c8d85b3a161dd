"""Record cache layer (Kafka Streams' CachingKeyValueStore + NamedCache, per store).

Writes land in a dict of dirty keys. On :meth:`flush` (a commit) each dirty key is
written through to the wrapped store once, and the flush listener receives the latest
value with the value that was in the wrapped store before, so downstream sees one
``Change(new, old)`` per key per commit. Overflowing ``max_entries`` flushes early.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from streams_app.state.api import FlushListener, KeyValueStore
from streams_app.state.memory import _in_range, sort_keys

__all__ = ["CachingKeyValueStore", "FlushListener"]

_DELETED = object()  # a cached delete: the key must read as absent


class CachingKeyValueStore(KeyValueStore):
    """Caches writes for ``wrapped`` and forwards deduplicated changes on flush."""

    def __init__(self, wrapped: KeyValueStore, max_entries: int) -> None:
        if max_entries <= 0:
            raise ValueError("cache_max_entries must be > 0 for a caching store")
        self.wrapped = wrapped
        self.name = wrapped.name
        self.max_entries = max_entries
        # key -> [value | _DELETED, timestamp, headers]; insertion order = dirty order
        self._dirty: dict[Any, list[Any]] = {}
        self._listener: FlushListener | None = None
        self._send_old_values = False
        self._context: Any = None

    def init(self, context: Any) -> None:
        """Keep the context to stamp entries with the current record's metadata."""
        self._context = context
        self.wrapped.init(context)

    def set_flush_listener(self, listener: FlushListener, send_old_values: bool) -> bool:
        """Register the processor's listener; True tells it caching is on."""
        self._listener = listener
        self._send_old_values = send_old_values
        return True

    #: Reads served from the cache and not, once :meth:`count_reads` was called.
    hits = 0
    misses = 0

    def get(self, key: Any) -> Any:
        """Cached value if dirty, else the wrapped store's."""
        entry = self._dirty.get(key)
        if entry is None:
            return self.wrapped.get(key)
        value = entry[0]
        return None if value is _DELETED else value

    def count_reads(self) -> None:
        """Count hits and misses of :meth:`get` from now on (the cache hit ratio metric).

        A per-read cost, so only at the metrics' debug recording level, as in Kafka Streams.
        """
        self.get = self._counted_get  # type: ignore[method-assign]

    def _counted_get(self, key: Any) -> Any:
        entry = self._dirty.get(key)
        if entry is None:
            self.misses += 1
            return self.wrapped.get(key)
        self.hits += 1
        value = entry[0]
        return None if value is _DELETED else value

    def put(self, key: Any, value: Any) -> None:
        """Cache the write; the most recent write of a key moves it to the end."""
        dirty = self._dirty
        ctx = self._context
        ts = ctx.timestamp if ctx is not None else 0
        headers = ctx.headers if ctx is not None else ()
        if key in dirty:
            del dirty[key]
        dirty[key] = [_DELETED if value is None else value, ts, headers]
        if len(dirty) > self.max_entries:
            self.flush()

    def delete(self, key: Any) -> Any:
        """Cache a delete; return the previous value."""
        old = self.get(key)
        self.put(key, None)
        return old

    def range(self, start: Any = None, end: Any = None) -> Iterator[tuple[Any, Any]]:
        """Wrapped store's range overlaid with the dirty entries, in key order."""
        merged = dict(self.wrapped.range(start, end))
        for key, entry in self._dirty.items():
            if _in_range(key, start, end):
                if entry[0] is _DELETED:
                    merged.pop(key, None)
                else:
                    merged[key] = entry[0]
        return iter([(k, merged[k]) for k in sort_keys(merged)])

    def approximate_num_entries(self) -> int:
        """Wrapped count plus dirty keys (an estimate, as in Kafka)."""
        return self.wrapped.approximate_num_entries() + len(self._dirty)

    def flush(self) -> None:
        """Write every dirty key through and forward its change, oldest first."""
        if not self._dirty:
            self.wrapped.flush()
            return
        dirty, self._dirty = self._dirty, {}
        wrapped = self.wrapped
        listener = self._listener
        # write with the entry's own timestamp so changelog records carry it
        put = getattr(wrapped, "put_at", None) or (lambda k, v, _ts: wrapped.put(k, v))
        for key, (value, ts, headers) in dirty.items():
            new = None if value is _DELETED else value
            if listener is None:
                put(key, new, ts)
                continue
            # The old value is read only where it is needed (Kafka Streams' rule): for a
            # delete, or to send it downstream. An absent key deleted: no one hears of it.
            old = wrapped.get(key) if new is None or self._send_old_values else None
            if new is None and old is None:
                continue
            put(key, new, ts)
            listener(key, new, old if self._send_old_values else None, ts, headers)
        wrapped.flush()

    def close(self) -> None:
        """Close the wrapped store (flush first, as Kafka does)."""
        self.wrapped.close()

    @property
    def persistent(self) -> bool:
        """Whether the wrapped store is persistent."""
        return self.wrapped.persistent
