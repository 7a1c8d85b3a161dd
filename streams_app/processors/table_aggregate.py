"""Re-grouped table aggregations with adder and subtractor: KTableAggregate, KTableReduce.

Each update subtracts the row's old value from its group, then adds the new one (Kafka
Streams' KTableAggregate / KTableReduce); their supplier is
:class:`~streams_app.processors.aggregate.AggregateSupplier`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from streams_app.processors.api import Record
from streams_app.processors.forwarding import TableUpdateProcessor
from streams_app.processors.table import StreamsError
from streams_app.state.api import ValueAndTimestamp

__all__ = ["KTableAggregate", "KTableReduce"]


class _TableAggregation(TableUpdateProcessor):
    """Store and forwarding of a table aggregation; a null key is an error."""

    operator = ""

    def __init__(self, store_name: str, send_old_values: bool) -> None:
        self.store_name = store_name
        self.send_old_values = send_old_values

    def null_key(self) -> StreamsError:
        """The error for a record without a key."""
        return StreamsError(f"Record key for KTable {self.operator} operator with state "
                            f"{self.store_name} should not be null.")


class KTableAggregate(_TableAggregation):
    """``adder(key, new, agg)`` and ``subtractor(key, old, agg)`` from ``initializer()``."""

    operator = "aggregate"

    def __init__(
        self,
        store_name: str,
        initializer: Callable[[], Any],
        adder: Callable[[Any, Any, Any], Any],
        subtractor: Callable[[Any, Any, Any], Any],
        send_old_values: bool = True,
    ) -> None:
        super().__init__(store_name, send_old_values)
        self.initializer = initializer
        self.adder = adder
        self.subtractor = subtractor

    def process(self, record: Record) -> None:
        """Apply the retraction and the addition carried by the change."""
        key, change = record.key, record.value
        if key is None:
            raise self.null_key()
        old = self.store.get(key)
        old_agg = None if old is None else old.value
        ts = record.timestamp
        if change.old is not None and old_agg is not None:
            agg = self.subtractor(key, change.old, old_agg)
            ts = max(ts, old.timestamp)  # type: ignore[union-attr]
        else:
            agg = old_agg
        if change.new is not None:
            agg = self.adder(key, change.new, self.initializer() if agg is None else agg)
            if old is not None:
                ts = max(record.timestamp, old.timestamp)
        if self.versioned:
            self.put_version(key, agg, old_agg, ts, record.headers)
            return
        self.store.put(key, None if agg is None else ValueAndTimestamp(agg, ts))
        self.forwarder.forward_change(key, agg, old_agg, ts, record.headers)


class KTableReduce(_TableAggregation):
    """``adder(agg, value)`` / ``subtractor(agg, value)`` per group key; the first value
    of a group is its aggregate."""

    operator = "reduce"

    def __init__(
        self,
        store_name: str,
        adder: Callable[[Any, Any], Any],
        subtractor: Callable[[Any, Any], Any],
        send_old_values: bool = True,
    ) -> None:
        super().__init__(store_name, send_old_values)
        self.adder = adder
        self.subtractor = subtractor

    def process(self, record: Record) -> None:
        """Apply the retraction and the addition carried by the change."""
        key, change = record.key, record.value
        if key is None:
            raise self.null_key()
        old = self.store.get(key)
        old_agg = None if old is None else old.value
        ts = record.timestamp
        agg = old_agg
        if change.old is not None and old_agg is not None:
            agg = self.subtractor(old_agg, change.old)
            ts = max(ts, old.timestamp)  # type: ignore[union-attr]
        if change.new is not None:
            if agg is None:
                agg = change.new
            else:
                agg = self.adder(agg, change.new)
                ts = max(record.timestamp, old.timestamp)  # type: ignore[union-attr]
        if self.versioned:
            self.put_version(key, agg, old_agg, ts, record.headers)
            return
        self.store.put(key, None if agg is None else ValueAndTimestamp(agg, ts))
        self.forwarder.forward_change(key, agg, old_agg, ts, record.headers)
