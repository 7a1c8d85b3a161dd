"""KTableFilter and KTableMapValues: per-row operators on a table, each with its supplier,
processor and value getter (Kafka Streams' KTableFilter.java / KTableMapValues.java).

Both compute the row's new value (and, when old values are sent, its old one) from the
parent's; materialized, they store the result and read old values back from it. An
unmaterialized one is read by joins through the parent's view, computed on the fly.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from streams_app.processors.api import Change, ProcessorContext, Record
from streams_app.processors.forwarding import TableUpdateProcessor
from streams_app.processors.suppliers import (
    KTableProcessorSupplier,
    KTableValueGetterSupplier,
    ValueGetter,
    store_view,
)
from streams_app.state.api import ValueAndTimestamp
from streams_app.state.spec import StoreSpec
from streams_app.state.versioned import PUT_RETURN_CODE_IS_LATEST, PUT_RETURN_CODE_NOT_PUT

__all__ = [
    "KTableFilter",
    "KTableMapValues",
    "KTableValuesSupplier",
    "ComputedValueGetter",
]


class _KTableValues(TableUpdateProcessor):
    """What filter and mapValues share: ``compute(key, value)`` on each row's values."""

    # a filter drops an update whose old and new rows are both filtered out
    skip_when_absent = False
    # below a versioned table the filter keeps those: a tombstone may end a version
    use_versioned_semantics = False

    def __init__(self, store_name: str | None, send_old_values: bool) -> None:
        self.store_name = store_name
        self.send_old_values = send_old_values

    def compute(self, key: Any, value: Any) -> Any:
        """The result row's value for the parent's ``value`` (``None``: no row)."""
        raise NotImplementedError

    def process(self, record: Record) -> None:
        """Compute the new (and old) value and forward the change."""
        key, change = record.key, record.value
        new = self.compute(key, change.new)
        old = None
        if self.send_old_values:
            if self.store is not None:
                stored = self.store.get(key)
                old = None if stored is None else stored.value
            else:
                old = self.compute(key, change.old)
            if (new is None and old is None and self.skip_when_absent
                    and not self.use_versioned_semantics):
                return  # the key was not in the result and still is not
        if self.store is not None:
            code = self.put_row(key, new, record.timestamp)
            if code != PUT_RETURN_CODE_NOT_PUT:
                self.forwarder.maybe_forward(record.with_value(
                    Change(new, old, code == PUT_RETURN_CODE_IS_LATEST)))
        else:
            self.context.forward(record.with_value(Change(new, old, change.is_latest)))


class KTableFilter(_KTableValues):
    """Keep rows matching ``predicate(key, value)`` (inverted when ``negate``).

    A row filtered out becomes a tombstone downstream. With old values available the
    tombstone is only sent when the key was previously in the result (Kafka's KTableFilter).
    """

    skip_when_absent = True

    def __init__(
        self,
        predicate: Callable[[Any, Any], bool],
        negate: bool = False,
        store_name: str | None = None,
        send_old_values: bool = False,
    ) -> None:
        super().__init__(store_name, send_old_values)
        self.predicate = predicate
        self.negate = negate

    def compute(self, key: Any, value: Any) -> Any:
        """``value`` when it passes the predicate, else ``None``."""
        if value is not None and bool(self.predicate(key, value)) is not self.negate:
            return value
        return None


class KTableMapValues(_KTableValues):
    """``mapper(value)`` (or ``mapper(key, value)`` when ``with_key``) on new and old values."""

    def __init__(
        self,
        mapper: Callable[..., Any],
        with_key: bool = False,
        store_name: str | None = None,
        send_old_values: bool = False,
    ) -> None:
        super().__init__(store_name, send_old_values)
        self.mapper = mapper
        self.with_key = with_key

    def compute(self, key: Any, value: Any) -> Any:
        """The mapped value (``None`` stays ``None``)."""
        if value is None:
            return None
        return self.mapper(key, value) if self.with_key else self.mapper(value)


class ComputedValueGetter(ValueGetter):
    """An unmaterialized filter / mapValues: ``compute(key, value)`` over the parent's row."""

    def __init__(self, parent: ValueGetter, compute: Callable[[Any, Any], Any]) -> None:
        self.parent = parent
        self.compute = compute

    def init(self, context: ProcessorContext) -> None:
        """Init the parent getter."""
        self.parent.init(context)

    @property
    def is_versioned(self) -> bool:
        """The parent's: a row operator keeps the history."""
        return self.parent.is_versioned

    def get_as_of(self, key: Any, as_of: int) -> ValueAndTimestamp | None:
        """The parent's row valid at ``as_of``, transformed."""
        return self._computed(key, self.parent.get_as_of(key, as_of))

    def get(self, key: Any) -> ValueAndTimestamp | None:
        """The parent's row, transformed (``None`` when the result is ``None``)."""
        return self._computed(key, self.parent.get(key))

    def _computed(self, key: Any, vt: ValueAndTimestamp | None) -> ValueAndTimestamp | None:
        if vt is None:
            return None
        value = self.compute(key, vt.value)
        return None if value is None else ValueAndTimestamp(value, vt.timestamp)


class KTableValuesSupplier(KTableProcessorSupplier):
    """Supplier of a KTableFilter or KTableMapValues: ``operator(fn, flag, store, old)``.

    Old values come from its own store, or are computed from the parent's old values.
    """

    def __init__(self, operator: type[KTableFilter] | type[KTableMapValues],
                 parent: KTableProcessorSupplier, spec: StoreSpec | None,
                 fn: Callable[..., Any], flag: bool, use_versioned_semantics: bool = False
                 ) -> None:
        self.operator = operator
        self.use_versioned_semantics = use_versioned_semantics
        self.parent = parent
        self.spec = spec
        self.fn = fn
        self.flag = flag
        # an upstream store already has old values: use them (avoids needless tombstones)
        self.send_old_values = parent.enable_sending_old_values(False)

    def get(self) -> _KTableValues:
        """The processor with the decided store and old-value flag."""
        store = None if self.spec is None else self.spec.name
        processor = self.operator(self.fn, self.flag, store, self.send_old_values)
        processor.use_versioned_semantics = self.use_versioned_semantics
        return processor

    def store_specs(self) -> list[StoreSpec]:
        """The store when materialized."""
        return [] if self.spec is None else [self.spec]

    def enable_sending_old_values(self, force_materialization: bool) -> bool:
        """Own store, or the parent's old values."""
        if self.spec is not None:
            self.send_old_values = True
            return True
        if self.parent.enable_sending_old_values(force_materialization):
            self.send_old_values = True
        return self.send_old_values

    def view(self) -> KTableValueGetterSupplier:
        """Own store, or the parent's rows computed through this operator."""
        if self.spec is not None:
            return store_view(self.spec)
        parent = self.parent.view()
        compute = self.operator(self.fn, self.flag).compute
        return KTableValueGetterSupplier(lambda: ComputedValueGetter(parent.get(), compute),
                                         parent.store_specs)

    def window_grace_ms(self) -> int | None:
        """The parent's: a row operator keeps its windows."""
        return self.parent.window_grace_ms()
