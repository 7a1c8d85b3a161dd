"""A key-value store on one rocksdict database (one per store and partition).

Keys are stored serialized with the store's key serde, so RocksDB's byte order is the range
order (as in Kafka Streams' RocksDB stores). Timestamped stores keep Kafka Streams' layout:
an 8-byte big-endian timestamp followed by the serialized value. Changelog records carry the
plain value and the timestamp as the record timestamp, so a restore rebuilds the same bytes
with :func:`stored_value`.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from typing import Any

from streams_app.serdes import Serde
from streams_app.state.api import KeyValueStore, ValueAndTimestamp

__all__ = ["RocksDictKeyValueStore", "stored_value", "RESERVED_PREFIX", "TIMESTAMP"]

#: The 8-byte big-endian timestamp a timestamped value starts with.
TIMESTAMP = _TS = struct.Struct(">q")
# Faust keeps its own bookkeeping (the persisted changelog offset) in the same database.
RESERVED_PREFIX = b"__faust"


def stored_value(value: bytes, timestamp: int, timestamped: bool) -> bytes:
    """The bytes a store keeps for a serialized ``value`` written at ``timestamp``."""
    return _TS.pack(timestamp) + value if timestamped else value


class RocksDictKeyValueStore(KeyValueStore):
    """A :class:`KeyValueStore` over a raw-mode ``rocksdict.Rdict``.

    The database is owned by the caller (Faust's table store opens and closes it on
    rebalances); this class only reads and writes it.
    """

    def __init__(self, name: str, db: Any, key_serde: Serde, value_serde: Serde,
                 timestamped: bool = True) -> None:
        self.name = name
        self.db = db
        self.key_serde = key_serde
        self.value_serde = value_serde
        self.timestamped = timestamped

    @property
    def persistent(self) -> bool:
        return True

    def _decode(self, raw: bytes) -> Any:
        if self.timestamped:
            return ValueAndTimestamp(self.value_serde.deserialize(raw[8:]),
                                     _TS.unpack_from(raw)[0])
        return self.value_serde.deserialize(raw)

    def _encode(self, value: Any) -> bytes:
        if self.timestamped:
            return _TS.pack(value.timestamp) + self.value_serde.serialize(value.value)
        return self.value_serde.serialize(value)

    def get(self, key: Any) -> Any:
        """The value for ``key`` or ``None``."""
        raw = self.db.get(self.key_serde.serialize(key))
        return None if raw is None else self._decode(raw)

    def put(self, key: Any, value: Any) -> None:
        """Set ``key``; ``None`` deletes."""
        k = self.key_serde.serialize(key)
        if value is None:
            self.db.delete(k)
        else:
            self.db.put(k, self._encode(value))

    def delete(self, key: Any) -> Any:
        """Remove ``key``; return its old value."""
        k = self.key_serde.serialize(key)
        raw = self.db.get(k)
        if raw is not None:
            self.db.delete(k)
            return self._decode(raw)
        return None

    def range(self, start: Any = None, end: Any = None) -> Iterator[tuple[Any, Any]]:
        """Pairs with serialized keys in ``[start, end]``, in byte order."""
        lo = None if start is None else self.key_serde.serialize(start)
        hi = None if end is None else self.key_serde.serialize(end)
        it = self.db.items() if lo is None else self.db.items(from_key=lo)
        for k, raw in it:
            if hi is not None and k > hi:
                break
            if k.startswith(RESERVED_PREFIX):
                continue
            yield self.key_serde.deserialize(k), self._decode(raw)

    def approximate_num_entries(self) -> int:
        """Counts the keys (RocksDB's estimate is not exposed by rocksdict)."""
        return sum(1 for k in self.db.keys() if not k.startswith(RESERVED_PREFIX))
