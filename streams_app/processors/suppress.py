"""KTable suppression (Kafka Streams' KTableSuppressProcessor).

Updates wait in a buffer holding the latest update per key, ordered by buffer time (the
window end for ``until_window_closes``, the first buffered record's timestamp for
``until_time_limit``) and then by serialized key. After each record, entries whose buffer
time is at most ``observed - suppress_duration`` are emitted, where ``observed`` is the
largest timestamp this processor has seen; a full buffer emits early or fails. Final
results (window close) drop tombstones.

With a ``store_name`` the buffer is mirrored into that (changelogged) key-value store, one
:data:`~streams_app.state.store_serdes.BufferEntry` per key, written on every change and
deleted on emit, so a restarted task rebuilds it from the restored store (Kafka's
``<application_id>-<store>-changelog`` of the suppression buffer). The in-memory buffer
stays the one that is read: the store only makes it survive a restart.
"""

from __future__ import annotations

import heapq
import struct
from collections.abc import Callable
from typing import Any

from streams_app.processors.api import Change, Processor, ProcessorContext, Record
from streams_app.processors.suppliers import KTableProcessorSupplier, KTableValueGetterSupplier
from streams_app.processors.table import StreamsError
from streams_app.serdes import Serde, SessionWindowedSerde, TimeWindowedSerde
from streams_app.state.api import Windowed
from streams_app.state.spec import StoreSpec
from streams_app.state.store_serdes import BufferEntry, BufferKeySerde, BufferValueSerde

__all__ = ["KTableSuppress", "KTableSuppressSupplier", "buffer_store_spec"]

NO_TIMESTAMP = -1
_Q = struct.Struct(">q")


class KTableSuppress(Processor):
    """Buffers ``Change`` records and releases them by time or when the buffer is full.

    ``buffer_time(record)`` gives the time an entry waits for; ``key_bytes(key)`` orders
    entries with the same time; ``max_records`` of ``None`` is unbounded.
    """

    def __init__(self, suppress_duration_ms: int, buffer_time: Callable[[Record], int],
                 key_bytes: Callable[[Any], bytes], max_records: int | None,
                 shut_down_when_full: bool, safe_to_drop_tombstones: bool,
                 node_name: str = "", store_name: str | None = None) -> None:
        self.suppress_duration_ms = suppress_duration_ms
        self.buffer_time = buffer_time
        self.key_bytes = key_bytes
        self.max_records = max_records
        self.shut_down_when_full = shut_down_when_full
        self.safe_to_drop_tombstones = safe_to_drop_tombstones
        self.node_name = node_name
        self.store_name = store_name
        self.store: Any = None
        self.observed_stream_time = NO_TIMESTAMP
        # key -> [buffer time, latest record, prior old value]
        self._buffer: dict[Any, list[Any]] = {}
        self._heap: list[tuple[int, bytes, int, Any]] = []
        self._seq = 0

    def init(self, context: ProcessorContext) -> None:
        """Find the buffer store and rebuild the buffer from what it holds."""
        self.context = context
        if self.store_name is None:
            return
        self.store = context.get_state_store(self.store_name)
        for key, entry in self.store.all():
            time, ts, headers, prior, old, new = entry
            record = Record(key, Change(new, old), ts, headers)
            self._buffer[key] = [time, record, prior]
            self._seq += 1
            heapq.heappush(self._heap, (time, self.key_bytes(key), self._seq, key))
            # stream time is not logged: the newest buffered record is the best lower bound
            self.observed_stream_time = max(self.observed_stream_time, ts)

    def _log(self, key: Any, entry: list[Any]) -> None:
        time, record, prior = entry
        value: BufferEntry = (time, record.timestamp, tuple(record.headers or ()), prior,
                              record.value.old, record.value.new)
        self.store.put(key, value)

    def process(self, record: Record) -> None:
        """Buffer the update, then emit what is due."""
        if record.timestamp > self.observed_stream_time:
            self.observed_stream_time = record.timestamp
        key = record.key
        entry = self._buffer.get(key)
        if entry is None:
            time = self.buffer_time(record)
            entry = self._buffer[key] = [time, record, record.value.old]
            self._seq += 1
            heapq.heappush(self._heap, (time, self.key_bytes(key), self._seq, key))
        else:
            entry[1] = record  # keeps its place in time order, as Kafka's buffer does
        expiry = self.observed_stream_time - self.suppress_duration_ms
        while self._heap and self._heap[0][0] <= expiry:
            self._evict()
        if self.max_records is not None and len(self._buffer) > self.max_records:
            if self.shut_down_when_full:
                raise StreamsError(
                    f"{self.node_name} buffer exceeded its max capacity. Currently "
                    f"[{len(self._buffer)}/{self.max_records}] records."
                )
            while len(self._buffer) > self.max_records:
                self._evict()
        if self.store is not None and key in self._buffer:  # (an emitted key was deleted)
            self._log(key, entry)

    def _evict(self) -> None:
        _, _, _, key = heapq.heappop(self._heap)
        _, record, prior = self._buffer.pop(key)
        if self.store is not None:
            self.store.delete(key)
        new = record.value.new
        if new is None and self.safe_to_drop_tombstones:
            return
        self.context.forward(record.with_value(Change(new, prior)))


