"""The one seam to faust-streaming, mode-streaming and aiokafka internals.

Every private attribute or method of those libraries that streams_app relies on is named in
this module and nowhere else. The rest of the runtime subclasses the bases below and
overrides their public-named hooks, or calls the accessor functions. :func:`check` (run at
import) verifies that each private name still exists with the expected kind, so a Faust or
aiokafka release that renames one fails the worker start with a message naming it and the
installed versions, instead of breaking a commit or a fetch silently.
"""

from __future__ import annotations

import asyncio
import inspect
import re
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from importlib import metadata
from typing import Any

import aiokafka
import faust
from aiokafka import errors as _Errors
from aiokafka.client import AIOKafkaClient
from aiokafka.consumer import fetcher as _fetcher
from aiokafka.consumer.subscription_state import SubscriptionState
from aiokafka.producer import sender as _sender
from aiokafka.protocol.api import Request as _Request
from aiokafka.protocol.api import RequestStruct as _RequestStruct
from aiokafka.protocol.api import Response as _Response
from aiokafka.protocol.types import CompactArray as _CompactArray
from aiokafka.protocol.types import CompactString as _CompactString
from aiokafka.protocol.types import Int16 as _Int16
from aiokafka.protocol.types import Int32 as _Int32
from aiokafka.protocol.types import Int64 as _Int64
from aiokafka.protocol.types import Schema as _Schema
from aiokafka.protocol.types import TaggedFields as _TaggedFields
from aiokafka.structs import TopicPartition
from faust.assignor import PartitionAssignor
from faust.stores.rocksdb import Store as RocksDBStore
from faust.tables import TableManager
from faust.tables.base import Collection
from faust.tables.recovery import Recovery
from faust.transport import consumer as _faust_consumer
from faust.transport.drivers import aiokafka as faust_aiokafka
from faust.types import TP
from mode import Service
from mode.threads import ServiceThread
from mode.utils.futures import maybe_async

__all__ = [
    "BatchConsumerBase", "FaustCompatError", "GroupMetadata", "InLoopConsumerThreadBase",
    "MemberFencedError",
    "RequiredName", "TxnOffsetCommitWithGroupRequest", "group_metadata",
    "install_group_metadata_commits",
    "StoreTableBase", "TableManagerBase", "assigned_partitions", "check", "fetch_position",
    "host_partitions",
    "has_partition_dbs", "install_lean_records", "producer_settings", "refresh_metadata",
    "set_fetch_max_wait",
    "set_read_committed", "table_db", "versions", "wait_on_metadata",
]

LIBRARIES = ("faust-streaming", "mode-streaming", "aiokafka")


class FaustCompatError(RuntimeError):
    """An internal name streams_app relies on is missing from the installed libraries."""


@dataclass(frozen=True)
class RequiredName:
    """A private name of ``owner``: a ``method`` (callable on the class) or an ``attribute``
    (a class attribute, an annotation, or assigned as ``self.<name>`` in the class source)."""

    owner: type
    name: str
    kind: str  # "method" | "attribute"
    params: tuple[str, ...] = ()  # a method's leading parameters after self, when checked


_Consumer = faust_aiokafka.Consumer
_Thread = faust_aiokafka.AIOKafkaConsumerThread

