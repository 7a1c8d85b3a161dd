"""The Faust runtime: a topology compiled to a Faust app, run by a Faust worker.

Faust owns the consumer group, assignment, offset commits, the changelog topics of the stores
and their recovery. The topology's processors run inside :class:`BatchConsumer` batch handlers:
one :class:`StreamTask` per (sub-topology, partition), a whole fetch processed synchronously,
output produced in bulk. Record caches are flushed on commit, just before Faust flushes the
producer and commits the offsets, so the changelog always covers the committed input.

Each store is a :class:`StoreTable`, a Faust table that only serves as the store's home: Faust
creates its ``<application_id>-<store>-changelog`` topic, opens one RocksDB (rocksdict) per
assigned partition and restores it from the changelog; the task reads and writes that RocksDB
through :class:`RocksDictKeyValueStore`.
"""

from __future__ import annotations

import gc
import logging
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import faust
import rocksdict
from aiokafka.structs import ConsumerRecord
from faust.types import TP

from streams_app.app import StreamsApp, create_app
from streams_app.dsl.topology import SubTopology, Topology
from streams_app.kafka.admin import describe_topic
from streams_app.kafka.topics import TopicSpec
from streams_app.runtime.committed_reads import CommittedTableManager
from streams_app.runtime.config import StreamsConfig
from streams_app.runtime.faust_transport import BatchHooks
from streams_app.runtime.producing import BulkProducer
from streams_app.runtime.task import StreamTask, bind_serde
from streams_app.runtime.transactions import TransactionalBatchConsumer, WorkerTransaction
from streams_app.settings import ConfigError, Settings
from streams_app.state.api import KeyValueStore, StateStore, ValueAndTimestamp
from streams_app.state.memory import InMemoryKeyValueStore
from streams_app.state.rocksdb import RocksDictKeyValueStore, stored_value
from streams_app.state.rocksdb_windowed import RocksDictSessionStore, RocksDictWindowStore
from streams_app.state.spec import (
    _FOREVER as FOREVER,
)
from streams_app.state.spec import (
    KEY_VALUE,
    SESSION,
    WINDOW,
    StoreSpec,
    StoreStack,
    build_store_stack,
    in_memory_store,
)

__all__ = ["FaustRuntime", "StoreTable", "cache_entries"]

log = logging.getLogger(__name__)

# Settings give the cache in bytes (Kafka's statestore.cache.max.bytes); the caches count
# entries. One entry is taken as 1 KiB, a typical small JSON record with its key.
CACHE_ENTRY_BYTES = 1024



# Decoded rows a global store keeps from reads; at the limit it starts over (bounded memory).
GLOBAL_READ_CACHE_ENTRIES = 100_000
_UNREAD = object()
# Allocations between gen-0 collections in a worker (Python's default: 700).
GC_GEN0_THRESHOLD = 10_000


