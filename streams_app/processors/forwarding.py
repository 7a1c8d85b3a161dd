"""Forwarding of table updates, direct or through a store's record cache.

Kafka Streams' TimestampedTupleForwarder + TimestampedCacheFlushListener: when the store
caches, the processor forwards nothing itself and the cache forwards on flush, as the
processor's node, with the value's timestamp.
"""

from __future__ import annotations

from typing import Any

from streams_app.processors.api import Change, Processor, ProcessorContext, Record
from streams_app.state.api import ValueAndTimestamp
from streams_app.state.versioned import (
    PUT_RETURN_CODE_IS_LATEST,
    PUT_RETURN_CODE_NOT_PUT,
    VersionedKeyValueStore,
)

__all__ = ["TupleForwarder", "TableUpdateProcessor"]


class TupleForwarder:
    """Forwards ``Change`` records for one processor and its (maybe cached) store."""

    __slots__ = ("context", "send_old_values", "caching", "node", "timestamped")

    def __init__(self, store: Any, context: ProcessorContext, send_old_values: bool,
                 timestamped: bool = True) -> None:
        self.context = context
        self.send_old_values = send_old_values
        # plain values (session stores) carry no timestamp: a session's time is its end
        self.timestamped = timestamped
        self.node = getattr(context, "current_node", None)
        self.caching = store.set_flush_listener(self._on_flush, send_old_values)

    def maybe_forward(self, record: Record) -> None:
        """Forward now unless the cache will forward on flush."""
        if self.caching:
            return
        if not self.send_old_values and record.value.old is not None:
            record = record.with_value(Change(record.value.new, None, record.value.is_latest))
        self.context.forward(record)

    def forward_change(self, key: Any, new: Any, old: Any, timestamp: int, headers: Any) -> None:
        """:meth:`maybe_forward` of ``Change(new, old)`` given by parts: with the cache on,
        nothing is built (the hot path of every cached aggregation)."""
        if self.caching:
            return
        self.context.forward(
            Record(key, Change(new, old if self.send_old_values else None), timestamp, headers))

    def _on_flush(self, key: Any, new: Any, old: Any, timestamp: int, headers: Any) -> None:
        node = self.node
        if node is not None and not node.children:
            return  # a store with nothing downstream (a queried aggregate): build nothing
        ctx = self.context
        if not self.timestamped:
            record = Record(key, Change(new, old), key.end, headers)
        else:
            record = Record(
                key,
                Change(None if new is None else new.value, None if old is None else old.value),
                timestamp if new is None else new.timestamp,
                headers,
            )
        prev = ctx.current_node  # type: ignore[attr-defined]
        ctx.current_node = self.node  # type: ignore[attr-defined]
        try:
            ctx.forward(record)
        finally:
            ctx.current_node = prev  # type: ignore[attr-defined]


class TableUpdateProcessor(Processor):
    """A processor whose output is a table: ``Change`` records, forwarded through its
    store's cache when ``store_name`` is set (the store holds the result)."""

    store_name: str | None
    send_old_values: bool
    store: Any = None
    versioned = False

    def init(self, context: ProcessorContext) -> None:
        """Look up the result store, when there is one, and set up forwarding."""
        self.context = context
        if self.store_name is not None:
            self.store = context.get_state_store(self.store_name)
            self.forwarder = TupleForwarder(self.store, context, self.send_old_values)
            self.versioned = isinstance(self.store, VersionedKeyValueStore)

    def put_row(self, key: Any, value: Any, timestamp: int) -> int:
        """Write a row into the timestamped or versioned result store; the put's return
        code (Kafka Streams' ``KeyValueStoreWrapper.put``: "is latest" when not versioned)."""
        if self.versioned:
            return self.store.put(key, value, timestamp)  # type: ignore[no-any-return]
        self.store.put(key, None if value is None else ValueAndTimestamp(value, timestamp))
        return PUT_RETURN_CODE_IS_LATEST

    def put_version(self, key: Any, new: Any, old: Any, timestamp: int, headers: Any) -> None:
        """Put the row ``new`` into the versioned result store and forward
        ``Change(new, old)``: not when the store refused it, marked when it is not the key's
        latest (Kafka Streams' aggregations over a ``KeyValueStoreWrapper``)."""
        code = self.store.put(key, new, timestamp)
        if code != PUT_RETURN_CODE_NOT_PUT:
            self.context.forward(Record(key, Change(
                new, old if self.send_old_values else None, code == PUT_RETURN_CODE_IS_LATEST),
                timestamp, headers))
