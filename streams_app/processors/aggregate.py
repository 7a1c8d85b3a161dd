"""Grouped-stream aggregations: KStreamAggregate (count, aggregate) and KStreamReduce."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from streams_app.processors.api import Processor, ProcessorContext, Record
from streams_app.processors.forwarding import TupleForwarder
from streams_app.state.api import ValueAndTimestamp

__all__ = ["KStreamAggregate", "KStreamReduce"]

log = logging.getLogger(__name__)


def _skip(ctx: ProcessorContext, what: str) -> None:
    log.warning(
        "Skipping record due to null %s. topic=[%s] partition=[%s] offset=[%s]",
        what,
        ctx.topic,
        ctx.partition,
        ctx.offset,
    )


class KStreamAggregate(Processor):
    """``aggregator(key, value, agg)`` seeded by ``initializer()``, stored per key.

    Records with a null key or value are dropped. The output timestamp is the max of the
    stored aggregate's timestamp and the record's (Kafka Streams' KStreamAggregate).
    """

    def __init__(
        self,
        store_name: str,
        initializer: Callable[[], Any],
        aggregator: Callable[[Any, Any, Any], Any],
        send_old_values: bool = False,
    ) -> None:
        self.store_name = store_name
        self.initializer = initializer
        self.aggregator = aggregator
        self.send_old_values = send_old_values

    def init(self, context: ProcessorContext) -> None:
        """Look up the store and set up forwarding."""
        self.context = context
        self.store = context.get_state_store(self.store_name)
        self.forwarder = TupleForwarder(self.store, context, self.send_old_values)

    def process(self, record: Record) -> None:
        """Update the aggregate of the record's key."""
        key = record.key
        if key is None or record.value is None:
            _skip(self.context, "key or value")
            return
        old = self.store.get(key)
        if old is None:
            old_agg = self.initializer()
            ts = record.timestamp
        else:
            old_agg = old.value
            ts = max(record.timestamp, old.timestamp)
        new_agg = self.aggregator(key, record.value, old_agg)
        self.store.put(key, ValueAndTimestamp(new_agg, ts))
        self.forwarder.forward_change(key, new_agg, old_agg, ts, record.headers)


class KStreamReduce(Processor):
    """``reducer(agg, value)``; the first value of a key is its aggregate."""

    def __init__(
        self,
        store_name: str,
        reducer: Callable[[Any, Any], Any],
        send_old_values: bool = False,
    ) -> None:
        self.store_name = store_name
        self.reducer = reducer
        self.send_old_values = send_old_values

    def init(self, context: ProcessorContext) -> None:
        """Look up the store and set up forwarding."""
        self.context = context
        self.store = context.get_state_store(self.store_name)
        self.forwarder = TupleForwarder(self.store, context, self.send_old_values)

    def process(self, record: Record) -> None:
        """Fold the record's value into its key's aggregate."""
        key = record.key
        if key is None or record.value is None:
            _skip(self.context, "key or value")
            return
        old = self.store.get(key)
        if old is None:
            old_agg = None
            new_agg = record.value
            ts = record.timestamp
        else:
            old_agg = old.value
            new_agg = self.reducer(old_agg, record.value)
            ts = max(record.timestamp, old.timestamp)
        self.store.put(key, ValueAndTimestamp(new_agg, ts))
        self.forwarder.forward_change(key, new_agg, old_agg, ts, record.headers)
