"""Processor suppliers and value getters (Kafka Streams' ProcessorSupplier,
KTableProcessorSupplier, KTableValueGetterSupplier and KTableValueGetter).

A supplier makes a node's processors and names the stores they use. A table operator's
supplier also decides, before the topology is built, whether it sends old values, and gives
a view of its result (``view()``): how a join reads the table's current rows.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from typing import Any

from streams_app.processors.api import Processor, ProcessorContext
from streams_app.state.api import ValueAndTimestamp
from streams_app.state.spec import StoreSpec
from streams_app.state.versioned import VersionedKeyValueStore

__all__ = [
    "ProcessorSupplier",
    "FixedSupplier",
    "KTableProcessorSupplier",
    "ValueGetter",
    "KTableValueGetterSupplier",
    "StoreValueGetter",
    "store_view",
]


class ProcessorSupplier(ABC):
    """Makes a node's processor and names the stores it owns or is connected to."""

    @abstractmethod
    def get(self) -> Processor:
        """A fresh processor."""

    def store_specs(self) -> list[StoreSpec]:
        """Stores this node uses (decided at build time; a spec shared by two nodes only
        connects the second)."""
        return []


class FixedSupplier(ProcessorSupplier):
    """A processor from a factory, with the stores it declares or reads."""

    def __init__(self, factory: Callable[[], Processor],
                 specs: Sequence[StoreSpec] = ()) -> None:
        self.factory = factory
        self.specs = list(specs)

    def get(self) -> Processor:
        """Call the factory."""
        return self.factory()

    def store_specs(self) -> list[StoreSpec]:
        """The stores given."""
        return list(self.specs)


class ValueGetter:
    """Reads a table's current row: ``get(key) -> ValueAndTimestamp | None``."""

    def init(self, context: ProcessorContext) -> None:
        """Look up stores (called from the reading processor's ``init``)."""

    def get(self, key: Any) -> ValueAndTimestamp | None:
        """The row of ``key`` or ``None``."""
        raise NotImplementedError

    @property
    def is_versioned(self) -> bool:
        """True when the table keeps history (``get_as_of`` answers)."""
        return False

    def get_as_of(self, key: Any, as_of: int) -> ValueAndTimestamp | None:
        """The row of ``key`` valid at ``as_of`` (versioned tables only)."""
        raise TypeError("get_as_of is only supported for versioned tables")


class KTableValueGetterSupplier:
    """Makes value getters for one table and names the stores they read."""

    def __init__(self, make: Callable[[], ValueGetter], store_specs: list[StoreSpec]) -> None:
        self.make = make
        self.store_specs = store_specs

    def get(self) -> ValueGetter:
        """A fresh getter."""
        return self.make()


class StoreValueGetter(ValueGetter):
    """A materialized table: the row is in the store."""

    def __init__(self, store_name: str) -> None:
        self.store_name = store_name
        self.store: Any = None

    def init(self, context: ProcessorContext) -> None:
        """Find the store."""
        self.store = context.get_state_store(self.store_name)

    def get(self, key: Any) -> ValueAndTimestamp | None:
        """The stored row (a versioned store's latest version)."""
        return self.store.get(key)  # type: ignore[no-any-return]

    @property
    def is_versioned(self) -> bool:
        """True when the store is versioned."""
        return isinstance(self.store, VersionedKeyValueStore)

    def get_as_of(self, key: Any, as_of: int) -> ValueAndTimestamp | None:
        """The version valid at ``as_of``."""
        return self.store.get(key, as_of)  # type: ignore[no-any-return]


def store_view(spec: StoreSpec) -> KTableValueGetterSupplier:
    """The view of a table materialized in ``spec``'s store."""
    return KTableValueGetterSupplier(lambda: StoreValueGetter(spec.name), [spec])


class KTableProcessorSupplier(ProcessorSupplier):
    """A supplier whose processor produces table updates (``Change(new, old)`` records)."""

    @abstractmethod
    def enable_sending_old_values(self, force_materialization: bool) -> bool:
        """Ask the node to forward old values; False when it cannot without a store and
        ``force_materialization`` is off."""

    @abstractmethod
    def view(self) -> KTableValueGetterSupplier:
        """How a downstream join reads this table's current rows."""

    def window_grace_ms(self) -> int | None:
        """How long after a window's end its result may still change: set by windowed
        aggregations, passed on by operators that keep the windows; ``None`` otherwise."""
        return None