#: Every private name used below, with its owner and kind.
REQUIRED: list[RequiredName] = [
    RequiredName(_faust_consumer.Consumer, "_drain_messages", "method", ("fetcher",)),
    RequiredName(_faust_consumer.Consumer, "_wait_next_records", "method", ("timeout",)),
    RequiredName(_faust_consumer.Consumer, "_new_offset", "method", ("tp",)),
    RequiredName(_faust_consumer.Consumer, "_commit_tps", "method",
                 ("tps", "start_new_transaction")),
    RequiredName(_Consumer, "_commit", "method", ("offsets",)),
    RequiredName(_Consumer, "_to_message", "method", ("tp", "record")),
    RequiredName(_Consumer, "_new_consumer_thread", "method"),
    RequiredName(_faust_consumer.Consumer, "_filter_tps_with_pending_acks", "method"),
    RequiredName(_faust_consumer.Consumer, "_get_active_partitions", "method"),
    RequiredName(_faust_consumer.Consumer, "_read_offset", "attribute"),
    RequiredName(_faust_consumer.Consumer, "_acked", "attribute"),
    RequiredName(_faust_consumer.Consumer, "_n_acked", "attribute"),
    RequiredName(_faust_consumer.Consumer, "_buffered_partitions", "attribute"),
    RequiredName(_faust_consumer.Consumer, "_commit_every", "attribute"),
    RequiredName(_Consumer, "_thread", "attribute"),
    RequiredName(Service, "_stopped", "attribute"),
    RequiredName(Service, "_started", "attribute"),
    RequiredName(Service, "_shutdown", "attribute"),
    RequiredName(Service, "_default_start", "method"),
    RequiredName(ServiceThread, "_thread_started", "attribute"),
    RequiredName(ServiceThread, "_shutdown_thread", "method"),
    RequiredName(_Thread, "_create_worker_consumer", "method", ("transport",)),
    RequiredName(_Thread, "_consumer", "attribute"),
    RequiredName(faust_aiokafka.Producer, "_settings_default", "method"),
    RequiredName(faust_aiokafka.Producer, "_settings_auth", "method"),
    RequiredName(Collection, "_changelog_topic_name", "method"),
    RequiredName(RocksDBStore, "_db_for_partition", "method", ("partition",)),
    RequiredName(TableManager, "_recovery", "attribute"),
    RequiredName(TableManager, "_update_channels", "method"),
    RequiredName(aiokafka.AIOKafkaConsumer, "_fetch_max_wait_ms", "attribute"),
    RequiredName(aiokafka.AIOKafkaConsumer, "_isolation_level", "attribute"),
    RequiredName(aiokafka.AIOKafkaConsumer, "_subscription", "attribute"),
    RequiredName(aiokafka.AIOKafkaConsumer, "_client", "attribute"),
    RequiredName(aiokafka.AIOKafkaConsumer, "_coordinator", "attribute"),
    RequiredName(_sender.Sender, "_txn_manager", "attribute"),
    RequiredName(_sender.TxnOffsetCommitHandler, "_group_id", "attribute"),
    RequiredName(_sender.TxnOffsetCommitHandler, "_offsets", "attribute"),
    RequiredName(_sender.TxnOffsetCommitHandler, "_sender", "attribute"),
    RequiredName(SubscriptionState, "subscription", "attribute"),
    RequiredName(AIOKafkaClient, "_wait_on_metadata", "method", ("topic",)),
    RequiredName(_fetcher.PartitionRecords, "_consumer_record", "method", ("tp", "record")),
    RequiredName(_fetcher.PartitionRecords, "_records_iterator", "attribute"),
    RequiredName(_fetcher.PartitionRecords, "_key_deserializer", "attribute"),
    RequiredName(_fetcher.PartitionRecords, "_value_deserializer", "attribute"),
    # the assignor's view of the group (interactive queries' routing), public in Faust
    # but not a documented API: checked like the private names
    RequiredName(PartitionAssignor, "tables_metadata", "method"),
    RequiredName(PartitionAssignor, "external_topics_metadata", "method"),
    RequiredName(PartitionAssignor, "assigned_actives", "method"),
    RequiredName(PartitionAssignor, "assigned_standbys", "method"),
]


def versions() -> str:
    """The installed versions of the libraries this seam covers."""
    parts = []
    for dist in LIBRARIES:
        try:
            parts.append(f"{dist} {metadata.version(dist)}")
        except metadata.PackageNotFoundError:
            parts.append(f"{dist} (not installed)")
    return ", ".join(parts)


def _assigned_in_source(owner: type, name: str) -> bool:
    pattern = re.compile(rf"\bself\.{re.escape(name)}\s*(:[^=\n]*)?=[^=]")
    for klass in owner.__mro__:
        if klass is object:
            continue
        if name in getattr(klass, "__annotations__", {}):
            return True
        try:
            source = inspect.getsource(klass)
        except (OSError, TypeError):
            continue
        if pattern.search(source):
            return True
    return False


