"""Which stores a worker can query, and their views (Kafka's ``KafkaStreams.store``).

:class:`QueryableStores` resolves a store name and :class:`StoreQueryParameters`-like
options (``stale``, ``partition``) to a read-only view, or raises the
:mod:`~streams_app.query.errors` case that applies. :class:`RuntimeStores` reads a running
Faust worker; :class:`DriverStores` a :class:`~streams_app.runtime.test_driver.
TopologyTestDriver`, so queries are unit-testable.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from streams_app.dsl.topology import SubTopology, Topology
from streams_app.query.errors import (
    InvalidStateStorePartitionError,
    StateStoreMigratedError,
    StateStoreRestoringError,
    UnknownStateStoreError,
)
from streams_app.query.views import KeyValueView, SessionView, VersionedView, WindowView
from streams_app.runtime.config import StreamsConfig
from streams_app.runtime.faust_compat import assigned_partitions
from streams_app.runtime.observe import is_ready
from streams_app.runtime.task import bind_serde
from streams_app.serdes import Serde
from streams_app.state.api import StateStore
from streams_app.state.spec import (
    KEY_VALUE,
    SESSION,
    VERSIONED,
    WINDOW,
    StoreSpec,
    in_memory_store,
)

if TYPE_CHECKING:
    from streams_app.runtime.faust_runtime import FaustRuntime
    from streams_app.runtime.test_driver import TopologyTestDriver

__all__ = ["DriverStores", "QueryableStores", "RuntimeStores", "StoreInfo", "View", "kind_name"]

View = KeyValueView | WindowView | SessionView

_KINDS = {KEY_VALUE: "key_value", WINDOW: "window", SESSION: "session",
          VERSIONED: "versioned"}


def kind_name(spec: StoreSpec) -> str:
    """``key_value``, ``window`` or ``session``."""
    return _KINDS[spec.kind]


@dataclass
class StoreInfo:
    """What ``GET /stores`` lists for one store."""

    name: str
    kind: str
    partitions: list[int]
    standby_partitions: list[int] = field(default_factory=list)
    restoring: bool = False
    window_size_ms: int | None = None
    is_global: bool = False


class QueryableStores(ABC):
    """The stores of ``topology`` readable here."""

    def __init__(self, topology: Topology, config: StreamsConfig) -> None:
        self.topology = topology
        self.config = config
        self._subs: dict[str, SubTopology] = {
            name: sub for sub in topology.subtopologies() for name in sub.stores}

    # -- what a runtime answers ------------------------------------------------------------

    @abstractmethod
    def partition_count(self, spec: StoreSpec) -> int:
        """How many partitions the store has (its sub-topology's tasks)."""

    @abstractmethod
    def active_partitions(self, spec: StoreSpec) -> list[int]:
        """Partitions of the store this worker owns."""

    def standby_partitions(self, spec: StoreSpec) -> list[int]:
        """Partitions of the store kept here as standbys (stale reads only)."""
        return []

    def restoring(self) -> bool:
        """True while stores restore or a rebalance is in progress."""
        return False

    @abstractmethod
    def _read(self, spec: StoreSpec, partition: int) -> StateStore:
        """The outermost store layer of ``partition`` (the cache, when the store caches)."""

    @abstractmethod
    def key_serde(self, spec: StoreSpec) -> Serde:
        """The serde of the store's keys (the application default filled in)."""

    # -- queries ---------------------------------------------------------------------------

    def spec(self, name: str) -> StoreSpec:
        """The store named ``name``, or :class:`UnknownStateStoreError`."""
        spec = self.topology.stores.get(name)
        if spec is None or name not in self._subs:
            raise UnknownStateStoreError(f"no store named {name!r} in the topology")
        return spec

    def subtopology(self, spec: StoreSpec) -> SubTopology:
        """The sub-topology that owns the store."""
        return self._subs[spec.name]

    def store(self, name: str, *, stale: bool = False, partition: int | None = None) -> View:
        """A read-only view of store ``name``: every partition owned here, or only
        ``partition``; ``stale`` also reads standbys and restoring stores (Kafka's
        ``StoreQueryParameters.enableStaleStores``)."""
        spec = self.spec(name)
        if self.restoring() and not stale:
            raise StateStoreRestoringError(
                f"store {name!r} is restoring or a rebalance is in progress; retry")
        parts = self._partitions(spec, stale, partition)
        stores = [(p, self._read(spec, p)) for p in parts]
        if spec.kind == WINDOW:
            return WindowView(name, stores, spec.window_size or 0)  # type: ignore[arg-type]
        if spec.kind == SESSION:
            return SessionView(name, stores)  # type: ignore[arg-type]
        if spec.kind == VERSIONED:
            return VersionedView(name, stores)
        return KeyValueView(name, stores)  # type: ignore[arg-type]

    def _partitions(self, spec: StoreSpec, stale: bool, partition: int | None) -> list[int]:
        if spec.is_global:  # every worker holds all of a global store, as partition 0
            if partition not in (None, 0):
                raise InvalidStateStorePartitionError(
                    f"global store {spec.name!r} has one partition, not {partition}")
            return [0]
        readable = set(self.active_partitions(spec))
        if stale:
            readable |= set(self.standby_partitions(spec))
        if partition is None:
            return sorted(readable)
        count = self.partition_count(spec)
        if not 0 <= partition < count:
            raise InvalidStateStorePartitionError(
                f"store {spec.name!r} has partitions 0..{count - 1}, not {partition}")
        if partition not in readable:
            raise StateStoreMigratedError(
                f"partition {partition} of store {spec.name!r} is not "
                f"{'held' if stale else 'active'} on this worker")
        return [partition]

    def info(self) -> list[StoreInfo]:
        """Every store: kind, partitions active and standby here, restoring or not."""
        restoring = self.restoring()
        out = []
        for name in sorted(self._subs):
            spec = self.topology.stores[name]
            out.append(StoreInfo(
                name, kind_name(spec),
                [0] if spec.is_global else sorted(self.active_partitions(spec)),
                [] if spec.is_global else sorted(self.standby_partitions(spec)),
                restoring, spec.window_size if spec.kind == WINDOW else None, spec.is_global))
        return out


class RuntimeStores(QueryableStores):
    """The stores of a running :class:`~streams_app.runtime.faust_runtime.FaustRuntime`.

    Active partitions are the assignment's (a task is built only at its first record: a
    partition without one is read from the store's database); standbys are the changelog
    partitions Faust keeps up to date here (``STREAMS_STANDBY_REPLICAS``).
    """

    def __init__(self, runtime: FaustRuntime) -> None:
        super().__init__(runtime.topology, runtime.config)
        self.runtime = runtime

    def partition_count(self, spec: StoreSpec) -> int:
        sub = self.subtopology(spec)
        return 1 if sub.is_global else self.runtime.plan.tasks[sub.id]

    def source_topics(self, spec: StoreSpec) -> set[str]:
        """The real names of the topics the store's sub-topology reads."""
        topo, app_id = self.topology, self.runtime.app_id
        return {topo.topic_name(t, app_id) for t in self.subtopology(spec).source_topics}

    def changelog_topic(self, spec: StoreSpec) -> str | None:
        """The store's changelog topic (None for an unlogged store)."""
        return spec.changelog_topic(self.runtime.app_id)

    def active_partitions(self, spec: StoreSpec) -> list[int]:
        actives, _ = assigned_partitions(self.runtime.app)
        topics = self.source_topics(spec)
        return sorted({tp.partition for tp in actives if tp.topic in topics})

    def standby_partitions(self, spec: StoreSpec) -> list[int]:
        changelog = self.changelog_topic(spec)
        if changelog is None or spec.is_global:
            return []
        _, standbys = assigned_partitions(self.runtime.app)
        return sorted({tp.partition for tp in standbys if tp.topic == changelog})

    def restoring(self) -> bool:
        return not is_ready(self.runtime.app)

    def _read(self, spec: StoreSpec, partition: int) -> StateStore:
        runtime = self.runtime
        if spec.is_global:
            return runtime.global_store_stacks()[spec.name].outer
        task = runtime.tasks.get((self.subtopology(spec).id, partition))
        if task is not None and spec.name in task.stores:
            return task.stores[spec.name].outer
        table = runtime.tables.get(spec.name)
        if table is not None:  # no task yet (no record since the assignment), or a standby
            return table.store_for(partition)
        return in_memory_store(spec)  # an unlogged store of a task not started: empty

    def key_serde(self, spec: StoreSpec) -> Serde:
        table = self.runtime.tables.get(spec.name)
        if table is not None:
            return table.key_serde
        return _key_serde(spec, self.config)


class DriverStores(QueryableStores):
    """The stores of a :class:`~streams_app.runtime.test_driver.TopologyTestDriver`: one
    partition (0) of each, always active and never restoring."""

    def __init__(self, driver: TopologyTestDriver) -> None:
        super().__init__(driver.topology, driver.config)
        self.driver = driver

    def partition_count(self, spec: StoreSpec) -> int:
        return 1

    def active_partitions(self, spec: StoreSpec) -> list[int]:
        return [0]

    def _read(self, spec: StoreSpec, partition: int) -> StateStore:
        stack = self.driver.store_stack(spec.name)
        return in_memory_store(spec) if stack is None else stack.outer

    def key_serde(self, spec: StoreSpec) -> Serde:
        return _key_serde(spec, self.config)


def _key_serde(spec: StoreSpec, config: StreamsConfig) -> Any:
    return bind_serde(spec.key_serde, config.default_key_serde, config)
