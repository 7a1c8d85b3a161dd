"""A stream task: one sub-topology for one partition, run synchronously.

Shared by every runtime. The runtime feeds raw records (bytes) with :meth:`process` or
:meth:`process_records`, calls :meth:`commit` at its commit points (flushes record caches,
which forwards their updates). Sinks and change-logging stores write to the task's
:attr:`record_collector`, from which the runtime takes the records serialized, ready to
produce in bulk. Nothing here awaits or does I/O.
"""

from __future__ import annotations

import heapq
import itertools
import time
from collections.abc import Callable, Iterable, Mapping
from operator import attrgetter
from typing import Any, NamedTuple

from streams_app.dsl.topology import ProcessorNode, SinkNode, SourceNode, SubTopology, Topology
from streams_app.errors import ErrorContext, ErrorHandlers, ErrorKind, StreamsFailure
from streams_app.processors.api import (
    Cancellable,
    Processor,
    ProcessorContext,
    PunctuationType,
    Punctuator,
    Record,
)
from streams_app.processors.sink import DEFAULT_MAX_RECORD_BYTES, OutputRecord, SinkProcessor
from streams_app.processors.table import StreamsError
from streams_app.runtime.config import StreamsConfig
from streams_app.runtime.record_collector import ChangelogEncoder, RecordCollector
from streams_app.serdes import ChangeSerde, resolve_serde
from streams_app.state.api import StateStore
from streams_app.state.caching import CachingKeyValueStore
from streams_app.state.spec import StoreSpec, StoreStack, build_store_stack, in_memory_store
from streams_app.state.thread_cache import ThreadCache

__all__ = ["StreamTask", "RuntimeNode", "InputRecord", "bind_serde", "register_record_layout"]

#: ``raw -> (key, value, timestamp, headers, offset)`` per raw record class: one C call per
#: record instead of five attribute lookups (properties, on the worker's lean tuples).
_FieldsOf = Callable[[Any], tuple[Any, Any, int, Any, Any]]
_FIELDS_BY_TYPE: dict[type, _FieldsOf] = {}
_FIELDS_BY_NAME: _FieldsOf = attrgetter("key", "value", "timestamp", "headers", "offset")


def register_record_layout(record_type: type, fields: _FieldsOf) -> None:
    """Let :meth:`StreamTask.process_records` read ``record_type``'s five fields with
    ``fields`` (say an ``operator.itemgetter`` for a tuple layout)."""
    _FIELDS_BY_TYPE[record_type] = fields


class InputRecord(NamedTuple):
    """A raw input record as :meth:`StreamTask.process_records` reads it."""

    key: bytes | None
    value: bytes | None
    timestamp: int
    headers: Any
    offset: int | None


def bind_serde(serde: Any, default: Any, config: StreamsConfig) -> Any:
    """The serde a node or store declared, with the application defaults filled in."""
    bind = getattr(serde, "bind_defaults", None)
    if bind is not None:  # internal wrapper serdes (joins) fill in the defaults
        return bind(config.default_key_serde, config.default_value_serde)
    if isinstance(serde, ChangeSerde):
        inner = resolve_serde(serde.inner, "serde")
        return ChangeSerde(default if inner is None else inner)
    return default if serde is None else resolve_serde(serde, "serde")


class RuntimeNode:
    """A node instance inside a task: its processor and its children."""

    __slots__ = ("name", "processor", "children", "by_name", "stores")

    def __init__(self, name: str, processor: Processor, stores: list[str]) -> None:
        self.name = name
        self.processor = processor
        self.children: list[RuntimeNode] = []
        self.by_name: dict[str, RuntimeNode] = {}
        self.stores = stores


class _Schedule(Cancellable):
    __slots__ = ("node", "interval", "callback", "cancelled")

    def __init__(self, node: RuntimeNode, interval: int, callback: Punctuator) -> None:
        self.node = node
        self.interval = interval
        self.callback = callback
        self.cancelled = False

    def cancel(self) -> None:
        """Stop this punctuation."""
        self.cancelled = True


class _PunctuationQueue:
    """Schedules ordered by next fire time; missed intervals fire once, then realign."""

    def __init__(self) -> None:
        self._heap: list[tuple[int, int, _Schedule]] = []
        self._seq = itertools.count()

    def add(self, first: int, schedule: _Schedule) -> None:
        heapq.heappush(self._heap, (first, next(self._seq), schedule))

    def due(self, now: int) -> list[_Schedule]:
        fired = []
        heap = self._heap
        while heap and heap[0][0] <= now:
            at, _, sched = heapq.heappop(heap)
            if sched.cancelled:
                continue
            fired.append(sched)
            missed = (now - at) // sched.interval
            heapq.heappush(heap, (at + (missed + 1) * sched.interval, next(self._seq), sched))
        return fired


