"""Key -> worker routing (Kafka's ``queryMetadataForKey`` and ``application.server``).

Each worker advertises ``STREAMS_APPLICATION_SERVER`` as Faust's ``canonical_url``, which
Faust's assignor shares in every member's client metadata; after a rebalance every worker
knows which worker holds each active partition of every changelog and source topic. A key's
partition is the default partitioner's (murmur2 of the key as the store's key serde writes
it, over the store's partition count), as Kafka's ``DefaultStreamPartitioner``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aiokafka.partitioner import DefaultPartitioner
from yarl import URL

from streams_app.query.stores import QueryableStores, RuntimeStores
from streams_app.runtime.faust_compat import host_partitions
from streams_app.state.spec import StoreSpec

if TYPE_CHECKING:
    from streams_app.runtime.faust_runtime import FaustRuntime

__all__ = ["KeyQueryMetadata", "Router", "host_of", "partition_for_key", "runtime_router"]

#: partition -> "host:port" of the worker owning it, for one store
Owners = Callable[[StoreSpec], Mapping[int, str]]


@dataclass(frozen=True)
class KeyQueryMetadata:
    """Where a key lives: its partition and the worker (``host:port``) owning it, None
    while no assignment names one (before the first rebalance completes)."""

    active_host: str | None
    partition: int


def partition_for_key(key_bytes: bytes, partitions: int) -> int:
    """The default partitioner's partition (Kafka's ``Utils.toPositive(murmur2(key)) % n``):
    aiokafka's, the one the runtime's producer partitions keyed records with."""
    every = range(partitions)
    return DefaultPartitioner()(key_bytes, every, every)


def host_of(url: str) -> str:
    """``host:port`` of a worker URL (``http://host:port`` as Faust shares it)."""
    parsed = URL(url)
    if parsed.host is None:
        return url
    return f"{parsed.host}:{parsed.port}"


class Router:
    """Answers which worker holds a key or a partition of a store."""

    def __init__(self, stores: QueryableStores, self_host: str, owners: Owners) -> None:
        self.stores = stores
        self.self_host = self_host
        self._owners = owners

    def owners(self, name: str) -> dict[int, str]:
        """Partition -> owning worker for store ``name`` (global stores: this worker)."""
        spec = self.stores.spec(name)
        if spec.is_global:
            return {0: self.self_host}
        return dict(self._owners(spec))

    def hosts(self, name: str) -> dict[str, list[int]]:
        """Worker -> the partitions of store ``name`` it owns."""
        out: dict[str, list[int]] = {}
        for partition, host in sorted(self.owners(name).items()):
            out.setdefault(host, []).append(partition)
        return out

    def query_metadata_for_key(self, name: str, key: Any) -> KeyQueryMetadata:
        """Which partition of store ``name`` holds ``key``, and which worker owns it."""
        spec = self.stores.spec(name)
        if spec.is_global:
            return KeyQueryMetadata(self.self_host, 0)
        raw = self.stores.key_serde(spec).serialize(key)
        partition = partition_for_key(raw or b"", self.stores.partition_count(spec))
        return KeyQueryMetadata(self.owners(name).get(partition), partition)


def runtime_router(runtime: FaustRuntime, stores: RuntimeStores) -> Router:
    """The router of a Faust worker: owners from the assignor's host map (the store's
    changelog topic, else its sub-topology's source topics)."""

    def owners(spec: StoreSpec) -> dict[int, str]:
        topics = [t for t in (stores.changelog_topic(spec),) if t] + \
            sorted(stores.source_topics(spec))
        found: dict[int, str] = {}
        for url, by_topic in host_partitions(runtime.app).items():
            for topic in topics:
                for partition in by_topic.get(topic, ()):
                    found.setdefault(partition, host_of(url))
        return found

    # as the host map spells it (yarl lower-cases host names)
    return Router(stores, host_of(f"http://{runtime.settings.advertised_server}"), owners)
