"""The Faust tables behind the state stores, and the global store's read cache.

Each logged or global store is a :class:`StoreTable`, a Faust table that only serves as the
store's home: Faust creates its ``<application_id>-<store>-changelog`` topic, opens one
RocksDB (rocksdict) per assigned partition and restores it from the changelog; the task
reads and writes that RocksDB through :class:`RocksDictKeyValueStore` (or the windowed ones).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import rocksdict
from aiokafka.structs import ConsumerRecord
from faust.types import TP

from streams_app.runtime.faust_compat import StoreTableBase, has_partition_dbs, table_db
from streams_app.state.api import KeyValueStore, StateStore, ValueAndTimestamp
from streams_app.state.memory import InMemoryKeyValueStore
from streams_app.state.rocksdb import TIMESTAMP, RocksDictKeyValueStore, stored_value
from streams_app.state.rocksdb_versioned import RocksDictVersionedKeyValueStore
from streams_app.state.rocksdb_windowed import RocksDictSessionStore, RocksDictWindowStore
from streams_app.state.spec import _FOREVER as FOREVER
from streams_app.state.spec import KEY_VALUE, SESSION, VERSIONED, WINDOW, StoreSpec

__all__ = ["GlobalRocksStore", "StoreTable", "versioned_changelog_configs"]

# Kafka Streams' VersionedChangelogTopicConfig: compaction keeps every version for the
# history retention plus a day, so that a restore rebuilds the history.
VERSIONED_CHANGELOG_ADDITIONAL_COMPACTION_LAG_MS = 24 * 60 * 60 * 1000


def versioned_changelog_configs(spec: StoreSpec) -> dict[str, str]:
    """Topic configs of a versioned store's changelog (compacted, with a compaction lag)."""
    lag = (spec.history_retention_ms or 0) + VERSIONED_CHANGELOG_ADDITIONAL_COMPACTION_LAG_MS
    return {"min.compaction.lag.ms": str(lag)}

# Decoded rows a global store keeps from reads; at the limit it starts over (bounded memory).
GLOBAL_READ_CACHE_ENTRIES = 100_000
_UNREAD = object()


class StoreTable(StoreTableBase):
    """The Faust table behind one state store (never used through Faust's Table API).

    Restoring writes the changelog into the partition's database in the store's own layout
    (timestamped values get their timestamp back from the changelog record). A global store's
    changelog is its source topic; every partition of it is restored into one database.
    Records with a null key are skipped, as Kafka Streams' restore and table source do
    (only a global store's source topic, written by others, can hold one).
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
        self.positions: dict[TP, int] = {}  # per changelog partition, last offset applied
        return self

    def changelog_topic_name(self) -> str:
        """A global store's changelog is its source topic (Faust's assignor asks this)."""
        return self.source_topic or super().changelog_topic_name()

    @property
    def on_rocksdb(self) -> bool:
        return has_partition_dbs(self)

    def _db(self, partition: int) -> Any:
        return table_db(self, 0 if self.is_global else partition)

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
            return GlobalRocksStore(self, spec.name, self.key_serde, self.value_serde,
                                     spec.timestamped)
        return self._open(self._db(partition))

    def _open(self, db: Any) -> StateStore:
        spec = self.spec
        retention = FOREVER if spec.retention_ms is None else spec.retention_ms
        if spec.kind == WINDOW:
            return RocksDictWindowStore(spec.name, db, self.key_serde, self.value_serde,
                                        spec.window_size or 0, retention, spec.timestamped,
                                        spec.time_ordered)
        if spec.kind == VERSIONED:
            return RocksDictVersionedKeyValueStore(spec.name, db, self.key_serde,
                                                   self.value_serde,
                                                   spec.history_retention_ms or 0)
        if spec.kind == SESSION:
            return RocksDictSessionStore(spec.name, db, self.key_serde, self.value_serde,
                                         retention)
        return RocksDictKeyValueStore(spec.name, db, self.key_serde, self.value_serde,
                                      spec.timestamped)

    def apply_changelog_batch(self, batch: Iterable[Any]) -> None:
        """Write changelog events into the stores (Faust's recovery path).

        Events the bulk path (:meth:`restore_records`) already wrote are skipped: Faust
        applies its buffer late, and an old value must not overwrite a newer one (the rule
        of the two restore paths: :meth:`BatchHooks.add_restorer`).
        """
        done = self._bulk_restored
        self.restore((e.message.tp, e.message.offset, e.message.key, e.message.value,
                      round(e.message.timestamp * 1000) if e.message.timestamp is not None
                      else 0) for e in batch
                     if e.message.offset > done.get(e.message.tp, -1))

    def restore_records(self, records: list[ConsumerRecord]) -> None:
        """Write fetched changelog records of one partition (the batch consumer's bulk
        restore path: one call per partition and fetch)."""
        if not records:
            return
        last = records[-1]
        tp = TP(last.topic, last.partition)
        if self.spec.kind == KEY_VALUE and self.on_rocksdb:
            self._restore_key_values(tp, records)
        else:
            self.restore((tp, r.offset, r.key, r.value, r.timestamp or 0) for r in records)
        self._bulk_restored[tp] = max(last.offset, self._bulk_restored.get(tp, -1))

    def _restore_key_values(self, tp: TP, records: list[ConsumerRecord]) -> None:
        """:meth:`restore` of one partition's records into a key-value store, in one write
        batch: the loop a 1M-key restore spends its time in, so nothing else is in it."""
        self.writes += 1
        wb = rocksdict.WriteBatch(raw_mode=True)
        put, delete = wb.put, wb.delete
        if self.spec.timestamped:
            pack = TIMESTAMP.pack
            for r in records:
                key, value = r.key, r.value
                if key is None:
                    continue
                if value is None:
                    delete(key)
                else:
                    put(key, pack(r.timestamp or 0) + value)
        else:
            for r in records:
                key, value = r.key, r.value
                if key is None:
                    continue
                if value is None:
                    delete(key)
                else:
                    put(key, value)
        self._db(tp.partition).write(wb)
        offset = records[-1].offset
        self.data.set_persisted_offset(tp, offset)
        self._advance({tp: offset})

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
            if key is None:
                continue
            if kind != KEY_VALUE:
                store = windowed.get(partition)
                if store is None:
                    store = windowed[partition] = self._open(self._db(partition))
                if kind in (WINDOW, VERSIONED):  # a version's timestamp is the record's
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
        self._advance(offsets)

    def _advance(self, offsets: dict[TP, int]) -> None:
        """Note how far each changelog partition is applied (``positions``: what a reader
        of a global store awaits to see its topic's latest records)."""
        positions = self.positions
        for tp, offset in offsets.items():
            positions[tp] = max(offset, positions.get(tp, -1))

    def _restore_memory(self, items: Iterable[tuple[TP, int, bytes, bytes | None, int]]) -> None:
        timestamped = self.spec.timestamped
        offsets: dict[TP, int] = {}
        for tp, offset, raw_key, raw_value, ts in items:
            offsets[tp] = max(offset, offsets.get(tp, -1))
            if raw_key is None:
                continue
            store = self.store_for(tp.partition)
            key = self.key_serde.deserialize(raw_key)
            if raw_value is None:
                store.delete(key)
                continue
            value = self.value_serde.deserialize(raw_value)
            store.put(key, ValueAndTimestamp(value, ts) if timestamped else value)
        self._advance(offsets)


class GlobalRocksStore(RocksDictKeyValueStore):
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
