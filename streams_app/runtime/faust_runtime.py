"""The Faust runtime: a topology compiled to a Faust app, run by a Faust worker.

Faust owns the consumer group, assignment, offset commits, the changelog topics of the stores
and their recovery. The topology's processors run inside :class:`BatchConsumer` batch handlers:
one :class:`StreamTask` per (sub-topology, partition), a whole fetch processed synchronously,
its records produced in bulk from the task's record collector. Every commit is one
:class:`~streams_app.runtime.checkpoint.Checkpoint` (caches flushed, records produced and
acknowledged, then offsets), so the changelog always covers the committed input.

Parts: stores in :mod:`.faust_stores`, the consumer in :mod:`.faust_transport`, exactly-once
in :mod:`.transactions`, dead letters in :mod:`.dead_letters`; Faust internals only through
:mod:`.faust_compat`. This module compiles the topology and wires them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from aiokafka.structs import ConsumerRecord
from faust.types import TP

from streams_app.app import StreamsApp, create_app
from streams_app.dsl.topology import SubTopology, Topology
from streams_app.kafka.admin import describe_topic
from streams_app.kafka.topics import TopicSpec
from streams_app.runtime.checkpoint import Checkpoint
from streams_app.runtime.committed_reads import CommittedTableManager
from streams_app.runtime.config import StreamsConfig
from streams_app.runtime.dead_letters import dead_letter_records
from streams_app.runtime.faust_compat import producer_settings
from streams_app.runtime.faust_stores import StoreTable
from streams_app.runtime.faust_transport import BatchConsumer, BatchHooks, ConsumerParts, Transport
from streams_app.runtime.producer_factory import WorkerProducer
from streams_app.runtime.producing import BulkProducer
from streams_app.runtime.task import StreamTask, bind_serde
from streams_app.runtime.transactions import TransactionalBatchConsumer, WorkerTransaction
from streams_app.runtime.wall_clock import run_wall_clock_punctuation
from streams_app.runtime.worker_gc import tune_gc
from streams_app.settings import ConfigError, Settings
from streams_app.state.api import StateStore
from streams_app.state.spec import (
    KEY_VALUE,
    StoreSpec,
    StoreStack,
    build_store_stack,
    in_memory_store,
)

__all__ = ["FaustRuntime", "StoreTable", "cache_entries"]

# Settings give the cache in bytes (Kafka's statestore.cache.max.bytes); the caches count
# entries. One entry is taken as 1 KiB, a typical small JSON record with its key.
CACHE_ENTRY_BYTES = 1024


def cache_entries(cache_max_bytes: int) -> int:
    """Per-store cache entries for a byte budget; 0 keeps caching off."""
    return 0 if cache_max_bytes <= 0 else max(1, cache_max_bytes // CACHE_ENTRY_BYTES)


class FaustRuntime:
    """Compiles ``topology`` into a Faust app (``runtime.app``) run by ``faust -A ... worker``.

    ``settings`` gives the broker, application id (= group id), store backend, partitions of
    internal topics (``topic_partitions``), commit interval, cache size and guarantees.
    ``config`` may add StreamsConfig entries (default serdes, timestamp extractor).
    ``topics`` are the user topics to create or verify at start-up. A record whose
    processing raises goes to ``dead_letter_topic`` (default ``<application_id>-dead-letter``)
    with the error, its source and its timestamp in headers (the dead letter carries the
    time it failed); the job goes on.
    """

    def __init__(self, topology: Topology, settings: Settings | None = None, *,
                 config: Mapping[str, Any] | None = None,
                 topics: Iterable[TopicSpec] = (), dead_letter_topic: str | None = None) -> None:
        self.settings = settings = settings or Settings.from_env()
        self.topology = topology
        cfg = dict(config or {})
        cfg.setdefault("application_id", settings.app_id)
        cfg.setdefault("bootstrap_servers", settings.bootstrap_servers)
        cfg.setdefault("cache_max_entries", cache_entries(settings.cache_max_bytes))
        cfg.setdefault("commit_interval_ms", settings.commit_interval_ms)
        self.config = StreamsConfig.from_mapping(cfg)
        self.app_id = settings.app_id
        self.dead_letter_topic = dead_letter_topic or f"{self.app_id}-dead-letter"
        subtopologies = topology.subtopologies()
        self.subtopologies = [s for s in subtopologies if not s.is_global]
        self.global_subtopologies = [s for s in subtopologies if s.is_global]
        self.app: StreamsApp = create_app(settings, topics=[*self._user_topics(topics),
                                                         *self._internal_topics()])
        self.app.conf.broker_consumer = [f"streams://{s}" for s in settings.bootstrap_list]
        self.transaction = self._exactly_once() if settings.exactly_once else None
        self.worker_producer: WorkerProducer | None = None
        if self.transaction is None:
            self.worker_producer = WorkerProducer(settings, lambda: producer_settings(self.app))
            self.app.startup_checks.append(self.worker_producer.start)
        self.hooks = BatchHooks()
        self.checkpoint = Checkpoint(lambda: self.tasks.values(), lambda: self.producer,
                                     self.transaction)
        # Before any topic is declared (Faust builds its transport on first use).
        self.app.transport = Transport(
            self.app.conf.broker_consumer, self.app,
            consumer_class=BatchConsumer if self.transaction is None
            else TransactionalBatchConsumer,
            parts=ConsumerParts(self.hooks, self.checkpoint, [
                self.transaction.stop if self.transaction is not None
                else self.worker_producer.stop]))  # type: ignore[union-attr]
        self.tables: dict[str, StoreTable] = {}
        self.tasks: dict[tuple[int, int], StreamTask] = {}
        self._producer: BulkProducer | None = None
        self._globals: dict[str, StoreStack] | None = None
        self._declare()

    # -- compile -------------------------------------------------------------------------

    def _exactly_once(self) -> WorkerTransaction:
        """Transactions driven here, one producer per worker (see runtime.transactions)."""
        app = self.app
        txn = WorkerTransaction(self.settings, app.conf.id, lambda: producer_settings(app),
                                Path(app.conf.tabledir))
        app.conf.processing_guarantee = "at_least_once"  # Faust's own transactions stay off
        app.conf.TableManager = CommittedTableManager
        app.startup_checks.append(txn.start)
        return txn

    def _internal_topics(self) -> list[TopicSpec]:
        s = self.settings
        names = [self.topology.topic_name(t, self.app_id) for t in self.topology.internal_topics]
        specs = [TopicSpec.repartition(n, s.topic_partitions, s.topic_replication_factor)
                 for n in sorted(names)]
        specs.append(TopicSpec(self.dead_letter_topic, 1, s.topic_replication_factor))
        return specs

    def _user_topics(self, topics: Iterable[TopicSpec]) -> list[TopicSpec]:
        return [t for t in topics if t.name != self.dead_letter_topic]

    def _declare(self) -> None:
        app, topo = self.app, self.topology
        for sub in self.global_subtopologies:
            for name in sub.stores:
                self._declare_store(topo.stores[name])
        for sub in self.subtopologies:
            for name in sub.stores:
                self._declare_store(topo.stores[name])
            for topic in sub.source_topics:
                real = topo.topic_name(topic, self.app_id)
                app.topics.add(app.topic(real, key_serializer="raw", value_serializer="raw"))
                handler = self._handler(sub)
                if self.transaction is not None:
                    handler = self.transaction.guard(handler)
                self.hooks.add_handler(real, handler)
        app.task(tune_gc)
        app.task(self._wall_clock_punctuation)
        self.hooks.add_on_revoked(self._revoke)
        app.startup_checks.append(self._check_source_topics)

    def _declare_store(self, spec: StoreSpec) -> None:
        """A Faust table for every logged or global store; unlogged stores live in the task."""
        if spec.name in self.tables or not (spec.logging or spec.is_global):
            return
        if spec.kind != KEY_VALUE and self.settings.store != "rocksdb":
            raise ConfigError(f"STREAMS_STORE (store): {spec.kind} store {spec.name!r} needs "
                              "'rocksdb' in the Faust runtime")
        app, cfg = self.app, self.config
        kw: dict[str, Any] = {"partitions": self.settings.topic_partitions}
        if spec.is_global:
            # A GlobalKTable's changelog is its source topic, read whole by every worker.
            # Every partition is also a standby, so the worker keeps following the topic
            # after the restore (Faust otherwise pauses it for good once recovered).
            kw = {"is_global": True, "synchronize_all_active_partitions": True,
                  "changelog_topic": app.topic(
                      spec.source_topic, key_type=bytes, value_type=bytes, acks=False)}
        table = StoreTable(app, name=spec.name, beacon=app.tables.beacon,
                           key_type=bytes, value_type=bytes,  # raw changelog codecs
                           help=f"state store {spec.name}", **kw)
        if spec.is_global:
            table.source_topic = spec.source_topic
        ks = bind_serde(spec.key_serde, cfg.default_key_serde, cfg)
        vs = bind_serde(spec.value_serde, cfg.default_value_serde, cfg)
        self.tables[spec.name] = app.tables.add(table.bind(spec, ks, vs))
        self.hooks.add_restorer(table.changelog_topic_name(), table.restore_records)

    async def _check_source_topics(self) -> None:
        want = self.settings.topic_partitions
        for sub in self.global_subtopologies:
            for topic in sub.source_topics:  # a missing one raises, naming the topic
                await describe_topic(self.settings.bootstrap_servers, topic)
        for sub in self.subtopologies:
            for topic in sub.source_topics:
                real = self.topology.topic_name(topic, self.app_id)
                desc = await describe_topic(self.settings.bootstrap_servers, real)
                if sub.stores and desc.partitions != want:
                    raise ConfigError(
                        f"source topic {real!r} has {desc.partitions} partitions but the stores of "
                        f"sub-topology {sub.id} have {want} (STREAMS_TOPIC_PARTITIONS "
                        "(topic_partitions)); they must be co-partitioned")

    # -- run -----------------------------------------------------------------------------

    def _store(self, spec: StoreSpec, partition: int) -> StateStore:
        table = self.tables.get(spec.name)
        return in_memory_store(spec) if table is None else table.store_for(partition)

    def _global_stores(self) -> dict[str, StoreStack]:
        if self._globals is None:
            self._globals = {
                name: build_store_stack(self.topology.stores[name], 0,
                                        lambda spec: self._store(spec, 0))
                for sub in self.global_subtopologies for name in sub.stores}
        return self._globals

    def _task(self, sub: SubTopology, partition: int) -> StreamTask:
        task = self.tasks.get((sub.id, partition))
        if task is None:
            task = StreamTask(self.topology, sub, self.config, partition,
                              store_factory=lambda spec: self._store(spec, partition),
                              global_stores=self._global_stores())
            self.tasks[(sub.id, partition)] = task
        return task

    @property
    def producer(self) -> BulkProducer:
        if self._producer is None:
            txn = self.transaction
            source = txn if txn is not None else self.worker_producer
            assert source is not None and source.producer is not None, "producer not started"
            self._producer = BulkProducer(source.producer)
        return self._producer

    def _handler(self, sub: SubTopology):
        async def handle(tp: TP, records: list[ConsumerRecord]) -> None:
            task = self._task(sub, tp.partition)
            dead = task.process_records(tp.topic, records)  # a bad record must not stop the job
            producer = self.producer
            if dead:
                await producer.send(dead_letter_records(self.dead_letter_topic, dead),
                                    partition=0)
            await task.record_collector.send(producer)

        return handle

    async def _wall_clock_punctuation(self) -> None:
        await run_wall_clock_punctuation(lambda: self.tasks.values(), self._punctuate,
                                         lambda: bool(self.app.should_stop))

    async def _punctuate(self, due: list[StreamTask]) -> None:
        """Fire ``due`` wall-clock punctuators; under exactly-once inside the transaction."""
        txn = self.transaction
        if txn is None:
            await self._fire(due)
            return
        if txn.producer is None:
            return  # not started (or stopped): nothing may be sent
        async with txn.lock:
            await txn.begin()
            await self._fire(due)

    async def _fire(self, due: list[StreamTask]) -> None:
        producer = self.producer
        for task in due:
            if self.tasks.get((task.subtopology.id, task.record_collector.partition)) is not task:
                continue  # revoked meanwhile
            task.punctuate_wall_clock()
            await task.record_collector.send(producer)

    def _revoke(self, revoked: set[TP]) -> None:
        # Uncommitted cache contents of revoked partitions are dropped, not flushed: the new
        # owner reprocesses from the last commit with the state that commit covered. (The
        # consumer commits before revoking, so normally nothing is left uncommitted.)
        parts = {(tp.topic, tp.partition) for tp in revoked}
        for (sub_id, partition), task in list(self.tasks.items()):
            if any((t, partition) in parts for t in task.source_topics):
                task.close()
                task.record_collector.discard()
                del self.tasks[(sub_id, partition)]

    def main(self) -> None:
        """Run the worker from the command line (``python job.py worker``)."""
        self.app.main()
