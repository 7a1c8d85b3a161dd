"""Grouped-stream aggregations, KStreamAggregate (count, aggregate) and KStreamReduce, and
the supplier of every aggregation into a key-value or window store."""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial
from typing import Any

from streams_app.processors.api import Processor, ProcessorContext, Record
from streams_app.processors.forwarding import TableUpdateProcessor
from streams_app.processors.suppliers import (
    KTableProcessorSupplier,
    KTableValueGetterSupplier,
    store_view,
)
from streams_app.state.api import ValueAndTimestamp
from streams_app.state.spec import StoreSpec

__all__ = ["KStreamAggregate", "KStreamReduce", "AggregateSupplier"]

log = logging.getLogger(__name__)

# ValueAndTimestamp((value, ts)) without NamedTuple's Python-level __new__
_value_and_timestamp = partial(tuple.__new__, ValueAndTimestamp)


class AggregateSupplier(KTableProcessorSupplier):
    """Stream and table aggregations: always materialized, old values on demand.

    ``make(store_name, send_old_values)`` builds the processor.
    """

    def __init__(self, spec: StoreSpec, make: Callable[[str, bool], Processor],
                 send_old_values: bool = False) -> None:
        self.spec = spec
        self.make = make
        self.send_old_values = send_old_values

    def get(self) -> Processor:
        """The aggregation processor."""
        return self.make(self.spec.name, self.send_old_values)

    def store_specs(self) -> list[StoreSpec]:
        """The aggregate store."""
        return [self.spec]

    def enable_sending_old_values(self, force_materialization: bool) -> bool:
        """Aggregates always have their old value."""
        self.send_old_values = True
        return True

    def view(self) -> KTableValueGetterSupplier:
        """The aggregate store."""
        return store_view(self.spec)


class _StreamAggregation(TableUpdateProcessor):
    """Store and forwarding of a grouped-stream aggregation; null keys and values are
    dropped, and the output timestamp is the max of the stored aggregate's and the record's
    (Kafka Streams' KStreamAggregate / KStreamReduce)."""

    def __init__(self, store_name: str, send_old_values: bool) -> None:
        self.store_name = store_name
        self.send_old_values = send_old_values

    def skip(self) -> None:
        """Log a record dropped for its null key or value."""
        ctx = self.context
        log.warning("Skipping record due to null key or value. topic=[%s] partition=[%s] "
                    "offset=[%s]", ctx.topic, ctx.partition, ctx.offset)


class KStreamAggregate(_StreamAggregation):
    """``aggregator(key, value, agg)`` seeded by ``initializer()``, stored per key."""

    def __init__(
        self,
        store_name: str,
        initializer: Callable[[], Any],
        aggregator: Callable[[Any, Any, Any], Any],
        send_old_values: bool = False,
        reads_value: bool = True,
    ) -> None:
        """``reads_value=False``: the aggregator ignores its value argument (count)."""
        super().__init__(store_name, send_old_values)
        self.initializer = initializer
        self.aggregator = aggregator
        self.reads_value = reads_value

    def init(self, context: ProcessorContext) -> None:
        """With a cached, unversioned store (the cache forwards on flush) every record
        takes :meth:`_process_cached`, one call with the store's methods bound."""
        super().init(context)
        if not self.versioned and self.forwarder.caching:
            self._get, self._put = self.store.get, self.store.put
            self.process = self._process_cached  # type: ignore[method-assign]

    def _process_cached(self, record: Record) -> None:
        """:meth:`process` when the cache forwards: nothing to forward here."""
        key, value = record.key, record.value
        if key is None or value is None:
            self.skip()
            return
        old = self._get(key)
        ts = record.timestamp
        if old is None:
            new_agg = self.aggregator(key, value, self.initializer())
        else:  # ValueAndTimestamp (value, timestamp)
            new_agg = self.aggregator(key, value, old[0])
            if old[1] > ts:
                ts = old[1]
        self._put(key, _value_and_timestamp((new_agg, ts)))

    def process(self, record: Record) -> None:
        """Update the aggregate of the record's key."""
        key, value = record.key, record.value
        if key is None or value is None:
            self.skip()
            return
        old = self.store.get(key)
        if old is None:
            old_agg, ts = self.initializer(), record.timestamp
        else:
            old_agg, ts = old.value, max(record.timestamp, old.timestamp)
        new_agg = self.aggregator(key, value, old_agg)
        if self.versioned:
            self.put_version(key, new_agg, old_agg, ts, record.headers)
            return
        self.store.put(key, ValueAndTimestamp(new_agg, ts))
        self.forwarder.forward_change(key, new_agg, old_agg, ts, record.headers)


class KStreamReduce(_StreamAggregation):
    """``reducer(agg, value)``; the first value of a key is its aggregate."""

    def __init__(
        self,
        store_name: str,
        reducer: Callable[[Any, Any], Any],
        send_old_values: bool = False,
    ) -> None:
        super().__init__(store_name, send_old_values)
        self.reducer = reducer

    def process(self, record: Record) -> None:
        """Fold the record's value into its key's aggregate."""
        key, value = record.key, record.value
        if key is None or value is None:
            self.skip()
            return
        old = self.store.get(key)
        if old is None:
            old_agg, new_agg, ts = None, value, record.timestamp
        else:
            old_agg, ts = old.value, max(record.timestamp, old.timestamp)
            new_agg = self.reducer(old_agg, value)
        if self.versioned:
            self.put_version(key, new_agg, old_agg, ts, record.headers)
            return
        self.store.put(key, ValueAndTimestamp(new_agg, ts))
        self.forwarder.forward_change(key, new_agg, old_agg, ts, record.headers)
