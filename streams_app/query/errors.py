"""Why a store cannot be queried here, as Kafka's ``InvalidStateStoreException`` family."""

from __future__ import annotations

__all__ = [
    "InvalidStateStoreError",
    "InvalidStateStorePartitionError",
    "StateStoreMigratedError",
    "StateStoreRestoringError",
    "UnknownStateStoreError",
]


class InvalidStateStoreError(Exception):
    """The store cannot be read here now (Kafka's InvalidStateStoreException)."""


class UnknownStateStoreError(InvalidStateStoreError):
    """No materialized store of that name in the topology (UnknownStateStoreException)."""


class StateStoreRestoringError(InvalidStateStoreError):
    """The store is restoring or a rebalance is in progress: retry later (Kafka says
    "may have migrated" for both; stale reads are allowed with ``stale=True``)."""


class StateStoreMigratedError(InvalidStateStoreError):
    """The partition is not owned here (StateStoreMigratedException): ask its owner."""


class InvalidStateStorePartitionError(InvalidStateStoreError):
    """The store has no such partition (InvalidStateStorePartitionException)."""
