"""The Faust runtime: a topology compiled to a Faust app, run by a Faust worker.

Faust owns the consumer group, assignment, offset commits, the changelog topics of the stores
and their recovery. The topology's processors run inside :class:`BatchConsumer` batch handlers:
one :class:`StreamTask` per (sub-topology, partition), a whole fetch processed synchronously,
its records produced in bulk from the task's record collector. Every commit is one
:class:`~streams_app.runtime.checkpoint.Checkpoint` (caches flushed, records produced and
acknowledged, then offsets), so the changelog always covers the committed input.

Parts: stores in :mod:`.faust_stores`, the consumer in :mod:`.faust_transport`, exactly-once
in :mod:`.transactions`, error handling in :mod:`streams_app.errors`, the repartition purge
in :mod:`.purge`; Faust internals only through :mod:`.faust_compat`. This module compiles
the topology and wires them.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from aiokafka.structs import ConsumerRecord
from faust.types import TP

from streams_app.app import StreamsApp, create_app
from streams_app.dashboard import dashboard_routes
from streams_app.dsl.partitions import PartitionPlan, check_copartitioned, plan_partitions
from streams_app.dsl.topology import SubTopology, Topology
from streams_app.errors import ErrorHandlers, StreamsFailure, handler_config, record_size_limit
from streams_app.kafka.admin import delete_records, describe_topic
from streams_app.kafka.topics import TopicSpec
from streams_app.query.worker import query_api
from streams_app.runtime.checkpoint import Checkpoint
from streams_app.runtime.committed_reads import CommittedTableManager
from streams_app.runtime.config import StreamsConfig
from streams_app.runtime.faust_compat import producer_settings
from streams_app.runtime.faust_stores import StoreTable, versioned_changelog_configs
from streams_app.runtime.faust_transport import (
    BatchConsumer,
    BatchFailed,
    BatchHooks,
    ConsumerParts,
    Transport,
)
from streams_app.runtime.metrics import MeteredCheckpoint, StreamsMetrics
from streams_app.runtime.observe import install_observability
from streams_app.runtime.producer_factory import WorkerProducer
from streams_app.runtime.producing import BulkProducer
from streams_app.runtime.purge import RepartitionPurger
from streams_app.runtime.task import StreamTask, bind_serde
from streams_app.runtime.time_sync import Done, ProcessRuns, Run, Stamps, TimeSync
from streams_app.runtime.transactions import TransactionalBatchConsumer, WorkerTransaction
from streams_app.runtime.wall_clock import run_wall_clock_punctuation
from streams_app.runtime.web import RouteInstaller
from streams_app.runtime.worker_gc import tune_gc
from streams_app.settings import ConfigError, Settings
from streams_app.state.api import StateStore
from streams_app.state.spec import (
    KEY_VALUE,
    VERSIONED,
    StoreSpec,
    StoreStack,
    build_store_stack,
    in_memory_store,
)
from streams_app.state.thread_cache import ThreadCache

__all__ = ["FaustRuntime", "StoreTable"]

log = logging.getLogger(__name__)

#: aiokafka's default max_request_size: no record larger than this can be produced.
MAX_REQUEST_BYTES = 1024 * 1024

class FaustRuntime:
    """Compiles ``topology`` into a Faust app (``runtime.app``) run by ``faust -A ... worker``.

    ``settings`` gives the broker, application id (= group id), store backend, partitions of
    internal topics (``topic_partitions``), commit interval, cache size and guarantees.
    ``config`` may add StreamsConfig entries (default serdes, timestamp extractor).
    ``topics`` are the user topics to create or verify at start-up.

    A record that fails goes where its error handler says (:mod:`streams_app.errors`; the
    ``*_exception_handler`` arguments win over ``config``, which wins over the settings):
    dead letters go to ``dead_letter_topic`` (default ``<application_id>-dead-letter``) with
    the error and the source record's topic, partition and offset in headers; ``fail``
    commits what came before the failing record and stops the worker.

    Partition counts are planned as Kafka Streams plans them (:mod:`streams_app.dsl.
    partitions`): ``Repartitioned.num_partitions`` is honoured, other internal topics and
    stores follow their sources; source topics not yet known count as
    ``STREAMS_TOPIC_PARTITIONS`` and are checked against the plan at start-up.
    """

    def __init__(self, topology: Topology, settings: Settings | None = None, *,
                 config: Mapping[str, Any] | None = None,
                 topics: Iterable[TopicSpec] = (), dead_letter_topic: str | None = None,
                 deserialization_exception_handler: Any = None,
                 processing_exception_handler: Any = None,
                 production_exception_handler: Any = None) -> None:
        self.settings = settings = settings or Settings.from_env()
        self.topology = topology
        cfg = dict(config or {})
        cfg.update(handler_config(
            settings, cfg, deserialization_exception_handler=deserialization_exception_handler,
            processing_exception_handler=processing_exception_handler,
            production_exception_handler=production_exception_handler))
        cfg.setdefault("application_id", settings.app_id)
        cfg.setdefault("bootstrap_servers", settings.bootstrap_servers)
        if "cache_max_entries" not in cfg:  # an entry count in config keeps entries mode
            cfg.setdefault("cache_max_bytes", settings.cache_max_bytes)
        cfg.setdefault("commit_interval_ms", settings.commit_interval_ms)
        cfg.setdefault("lazy_values", settings.lazy_values)
        self.config = StreamsConfig.from_mapping(cfg)
        # the worker is one stream thread: one record cache over all its tasks' stores
        max_bytes = self.config.cache_max_bytes
        self.thread_cache = ThreadCache(max_bytes) if max_bytes else None
        self.app_id = settings.app_id
        self.dead_letter_topic = dead_letter_topic or f"{self.app_id}-dead-letter"
        self.errors = ErrorHandlers.from_config(self.config, self.dead_letter_topic)
        self.plan: PartitionPlan = plan_partitions(topology, {}, settings.topic_partitions)
        # Largest record each sink topic takes (read from the broker at start-up).
        self.max_record_bytes: dict[str, int] = {}
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
        # Tasks with several input partitions take them in timestamp order (time_sync).
        self.time_sync = TimeSync(settings.max_task_idle_ms, self._fetched_lag,
                                  self._pause_fetching)
        self.purger = self._repartition_purger()
        # Metrics (STREAMS_METRICS_ENABLED): counted per batch, served by runtime.web.
        self.metrics = StreamsMetrics(self.app_id) if settings.metrics_enabled else None
        metered: dict[str, Any] = {} if self.metrics is None else {"metrics": self.metrics}
        self.checkpoint = (MeteredCheckpoint if metered else Checkpoint)(
            lambda: self.tasks.values(), self._started_producer, self.transaction,
            after_commit=[self.purger.after_commit] if self.purger is not None else [],
            **metered)
        after_last_commit = [self.transaction.stop if self.transaction is not None
                             else self.worker_producer.stop]  # type: ignore[union-attr]
        if self.purger is not None:
            after_last_commit.append(self.purger.close)
        # Before any topic is declared (Faust builds its transport on first use).
        self.app.transport = Transport(
            self.app.conf.broker_consumer, self.app,
            consumer_class=BatchConsumer if self.transaction is None
            else TransactionalBatchConsumer,
            parts=ConsumerParts(self.hooks, self.checkpoint, after_last_commit))
        self.tables: dict[str, StoreTable] = {}
        self.tasks: dict[tuple[int, int], StreamTask] = {}
        self._producer: BulkProducer | None = None
        self._globals: dict[str, StoreStack] | None = None
        self._declare()
        # Interactive queries (streams_app.query); the store views read self.tasks/tables.
        self.queries = query_api(self)
        observed = self.metrics or StreamsMetrics(self.app_id)
        #: What the web server serves beside the probes; add installers before the start.
        self.web_routes: list[RouteInstaller] = [self.queries.install,
                                                 *dashboard_routes(self, observed)]
        install_observability(self, observed, routes=self.web_routes)

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

    def _repartition_purger(self) -> RepartitionPurger | None:
        """Deletes consumed records of the internal topics after commits (Kafka Streams'
        repartition.purge.interval.ms); None without internal topics."""
        topics = [self.topology.topic_name(t, self.app_id) for t in self.topology.internal_topics]
        if not topics:
            return None
        s = self.settings
        return RepartitionPurger(
            functools.partial(delete_records, s.bootstrap_servers, settings=s), topics,
            s.repartition_purge_interval_ms)

    def _internal_topics(self) -> list[TopicSpec]:
        s = self.settings
        specs = [TopicSpec.repartition(self.topology.topic_name(t, self.app_id), n,
                                       s.topic_replication_factor)
                 for t, n in sorted(self.plan.internal_partitions().items())]
        specs.append(TopicSpec(self.dead_letter_topic, 1, s.topic_replication_factor))
        return specs

    def _user_topics(self, topics: Iterable[TopicSpec]) -> list[TopicSpec]:
        return [t for t in topics if t.name != self.dead_letter_topic]

    def _declare(self) -> None:
        app, topo = self.app, self.topology
        for sub in self.global_subtopologies:
            for name in sub.stores:
                self._declare_store(topo.stores[name], 1)
        for sub in self.subtopologies:
            for name in sub.stores:
                self._declare_store(topo.stores[name], self.plan.tasks[sub.id])
            reals = [topo.topic_name(topic, self.app_id) for topic in sub.source_topics]
            synced = self.time_sync.handler(sub.id, reals, self._runs_handler(sub),
                                            self._stamps(sub)) if len(reals) > 1 else None
            for real in reals:
                app.topics.add(app.topic(real, key_serializer="raw", value_serializer="raw"))
                handler = synced or self._handler(sub)
                if self.transaction is not None:
                    handler = self.transaction.guard(handler)
                self.hooks.add_handler(real, handler)
        app.task(tune_gc)
        app.task(self._wall_clock_punctuation)
        self.hooks.add_on_revoked(self._revoke)
        if self.time_sync.subtopologies:
            self.hooks.time_sync = self.time_sync
            self.hooks.add_on_revoked(self.time_sync.revoked)
        app.startup_checks.append(self._check_source_topics)

    def _declare_store(self, spec: StoreSpec, partitions: int) -> None:
        """A Faust table for every logged or global store (``partitions``: its sub-topology's
        task count); unlogged stores live in the task."""
        if spec.name in self.tables or not (spec.logging or spec.is_global):
            return
        if spec.kind != KEY_VALUE and self.settings.store != "rocksdb":
            raise ConfigError(f"STREAMS_STORE (store): {spec.kind} store {spec.name!r} needs "
                              "'rocksdb' in the Faust runtime")
        app, cfg = self.app, self.config
        kw: dict[str, Any] = {"partitions": partitions}
        if spec.kind == VERSIONED:
            kw["extra_topic_configs"] = versioned_changelog_configs(spec)
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
        restore = table.restore_records
        if self.metrics is not None:
            restore = self.metrics.restorer(spec.name, restore,
                                            lambda: bool(self.app.in_recovery))
        self.hooks.add_restorer(table.changelog_topic_name(), restore)

    async def _check_source_topics(self) -> None:
        """Source topics exist and match the partition plan; sink topics' size limits."""
        s, topo = self.settings, self.topology
        for sub in self.global_subtopologies:
            for topic in sub.source_topics:  # a missing one raises, naming the topic
                await describe_topic(s.bootstrap_servers, topic, settings=s)
        found: dict[str, int] = {}
        for sub in self.subtopologies:
            want = self.plan.tasks[sub.id]
            for topic in sub.source_topics:
                real = topo.topic_name(topic, self.app_id)
                desc = await describe_topic(s.bootstrap_servers, real, settings=s)
                found[topic] = desc.partitions
                if sub.stores and desc.partitions != want:
                    raise ConfigError(
                        f"source topic {real!r} has {desc.partitions} partitions but the stores of "
                        f"sub-topology {sub.id} have {want} (STREAMS_TOPIC_PARTITIONS "
                        "(topic_partitions), or Repartitioned.num_partitions upstream); they "
                        "must be co-partitioned")
        check_copartitioned(topo, found)
        await self._read_size_limits()

    async def _read_size_limits(self) -> None:
        """The largest record each existing sink topic takes (``max.message.bytes``): a larger
        one goes through the production handler instead of failing a whole produce batch."""
        s = self.settings
        sinks = {self.topology.topic_name(t, self.app_id)
                 for sub in self.subtopologies for t in sub.sink_topics}
        for topic in sorted(sinks):
            try:
                desc = await describe_topic(s.bootstrap_servers, topic, settings=s)
            except Exception:  # noqa: BLE001 - not created yet: the producer's limit holds
                continue
            limit = desc.configs.get("max.message.bytes")
            self.max_record_bytes[topic] = record_size_limit(
                MAX_REQUEST_BYTES, int(limit) if limit else None)

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

    def store(self, name: str, *, stale: bool = False, partition: int | None = None) -> Any:
        """A read-only view of store ``name`` on this worker (Kafka's ``KafkaStreams.store``;
        see :class:`streams_app.query.QueryableStores`)."""
        return self.queries.stores.store(name, stale=stale, partition=partition)

    def query_metadata_for_key(self, store: str, key: Any) -> Any:
        """Which worker and partition hold ``key`` of ``store`` (Kafka's
        ``queryMetadataForKey``): a :class:`streams_app.query.KeyQueryMetadata`."""
        return self.queries.router.query_metadata_for_key(store, key)

    def global_store_stacks(self) -> dict[str, StoreStack]:
        """The global stores (readable on every worker), by name."""
        return self._global_stores()

    def _task(self, sub: SubTopology, partition: int) -> StreamTask:
        task = self.tasks.get((sub.id, partition))
        if task is None:
            task = StreamTask(self.topology, sub, self.config, partition,
                              store_factory=lambda spec: self._store(spec, partition),
                              global_stores=self._global_stores(), errors=self.errors,
                              max_record_bytes=self.max_record_bytes,
                              thread_cache=self.thread_cache,
                              count_cache_reads=self.metrics is not None
                              and self.settings.metrics_recording_level == "debug")
            self.tasks[(sub.id, partition)] = task
            if self.metrics is not None:
                self.metrics.attach(task)
        return task

    @property
    def producer(self) -> BulkProducer:
        if self._producer is None:
            txn = self.transaction
            source = txn if txn is not None else self.worker_producer
            assert source is not None and source.producer is not None, "producer not started"
            self._producer = BulkProducer(source.producer)
        return self._producer

    def _started_producer(self) -> BulkProducer | None:
        """The producer, or None when stopping before start-up started one."""
        source = self.transaction if self.transaction is not None else self.worker_producer
        return None if source is None or source.producer is None else self.producer

    def _handler(self, sub: SubTopology):
        meters = self.metrics.meters if self.metrics is not None else None

        async def handle(tp: TP, records: list[ConsumerRecord]) -> None:
            task = self._task(sub, tp.partition)
            try:
                task.process_records(tp.topic, records)  # dead letters join the output
            except StreamsFailure as failure:
                if meters is not None and failure.processed:
                    meters[task.task_id].batch(
                        tp.topic, tp.partition, len(records), failure.processed,
                        records[failure.processed - 1].offset + 1)
                # An error handler said fail: what came before the failing record is
                # produced and committed (by the consumer), then the worker stops.
                await task.record_collector.send(self.producer)
                log.error("stopping the worker: %s (topic %s, partition %s, offset %s%s)",
                          failure, failure.topic, failure.partition, failure.offset,
                          f", output topic {failure.context.output_topic}"
                          if failure.context.output_topic else "")
                raise BatchFailed(failure.processed, failure) from failure
            await task.record_collector.send(self.producer)
            if meters is not None:  # per batch, never per record
                meters[task.task_id].batch(tp.topic, tp.partition, len(records), len(records),
                                           records[-1].offset + 1)

        return handle

    def _runs_handler(self, sub: SubTopology) -> ProcessRuns:
        """Process a time-synchronized task's runs (see runtime.time_sync), one send after."""
        meters = self.metrics.meters if self.metrics is not None else None

        async def handle_runs(partition: int, runs: list[Run]) -> dict[TP, Done]:
            task = self._task(sub, partition)
            done: dict[TP, Done] = {}
            for tp, run in runs:
                try:
                    task.process_records(tp.topic, run)
                except StreamsFailure as failure:
                    if failure.processed:
                        _note(done, tp, run[:failure.processed])
                    await task.record_collector.send(self.producer)
                    log.error("stopping the worker: %s (topic %s, partition %s, offset %s)",
                              failure, failure.topic, failure.partition, failure.offset)
                    raise BatchFailed(failure.processed, failure, done) from failure
                _note(done, tp, run)
            await task.record_collector.send(self.producer)
            if meters is not None:
                for tp, d in done.items():
                    meters[task.task_id].batch(tp.topic, tp.partition, d.count, d.count,
                                               d.last + 1)
            return done

        return handle_runs

    def _stamps(self, sub: SubTopology) -> Stamps:
        """Event times of a batch as its task's timestamp extractor sets them (if any)."""
        return lambda tp, records: self._task(sub, tp.partition).source_timestamps(tp.topic,
                                                                                    records)

    def _fetched_lag(self, tp: TP) -> int | None:
        consumer = self.app.consumer
        return consumer.fetched_lag(tp) if isinstance(consumer, BatchConsumer) else 0

    def _pause_fetching(self, tp: TP, paused: bool) -> None:
        consumer = self.app.consumer
        if isinstance(consumer, BatchConsumer):
            consumer.pause_fetching(tp, paused)

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


def _note(done: dict[TP, Done], tp: TP, records: list[ConsumerRecord]) -> None:
    """Add processed ``records`` (consecutive, of ``tp``) to ``done``."""
    before = done.get(tp)
    first = records[0].offset if before is None else before.first
    count = len(records) + (0 if before is None else before.count)
    done[tp] = Done(first, records[-1].offset, count)
