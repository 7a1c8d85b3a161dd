"""A versioned key-value store on one rocksdict database.

One entry per key: the serialized key maps to the key's history, oldest version first, each
``[valid_from: 8 bytes][length: 4 bytes, -1 for a tombstone][serialized value]`` (big-endian).
The observed stream time is kept under a reserved key so that a reopened store expires and
refuses puts as before. The version logic is :mod:`streams_app.state.versioned`'s.
"""

from __future__ import annotations

import struct
from typing import Any

from streams_app.serdes import Serde
from streams_app.state.rocksdb import RESERVED_PREFIX
from streams_app.state.versioned import (
    NO_STREAM_TIME,
    PUT_RETURN_CODE_NOT_PUT,
    History,
    VersionedKeyValueStore,
    VersionedRecord,
    history_get,
    history_put,
)

__all__ = ["RocksDictVersionedKeyValueStore", "encode_history", "decode_history"]

_HEAD = struct.Struct(">qi")
_TIME = struct.Struct(">q")
STREAM_TIME_KEY = RESERVED_PREFIX + b"\x00versioned-stream-time"


def encode_history(history: History) -> bytes:
    """The stored bytes of a history of serialized values."""
    parts = []
    for ts, raw in history:
        parts.append(_HEAD.pack(ts, -1 if raw is None else len(raw)))
        if raw is not None:
            parts.append(raw)
    return b"".join(parts)


def decode_history(blob: bytes) -> History:
    """The history of serialized values stored in ``blob``."""
    history: History = []
    pos, end = 0, len(blob)
    while pos < end:
        ts, n = _HEAD.unpack_from(blob, pos)
        pos += _HEAD.size
        if n < 0:
            history.append((ts, None))
        else:
            history.append((ts, blob[pos:pos + n]))
            pos += n
    return history


class RocksDictVersionedKeyValueStore(VersionedKeyValueStore):
    """A :class:`VersionedKeyValueStore` over a raw-mode ``rocksdict.Rdict`` owned by the
    caller (Faust's table store)."""

    def __init__(self, name: str, db: Any, key_serde: Serde, value_serde: Serde,
                 history_retention_ms: int) -> None:
        self.name = name
        self.db = db
        self.key_serde = key_serde
        self.value_serde = value_serde
        self.history_retention_ms = history_retention_ms
        raw = db.get(STREAM_TIME_KEY)
        self._observed = NO_STREAM_TIME if raw is None else _TIME.unpack(raw)[0]

    @property
    def persistent(self) -> bool:
        return True

    @property
    def observed_stream_time(self) -> int:
        return self._observed

    def put_raw(self, key: bytes, value: bytes | None, timestamp: int) -> int:
        """Put a serialized version (the restore path)."""
        if timestamp < self._observed - self.history_retention_ms:
            return PUT_RETURN_CODE_NOT_PUT
        if timestamp > self._observed:
            self._observed = timestamp
            self.db.put(STREAM_TIME_KEY, _TIME.pack(timestamp))
        blob = self.db.get(key)
        history = [] if blob is None else decode_history(blob)
        valid_to = history_put(history, value, timestamp, self._observed,
                               self.history_retention_ms)
        if history:
            self.db.put(key, encode_history(history))
        elif blob is not None:
            self.db.delete(key)
        return valid_to

    def put(self, key: Any, value: Any, timestamp: int) -> int:
        """Add a version; not put when older than stream time minus the retention."""
        raw = None if value is None else self.value_serde.serialize(value)
        return self.put_raw(self.key_serde.serialize(key), raw, timestamp)

    def get(self, key: Any, as_of: int | None = None) -> VersionedRecord | None:
        """The latest version, or the one valid at ``as_of``."""
        blob = self.db.get(self.key_serde.serialize(key))
        if blob is None:
            return None
        found = history_get(decode_history(blob), as_of, self._observed,
                            self.history_retention_ms)
        if found is None:
            return None
        return found._replace(value=self.value_serde.deserialize(found.value))
