"""Join operators on tables: stream-table, stream-GlobalKTable and table-table.

Kafka Streams' KStreamKTableJoinProcessor, KTableKTable{Inner,Left,Right,Outer}Join and
KTableKTableJoinMerger, with their suppliers and value getters. Table sides read the other
side through its view: a lookup in a store connected to the join node. Windowed
stream-stream joins are in :mod:`streams_app.processors.stream_join`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from streams_app.processors.api import Change, Processor, ProcessorContext, Record
from streams_app.processors.forwarding import TableUpdateProcessor
from streams_app.processors.join_buffer import StreamJoinBuffer
from streams_app.processors.suppliers import (
    KTableProcessorSupplier,
    KTableValueGetterSupplier,
    StoreValueGetter,
    ValueGetter,
    store_view,
)
from streams_app.serdes import resolve_serde
from streams_app.state.api import ValueAndTimestamp
from streams_app.state.spec import StoreSpec
from streams_app.state.versioned import PUT_RETURN_CODE_IS_LATEST, PUT_RETURN_CODE_NOT_PUT

__all__ = [
    "StoreValueGetter",
    "JoinValueGetter",
    "KStreamKTableJoin",
    "KTableKTableJoin",
    "KTableKTableJoinMerger",
    "KTableKTableJoinSupplier",
    "KTableKTableJoinMergerSupplier",
    "INNER",
    "LEFT",
    "RIGHT",
    "OUTER",
]

log = logging.getLogger(__name__)

INNER, LEFT, RIGHT, OUTER = "inner", "left", "right", "outer"
UNKNOWN = -1  # Kafka's "no timestamp"


# -- value getters ------------------------------------------------------------------------------


class JoinValueGetter(ValueGetter):
    """A table-table join result computed from both sides' rows (Kafka's join value getters)."""

    def __init__(self, kind: str, left: ValueGetter, right: ValueGetter,
                 joiner: Callable[[Any, Any], Any]) -> None:
        self.kind = kind
        self.left = left
        self.right = right
        self.joiner = joiner

    def init(self, context: ProcessorContext) -> None:
        """Init both sides."""
        self.left.init(context)
        self.right.init(context)

    def get(self, key: Any) -> ValueAndTimestamp | None:
        """The joined row, or ``None`` when the join has no row for ``key``."""
        kind = self.kind
        lvt = self.left.get(key) if kind != RIGHT else None
        if kind in (INNER, LEFT):
            if lvt is None or lvt.value is None:
                return None
            rvt = self.right.get(key)
            if kind == INNER and (rvt is None or rvt.value is None):
                return None
            ts = lvt.timestamp if rvt is None else max(lvt.timestamp, rvt.timestamp)
            return ValueAndTimestamp(self.joiner(lvt.value, _value(rvt)), ts)
        rvt = self.right.get(key)
        if kind == RIGHT:
            if rvt is None or rvt.value is None:
                return None
            lvt = self.left.get(key)
            ts = rvt.timestamp if lvt is None else max(lvt.timestamp, rvt.timestamp)
            return ValueAndTimestamp(self.joiner(_value(lvt), rvt.value), ts)
        lv, rv = _value(lvt), _value(rvt)
        joined = self.joiner(lv, rv) if lv is not None or rv is not None else None
        ts = max(UNKNOWN if lvt is None else lvt.timestamp,
                 UNKNOWN if rvt is None else rvt.timestamp)
        return None if joined is None else ValueAndTimestamp(joined, ts)


def _value(vt: ValueAndTimestamp | None) -> Any:
    return None if vt is None else vt.value


# -- stream-table and stream-global table ----------------------------------------------------


class KStreamKTableJoin(Processor):
    """Stream records look up the table's current row (table updates never emit).

    ``key_mapper(key, value)`` picks the table key (the stream key for KTables, any key for
    GlobalKTables). Records with a null value or null table key are dropped, except that a
    left join still emits a null-keyed record with a null partner. With a grace period
    (``buffer_store`` set; a versioned table only) stream records wait in a
    :class:`~streams_app.processors.join_buffer.StreamJoinBuffer` before they join.
    """

    def __init__(self, getter: ValueGetter, joiner: Callable[[Any, Any, Any], Any], left: bool,
                 key_mapper: Callable[[Any, Any], Any] | None = None, grace_ms: int = 0,
                 buffer_store: str | None = None, key_serde: Any = None) -> None:
        self.getter = getter
        self.joiner = joiner
        self.left = left
        self.key_mapper = key_mapper or (lambda k, _v: k)
        self.grace_ms = grace_ms
        self.buffer_store = buffer_store
        self.key_serde = key_serde
        self.buffer: StreamJoinBuffer | None = None

    def init(self, context: ProcessorContext) -> None:
        """Init the table getter (and the buffer)."""
        self.context = context
        self.getter.init(context)
        self.versioned = self.getter.is_versioned
        if self.buffer_store is not None:
            if not self.versioned:
                raise ValueError("KTable must be versioned to use a grace period in a stream "
                                 "table join.")
            key_serde = (resolve_serde(self.key_serde, "key_serde") if self.key_serde is not None
                         else context.config.default_key_serde)  # type: ignore[attr-defined]
            self.buffer = StreamJoinBuffer(context.get_state_store(self.buffer_store),
                                           self.grace_ms, key_serde)
        elif not self.versioned:  # every record joins at once (a hot path: no buffer)
            getter = self.getter
            # a store's rows are read from the store directly, without the getter's call
            self._get = (getter.store.get if isinstance(getter, StoreValueGetter)
                         else getter.get)
            self._forward = context.forward
            self.process = self._process_now  # type: ignore[method-assign]

    def _process_now(self, record: Record) -> None:
        """:meth:`process` and :meth:`_join` in one call, for a table that is neither
        versioned nor joined with a grace period."""
        key, value = record.key, record.value
        table_key = self.key_mapper(key, value)
        if table_key is None or value is None:
            if not (self.left and key is None and value is not None):
                log.warning("Skipping record due to null join key or value. topic=[%s] "
                            "offset=[%s]", self.context.topic, self.context.offset)
                return
            # a left join's null-keyed record (no table key): joined with no partner
            self._forward(Record(key, self.joiner(key, value, None), record.timestamp,
                                 record.headers))
            return
        other = self._get(table_key)
        if other is not None:
            other = other.value
        if other is not None or self.left:
            self._forward(Record(key, self.joiner(key, value, other), record.timestamp,
                                 record.headers))

    def process(self, record: Record) -> None:
        """Join and forward (or drop)."""
        key, value = record.key, record.value
        table_key = self.key_mapper(key, value)
        if not (self.left and key is None and value is not None) and (
                table_key is None or value is None):
            log.warning("Skipping record due to null join key or value. topic=[%s] offset=[%s]",
                        self.context.topic, self.context.offset)
            return
        buffer = self.buffer
        # (a null key cannot be buffered: Kafka Streams fails there; it joins at once here)
        if buffer is None or key is None or not buffer.put(record):
            self._join(record, table_key)
            return
        for ready in buffer.evict():
            self._join(ready, self.key_mapper(ready.key, ready.value))

    def _join(self, record: Record, table_key: Any) -> None:
        key, value = record.key, record.value
        other = None
        if table_key is not None:
            # a versioned table is looked up as of the stream record's time (KIP-914)
            getter = self.getter
            other = _value(getter.get_as_of(table_key, record.timestamp) if self.versioned
                           else getter.get(table_key))
        if self.left or other is not None:
            self.context.forward(record.with_value(self.joiner(key, value, other)))


# -- table-table -----------------------------------------------------------------------------


class KTableKTableJoin(Processor):
    """One side of a table-table join; ``kind`` is from this side's point of view.

    ``inner`` / ``left`` / ``right`` / ``outer`` as Kafka's KTableKTable{Inner,Left,Right,Outer}
    Join: ``joiner(this, other)`` (the right side gets a reversed joiner), result timestamp
    the larger of the two rows', old results only when ``send_old_values``.
    """

    def __init__(self, kind: str, getter: ValueGetter, joiner: Callable[[Any, Any], Any],
                 send_old_values: bool = False, use_versioned_semantics: bool = False) -> None:
        self.kind = kind
        self.getter = getter
        self.joiner = joiner
        self.send_old_values = send_old_values
        # this side is a versioned table: its out-of-order updates do not join (KIP-914)
        self.use_versioned_semantics = use_versioned_semantics

    def init(self, context: ProcessorContext) -> None:
        """Init the other side's getter."""
        self.context = context
        self.getter.init(context)

    def process(self, record: Record) -> None:
        """Compute the new (and old) join result for this key."""
        key, change = record.key, record.value
        if key is None:
            log.warning("Skipping record due to null key. topic=[%s] offset=[%s]",
                        self.context.topic, self.context.offset)
            return
        if self.use_versioned_semantics and not change.is_latest:
            log.info("Skipping out-of-order record from versioned table while performing "
                     "table-table join.")
            return
        ovt = self.getter.get(key)
        other = _value(ovt)
        new = old = None
        joiner, kind, send_old = self.joiner, self.kind, self.send_old_values
        if kind == INNER:
            if other is None:
                return
            ts = max(record.timestamp, ovt.timestamp)  # type: ignore[union-attr]
            if change.new is not None:
                new = joiner(change.new, other)
            if send_old and change.old is not None:
                old = joiner(change.old, other)
        elif kind == RIGHT:
            if other is None:
                return
            ts = max(record.timestamp, ovt.timestamp)  # type: ignore[union-attr]
            new = joiner(change.new, other)
            if send_old:
                old = joiner(change.old, other)
        else:  # left / outer
            if other is None and change.new is None and change.old is None:
                return
            ts = record.timestamp if ovt is None else max(record.timestamp, ovt.timestamp)
            if kind == LEFT:
                if change.new is not None:
                    new = joiner(change.new, other)
                if send_old and change.old is not None:
                    old = joiner(change.old, other)
            else:
                if other is not None or change.new is not None:
                    new = joiner(change.new, other)
                if send_old and (other is not None or change.old is not None):
                    old = joiner(change.old, other)
        self.context.forward(Record(key, Change(new, old, change.is_latest), ts, record.headers))


