"""Re-grouped table aggregations with adder and subtractor: KTableAggregate, KTableReduce."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from streams_app.processors.api import Processor, ProcessorContext, Record
from streams_app.processors.forwarding import TupleForwarder
from streams_app.processors.table import StreamsError
from streams_app.state.api import ValueAndTimestamp

__all__ = ["KTableAggregate", "KTableReduce"]


class KTableAggregate(Processor):
    """Subtract the old value, then add the new one (Kafka Streams' KTableAggregate)."""

    def __init__(
        self,
        store_name: str,
        initializer: Callable[[], Any],
        adder: Callable[[Any, Any, Any], Any],
        subtractor: Callable[[Any, Any, Any], Any],
        send_old_values: bool = True,
    ) -> None:
        self.store_name = store_name
        self.initializer = initializer
        self.adder = adder
        self.subtractor = subtractor
        self.send_old_values = send_old_values

    def init(self, context: ProcessorContext) -> None:
        """Look up the store and set up forwarding."""
        self.context = context
        self.store = context.get_state_store(self.store_name)
        self.forwarder = TupleForwarder(self.store, context, self.send_old_values)

    def process(self, record: Record) -> None:
        """Apply the retraction and the addition carried by the change."""
        key, change = record.key, record.value
        if key is None:
            raise StreamsError(
                f"Record key for KTable aggregate operator with state {self.store_name} "
                "should not be null."
            )
        old = self.store.get(key)
        old_agg = None if old is None else old.value
        ts = record.timestamp
        if change.old is not None and old_agg is not None:
            agg = self.subtractor(key, change.old, old_agg)
            ts = max(record.timestamp, old.timestamp)  # type: ignore[union-attr]
        else:
            agg = old_agg
        if change.new is not None:
            agg = self.adder(key, change.new, self.initializer() if agg is None else agg)
            if old is not None:
                ts = max(record.timestamp, old.timestamp)
        self.store.put(key, None if agg is None else ValueAndTimestamp(agg, ts))
        self.forwarder.forward_change(key, agg, old_agg, ts, record.headers)


class KTableReduce(Processor):
    """``adder(agg, value)`` / ``subtractor(agg, value)`` per group key."""

    def __init__(
        self,
        store_name: str,
        adder: Callable[[Any, Any], Any],
        subtractor: Callable[[Any, Any], Any],
        send_old_values: bool = True,
    ) -> None:
        self.store_name = store_name
        self.adder = adder
        self.subtractor = subtractor
        self.send_old_values = send_old_values

    def init(self, context: ProcessorContext) -> None:
        """Look up the store and set up forwarding."""
        self.context = context
        self.store = context.get_state_store(self.store_name)
        self.forwarder = TupleForwarder(self.store, context, self.send_old_values)

    def process(self, record: Record) -> None:
        """Apply the retraction and the addition carried by the change."""
        key, change = record.key, record.value
        if key is None:
            raise StreamsError(
                f"Record key for KTable reduce operator with state {self.store_name} "
                "should not be null."
            )
        old = self.store.get(key)
        old_agg = None if old is None else old.value
        if change.old is not None and old_agg is not None:
            agg = self.subtractor(old_agg, change.old)
            ts = max(record.timestamp, old.timestamp)  # type: ignore[union-attr]
        else:
            agg = old_agg
            ts = record.timestamp
        if change.new is not None:
            if agg is None:
                agg = change.new
            else:
                agg = self.adder(agg, change.new)
                ts = max(record.timestamp, old.timestamp)  # type: ignore[union-attr]
        self.store.put(key, None if agg is None else ValueAndTimestamp(agg, ts))
        self.forwarder.forward_change(key, agg, old_agg, ts, record.headers)