def cache_entries(cache_max_bytes: int) -> int:
    """Per-store cache entries for a byte budget; 0 keeps caching off."""
    return 0 if cache_max_bytes <= 0 else max(1, cache_max_bytes // CACHE_ENTRY_BYTES)


class StoreTable(faust.Table):
    """The Faust table behind one state store (never used through Faust's Table API).

    Restoring writes the changelog into the partition's database in the store's own layout
    (timestamped values get their timestamp back from the changelog record). A global store's
    changelog is its source topic; every partition of it is restored into one database.
    """

    spec: StoreSpec
    key_serde: Any
    value_serde: Any
    memory_stores: dict[int, KeyValueStore]
    source_topic: str | None = None
    writes = 0  # bumped by every write and rebalance: read caches compare it

    async def on_rebalance(self, assigned: set[TP], revoked: set[TP], newly_assigned: set[TP],
                           generation_id: int = 0) -> None:
        """Faust may reopen (or replace) the databases: read caches start over."""
        self.writes += 1
        await super().on_rebalance(assigned, revoked, newly_assigned, generation_id)

    def bind(self, spec: StoreSpec, key_serde: Any, value_serde: Any) -> StoreTable:
        """Attach the store's spec and serdes (done once when the runtime is built)."""
        self.spec, self.key_serde, self.value_serde = spec, key_serde, value_serde
        self.memory_stores = {}
        self._bulk_restored: dict[TP, int] = {}  # per changelog partition, last offset written
        return self

    def _changelog_topic_name(self) -> str:
        # Faust's assignor asks this for global tables: the source topic is the changelog.
        return self.source_topic or super()._changelog_topic_name()

    @property
    def on_rocksdb(self) -> bool:
        return hasattr(self.data, "_db_for_partition")

    def _db(self, partition: int) -> Any:
        return self.data._db_for_partition(0 if self.is_global else partition)

    def store_for(self, partition: int) -> StateStore:
        """The task-facing store of ``partition`` (its RocksDB, or a dict for memory://)."""
        spec = self.spec
        if not self.on_rocksdb:
            partition = 0 if self.is_global else partition  # as restore writes it
            store = self.memory_stores.get(partition)
            if store is None:
                store = self.memory_stores[partition] = InMemoryKeyValueStore(spec.name)
            return store
        if self.is_global:
            return _GlobalRocksStore(self, spec.name, self.key_serde, self.value_serde,
                                     spec.timestamped)
        return self._open(self._db(partition))

    def _open(self, db: Any) -> StateStore:
        spec = self.spec
        retention = FOREVER if spec.retention_ms is None else spec.retention_ms
        if spec.kind == WINDOW:
            return RocksDictWindowStore(spec.name, db, self.key_serde, self.value_serde,
                                        spec.window_size or 0, retention, spec.timestamped,
                                        spec.time_ordered)
        if spec.kind == SESSION:
            return RocksDictSessionStore(spec.name, db, self.key_serde, self.value_serde,
                                         retention)
        return RocksDictKeyValueStore(spec.name, db, self.key_serde, self.value_serde,
                                      spec.timestamped)

    def apply_changelog_batch(self, batch: Iterable[Any]) -> None:
        """Write changelog events into the stores (Faust calls this during recovery).

        Events the bulk path (:meth:`restore_records`) already wrote are skipped: Faust
        applies its buffer late, and an old value must not overwrite a newer one.
        """
        done = self._bulk_restored
        self.restore((e.message.tp, e.message.offset, e.message.key, e.message.value,
                      round(e.message.timestamp * 1000) if e.message.timestamp is not None
                      else 0) for e in batch
                     if e.message.offset > done.get(e.message.tp, -1))

    def restore_records(self, records: list[ConsumerRecord]) -> None:
        """Write fetched changelog records (the batch consumer's bulk restore path)."""
        if not records:
            return
        self.restore((TP(r.topic, r.partition), r.offset, r.key, r.value, r.timestamp or 0)
                     for r in records)
        last = records[-1]
        tp = TP(last.topic, last.partition)
        self._bulk_restored[tp] = max(last.offset, self._bulk_restored.get(tp, -1))

    def restore(self, items: Iterable[tuple[TP, int, bytes, bytes | None, int]]) -> None:
        """Apply ``(tp, offset, key, value, timestamp ms)`` changelog records in order."""
        self.writes += 1
        if not self.on_rocksdb:
            self._restore_memory(items)
            return
        kind, timestamped = self.spec.kind, self.spec.timestamped
        batches: dict[int, Any] = {}
        windowed: dict[int, Any] = {}
        offsets: dict[TP, int] = {}
        for tp, offset, key, value, ts in items:
            partition = 0 if self.is_global else tp.partition
            offsets[tp] = max(offset, offsets.get(tp, -1))
            if kind != KEY_VALUE:
                store = windowed.get(partition)
                if store is None:
                    store = windowed[partition] = self._open(self._db(partition))
                if kind == WINDOW:
                    store.put_raw(key, value, ts)
                else:
                    store.put_raw(key, value)
                continue
            wb = batches.get(partition)
            if wb is None:
                wb = batches[partition] = rocksdict.WriteBatch(raw_mode=True)
            if value is None:
                wb.delete(key)
            else:
                wb.put(key, stored_value(value, ts, timestamped))
        for partition, wb in batches.items():
            self._db(partition).write(wb)
        for tp, offset in offsets.items():
            self.data.set_persisted_offset(tp, offset)

    def _restore_memory(self, items: Iterable[tuple[TP, int, bytes, bytes | None, int]]) -> None:
        timestamped = self.spec.timestamped
        for tp, _offset, raw_key, raw_value, ts in items:
            store = self.store_for(tp.partition)
            key = self.key_serde.deserialize(raw_key)
            if raw_value is None:
                store.delete(key)
                continue
            value = self.value_serde.deserialize(raw_value)
            store.put(key, ValueAndTimestamp(value, ts) if timestamped else value)


class _GlobalRocksStore(RocksDictKeyValueStore):
    """A global store: one database for all partitions, looked up on every access because
    Faust may reopen it on a rebalance.

    Reads are cached decoded (Kafka's caching stores keep what they read, too): every
    stream record of a GlobalKTable join looks a row up, and decoding it again each time
    cost more than the join. Any write to the table (restore, following its topic, a
    rebalance) empties the cache, so a read never sees an older row than the database.
    As with the in-memory stores, a value read must not be mutated in place.
    """

    def __init__(self, table: StoreTable, name: str, key_serde: Any, value_serde: Any,
                 timestamped: bool) -> None:
        self._table = table
        self._reads: dict[Any, Any] = {}
        self._seen_writes = -1
        super().__init__(name, None, key_serde, value_serde, timestamped)

    def get(self, key: Any) -> Any:
        """The value for ``key`` (decoded once per table write)."""
        writes = self._table.writes
        reads = self._reads
        if writes != self._seen_writes:
            reads.clear()
            self._seen_writes = writes
        try:
            value = reads.get(key, _UNREAD)
        except TypeError:  # an unhashable key is read through
            return super().get(key)
        if value is _UNREAD:
            value = super().get(key)
            if len(reads) >= GLOBAL_READ_CACHE_ENTRIES:
                reads.clear()
            reads[key] = value
        return value

    def put(self, key: Any, value: Any) -> None:
        """Set ``key`` (``None`` deletes)."""
        self._table.writes += 1
        super().put(key, value)

    def delete(self, key: Any) -> Any:
        """Remove ``key``; return its old value."""
        self._table.writes += 1
        return super().delete(key)

    @property
    def db(self) -> Any:  # type: ignore[override]
        return self._table._db(0)

    @db.setter
    def db(self, _value: Any) -> None:
        pass


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
        self.hooks = BatchHooks()
        self.app.batch_hooks = self.hooks
        self.tables: dict[str, StoreTable] = {}
        self.tasks: dict[tuple[int, int], StreamTask] = {}
        self._producer: BulkProducer | None = None
        self._globals: dict[str, StoreStack] | None = None
        self._declare()

    # -- compile -------------------------------------------------------------------------

    def _exactly_once(self) -> WorkerTransaction:
        """Transactions driven here, one producer per worker (see runtime.transactions)."""
        app = self.app
        txn = WorkerTransaction(self.settings, app.conf.id,
                                lambda: {**app.producer._settings_default(),
                                         **app.producer._settings_auth()},
                                Path(app.conf.tabledir))
        app.conf.processing_guarantee = "at_least_once"  # Faust's own transactions stay off
        app.conf.TableManager = CommittedTableManager
        app.batch_consumer_class = TransactionalBatchConsumer
        app.transaction = txn
        app.startup_checks.append(txn.start)  # the consumer stops it after its last commit
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
        self.hooks.add_before_commit(self._commit)
        app.task(self._tune_gc)
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
        self.hooks.add_restorer(table._changelog_topic_name(), table.restore_records)

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

    async def _tune_gc(self) -> None:
        """Once the worker runs: keep the collector off the start-up heap, collect less often.

        Processing allocates a few short-lived objects per record; with Python's default
        gen-0 threshold (700) the collector ran every ~100 records and its older
        generations kept walking Faust's and aiokafka's long-lived objects.
        """
        gc.collect()
        gc.freeze()  # objects alive now are never scanned again
        gc.set_threshold(GC_GEN0_THRESHOLD, *gc.get_threshold()[1:])

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
            self._producer = BulkProducer(self.app.producer._ensure_producer() if txn is None
                                          else txn.producer)
        return self._producer

    def _handler(self, sub: SubTopology):
        async def handle(tp: TP, records: list[ConsumerRecord]) -> None:
            task = self._task(sub, tp.partition)
            dead = task.process_records(tp.topic, records)  # a bad record must not stop the job
            if dead:
                await self._dead_letters(dead)
            await self._produce(task)

        return handle

    async def _produce(self, task: StreamTask) -> None:
        out = task.drain_output()
        if out:
            await self.producer.send(out)
        logs = task.drain_changelogs()
        if logs:
            await self.producer.send(logs, partition=task.partition)

    async def _dead_letters(self, dead: list[tuple[ConsumerRecord, BaseException]]) -> None:
        recs = []
        now_ms = int(time.time() * 1000)
        for r, exc in dead:
            log.warning("dead letter %s/%s/%s: %r", r.topic, r.partition, r.offset, exc)
            headers = [*(r.headers or ()),
                       ("error", f"{type(exc).__name__}: {exc}".encode()),
                       ("source", f"{r.topic}/{r.partition}/{r.offset}".encode()),
                       ("source_timestamp", str(r.timestamp).encode())]
            # Stamped with the failure time: an old event timestamp would let the topic's
            # time-based retention delete the dead letter at once.
            recs.append((self.dead_letter_topic, r.key, r.value, now_ms, headers))
        await self.producer.send(recs, partition=0)

    async def _commit(self) -> None:
        for key, task in list(self.tasks.items()):
            if self.tasks.get(key) is not task:
                continue  # revoked while this commit awaited: its state is dropped, not flushed
            task.commit()
            await self._produce(task)
        await self.producer.flush()

    def _revoke(self, revoked: set[TP]) -> None:
        # Uncommitted cache contents of revoked partitions are dropped, not flushed: the new
        # owner reprocesses from the last commit with the state that commit covered. (The
        # consumer commits before revoking, so normally nothing is left uncommitted.)
        parts = {(tp.topic, tp.partition) for tp in revoked}
        for (sub_id, partition), task in list(self.tasks.items()):
            if any((t, partition) in parts for t in task.source_topics):
                task.close()
                del self.tasks[(sub_id, partition)]

    def main(self) -> None:
        """Run the worker from the command line (``python job.py worker``)."""
        self.app.main()