def buffer_store_spec(name: str, key_serde: Serde | None, value_serde: Serde | None
                      ) -> StoreSpec:
    """The changelogged, uncached key-value store mirroring a suppression buffer.

    ``key_serde`` / ``value_serde`` are the suppressed table's (``None``: the defaults); a
    windowed table's key serde is unwrapped, the buffer key layout carries the window.
    """
    if isinstance(key_serde, TimeWindowedSerde | SessionWindowedSerde):
        key_serde = key_serde.inner
    return StoreSpec(name, key_serde=BufferKeySerde(key_serde),
                     value_serde=BufferValueSerde(value_serde), timestamped=False,
                     logging=True, caching=False)


class KTableSuppressSupplier(KTableProcessorSupplier):
    """Makes the suppress processor; old values come from the upstream table.

    ``final`` waits for window close (buffer time = window end), else for
    ``duration_ms`` after each key's first buffered record.
    """

    def __init__(self, parent: KTableProcessorSupplier, final: bool, duration_ms: int,
                 max_records: int | None, shut_down_when_full: bool, key_serde: Any,
                 node_name: str, spec: StoreSpec) -> None:
        self.parent = parent
        self.final = final
        self.duration_ms = duration_ms
        self.max_records = max_records
        self.shut_down_when_full = shut_down_when_full
        self.key_serde = key_serde
        self.node_name = node_name
        self.spec = spec

    def get(self) -> KTableSuppress:
        """A fresh KTableSuppress."""
        return KTableSuppress(self.duration_ms, _window_end if self.final else _record_time,
                              self._key_bytes, self.max_records, self.shut_down_when_full,
                              self.final, self.node_name, self.spec.name)

    def store_specs(self) -> list[StoreSpec]:
        """The changelogged buffer store."""
        return [self.spec]

    def _key_bytes(self, key: Any) -> bytes:
        if self.key_serde is not None:
            return self.key_serde.serialize(key) or b""
        if isinstance(key, Windowed):  # no serde known: order like a windowed string key
            return str(key.key).encode() + _Q.pack(key.start)
        return repr(key).encode()

    def enable_sending_old_values(self, force_materialization: bool) -> bool:
        """Ask upstream."""
        return self.parent.enable_sending_old_values(force_materialization)

    def view(self) -> KTableValueGetterSupplier:
        """Not readable by joins here (Kafka reads the buffer, then the parent)."""
        raise TypeError("KTableSuppressSupplier: this table cannot be read by a join "
                        "(no value getter); materialize it first")

    def window_grace_ms(self) -> int | None:
        """The parent's: suppression keeps the windows."""
        return self.parent.window_grace_ms()


def _window_end(record: Record) -> int:
    return int(record.key.end)


def _record_time(record: Record) -> int:
    return record.timestamp