class KTableKTableJoinMerger(TableUpdateProcessor):
    """Merges both join sides into one table; materializes it when ``store_name`` is set."""

    def __init__(self, store_name: str | None, send_old_values: bool) -> None:
        self.store_name = store_name
        self.send_old_values = send_old_values

    def process(self, record: Record) -> None:
        """Store (when materialized) and forward the change."""
        change = record.value
        if self.store_name is not None:
            code = self.put_row(record.key, change.new, record.timestamp)
            if code != PUT_RETURN_CODE_NOT_PUT:
                self.forwarder.maybe_forward(record.with_value(
                    Change(change.new, change.old, code == PUT_RETURN_CODE_IS_LATEST)))
        elif self.send_old_values:
            self.context.forward(record)
        else:
            self.context.forward(record.with_value(Change(change.new, None, change.is_latest)))


class KTableKTableJoinSupplier(KTableProcessorSupplier):
    """One side of a table-table join, reading the other side through its view."""

    def __init__(self, kind: str, this: KTableProcessorSupplier,
                 other: KTableProcessorSupplier, other_view: KTableValueGetterSupplier,
                 joiner: Callable[[Any, Any], Any]) -> None:
        self.kind = kind
        self.this = this
        self.other = other
        self.other_view = other_view
        self.joiner = joiner
        self.send_old_values = False
        self.use_versioned_semantics = False  # set when this side's table is versioned

    def get(self) -> KTableKTableJoin:
        """The join processor reading the other side."""
        return KTableKTableJoin(self.kind, self.other_view.get(), self.joiner,
                                self.send_old_values, self.use_versioned_semantics)

    def store_specs(self) -> list[StoreSpec]:
        """The other side's stores."""
        return list(self.other_view.store_specs)

    def enable_sending_old_values(self, force_materialization: bool) -> bool:
        """Old join results need both sides' old values."""
        self.this.enable_sending_old_values(True)
        self.other.enable_sending_old_values(True)
        self.send_old_values = True
        return True

    def view(self) -> KTableValueGetterSupplier:
        """A side is read through the merger, never on its own."""
        raise TypeError("a table-table join side has no view: read the join's merger")


