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
from streams_app.state.spec import VERSIONED, StoreSpec

__all__ = ["Stores", "StoreBuilder", "KeyValueBytesStoreSupplier", "VersionedBytesStoreSupplier"]


@dataclass(frozen=True)
class KeyValueBytesStoreSupplier:
    """A key-value store's name and kind (persistent or in-memory)."""

    name: str
    persistent: bool = True


@dataclass(frozen=True)
class VersionedBytesStoreSupplier:
    """A versioned key-value store (KIP-889): name, history retention (which is also its
    grace period: older puts are refused) and segment interval (recorded only: the RocksDB
    store keeps one entry per key)."""

    name: str
    history_retention_ms: int
    segment_interval_ms: int
    persistent: bool = True


def default_segment_interval(history_retention_ms: int) -> int:
    """Kafka Streams' default segment interval for a history retention."""
    for limit, divisor, floor in ((60_000, 3, 2_000), (300_000, 5, 20_000),
                                  (3_600_000, 12, 60_000)):
        if history_retention_ms <= limit:
            return max(history_retention_ms // divisor, floor)
    return max(history_retention_ms // 24, 300_000)


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
        if isinstance(self.supplier, VersionedBytesStoreSupplier):
            return StoreSpec(self.name, kind=VERSIONED, key_serde=self.key_serde,
                             value_serde=self.value_serde, logging=self.logging, caching=False,
                             history_retention_ms=self.supplier.history_retention_ms)
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
    def persistent_versioned_key_value_store(name: str, history_retention_ms: int,
                                             segment_interval_ms: int | None = None
                                             ) -> VersionedBytesStoreSupplier:
        """A persistent versioned key-value store keeping ``history_retention_ms`` of history
        (Kafka's ``Stores.persistentVersionedKeyValueStore``)."""
        retention = _check_ms("history_retention_ms", history_retention_ms, 0)
        interval = (default_segment_interval(retention) if segment_interval_ms is None
                    else _check_ms("segment_interval_ms", segment_interval_ms, 1))
        return VersionedBytesStoreSupplier(_check_name(name), retention, interval, True)

    @staticmethod
    def in_memory_versioned_key_value_store(name: str, history_retention_ms: int
                                            ) -> VersionedBytesStoreSupplier:
        """A versioned store kept in memory (for tests; Kafka Streams has only the
        persistent one). The Faust runtime keeps every logged store in its backend."""
        retention = _check_ms("history_retention_ms", history_retention_ms, 0)
        return VersionedBytesStoreSupplier(_check_name(name), retention,
                                           default_segment_interval(retention), False)

    @staticmethod
    def versioned_key_value_store_builder(supplier: VersionedBytesStoreSupplier,
                                          key_serde: Serde | None = None,
                                          value_serde: Serde | None = None) -> StoreBuilder:
        """A builder of a versioned store (for ``process()``; never cached)."""
        if not isinstance(supplier, VersionedBytesStoreSupplier):
            raise TypeError("Stores.versioned_key_value_store_builder: expected a versioned "
                            f"store supplier, got {supplier!r}")
        return StoreBuilder(supplier, key_serde, value_serde, False)  # type: ignore[arg-type]

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


def _check_ms(what: str, value: object, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"Stores: {what} must be an integer >= {minimum} (ms), got {value!r}")
    return value


def _check_supplier(supplier: object) -> KeyValueBytesStoreSupplier:
    if not isinstance(supplier, KeyValueBytesStoreSupplier):
        raise TypeError("Stores: expected a store supplier (Stores.persistent_key_value_store or "
                        f"Stores.in_memory_key_value_store), got {supplier!r}")
    return supplier
