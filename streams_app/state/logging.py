"""Change-logging layer: records every write so the runtime can produce it to the changelog."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from streams_app.state.api import KeyValueStore, ValueAndTimestamp

__all__ = ["ChangeLoggingKeyValueStore"]


class ChangeLoggingKeyValueStore(KeyValueStore):
    """Wraps a store; each write is appended to :attr:`pending` as ``(key, value, ts)``.

    ``value`` is the plain value (``None`` for a delete) and ``ts`` the value's timestamp
    for timestamped stores or the current record's timestamp otherwise, matching what
    Kafka Streams writes to a changelog topic. The runtime drains :attr:`pending` in bulk.
    """

    def __init__(self, inner: KeyValueStore, timestamped: bool) -> None:
        self.inner = inner
        self.name = inner.name
        self.timestamped = timestamped
        self.pending: list[tuple[Any, Any, int]] = []
        self._context: Any = None

    def init(self, context: Any) -> None:
        """Remember the context (for record timestamps) and init the inner store."""
        self._context = context
        self.inner.init(context)

    def _ts(self) -> int:
        return self._context.timestamp if self._context is not None else 0

    def get(self, key: Any) -> Any:
        """Read through to the inner store."""
        return self.inner.get(key)

    def put(self, key: Any, value: Any) -> None:
        """Write and log."""
        self.put_at(key, value, self._ts())

    def put_at(self, key: Any, value: Any, record_ts: int) -> None:
        """Write and log with ``record_ts`` as the current record's timestamp."""
        self.inner.put(key, value)
        if value is None:
            self.pending.append((key, None, record_ts))
        elif self.timestamped:
            self.pending.append((key, value.value, value.timestamp))
        else:
            self.pending.append((key, value, record_ts))

    def delete(self, key: Any) -> Any:
        """Delete and log a tombstone."""
        old = self.inner.delete(key)
        self.pending.append((key, None, self._ts()))
        return old

    def range(self, start: Any = None, end: Any = None) -> Iterator[tuple[Any, Any]]:
        """Range over the inner store."""
        return self.inner.range(start, end)

    def approximate_num_entries(self) -> int:
        """Inner store's count."""
        return self.inner.approximate_num_entries()

    def drain(self) -> list[tuple[Any, Any, int]]:
        """Take every logged write since the last drain."""
        pending, self.pending = self.pending, []
        return pending

    def restore(self, key: Any, value: Any, timestamp: int) -> None:
        """Apply one changelog record without logging it again."""
        if value is None:
            self.inner.delete(key)
        elif self.timestamped:
            self.inner.put(key, ValueAndTimestamp(value, timestamp))
        else:
            self.inner.put(key, value)

    def flush(self) -> None:
        """Flush the inner store."""
        self.inner.flush()

    def close(self) -> None:
        """Close the inner store."""
        self.inner.close()

    @property
    def persistent(self) -> bool:
        """Whether the inner store is persistent."""
        return self.inner.persistent