class KTableKTableJoinMergerSupplier(KTableProcessorSupplier):
    """The join result, materialized when a store is given; otherwise its view computes
    the join from both sides' views (Kafka's KTableKTableJoinMerger)."""

    def __init__(self, kind: str,
                 sides: tuple[KTableKTableJoinSupplier, KTableKTableJoinSupplier],
                 spec: StoreSpec | None, joiner: Callable[[Any, Any], Any]) -> None:
        self.kind = kind
        self.sides = sides
        self.spec = spec
        self.joiner = joiner
        self.send_old_values = False

    def get(self) -> KTableKTableJoinMerger:
        """The merge processor."""
        return KTableKTableJoinMerger(None if self.spec is None else self.spec.name,
                                      self.send_old_values)

    def store_specs(self) -> list[StoreSpec]:
        """The result store, when materialized."""
        return [] if self.spec is None else [self.spec]

    def enable_sending_old_values(self, force_materialization: bool) -> bool:
        """Always possible: the sides compute old results."""
        for side in self.sides:
            side.enable_sending_old_values(True)
        self.send_old_values = True
        return True

    def view(self) -> KTableValueGetterSupplier:
        """The result store, or the join computed from both sides."""
        if self.spec is not None:
            return store_view(self.spec)
        this_side, other_side = self.sides
        left, right = other_side.other_view, this_side.other_view
        kind, joiner = self.kind, self.joiner
        return KTableValueGetterSupplier(
            lambda: JoinValueGetter(kind, left.get(), right.get(), joiner),
            [*left.store_specs, *right.store_specs])
