"""Versioned key-value stores (KIP-889): every key keeps its value history by timestamp.

Kafka Streams' ``VersionedKeyValueStore`` semantics, as ``RocksDBVersionedStore`` implements
them: a put older than observed stream time minus the history retention is not put; the
latest version of a key never expires; ``get(key, as_of)`` further back than the retention
answers only from the latest version. The history of one key is a list of
``(valid_from, value or None)`` versions, oldest first; a version is valid until the next one.
"""

from __future__ import annotations

import bisect
from typing import Any, NamedTuple

from streams_app.state.api import StateStore

__all__ = [
    "VersionedRecord",
    "VersionedKeyValueStore",
    "InMemoryVersionedKeyValueStore",
    "PUT_RETURN_CODE_NOT_PUT",
    "PUT_RETURN_CODE_VALID_TO_UNDEFINED",
    "PUT_RETURN_CODE_IS_LATEST",
    "History",
    "history_put",
    "history_get",
    "NO_STREAM_TIME",
]

PUT_RETURN_CODE_NOT_PUT = -(2**63)
PUT_RETURN_CODE_VALID_TO_UNDEFINED = 2**63 - 1
PUT_RETURN_CODE_IS_LATEST = PUT_RETURN_CODE_VALID_TO_UNDEFINED
NO_STREAM_TIME = -1

History = list[tuple[int, Any]]


class VersionedRecord(NamedTuple):
    """One version: its value, its timestamp (valid from) and, when known, valid to."""

    value: Any
    timestamp: int
    valid_to: int | None = None


def history_put(history: History, value: Any, timestamp: int, observed: int,
                retention: int) -> int:
    """Insert a version into ``history`` (in place); the put's valid-to timestamp.

    ``observed`` is the stream time after this put. A version with the same timestamp is
    replaced. Versions no read can reach any more (valid to at or before
    ``observed - retention``, the latest excepted) are dropped.
    """
    stamps = [ts for ts, _ in history]
    i = bisect.bisect_left(stamps, timestamp)
    if i < len(history) and stamps[i] == timestamp:
        history[i] = (timestamp, value)
        valid_to = stamps[i + 1] if i + 1 < len(stamps) else PUT_RETURN_CODE_VALID_TO_UNDEFINED
    else:
        history.insert(i, (timestamp, value))
        valid_to = stamps[i] if i < len(stamps) else PUT_RETURN_CODE_VALID_TO_UNDEFINED
    bound = observed - retention
    drop = 0
    while drop + 1 < len(history) and history[drop + 1][0] <= bound:
        drop += 1
    if drop:
        del history[:drop]
    if len(history) == 1 and history[0][1] is None and history[0][0] < bound:
        history.clear()  # a deleted key past retention answers as an absent one
    return valid_to


def history_get(history: History | None, as_of: int | None, observed: int,
                retention: int) -> VersionedRecord | None:
    """The version valid at ``as_of`` (the latest when ``None``); ``None`` for a tombstone."""
    if not history:
        return None
    latest_ts, latest = history[-1]
    if as_of is None:
        return None if latest is None else VersionedRecord(latest, latest_ts)
    if latest_ts <= as_of:
        return None if latest is None else VersionedRecord(latest, latest_ts)
    if as_of < observed - retention:
        return None  # past retention only the latest version answers
    stamps = [ts for ts, _ in history]
    i = bisect.bisect_right(stamps, as_of) - 1
    if i < 0 or history[i][1] is None:
        return None
    return VersionedRecord(history[i][1], stamps[i], stamps[i + 1])


class VersionedKeyValueStore(StateStore):
    """A key-value store of value histories (Kafka's ``VersionedKeyValueStore``).

    ``put`` returns the put version's valid-to timestamp (:data:`PUT_RETURN_CODE_IS_LATEST`
    when it is the latest, :data:`PUT_RETURN_CODE_NOT_PUT` when it was too old to put).
    """

    history_retention_ms: int

    def put(self, key: Any, value: Any, timestamp: int) -> int:
        """Add the version of ``key`` valid from ``timestamp`` (``None``: a tombstone)."""
        raise NotImplementedError

    def get(self, key: Any, as_of: int | None = None) -> VersionedRecord | None:
        """The latest version of ``key`` or, with ``as_of``, the one valid then."""
        raise NotImplementedError

    def delete(self, key: Any, timestamp: int) -> VersionedRecord | None:
        """Put a tombstone at ``timestamp``; the version that was valid then."""
        if timestamp < self.observed_stream_time - self.history_retention_ms:
            return None
        old = self.get(key, timestamp)
        self.put(key, None, timestamp)
        return old

    @property
    def observed_stream_time(self) -> int:
        """The largest timestamp put (restores included)."""
        raise NotImplementedError


class InMemoryVersionedKeyValueStore(VersionedKeyValueStore):
    """Histories in a dict (the test variant; Kafka Streams has only the RocksDB one)."""

    def __init__(self, name: str, history_retention_ms: int) -> None:
        self.name = name
        self.history_retention_ms = history_retention_ms
        self.data: dict[Any, History] = {}
        self._observed = NO_STREAM_TIME

    @property
    def observed_stream_time(self) -> int:
        return self._observed

    def put(self, key: Any, value: Any, timestamp: int) -> int:
        """Add a version; not put when older than stream time minus the retention."""
        if timestamp < self._observed - self.history_retention_ms:
            return PUT_RETURN_CODE_NOT_PUT
        self._observed = max(self._observed, timestamp)
        history = self.data.setdefault(key, [])
        valid_to = history_put(history, value, timestamp, self._observed,
                               self.history_retention_ms)
        if not history:
            del self.data[key]
        return valid_to

    def get(self, key: Any, as_of: int | None = None) -> VersionedRecord | None:
        """The latest version, or the one valid at ``as_of``."""
        return history_get(self.data.get(key), as_of, self._observed, self.history_retention_ms)
