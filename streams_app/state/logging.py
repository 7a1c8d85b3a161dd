"""Change-logging layer: hands every write to the task's record collector for the changelog."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from streams_app.state.api import KeyValueStore, ValueAndTimestamp

__all__ = ["ChangeLoggingKeyValueStore", "changelog_writer", "encode_key_value"]

# (topic, key bytes, value bytes, timestamp ms, headers)
OutputRecord = tuple[str, bytes | None, bytes | None, int, Any]


def encode_key_value(topic: str, key_serde: Any, value_serde: Any,
                     entries: list[tuple[Any, Any, int]]) -> list[OutputRecord]:
    """Changelog records of key-value writes ``(key, plain value or None, ts)``."""
    ks, vs = key_serde.serialize, value_serde.serialize
    return [(topic, ks(k), vs(v), ts, ()) for k, v, ts in entries]


def changelog_writer(context: Any, name: str, encode: Any) -> Callable[[Any], None]:
    """The ``append`` a logging layer logs with: the context's record collector's
    (Kafka Streams' ``context.logChange``)."""
    return context.changelog_writer(name, encode)  # type: ignore[no-any-return]


def log_before_init(_entry: Any) -> None:
    raise RuntimeError("a change-logging store was written before init(context)")


class ChangeLoggingKeyValueStore(KeyValueStore):
    """Wraps a store; each write is logged to the record collector as ``(key, value, ts)``.

    ``value`` is the plain value (``None`` for a delete) and ``ts`` the value's timestamp
    for timestamped stores or the current record's timestamp otherwise, matching what
    Kafka Streams writes to a changelog topic. The collector serializes them in bulk.
    """

    def __init__(self, inner: KeyValueStore, timestamped: bool) -> None:
        self.inner = inner
        self.name = inner.name
        self.timestamped = timestamped
        self._log: Callable[[tuple[Any, Any, int]], None] = log_before_init
        self._context: Any = None

    def init(self, context: Any) -> None:
        """Remember the context (record timestamps), log to its collector, init the inner."""
        self._context = context
        self._log = changelog_writer(context, self.name, encode_key_value)
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
            self._log((key, None, record_ts))
        elif self.timestamped:
            self._log((key, value.value, value.timestamp))
        else:
            self._log((key, value, record_ts))

    def delete(self, key: Any) -> Any:
        """Delete and log a tombstone."""
        old = self.inner.delete(key)
        self._log((key, None, self._ts()))
        return old

    def range(self, start: Any = None, end: Any = None) -> Iterator[tuple[Any, Any]]:
        """Range over the inner store."""
        return self.inner.range(start, end)

    def approximate_num_entries(self) -> int:
        """Inner store's count."""
        return self.inner.approximate_num_entries()

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