class StreamTask(ProcessorContext):
    """Runs one sub-topology; it is also the processors' :class:`ProcessorContext`."""

    #: The current record's timestamp, headers and topic are ``_timestamp``, ``_headers`` and
    #: ``_topic``: record caches read them on every put without the properties
    RECORD_FIELDS_DIRECT = True

    def __init__(
        self,
        topology: Topology,
        subtopology: SubTopology,
        config: StreamsConfig,
        partition: int = 0,
        store_factory: Callable[[StoreSpec], StateStore] = in_memory_store,
        wall_clock: Callable[[], int] | None = None,
        global_stores: dict[str, StoreStack] | None = None,
        errors: ErrorHandlers | None = None,
        max_record_bytes: Mapping[str, int] | None = None,
        thread_cache: ThreadCache | None = None,
        count_cache_reads: bool = False,
    ) -> None:
        """``errors``: the job's handlers (shared by its tasks; default: those ``config``
        names). ``max_record_bytes``: the largest record each sink topic (real name) takes,
        default 1 MiB. ``thread_cache``: the byte-sized record cache of the thread running
        this task (shared with its other tasks); None: ``config.cache_max_entries`` per store.
        ``count_cache_reads``: the record caches count hits and misses (metrics' debug level),
        set before the processors' ``init`` binds the stores' methods."""
        self.topology = topology
        self.errors = errors or ErrorHandlers.from_config(config)
        self._max_record_bytes = dict(max_record_bytes or {})
        # global stores (owned by the global task) are readable by every processor
        self.global_stores = global_stores or {}
        self.subtopology = subtopology
        self.config = config
        self.application_id = config.application_id
        # the emit throttles the processors read from their context (when configured)
        for name in ("windowed_emit_interval_ms", "outer_join_emit_interval_ms"):
            if getattr(config, name) is not None:
                setattr(self, name, getattr(config, name))
        self.task_id = f"{subtopology.id}_{partition}"
        self.record_collector = RecordCollector(partition)
        # Sinks append to the collector's output list (ProcessorContext.sink_buffer).
        self.sink_buffer: list[OutputRecord] = self.record_collector.output
        self._partition = partition
        self._wall_clock = wall_clock or (lambda: int(time.time() * 1000))
        self._topic: str | None = None
        self._offset: int | None = None
        self._timestamp = -1
        self._headers: Any = ()
        self._raw: Any = None  # the source record being processed (None outside a batch)
        self._failed_node: str | None = None
        self._stream_time = -1
        self._stream_queue = _PunctuationQueue()
        self._wall_queue = _PunctuationQueue()
        self.stores: dict[str, StoreStack] = {
            name: build_store_stack(topology.stores[name], config.cache_max_entries, store_factory,
                                    thread_cache)
            for name in subtopology.stores
        }
        if count_cache_reads:
            for stack in self.stores.values():
                if isinstance(stack.outer, CachingKeyValueStore):
                    stack.outer.count_reads()
        self.nodes: dict[str, RuntimeNode] = {}
        # topic (real name) -> (source node, key decoder, value decoder, extractor)
        self._sources: dict[str, tuple[RuntimeNode, Any, Any, Any]] = {}
        self._build()
        self.current_node: RuntimeNode | None = None
        self._init_nodes()

    # -- wiring ---------------------------------------------------------------------------

    def _serde(self, serde: Any, default: Any) -> Any:
        return bind_serde(serde, default, self.config)

    def _build(self) -> None:
        topo, cfg = self.topology, self.config
        for name in self.subtopology.nodes:
            spec = topo.nodes[name]
            if isinstance(spec, SourceNode):
                processor: Processor = _SourceMarker()
            elif isinstance(spec, SinkNode):
                topic = topo.topic_name(spec.topic, cfg.application_id)
                processor = SinkProcessor(
                    topic,
                    self._serde(spec.key_serde, cfg.default_key_serde),
                    self._serde(spec.value_serde, cfg.default_value_serde),
                    self._max_record_bytes.get(topic, DEFAULT_MAX_RECORD_BYTES),
                )
            else:
                processor = spec.factory()
            stores = spec.stores if isinstance(spec, ProcessorNode) else []
            self.nodes[name] = RuntimeNode(name, processor, stores)
        for name in self.subtopology.nodes:
            node = self.nodes[name]
            for child in topo.nodes[name].children:
                node.children.append(self.nodes[child])
                node.by_name[child] = self.nodes[child]
            spec = topo.nodes[name]
            if isinstance(spec, SourceNode):
                value_serde = self._serde(spec.value_serde, cfg.default_value_serde)
                # lazy_values: values no child reads (counts) are not decoded, the bytes
                # stand in (a malformed one is then counted, not sent to the handler)
                extractor = spec.timestamp_extractor or cfg.default_timestamp_extractor
                # (an extractor may read the value: then it is decoded)
                blind = cfg.lazy_values and extractor is None and node.children and not any(
                    getattr(c.processor, "reads_value", True)  # duck-typed ones too
                    for c in node.children)
                entry = (
                    node,
                    self._serde(spec.key_serde, cfg.default_key_serde).deserialize,
                    getattr(value_serde, "presence", value_serde.deserialize) if blind
                    else value_serde.deserialize,
                    extractor,
                )
                for topic in spec.topics:
                    self._sources[topo.topic_name(topic, cfg.application_id)] = entry

    def _init_nodes(self) -> None:
        for stack in self.stores.values():
            stack.outer.init(self)
        # init children before parents so forwarders see initialized downstream nodes
        for name in reversed(self.subtopology.nodes):
            node = self.nodes[name]
            self.current_node = node
            node.processor.init(self)
        self.current_node = None

    def set_max_record_bytes(self, topic: str, limit: int) -> None:
        """The largest record sink topic ``topic`` (real name) takes, e.g. once the runtime
        has read the topic's ``max.message.bytes`` (see ``errors.record_size_limit``)."""
        self._max_record_bytes[topic] = limit
        for node in self.nodes.values():
            sink = node.processor
            if isinstance(sink, SinkProcessor) and sink.topic == topic:
                sink.max_bytes = limit

    @property
    def source_topics(self) -> list[str]:
        """The real topic names this task reads."""
        return list(self._sources)

    # -- ProcessorContext ----------------------------------------------------------------

    def forward(self, record: Record, child: str | None = None) -> None:
        """Pass ``record`` to the current node's children (or one named child)."""
        node = self.current_node
        if child is None:
            targets = node.children  # type: ignore[union-attr]
        else:
            target = node.by_name.get(child)  # type: ignore[union-attr]
            if target is None:
                raise StreamsError(f"{node.name} has no child named {child!r}")  # type: ignore[union-attr]
            targets = [target]
        prev_ts, prev_headers = self._timestamp, self._headers
        self._timestamp, self._headers = record.timestamp, record.headers
        try:
            for target in targets:
                self.current_node = target
                target.processor.process(record)
        except Exception:
            if self._failed_node is None:  # the innermost forward knows the node that raised
                self._failed_node = self.current_node.name  # type: ignore[union-attr]
            raise
        finally:
            self.current_node = node
            self._timestamp, self._headers = prev_ts, prev_headers

    def get_state_store(self, name: str) -> Any:
        """The store ``name``; it must be connected to the current processor."""
        node = self.current_node
        if name in self.global_stores and name not in self.stores:
            return self.global_stores[name].outer
        if node is not None and name not in node.stores:
            raise StreamsError(
                f"Processor {node.name} has no access to StateStore {name}; connect it first"
            )
        stack = self.stores.get(name)
        if stack is None:
            raise StreamsError(f"unknown state store {name!r}")
        return stack.outer

    def schedule(
        self, interval_ms: int, punctuation_type: PunctuationType, callback: Punctuator
    ) -> Cancellable:
        """Stream-time schedules align to 0 and fire once data arrives (Kafka's rule);
        wall-clock schedules first fire ``interval_ms`` from now."""
        if interval_ms < 1:
            raise ValueError("schedule: interval_ms must be >= 1")
        if self.current_node is None:
            raise StreamsError("schedule() must be called from a processor")
        sched = _Schedule(self.current_node, interval_ms, callback)
        if punctuation_type is PunctuationType.STREAM_TIME:
            self._stream_queue.add(0, sched)
        else:
            self._wall_queue.add(self._wall_clock() + interval_ms, sched)
        return sched

    @property
    def topic(self) -> str | None:
        """Topic of the current input record."""
        return self._topic

    @property
    def partition(self) -> int | None:
        """This task's partition."""
        return self._partition

    @property
    def offset(self) -> int | None:
        """Offset of the current input record."""
        return self._offset

    @property
    def timestamp(self) -> int:
        """Timestamp of the record being processed or forwarded."""
        return self._timestamp

    @property
    def headers(self) -> Any:
        """Headers of the record being processed or forwarded."""
        return self._headers

    @property
    def stream_time(self) -> int:
        """Max timestamp seen by this task (-1 before any record)."""
        return self._stream_time

    @property
    def wall_clock_time(self) -> int:
        """The runtime's wall-clock time in ms."""
        return self._wall_clock()

    # -- processing ----------------------------------------------------------------------

    def process(
        self,
        topic: str,
        key: bytes | None,
        value: bytes | None,
        timestamp: int,
        headers: Any = (),
        offset: int | None = None,
    ) -> None:
        """Deserialize one raw record from ``topic`` and run it through the sub-topology."""
        self.process_records(topic, (InputRecord(key, value, timestamp, headers, offset),))

    def process_records(self, topic: str, records: Iterable[Any]) -> None:
        """Run fetched records (with ``key``, ``value``, ``timestamp``, ``headers``, ``offset``
        attributes, raw bytes) through the sub-topology, in order.

        A record that fails goes to the job's handlers (:mod:`streams_app.errors`): skipped,
        or dead-lettered (the dead letter joins the task's output, see :meth:`drain_output`),
        or the batch stops there with :class:`StreamsFailure` (``processed`` = how many
        records of the batch were done before it). One loop per fetch: this is the hot path,
        so the per-record work is inlined here.
        """
        entry = self._sources.get(topic)
        if entry is None:
            raise StreamsError(f"task {self.task_id} does not read topic {topic!r}")
        node, key_of, value_of, extractor = entry
        children = node.children
        punctuations = self._stream_queue._heap
        self._failed_node = None
        # one fetch is one record class: pick its field reader once per batch
        fields_of = (_FIELDS_BY_TYPE.get(type(records[0]), _FIELDS_BY_NAME)
                     if type(records) is list and records else _FIELDS_BY_NAME)
        for index, raw in enumerate(records):
            try:
                key, value, ts, headers, offset = fields_of(raw)
                record = Record(key_of(key), value_of(value), ts, headers)
                if extractor is not None:
                    ts = extractor(record, self._stream_time)
                    if ts != record.timestamp:
                        record = record.with_timestamp(ts)
                if ts < 0:
                    raise StreamsError(
                        f"Input record from {topic} offset {offset} has invalid (negative) "
                        f"timestamp {ts}; use a timestamp extractor that returns a valid one"
                    )
                # from here on a failure is a processing one (see _record_failed)
                self._topic, self._offset, self._raw = topic, offset, raw
                if ts > self._stream_time:
                    self._stream_time = ts
                self._timestamp, self._headers = ts, headers
                for child in children:
                    self.current_node = child
                    child.processor.process(record)
                self.current_node = None
                if punctuations and punctuations[0][0] <= self._stream_time:
                    self._punctuate(self._stream_queue, self._stream_time)
            except StreamsFailure as failure:  # a production handler or a punctuator's said fail
                # a stream-time punctuation (no topic) fires once the record itself is done
                failure.processed = index + (self._raw is raw and self._topic is None)
                self.current_node = self._raw = self._failed_node = None
                raise
            except Exception as exc:
                self._record_failed(topic, raw, index, exc)
        self._raw = None

    def source_timestamps(self, topic: str, records: Iterable[Any]) -> list[int] | None:
        """The event times a timestamp extractor gives raw ``records`` of ``topic`` (None
        without one: the records' own timestamps hold). For choosing between input
        partitions (runtime.time_sync) before processing; a record that cannot be read keeps
        its own timestamp here and fails when processed."""
        node, key_of, value_of, extractor = self._sources[topic]  # the decoders
        if extractor is None:
            return None
        stamps = []
        for raw in records:
            try:
                record = Record(key_of(raw.key), value_of(raw.value), raw.timestamp, raw.headers)
                stamps.append(extractor(record, self._stream_time))
            except Exception:  # noqa: BLE001 - reported when the record is processed
                stamps.append(raw.timestamp)
        return stamps

    def _record_failed(self, topic: str, raw: Any, index: int, error: Exception) -> None:
        """Classify a failed record, apply its handler; raise StreamsFailure on ``fail``."""
        failed, self._failed_node = self._failed_node, None
        current, self.current_node = self.current_node, None
        if self._raw is not raw:  # it failed before reaching a processor
            kind, node = ErrorKind.DESERIALIZATION, self._sources[topic][0].name
        else:
            kind, node = ErrorKind.PROCESSING, failed or (current.name if current else None)
        self._raw = None
        try:
            dead = self.errors.handle(self._error_context(kind, topic, raw, node), error)
        except StreamsFailure as failure:
            failure.processed = index
            raise
        if dead is not None:
            self.sink_buffer.append(dead)

    def handle_production_error(self, output_topic: str, error: Exception) -> None:
        """A sink could not write (serializer raised, record too large): apply the production
        handler. A dead letter carries the source record being processed, if any (KIP-1034);
        ``fail`` raises :class:`StreamsFailure` through the processors."""
        raw = self._raw if self._topic is not None else None
        node = self.current_node.name if self.current_node is not None else None
        context = self._error_context(ErrorKind.PRODUCTION, self._topic, raw, node, output_topic)
        dead = self.errors.handle(context, error)
        if dead is not None:
            self.sink_buffer.append(dead)

    def _error_context(self, kind: ErrorKind, topic: str | None, raw: Any, node: str | None,
                       output_topic: str | None = None) -> ErrorContext:
        if raw is None:  # no source record: a punctuator or a cache flush forwarded
            return ErrorContext(kind, None, None, None, self._timestamp, (), None, None, node,
                                self.task_id, output_topic)
        return ErrorContext(kind, topic, self._partition, raw.offset, raw.timestamp,
                            raw.headers or (), raw.key, raw.value, node, self.task_id,
                            output_topic)

    def process_batch(
        self, topic: str, records: Iterable[tuple[int, bytes | None, bytes | None, int, Any]]
    ) -> int:
        """Process ``(offset, key, value, timestamp, headers)`` tuples; return how many."""
        count = 0
        process = self.process
        for offset, key, value, ts, headers in records:
            process(topic, key, value, ts, headers, offset)
            count += 1
        return count

    def _punctuate(self, queue: _PunctuationQueue, now: int) -> None:
        for sched in queue.due(now):
            self.current_node = sched.node
            self._topic, self._offset = None, None
            self._timestamp, self._headers = now, ()
            try:
                sched.callback(now)
            except StreamsFailure:
                raise
            except Exception as exc:  # KIP-1033: the processing handler, with no source record
                failed, self._failed_node = self._failed_node, None
                context = self._error_context(ErrorKind.PROCESSING, None, None,
                                              failed or sched.node.name)
                dead = self.errors.handle(context, exc)
                if dead is not None:
                    self.sink_buffer.append(dead)
            finally:
                self.current_node = None

    def punctuate_wall_clock(self) -> None:
        """Fire wall-clock punctuations that are due."""
        self._punctuate(self._wall_queue, self._wall_clock())

    def next_wall_clock_punctuation(self) -> int | None:
        """When the next wall-clock punctuation is due (ms), None without any scheduled."""
        heap = self._wall_queue._heap
        return heap[0][0] if heap else None

    def commit(self) -> None:
        """Flush stores in topology order: caches forward their deduplicated updates."""
        for stack in self.stores.values():
            stack.outer.flush()

    def changelog_writer(self, store_name: str, encode: ChangelogEncoder) -> Callable[[Any], None]:
        """Where the logging layer of ``store_name`` appends its writes (Kafka Streams'
        ``context.logChange``): the record collector, for the store's changelog topic."""
        cfg = self.config
        spec = self.topology.stores[store_name]
        return self.record_collector.changelog(
            spec.changelog_topic(cfg.application_id),
            self._serde(spec.key_serde, cfg.default_key_serde),
            self._serde(spec.value_serde, cfg.default_value_serde), encode)

    def store_serdes(self, store_name: str) -> tuple[Any, Any]:
        """The key and value serdes of ``store_name`` (the record cache sizes entries with them)."""
        cfg = self.config
        spec = self.topology.stores[store_name]
        return (self._serde(spec.key_serde, cfg.default_key_serde),
                self._serde(spec.value_serde, cfg.default_value_serde))

    def swap_record_topic(self, topic: str | None) -> str | None:
        """Set the current record's topic, return the previous one (a cache flush forwards
        in the flushed record's context, as Kafka Streams does)."""
        prev, self._topic = self._topic, topic
        return prev

    def drain_output(self) -> list[OutputRecord]:
        """Take the serialized sink records collected since the last take."""
        return self.record_collector.take_output()

    def drain_changelogs(self) -> list[OutputRecord]:
        """Take the collected store writes, serialized for their changelog topics."""
        return self.record_collector.take_changelogs()

    def close(self) -> None:
        """Close processors, then stores."""
        for node in self.nodes.values():
            self.current_node = node
            node.processor.close()
        self.current_node = None
        for stack in self.stores.values():
            stack.outer.close()


class _SourceMarker(Processor):
    """Stands in for a source node's processor; sources are driven by ``process``."""

    def process(self, record: Record) -> None:
        """Sources forward directly; reaching here means a wiring bug."""
        raise StreamsError("a source node cannot be a child")
