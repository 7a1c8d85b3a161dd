"""Change-logging layer of a versioned store: each put is logged with its own timestamp.

Kafka Streams' ``ChangeLoggingVersionedKeyValueBytesStore``: the changelog record's timestamp
is the version's timestamp, so replaying the changelog through ``put`` rebuilds the history.
Every put is logged, including one the store did not put (as in Kafka Streams).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from streams_app.state.logging import changelog_writer, encode_key_value, log_before_init
from streams_app.state.versioned import VersionedKeyValueStore, VersionedRecord

__all__ = ["ChangeLoggingVersionedKeyValueStore"]


class ChangeLoggingVersionedKeyValueStore(VersionedKeyValueStore):
    """Wraps a versioned store; logs ``(key, value or None, timestamp)`` per write."""

    def __init__(self, inner: VersionedKeyValueStore) -> None:
        self.inner = inner
        self.name = inner.name
        self.history_retention_ms = inner.history_retention_ms
        self._log: Callable[[tuple[Any, Any, int]], None] = log_before_init

    def init(self, context: Any) -> None:
        """Log to the context's record collector; init the inner store."""
        self._log = changelog_writer(context, self.name, encode_key_value)
        self.inner.init(context)

    @property
    def observed_stream_time(self) -> int:
        return self.inner.observed_stream_time

    def put(self, key: Any, value: Any, timestamp: int) -> int:
        """Put and log."""
        valid_to = self.inner.put(key, value, timestamp)
        self._log((key, value, timestamp))
        return valid_to

    def get(self, key: Any, as_of: int | None = None) -> VersionedRecord | None:
        """Read through."""
        return self.inner.get(key, as_of)

    def delete(self, key: Any, timestamp: int) -> VersionedRecord | None:
        """Delete and log a tombstone at ``timestamp``."""
        old = self.inner.delete(key, timestamp)
        self._log((key, None, timestamp))
        return old

    def restore(self, key: Any, value: Any, timestamp: int) -> None:
        """Apply one changelog record without logging it again."""
        self.inner.put(key, value, timestamp)

    def flush(self) -> None:
        """Flush the inner store."""
        self.inner.flush()

    def close(self) -> None:
        """Close the inner store."""
        self.inner.close()

    @property
    def persistent(self) -> bool:
        return self.inner.persistent
