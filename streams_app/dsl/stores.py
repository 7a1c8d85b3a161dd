"""Stores and StoreBuilder: state stores a user processor connects to by name.

Kafka Streams' ``Stores.persistentKeyValueStore(name)`` / ``inMemoryKeyValueStore(name)``
give a store supplier; ``Stores.keyValueStoreBuilder(supplier, keySerde, valueSerde)`` (or
the timestamped variant) a :class:`StoreBuilder`, added with
``StreamsBuilder.add_state_store`` and named in ``KStream.process(supplier, "name")``.
As in Kafka, change-logging is on and caching off until ``with_caching_enabled()``.

Where the store lives is the runtime's choice: the Faust runtime keeps every logged store in
its configured backend (``STREAMS_STORE``), the test driver in memory; ``persistent`` is
recorded for descriptions only.
"""

from __future__ import annotations

from dataclasses import dataclass

from streams_app.serdes import Serde
from streams_app.state.spec import StoreSpec

__all__ = ["Stores", "StoreBuilder", "KeyValueBytesStoreSupplier"]


@dataclass(frozen=True)
class KeyValueBytesStoreSupplier:
    """A key-value store's name and kind (persistent or in-memory)."""

    name: str
    persistent: bool = True


class StoreBuilder:
    """Builds the spec of one key-value store; ``with_*`` calls return the builder."""

    def __init__(self, supplier: KeyValueBytesStoreSupplier, key_serde: Serde | None,
                 value_serde: Serde | None, timestamped: bool) -> None:
        self.supplier = supplier
        self.key_serde = key_serde
        self.value_serde = value_serde
        self.timestamped = timestamped
        self.logging = True
        self.caching = False

    @property
    def name(self) -> str:
        """The store's name."""
        return self.supplier.name

    def with_logging_enabled(self, config: dict[str, str] | None = None) -> StoreBuilder:
        """Back the store with a changelog topic (the default); topic configs are not
        passed on yet."""
        self.logging = True
        return self

    def with_logging_disabled(self) -> StoreBuilder:
        """No changelog: the store starts empty after a restart or a move."""
        self.logging = False
        return self

    def with_caching_enabled(self) -> StoreBuilder:
        """Put a record cache in front of the store (deduplicates changelog writes)."""
        self.caching = True
        return self

    def with_caching_disabled(self) -> StoreBuilder:
        """No record cache (the default)."""
        self.caching = False
        return self

    def build(self) -> StoreSpec:
        """A new spec of the store as configured."""
        return StoreSpec(self.name, key_serde=self.key_serde, value_serde=self.value_serde,
                         timestamped=self.timestamped, logging=self.logging,
                         caching=self.caching)


class Stores:
    """Factories of store suppliers and builders (Kafka Streams' ``Stores``)."""

    @staticmethod
    def persistent_key_value_store(name: str) -> KeyValueBytesStoreSupplier:
        """A persistent key-value store named ``name``."""
        return KeyValueBytesStoreSupplier(_check_name(name), True)

    @staticmethod
    def persistent_timestamped_key_value_store(name: str) -> KeyValueBytesStoreSupplier:
        """A persistent key-value store for timestamped values (use it with
        :meth:`timestamped_key_value_store_builder`)."""
        return KeyValueBytesStoreSupplier(_check_name(name), True)

    @staticmethod
    def in_memory_key_value_store(name: str) -> KeyValueBytesStoreSupplier:
        """An in-memory key-value store named ``name``."""
        return KeyValueBytesStoreSupplier(_check_name(name), False)

    @staticmethod
    def key_value_store_builder(supplier: KeyValueBytesStoreSupplier,
                                key_serde: Serde | None = None,
                                value_serde: Serde | None = None) -> StoreBuilder:
        """A builder of a plain key-value store (``None`` serdes: the application defaults)."""
        return StoreBuilder(_check_supplier(supplier), key_serde, value_serde, False)

    @staticmethod
    def timestamped_key_value_store_builder(supplier: KeyValueBytesStoreSupplier,
                                            key_serde: Serde | None = None,
                                            value_serde: Serde | None = None) -> StoreBuilder:
        """A builder of a store of ``ValueAndTimestamp`` values."""
        return StoreBuilder(_check_supplier(supplier), key_serde, value_serde, True)


def _check_name(name: object) -> str:
    if not isinstance(name, str) or not name:
        raise ValueError(f"Stores: a store name must be a non-empty string, got {name!r}")
    return name


def _check_supplier(supplier: object) -> KeyValueBytesStoreSupplier:
    if not isinstance(supplier, KeyValueBytesStoreSupplier):
        raise TypeError("Stores: expected a store supplier (Stores.persistent_key_value_store or "
                        f"Stores.in_memory_key_value_store), got {supplier!r}")
    return supplier