def _problem(req: RequiredName) -> str | None:
    where = f"{req.owner.__module__}.{req.owner.__qualname__}.{req.name}"
    if req.kind == "method":
        fun = getattr(req.owner, req.name, None)
        if not callable(fun):
            return f"method {where} is missing"
        if req.params:
            try:
                params = [p for p in inspect.signature(fun).parameters if p != "self"]
            except (TypeError, ValueError):
                return None
            if tuple(params[:len(req.params)]) != req.params:
                return f"method {where} takes {params}, expected {list(req.params)} first"
        return None
    if hasattr(req.owner, req.name) or _assigned_in_source(req.owner, req.name):
        return None
    return f"attribute {where} is missing"


def check(required: Iterable[RequiredName] | None = None) -> None:
    """Verify every private name this seam uses; raise :class:`FaustCompatError` if not."""
    problems = [p for req in (REQUIRED if required is None else required)
                if (p := _problem(req)) is not None]
    if problems:
        raise FaustCompatError(
            "streams_app needs internals that the installed libraries lack ("
            f"{versions()}; streams_app is tested with faust-streaming 0.15.3, "
            f"aiokafka 0.14.0): {'; '.join(problems)}")


# -- consumer ---------------------------------------------------------------------------


class BatchConsumerBase(faust_aiokafka.Consumer):
    """Faust's aiokafka consumer with its private loop and commit steps as public hooks.

    Subclasses implement :meth:`drain` (the fetch loop) and may override
    :meth:`next_offset`, :meth:`commit_partitions` and :meth:`commit_offsets`; the
    ``faust_*`` methods run Faust's own step.
    """

    #: The class running aiokafka for this consumer (Faust's thread interface).
    ConsumerThread: type[faust_aiokafka.AIOKafkaConsumerThread] = _Thread

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Kafka Streams commits on commit.interval.ms (and on request) only. Faust also
        # commits every broker_commit_every (10,000) records: with a repartition topic that
        # is a commit (cache flush, producer flush awaiting every ack, offset commit) every
        # ~5,000 input records, each stalling the fetch loop.
        self._commit_every = None

    # Faust's private steps, delegated.
    async def _drain_messages(self, fetcher: Any) -> None:
        await self.drain(fetcher._stopped.is_set)

    def _new_consumer_thread(self) -> faust_aiokafka.AIOKafkaConsumerThread:
        return self.ConsumerThread(self, loop=self.loop, beacon=self.beacon)

    def _new_offset(self, tp: TP) -> int | None:
        return self.next_offset(tp)

    async def _commit_tps(self, tps: Iterable[TP], start_new_transaction: bool) -> bool:
        return await self.commit_partitions(tps, start_new_transaction)

    async def _commit(self, offsets: Mapping[TP, int]) -> bool:
        return await self.commit_offsets(offsets)

    # Hooks.
    async def drain(self, fetcher_stopped: Callable[[], bool]) -> None:
        """The fetch loop, run until the consumer or ``fetcher_stopped()`` stops."""
        raise NotImplementedError

    def next_offset(self, tp: TP) -> int | None:
        """The offset to commit for ``tp`` (Faust: from the acked offsets)."""
        return super()._new_offset(tp)

    async def commit_partitions(self, tps: Iterable[TP], start_new_transaction: bool) -> bool:
        """Commit ``tps`` (Faust: offsets from :meth:`next_offset`, then the group commit)."""
        return await self.faust_commit_partitions(tps, start_new_transaction)

    async def faust_commit_partitions(self, tps: Iterable[TP],
                                      start_new_transaction: bool = True) -> bool:
        """Faust's commit of ``tps``: attached sends, :meth:`next_offset`, commit_offsets."""
        return await super()._commit_tps(tps, start_new_transaction)

    async def commit_offsets(self, offsets: Mapping[TP, int]) -> bool:
        """Write ``offsets`` (Faust: the consumer group commit)."""
        return await super()._commit(offsets)

    # Accessors used by the loop.
    def consumer_stopped(self) -> bool:
        """Whether the consumer service was stopped."""
        return self._stopped.is_set()

    async def next_records(self, timeout: float) -> tuple[Any, Any]:
        """The next fetch: ``({tp: records}, active partitions or None)``.

        With every partition paused (a rebalance, until recovery resumes the changelogs)
        Faust sleeps 1 s before it looks again, and a restore started up to 1 s late; here
        the wait ends as soon as a partition is resumed, or after ``timeout``.
        """
        if self.flow_active and not self.app.client_only:
            resumed = self._resumed_event()
            resumed.clear()  # before the check: a resume after it sets the event again
            if not self._get_active_partitions():
                try:
                    await asyncio.wait_for(resumed.wait(), timeout)
                except TimeoutError:
                    pass
                return {}, set()
        return await self._wait_next_records(timeout)

    _partitions_resumed: asyncio.Event | None = None

    def _resumed_event(self) -> asyncio.Event:
        if self._partitions_resumed is None:
            self._partitions_resumed = asyncio.Event()
        return self._partitions_resumed

    def resume_partitions(self, tps: Iterable[TP]) -> None:
        """Resume fetching ``tps`` (Faust's), and wake :meth:`next_records`."""
        super().resume_partitions(tps)
        self._resumed_event().set()

    @property
    def read_offsets(self) -> dict[TP, int | None]:
        """Faust's read offset per partition (the last offset read, or the next after a seek)."""
        return self._read_offset  # type: ignore[no-any-return]

    def is_buffered(self, tp: TP) -> bool:
        """Whether Faust holds buffered records of ``tp`` (paused meanwhile is fine then)."""
        return tp in self._buffered_partitions

    def mark_acked(self, tp: TP, count: int) -> bool:
        """Note ``count`` records of ``tp`` done; True when Faust's commit_every is reached."""
        self._acked[tp]  # commits only visit partitions listed in _acked
        self._n_acked += count
        every = self._commit_every
        if every is not None and self._n_acked >= every:
            self._n_acked = 0
            return True
        return False

    async def deliver(self, tp: TP, record: Any) -> None:
        """Hand ``record`` to Faust's own path (agents, recovery) and note it read."""
        await self.wait_first(self.callback(self._to_message(tp, record)),
                              self.suspend_flow.wait())
        self._read_offset[tp] = record.offset

    def partitions_with_acks(self) -> list[TP]:
        """Every partition with acknowledged records (what a full commit visits)."""
        return list(self._filter_tps_with_pending_acks())

    def aiokafka_in_loop(self) -> aiokafka.AIOKafkaConsumer | None:
        """The aiokafka consumer when it runs in this loop (safe to touch directly)."""
        thread = getattr(self, "_thread", None)
        if isinstance(thread, InLoopConsumerThreadBase):
            return thread.aiokafka_consumer
        return None


