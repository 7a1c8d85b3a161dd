"""The stream-side buffer of a stream-table join with a grace period (KIP-923).

Kafka Streams' RocksDBTimeOrderedKeyValueBuffer as KStreamKTableJoinProcessor uses it: a
stream record joins only once the buffer's stream time (the largest timestamp buffered) has
passed its timestamp by the grace period, so that table updates arriving late but with
earlier timestamps are seen by the as-of lookup. A record already older than that bound is
not buffered (the join processes it at once). Buffered records leave in the order of their
store key: timestamp, serialized key, then a sequence number.

The buffer lives in memory and is mirrored into a changelogged key-value store (store key
``8-byte timestamp + key bytes + 4-byte sequence number``), read back on ``init``.
"""

from __future__ import annotations

import heapq
import struct
from collections.abc import Iterator
from typing import Any

from streams_app.processors.api import Record
from streams_app.serdes import BytesSerde, Serde
from streams_app.state.spec import StoreSpec
from streams_app.state.store_serdes import BufferValueSerde

__all__ = ["StreamJoinBuffer", "join_buffer_spec"]

_Q = struct.Struct(">q")
_I = struct.Struct(">i")
NO_TIMESTAMP = -1


def join_buffer_spec(name: str, value_serde: Serde | None) -> StoreSpec:
    """The changelogged, uncached store of a join's buffer (``<join name>-Buffer``)."""
    return StoreSpec(name, key_serde=BytesSerde(), value_serde=BufferValueSerde(value_serde),
                     timestamped=False, logging=True, caching=False)


class StreamJoinBuffer:
    """Stream records waiting for the grace period, in store-key order."""

    def __init__(self, store: Any, grace_ms: int, key_serde: Serde) -> None:
        self.store = store
        self.grace_ms = grace_ms
        self.key_serde = key_serde
        self._heap = [store_key for store_key, _ in store.all()]
        heapq.heapify(self._heap)
        self._seq = 0
        # the buffer's stream time is the largest timestamp buffered (a restart: still held)
        self.observed_stream_time = max((_Q.unpack_from(k)[0] for k in self._heap),
                                        default=NO_TIMESTAMP)

    def put(self, record: Record) -> bool:
        """Buffer ``record``; False when it is already past the grace period."""
        if self.observed_stream_time - self.grace_ms > record.timestamp:
            return False
        self._seq = (self._seq + 1) & 0x7FFFFFFF
        key_bytes = self.key_serde.serialize(record.key) or b""
        store_key = _Q.pack(record.timestamp) + key_bytes + _I.pack(self._seq)
        self.store.put(store_key, (record.timestamp, record.timestamp,
                                   tuple(record.headers or ()), None, None, record.value))
        heapq.heappush(self._heap, store_key)
        self.observed_stream_time = max(self.observed_stream_time, record.timestamp)
        return True

    def evict(self) -> Iterator[Record]:
        """Remove and yield the records the grace period has passed, oldest first."""
        bound = self.observed_stream_time - self.grace_ms
        heap = self._heap
        while heap and _Q.unpack_from(heap[0])[0] <= bound:
            store_key = heapq.heappop(heap)
            _time, ts, headers, _prior, _old, value = self.store.delete(store_key)
            yield Record(self.key_serde.deserialize(store_key[8:-4]), value, ts, headers)
