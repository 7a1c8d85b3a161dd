"""KTable source, to-stream and re-grouping operators. Table records carry
``Change(new, old)`` values (filter and mapValues: :mod:`streams_app.processors.table_values`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from streams_app.processors.api import Change, Processor, Record
from streams_app.processors.forwarding import TableUpdateProcessor
from streams_app.processors.suppliers import (
    KTableProcessorSupplier,
    KTableValueGetterSupplier,
    store_view,
)
from streams_app.state.api import ValueAndTimestamp
from streams_app.state.spec import StoreSpec
from streams_app.state.versioned import PUT_RETURN_CODE_IS_LATEST, PUT_RETURN_CODE_NOT_PUT

__all__ = [
    "KTableSource",
    "KTableSourceSupplier",
    "KTableToStream",
    "KTableRepartitionMap",
    "StreamsError",
]

log = logging.getLogger(__name__)


class StreamsError(RuntimeError):
    """An error Kafka Streams would raise as a StreamsException."""


class KTableSourceSupplier(KTableProcessorSupplier):
    """KTableSource: materialized when queryable, when downstream needs old values, or
    when a join reads it."""

    def __init__(self, spec: StoreSpec, queryable: bool) -> None:
        self.spec = spec
        self.queryable = queryable
        self.send_old_values = False

    def get(self) -> KTableSource:
        """A KTableSource, with the store only when materialized."""
        return KTableSource(self.spec.name if self.queryable else None, self.send_old_values)

    def store_specs(self) -> list[StoreSpec]:
        """The store when materialized."""
        return [self.spec] if self.queryable else []

    def enable_sending_old_values(self, force_materialization: bool) -> bool:
        """Old values need the store: materialize if forced or already materialized."""
        if not force_materialization and not self.queryable:
            return False
        self.queryable = True
        self.send_old_values = True
        return True

    def view(self) -> KTableValueGetterSupplier:
        """The store; Kafka materializes a source table that is looked up."""
        self.queryable = True
        return store_view(self.spec)


class KTableSource(TableUpdateProcessor):
    """Turns a changelog stream into table updates; upserts, ``None`` deletes.

    Materialized when ``store_name`` is set (then old values come from the store);
    records with a null key are dropped. Also drives global stores (no children).
    """

    def __init__(self, store_name: str | None, send_old_values: bool = False) -> None:
        self.store_name = store_name
        self.send_old_values = send_old_values

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
        latest = True
        if self.versioned:
            code = self.store.put(key, value, record.timestamp)
            if code == PUT_RETURN_CODE_NOT_PUT:
                return  # older than the history retention: neither stored nor forwarded
            latest = code == PUT_RETURN_CODE_IS_LATEST
        else:
            self.store.put(key, None if value is None
                           else ValueAndTimestamp(value, record.timestamp))
        self.forwarder.maybe_forward(
            record.with_value(Change(value, None if old is None else old.value, latest)))


class KTableToStream(Processor):
    """Table updates as a stream of new values (``None`` = tombstone)."""

    def process(self, record: Record) -> None:
        """Forward the new value."""
        self.context.forward(record.with_value(record.value.new))


class KTableRepartitionMap(Processor):
    """``selector(key, value) -> (group_key, group_value)`` for table re-grouping.

    Sends the old pair's retraction and the new pair's addition; when both land on the
    same group key they travel as one ``Change(new, old)`` (Kafka Streams 3.x). Pairs with
    a null key or value are skipped. Re-grouping a versioned table skips its out-of-order
    updates: the aggregate holds the latest rows only.
    """

    def __init__(self, selector: Callable[[Any, Any], tuple[Any, Any]],
                 use_versioned_semantics: bool = False) -> None:
        self.selector = selector
        self.use_versioned_semantics = use_versioned_semantics

    def process(self, record: Record) -> None:
        """Forward retraction and addition for the re-grouped row."""
        if record.key is None:
            raise StreamsError("Record key for the grouping KTable should not be null.")
        change = record.value
        if self.use_versioned_semantics and not change.is_latest:
            return
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