class InLoopConsumerThreadBase(faust_aiokafka.AIOKafkaConsumerThread):
    """Faust's aiokafka consumer "thread" run as a plain service in the app's event loop.

    Subclasses tune the aiokafka consumer in :meth:`configure` before it starts.
    """

    def __init__(self, consumer: Any, *, loop: Any, **kwargs: Any) -> None:
        # One loop for both roles: mode does not close a thread loop it was given.
        super().__init__(consumer, loop=loop, thread_loop=loop, **kwargs)

    @property
    def aiokafka_consumer(self) -> aiokafka.AIOKafkaConsumer | None:
        """The aiokafka consumer (None before start)."""
        return self._consumer  # type: ignore[no-any-return]

    def configure(self, consumer: aiokafka.AIOKafkaConsumer) -> None:
        """Adjust the aiokafka consumer before it starts (hook)."""

    def _create_worker_consumer(self, transport: Any) -> Any:
        consumer = super()._create_worker_consumer(transport)
        self.configure(consumer)
        return consumer

    async def start(self) -> None:
        """Start aiokafka in this loop (``on_start``) and this service's own tasks."""
        self._thread_started.set()  # ServiceThread.maybe_start checks this flag
        await self._default_start()

    async def stop(self) -> None:
        """Stop like the thread would on its way out: aiokafka first, then tasks."""
        if not self._started.is_set() or self._stopped.is_set():
            return
        self._stopped.set()
        await self.on_stop()
        # ServiceThread's own teardown (on_thread_stop stops aiokafka, then children,
        # futures and exit stacks); its task sweep is skipped: this loop is the app's.
        await self._shutdown_thread()
        await self.on_shutdown()

    def _stopped_set(self) -> None:
        self._stopped.set()

    def set_shutdown(self) -> None:
        self._shutdown.set()

    async def call_thread(self, fun: Callable[..., Awaitable[Any]], *args: Any,
                          **kwargs: Any) -> Any:
        """Run ``fun`` right here: the caller is already in the consumer's loop."""
        return await maybe_async(fun(*args, **kwargs))  # some are plain functions

    async def cast_thread(self, fun: Callable[..., Awaitable[Any]], *args: Any,
                          **kwargs: Any) -> None:
        """Run ``fun`` in the background, owned (and cancelled on stop) by this service."""
        self.add_future(maybe_async(fun(*args, **kwargs)))

    @Service.task
    async def _thread_keepalive(self) -> None:
        # ServiceThread wakes a foreign loop every second; there is none here.
        return None


