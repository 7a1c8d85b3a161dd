"""Small option types for DSL calls (Kafka Streams' Consumed, Produced, Grouped, ...)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from streams_app.serdes import Serde
from streams_app.state.spec import VERSIONED, StoreSpec

__all__ = ["Consumed", "Produced", "Grouped", "Materialized", "Repartitioned", "Branched",
           "is_versioned", "key_value_spec", "reject_versioned"]


@dataclass
class Consumed:
    """How a source topic is read: serdes, timestamp extractor, source node name."""

    key_serde: Serde | None = None
    value_serde: Serde | None = None
    timestamp_extractor: Callable[[Any, int], int] | None = None
    name: str | None = None


@dataclass
class Produced:
    """How a sink writes: serdes and sink node name."""

    key_serde: Serde | None = None
    value_serde: Serde | None = None
    name: str | None = None


@dataclass
class Grouped:
    """Serdes for a grouping and the name of its repartition topic (``<name>-repartition``)."""

    name: str | None = None
    key_serde: Serde | None = None
    value_serde: Serde | None = None


@dataclass
class Materialized:
    """A store for a table or aggregation: name (queryable when given), serdes, layers."""

    store_name: str | None = None
    key_serde: Serde | None = None
    value_serde: Serde | None = None
    logging: bool = True
    caching: bool = True
    #: Window/session stores: how long (event time) windows are kept; None = size + grace.
    retention_ms: int | None = None
    #: The store supplier given to ``as_`` (a versioned one makes a versioned table).
    store_supplier: Any = None

    def with_retention(self, retention_ms: int) -> Materialized:
        """Keep windows this long, like ``withRetention``; must cover window size + grace."""
        if retention_ms < 0:
            raise ValueError(f"Materialized.with_retention: retention_ms must be >= 0, got "
                             f"{retention_ms}")
        self.retention_ms = retention_ms
        return self

    def window_retention(self, minimum_ms: int, what: str) -> int:
        """The store's retention: the configured one (checked against ``minimum_ms``) or it."""
        if self.retention_ms is None:
            return minimum_ms
        if self.retention_ms < minimum_ms:
            raise ValueError(
                f"The retention period of the window store {self.store_name or ''} must be no "
                f"smaller than its {what} ({minimum_ms} ms); got {self.retention_ms} ms")
        return self.retention_ms

    @classmethod
    def as_(cls, store: Any) -> Materialized:
        """A named (queryable) store, like ``Materialized.as("name")``, or one from a store
        supplier (``Stores.persistent_versioned_key_value_store(...)`` and the others)."""
        if isinstance(store, str):
            return cls(store_name=store)
        name = getattr(store, "name", None)
        if not isinstance(name, str) or not name:
            raise TypeError(f"Materialized.as_: expected a store name or a store supplier, got "
                            f"{store!r}")
        return cls(store_name=name, store_supplier=store)

    @classmethod
    def with_(cls, key_serde: Serde | None, value_serde: Serde | None) -> Materialized:
        """Serdes only; the store name is generated."""
        return cls(key_serde=key_serde, value_serde=value_serde)

    @staticmethod
    def of(value: Materialized | str | None) -> Materialized:
        """Accept a ``Materialized``, a store name, or ``None``."""
        if value is None:
            return Materialized()
        if isinstance(value, str):
            return Materialized(store_name=value)
        if isinstance(value, Materialized):
            return value
        raise TypeError(f"materialized: expected Materialized or str, got {value!r}")


@dataclass
class Repartitioned:
    """An explicit repartition: topic name prefix, serdes, partition count (``None``: the
    maximum of the writing sub-topology's source topics, as Kafka Streams plans it)."""

    name: str | None = None
    key_serde: Serde | None = None
    value_serde: Serde | None = None
    num_partitions: int | None = None

    def __post_init__(self) -> None:
        n = self.num_partitions
        if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n < 1):
            raise ValueError(f"Repartitioned.num_partitions must be an integer >= 1, got {n!r}")


@dataclass
class Branched:
    """A ``split()`` branch: its name suffix and an optional chain function."""

    name: str | None = None
    chain: Callable[[Any], Any] | None = None


def is_versioned(mat: Materialized) -> bool:
    """True when ``mat`` was made from a versioned store supplier."""
    return getattr(mat.store_supplier, "history_retention_ms", None) is not None


def key_value_spec(mat: Materialized, store: str, key_serde: Serde | None,
                   value_serde: Serde | None) -> StoreSpec:
    """The spec of ``mat``'s key-value (or, from a versioned supplier, versioned) store."""
    if is_versioned(mat):  # Kafka Streams never caches a versioned store
        return StoreSpec(store, kind=VERSIONED, key_serde=key_serde, value_serde=value_serde,
                         logging=mat.logging, caching=False,
                         history_retention_ms=mat.store_supplier.history_retention_ms)
    return StoreSpec(store, key_serde=key_serde, value_serde=value_serde, logging=mat.logging,
                     caching=mat.caching)


def reject_versioned(mat: Materialized, what: str) -> None:
    """Fail for operations that take no versioned store here."""
    if is_versioned(mat):
        raise NotImplementedError(
            f"{what}: a versioned store supplier ({mat.store_supplier.name!r}) is not "
            "supported here; use it for a table, to_table, filter, map_values, a table-table "
            "join or an aggregation")
