"""KTable operators. Their records carry ``Change(new, old)`` values."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from streams_app.processors.api import Change, Processor, ProcessorContext, Record
from streams_app.processors.forwarding import TupleForwarder
from streams_app.state.api import ValueAndTimestamp

__all__ = [
    "KTableSource",
    "KTableFilter",
    "KTableMapValues",
    "KTableToStream",
    "KTableRepartitionMap",
    "StreamsError",
]

log = logging.getLogger(__name__)


class StreamsError(RuntimeError):
    """An error Kafka Streams would raise as a StreamsException."""


class KTableSource(Processor):
    """Turns a changelog stream into table updates; upserts, ``None`` deletes.

    Materialized when ``store_name`` is set (then old values come from the store);
    records with a null key are dropped. Also drives global stores (no children).
    """

    def __init__(self, store_name: str | None, send_old_values: bool = False) -> None:
        self.store_name = store_name
        self.send_old_values = send_old_values
        self.store: Any = None

    def init(self, context: ProcessorContext) -> None:
        """Look up the store when materialized."""
        self.context = context
        if self.store_name is not None:
            self.store = context.get_state_store(self.store_name)
            self.forwarder = TupleForwarder(self.store, context, self.send_old_values)

    def process(self, record: Record) -> None:
        """Apply the upsert or delete and forward the change."""
        key = record.key
        if key is None:
            ctx = self.context
            log.warning(
                "Skipping record due to null key. topic=[%s] partition=[%s] offset=[%s]",
                ctx.topic, ctx.partition, ctx.offset,
            )
            return
        value = record.value
        if self.store is None:
            self.context.forward(record.with_value(Change(value, None)))
            return
        old = self.store.get(key)
        if old is not None and record.timestamp < old.timestamp:
            log.warning(
                "Detected out-of-order KTable update for %s, old timestamp=[%s] new "
                "timestamp=[%s]", self.store_name, old.timestamp, record.timestamp,
            )
        self.store.put(key, None if value is None else ValueAndTimestamp(value, record.timestamp))
        self.forwarder.maybe_forward(
            record.with_value(Change(value, None if old is None else old.value))
        )


class KTableFilter(Processor):
    """Keep rows matching ``predicate(key, value)`` (inverted when ``negate``).

    A row filtered out becomes a tombstone downstream. With old values available the
    tombstone is only sent when the key was previously in the result (Kafka's KTableFilter).
    """

    def __init__(
        self,
        predicate: Callable[[Any, Any], bool],
        negate: bool = False,
        store_name: str | None = None,
        send_old_values: bool = False,
    ) -> None:
        self.predicate = predicate
        self.negate = negate
        self.store_name = store_name
        self.send_old_values = send_old_values
        self.store: Any = None

    def init(self, context: ProcessorContext) -> None:
        """Look up the store when materialized."""
        self.context = context
        if self.store_name is not None:
            self.store = context.get_state_store(self.store_name)
            self.forwarder = TupleForwarder(self.store, context, self.send_old_values)

    def _compute(self, key: Any, value: Any) -> Any:
        if value is not None and bool(self.predicate(key, value)) is not self.negate:
            return value
        return None

    def process(self, record: Record) -> None:
        """Filter the new (and old) value and forward the change."""
        key, change = record.key, record.value
        new = self._compute(key, change.new)
        old = None
        if self.send_old_values:
            if self.store is not None:
                stored = self.store.get(key)
                old = None if stored is None else stored.value
            else:
                old = self._compute(key, change.old)
            if new is None and old is None:
                return  # the key was not in the result and still is not
        if self.store is not None:
            self.store.put(key, None if new is None else ValueAndTimestamp(new, record.timestamp))
            self.forwarder.maybe_forward(record.with_value(Change(new, old)))
        else:
            self.context.forward(record.with_value(Change(new, old)))


class KTableMapValues(Processor):
    """``mapper(value)`` (or ``mapper(key, value)`` when ``with_key``) on new and old values."""

    def __init__(
        self,
        mapper: Callable[..., Any],
        with_key: bool = False,
        store_name: str | None = None,
        send_old_values: bool = False,
    ) -> None:
        self.mapper = mapper
        self.with_key = with_key
        self.store_name = store_name
        self.send_old_values = send_old_values
        self.store: Any = None

    def init(self, context: ProcessorContext) -> None:
        """Look up the store when materialized."""
        self.context = context
        if self.store_name is not None:
            self.store = context.get_state_store(self.store_name)
            self.forwarder = TupleForwarder(self.store, context, self.send_old_values)

    def _compute(self, key: Any, value: Any) -> Any:
        if value is None:
            return None
        return self.mapper(key, value) if self.with_key else self.mapper(value)

    def process(self, record: Record) -> None:
        """Map the change and forward it."""
        key, change = record.key, record.value
        new = self._compute(key, change.new)
        old = None
        if self.send_old_values:
            if self.store is not None:
                stored = self.store.get(key)
                old = None if stored is None else stored.value
            else:
                old = self._compute(key, change.old)
        if self.store is not None:
            self.store.put(key, None if new is None else ValueAndTimestamp(new, record.timestamp))
            self.forwarder.maybe_forward(record.with_value(Change(new, old)))
        else:
            self.context.forward(record.with_value(Change(new, old)))


class KTableToStream(Processor):
    """Table updates as a stream of new values (``None`` = tombstone)."""

    def process(self, record: Record) -> None:
        """Forward the new value."""
        self.context.forward(record.with_value(record.value.new))


class KTableRepartitionMap(Processor):
    """``selector(key, value) -> (group_key, group_value)`` for table re-grouping.

    Sends the old pair's retraction and the new pair's addition; when both land on the
    same group key they travel as one ``Change(new, old)`` (Kafka Streams 3.x). Pairs with
    a null key or value are skipped.
    """

    def __init__(self, selector: Callable[[Any, Any], tuple[Any, Any]]) -> None:
        self.selector = selector

    def process(self, record: Record) -> None:
        """Forward retraction and addition for the re-grouped row."""
        if record.key is None:
            raise StreamsError("Record key for the grouping KTable should not be null.")
        change = record.value
        new_pair = None if change.new is None else self.selector(record.key, change.new)
        old_pair = None if change.old is None else self.selector(record.key, change.old)
        new_ok = new_pair is not None and new_pair[0] is not None and new_pair[1] is not None
        old_ok = old_pair is not None and old_pair[0] is not None and old_pair[1] is not None
        forward = self.context.forward
        if new_ok and old_ok and old_pair[0] == new_pair[0]:  # type: ignore[index]
            forward(Record(new_pair[0], Change(new_pair[1], old_pair[1]),  # type: ignore[index]
                           record.timestamp, record.headers))
            return
        if old_ok:
            forward(Record(old_pair[0], Change(None, old_pair[1]),  # type: ignore[index]
                           record.timestamp, record.headers))
        if new_ok:
            forward(Record(new_pair[0], Change(new_pair[1], None),  # type: ignore[index]
                           record.timestamp, record.headers))