def fetch_position(consumer: aiokafka.AIOKafkaConsumer | None, tp: TP) -> int | None:
    """aiokafka's next fetch offset of ``tp`` if assigned and valid now, else None."""
    if consumer is None:
        return None
    subscription = consumer._subscription.subscription
    assignment = None if subscription is None else subscription.assignment
    if assignment is None:
        return None
    state = assignment.state_value(TopicPartition(tp.topic, tp.partition))
    return state.position if state is not None and state.has_valid_position else None


def set_fetch_max_wait(consumer: aiokafka.AIOKafkaConsumer, ms: int) -> None:
    """Set ``fetch_max_wait_ms`` of a consumer not started yet (Faust hard-codes it)."""
    consumer._fetch_max_wait_ms = ms  # read when aiokafka starts its fetcher


def set_read_committed(consumer: aiokafka.AIOKafkaConsumer) -> None:
    """Read committed records only (Faust ties this to its own exactly-once mode)."""
    consumer._isolation_level = "read_committed"  # read when the consumer starts


# -- producer, client -------------------------------------------------------------------


def producer_settings(app: faust.App) -> dict[str, Any]:
    """The aiokafka producer keyword arguments of ``app``'s Faust producer."""
    producer = app.producer
    return {**producer._settings_default(), **producer._settings_auth()}


async def refresh_metadata(consumer: aiokafka.AIOKafkaConsumer) -> None:
    """Fetch the cluster metadata into ``consumer`` (its public ``topics()`` fetches it into
    a throw-away object, so ``partitions_for_topic`` stays blind to new topics)."""
    await consumer._client.force_metadata_update()


async def wait_on_metadata(client: AIOKafkaClient, topic: str) -> None:
    """Fetch metadata until ``topic`` has partitions (raises if it does not exist)."""
    await client._wait_on_metadata(topic)


# -- tables -----------------------------------------------------------------------------


class StoreTableBase(faust.Table):
    """A Faust table whose changelog topic name is a public hook."""

    def _changelog_topic_name(self) -> str:
        return self.changelog_topic_name()

    def changelog_topic_name(self) -> str:
        """The changelog topic (Faust: ``<app id>-<table>-changelog``)."""
        return super()._changelog_topic_name()


def has_partition_dbs(table: faust.Table) -> bool:
    """Whether ``table`` keeps one database per partition (the rocksdb store)."""
    return hasattr(table.data, "_db_for_partition")


def table_db(table: faust.Table, partition: int) -> Any:
    """The (rocksdict) database of ``partition`` of ``table``."""
    return table.data._db_for_partition(partition)


def assigned_partitions(app: faust.App) -> tuple[set[TP], set[TP]]:
    """This worker's active and standby topic-partitions in the current assignment."""
    assignor = app.assignor
    return set(assignor.assigned_actives()), set(assignor.assigned_standbys())


def host_partitions(app: faust.App) -> dict[str, dict[str, list[int]]]:
    """Every worker's URL (``canonical_url``, shared in the assignor's client metadata)
    -> topic -> its active partitions: changelog topics and the other (source) topics."""
    assignor = app.assignor
    merged: dict[str, dict[str, list[int]]] = {}
    for hosts in (assignor.tables_metadata(), assignor.external_topics_metadata()):
        for url, topics in hosts.items():
            into = merged.setdefault(str(url), {})
            for topic, partitions in topics.items():
                into[topic] = sorted({*into.get(topic, ()), *partitions})
    return merged


class TableManagerBase(TableManager):
    """Faust's table manager with a choosable :attr:`Recovery` class, started at once.

    Faust's ``on_start`` sleeps 1 s first (for tables added while the app starts); the
    consumer subscribes, and so restore and processing begin, only after it. Every table of
    a streams_app app exists before the start, so that second only delayed them.
    """

    Recovery: type = Recovery

    async def on_start(self) -> None:
        """Register the changelog channels (the consumer subscribes then), start recovery."""
        if not self.should_stop:
            await self._update_channels()
            await self.recovery.start()

    @property
    def recovery(self) -> Any:
        """Recovery service used by this table manager."""
        if self._recovery is None:
            self._recovery = self.Recovery(self.app, self, beacon=self.beacon, loop=self.loop)
        return self._recovery


# -- fetched records --------------------------------------------------------------------


def install_lean_records(record_class: type[tuple]) -> None:
    """Make aiokafka's fetcher build records as ``record_class`` tuples (process-wide).

    ``record_class(topic, partition, offset, timestamp, timestamp_type, key, value,
    checksum, headers)``; records with aiokafka-side deserializers keep ConsumerRecord.
    """
    cls = _fetcher.PartitionRecords
    original = _ORIGINAL_CONSUMER_RECORD
    new = tuple.__new__

    def _consumer_record(self: Any, tp: Any, record: Any) -> Any:
        if self._key_deserializer is not None or self._value_deserializer is not None:
            return original(self, tp, record)
        return new(record_class, (
            tp.topic, tp.partition, record.offset, record.timestamp, record.timestamp_type,
            record.key, record.value, record.checksum, tuple(record.headers)))

    def _iter(self: Any) -> Iterator[Any]:
        # ``for`` loops (FetchResult.getall) run the generator itself, not ``__next__``
        # around it; ``next(records)`` (getone) still goes through ``__next__``.
        records = self._records_iterator
        return self if records is None else records

    cls._consumer_record = _consumer_record
    cls.__iter__ = _iter


_ORIGINAL_CONSUMER_RECORD = _fetcher.PartitionRecords._consumer_record

check()


# -- zombie fencing: transactional offset commits with the group metadata (KIP-447) -------
#
# aiokafka 0.14 sends TxnOffsetCommit v0 (no generation), so a worker that lost its
# partitions without knowing (paused past its session timeout) can still commit offsets for
# them. Kafka's producer sends v3+ with the consumer's generation, member id and group
# instance id (``sendOffsetsToTransaction(offsets, groupMetadata)``); the group coordinator
# then rejects a zombie's commit (ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID, FENCED_INSTANCE_ID).


class GroupMetadata(str):
    """A consumer group id (what aiokafka passes along) carrying the member's metadata."""

    generation_id: int
    member_id: str
    group_instance_id: str | None

    def __new__(cls, group_id: str, generation_id: int, member_id: str,
                group_instance_id: str | None = None) -> GroupMetadata:
        self = super().__new__(cls, group_id)
        self.generation_id, self.member_id = generation_id, member_id
        self.group_instance_id = group_instance_id
        return self


def group_metadata(consumer: aiokafka.AIOKafkaConsumer, group_id: str) -> GroupMetadata | None:
    """The member's group metadata now, or None when it is not in a group generation."""
    coordinator = consumer._coordinator
    generation = getattr(coordinator, "generation", -1)
    if coordinator is None or generation is None or generation < 0:
        return None
    return GroupMetadata(group_id, generation, coordinator.member_id,
                         getattr(coordinator, "_group_instance_id", None))


class _TxnOffsetCommitResponseV3(_Response):
    API_KEY = 28
    API_VERSION = 3
    SCHEMA = _Schema(
        ("throttle_time_ms", _Int32),
        ("topics", _CompactArray(
            ("name", _CompactString("utf-8")),
            ("partitions", _CompactArray(
                ("partition_index", _Int32), ("error_code", _Int16), ("tags", _TaggedFields))),
            ("tags", _TaggedFields))),
        ("tags", _TaggedFields),
    )


class _TxnOffsetCommitRequestV3(_RequestStruct):
    FLEXIBLE_VERSION = True
    API_KEY = 28
    API_VERSION = 3
    RESPONSE_TYPE = _TxnOffsetCommitResponseV3
    SCHEMA = _Schema(
        ("transactional_id", _CompactString("utf-8")),
        ("group_id", _CompactString("utf-8")),
        ("producer_id", _Int64),
        ("producer_epoch", _Int16),
        ("generation_id", _Int32),
        ("member_id", _CompactString("utf-8")),
        ("group_instance_id", _CompactString("utf-8")),
        ("topics", _CompactArray(
            ("name", _CompactString("utf-8")),
            ("partitions", _CompactArray(
                ("partition_index", _Int32), ("committed_offset", _Int64),
                ("committed_leader_epoch", _Int32), ("committed_metadata", _CompactString("utf-8")),
                ("tags", _TaggedFields))),
            ("tags", _TaggedFields))),
        ("tags", _TaggedFields),
    )


class TxnOffsetCommitWithGroupRequest(_Request[_TxnOffsetCommitRequestV3]):
    """TxnOffsetCommit v3: the offsets plus the member's generation (a broker without v3
    fails the commit: IncompatibleBrokerVersion)."""

    API_KEY = 28

    def __init__(self, transactional_id: str, producer_id: int, producer_epoch: int,
                 group: GroupMetadata, offsets: Mapping[TopicPartition, Any]) -> None:
        by_topic: dict[str, list[tuple[int, int, int, str, dict]]] = {}
        for tp, meta in sorted(offsets.items()):
            by_topic.setdefault(tp.topic, []).append(
                (tp.partition, meta.offset, -1, meta.metadata, {}))
        self._fields = (transactional_id, str(group), producer_id, producer_epoch,
                        group.generation_id, group.member_id, group.group_instance_id,
                        [(topic, parts, {}) for topic, parts in by_topic.items()], {})

    def build(self, request_struct_class: type[_TxnOffsetCommitRequestV3]
              ) -> _TxnOffsetCommitRequestV3:
        return request_struct_class(*self._fields)


#: The group coordinator's answers to a commit from a member that is no longer in the group:
#: ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID, FENCED_INSTANCE_ID (not in aiokafka's errors).
FENCED_ERROR_CODES = {22: "ILLEGAL_GENERATION", 25: "UNKNOWN_MEMBER_ID",
                      82: "FENCED_INSTANCE_ID"}


class MemberFencedError(_Errors.CommitFailedError):
    """The group coordinator rejected this member's transactional offset commit: the
    worker's partitions were reassigned while it was unresponsive (a zombie)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason

    def __str__(self) -> str:
        return self.reason


class _GroupTxnOffsetCommitHandler(_sender.TxnOffsetCommitHandler):
    """aiokafka's handler, sending v3 when the group id carries :class:`GroupMetadata`."""

    def create_request(self) -> Any:
        group = self._group_id
        if not isinstance(group, GroupMetadata):
            return super().create_request()
        txn = self._sender._txn_manager
        return TxnOffsetCommitWithGroupRequest(txn.transactional_id, txn.producer_id,
                                               txn.producer_epoch, group, self._offsets)

    def handle_response(self, resp: Any) -> Any:
        if not isinstance(resp, _TxnOffsetCommitResponseV3):
            return super().handle_response(resp)
        for _topic, partitions, _ in resp.topics:
            for _partition, code, _ in partitions:
                if code in FENCED_ERROR_CODES:
                    # A zombie: abortable, so the worker aborts the transaction and stops.
                    self._sender._txn_manager.error_transaction(MemberFencedError(
                        f"the group coordinator fenced this member's transactional offset "
                        f"commit ({FENCED_ERROR_CODES[code]}): its partitions were reassigned"))
                    return None
        legacy = type("_Resp", (), {"errors": [
            (topic, [(p, code) for p, code, _ in partitions]) for topic, partitions, _ in
            resp.topics]})()
        return super().handle_response(legacy)


def install_group_metadata_commits() -> None:
    """Make aiokafka's sender use :class:`_GroupTxnOffsetCommitHandler` (process-wide)."""
    _sender.TxnOffsetCommitHandler = _GroupTxnOffsetCommitHandler
