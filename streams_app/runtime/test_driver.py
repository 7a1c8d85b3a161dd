"""TopologyTestDriver: Kafka Streams' test driver, in snake_case, with no broker.

Records cross topic boundaries as bytes through the serdes, as on a broker. Each piped
record is processed and then committed (record caches flushed), like Kafka Streams'
driver, so every update shows. Failed records go through the same error handlers, with the
same defaults, as in the Faust runtime: dead letters land in ``<application_id>-dead-letter``
(read it with :meth:`TopologyTestDriver.create_output_topic`) and ``fail`` raises
:class:`~streams_app.errors.StreamsFailure` from ``pipe_input``. (Kafka Streams' driver
raises on a processing error only because its default handler is ``fail``; here the default
is ``dead_letter``: set ``processing_exception_handler`` to ``fail`` to get an exception.)
Records written to repartition topics are piped back in, in order, until nothing is left.
Single partition; deterministic; no asyncio.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from streams_app.dsl.topology import Topology
from streams_app.errors import ErrorHandlers, StreamsFailure
from streams_app.processors.sink import OutputRecord
from streams_app.runtime.config import StreamsConfig
from streams_app.runtime.task import StreamTask
from streams_app.serdes import Serde, resolve_serde
from streams_app.state.api import KeyValueStore, SessionStore, StateStore, WindowStore
from streams_app.state.spec import KEY_VALUE, SESSION, VERSIONED, WINDOW, StoreStack
from streams_app.state.thread_cache import ThreadCache

__all__ = [
    "TopologyTestDriver",
    "TestInputTopic",
    "TestOutputTopic",
    "TestRecord",
    "NoSuchElementError",
]


class NoSuchElementError(LookupError):
    """Reading from an output topic that has no more records."""


@dataclass(frozen=True)
class TestRecord:
    """A record as piped in or read out: key, value, timestamp (ms), headers."""

    __test__ = False  # not a pytest test class

    key: Any
    value: Any
    timestamp: int | None = None
    headers: tuple[tuple[str, bytes], ...] = field(default=())


class TopologyTestDriver:
    """Drives a :class:`Topology` in-process."""

    __test__ = False

    def __init__(
        self,
        topology: Topology,
        config: Mapping[str, Any] | StreamsConfig | None = None,
        initial_wall_clock_time_ms: int = 0,
        max_record_bytes: Mapping[str, int] | None = None,
    ) -> None:
        """``max_record_bytes``: the largest record each output topic takes (default 1 MiB),
        as the runtime reads it from the topic's ``max.message.bytes``."""
        self.topology = topology
        self.config = StreamsConfig.from_mapping(config)
        # one set of handlers (and counters) for every task, as in the runtime
        self.errors = ErrorHandlers.from_config(self.config)
        self._wall = initial_wall_clock_time_ms
        self._tasks: list[StreamTask] = []
        self._task_by_topic: dict[str, StreamTask] = {}
        global_stores: dict[str, Any] = {}
        # the driver runs every task on one thread: one record cache for all of them
        max_bytes = self.config.cache_max_bytes
        thread_cache = ThreadCache(max_bytes) if max_bytes else None
        # global tasks first: every other task reads their stores (GlobalKTable joins)
        for sub in sorted(topology.subtopologies(), key=lambda s: not s.is_global):
            task = StreamTask(topology, sub, self.config, 0, wall_clock=lambda: self._wall,
                              global_stores=global_stores, errors=self.errors,
                              max_record_bytes=max_record_bytes, thread_cache=thread_cache)
            # like Kafka's driver: no wall-clock throttling of emit-on-window-close results
            task.windowed_emit_interval_ms = 0  # type: ignore[attr-defined]
            task.outer_join_emit_interval_ms = 0  # type: ignore[attr-defined]
            if sub.is_global:
                global_stores.update(task.stores)
            self._tasks.append(task)
            for topic in task.source_topics:
                self._task_by_topic[topic] = task
        self._outputs: dict[str, deque[OutputRecord]] = {}
        self._offsets: dict[str, int] = {}
        self._pending: deque[OutputRecord] = deque()
        self._closed = False

    # -- topics ---------------------------------------------------------------------------

    def create_input_topic(
        self,
        name: str,
        key_serde: Serde | None = None,
        value_serde: Serde | None = None,
        start_timestamp_ms: int = 0,
        auto_advance_ms: int = 0,
    ) -> TestInputTopic:
        """An input topic; serdes default to the configured defaults."""
        if name not in self._task_by_topic:
            raise ValueError(f"Unknown topic: {name} (not a source of this topology)")
        return TestInputTopic(
            self,
            name,
            resolve_serde(key_serde, "key_serde") or self.config.default_key_serde,
            resolve_serde(value_serde, "value_serde") or self.config.default_value_serde,
            start_timestamp_ms,
            auto_advance_ms,
        )

    def create_output_topic(
        self, name: str, key_serde: Serde | None = None, value_serde: Serde | None = None
    ) -> TestOutputTopic:
        """An output topic reader (sinks, repartition and changelog topics alike)."""
        return TestOutputTopic(
            self,
            name,
            resolve_serde(key_serde, "key_serde") or self.config.default_key_serde,
            resolve_serde(value_serde, "value_serde") or self.config.default_value_serde,
        )

    @property
    def dead_letter_topic(self) -> str:
        """Where dead letters go: ``<application_id>-dead-letter``."""
        return self.errors.dead_letter_topic

    def producer_topic_names(self) -> set[str]:
        """Every topic something was written to."""
        return set(self._outputs)

    # -- processing -----------------------------------------------------------------------

    def _pipe(self, topic: str, key: bytes | None, value: bytes | None, ts: int,
              headers: Any) -> None:
        if self._closed:
            raise RuntimeError("TopologyTestDriver is closed")
        self._process_one(topic, key, value, ts, headers)
        self._drain_pending()

    def _process_one(self, topic: str, key: bytes | None, value: bytes | None, ts: int,
                     headers: Any) -> None:
        task = self._task_by_topic.get(topic)
        if task is None:
            raise ValueError(f"Unknown topic: {topic}")
        offset = self._offsets.get(topic, 0)
        self._offsets[topic] = offset + 1
        try:
            task.process(topic, key, value, ts, headers, offset)
        except StreamsFailure:
            self._capture(task)  # what came before the failure was produced, as in the runtime
            raise
        task.commit()
        self._capture(task)

    def _capture(self, task: StreamTask) -> None:
        for out in task.drain_output() + task.drain_changelogs():
            self._outputs.setdefault(out[0], deque()).append(out)
            # like Kafka's driver: whatever lands on a topic the topology reads is read back
            if out[0] in self._task_by_topic:
                self._pending.append(out)

    def _drain_pending(self) -> None:
        pending = self._pending
        while pending:
            topic, key, value, ts, headers = pending.popleft()
            self._process_one(topic, key, value, ts, headers)

    def advance_wall_clock_time(self, ms: int) -> None:
        """Move the mocked wall clock forward and fire due wall-clock punctuations."""
        if ms < 0:
            raise ValueError("advance_wall_clock_time: ms must be >= 0")
        self._wall += ms
        for task in self._tasks:
            task.punctuate_wall_clock()
            task.commit()
            self._capture(task)
        self._drain_pending()

    @property
    def wall_clock_time_ms(self) -> int:
        """The mocked wall-clock time."""
        return self._wall

    # -- stores ---------------------------------------------------------------------------

    def _stack(self, name: str) -> StoreStack | None:
        for task in self._tasks:
            if name in task.stores:
                return task.stores[name]
        return None

    def store_stack(self, name: str) -> StoreStack | None:
        """The layers of store ``name`` (interactive queries read its outer layer)."""
        return self._stack(name)

    def get_all_state_stores(self) -> dict[str, StateStore]:
        """Every store by name."""
        return {name: stack.outer for task in self._tasks for name, stack in task.stores.items()}

    def get_state_store(self, name: str) -> StateStore | None:
        """A store by name (values with timestamps for timestamped stores), or ``None``."""
        stack = self._stack(name)
        return None if stack is None else stack.outer

    def get_timestamped_key_value_store(self, name: str) -> KeyValueStore | None:
        """A key-value store whose values are ``ValueAndTimestamp``."""
        stack = self._stack(name)
        if stack is None or stack.spec.kind != KEY_VALUE:
            return None
        return stack.outer

    def get_key_value_store(self, name: str) -> KeyValueStore | None:
        """A key-value store showing plain values (timestamps stripped, like Kafka's facade)."""
        stack = self._stack(name)
        if stack is None or stack.spec.kind != KEY_VALUE:
            return None
        return _PlainValues(stack.outer) if stack.spec.timestamped else stack.outer

    def get_versioned_key_value_store(self, name: str) -> StateStore | None:
        """A versioned key-value store (``get(key[, as_of])``), or ``None``."""
        stack = self._stack(name)
        return stack.outer if stack is not None and stack.spec.kind == VERSIONED else None

    def get_timestamped_window_store(self, name: str) -> WindowStore | None:
        """A window store whose values are ``ValueAndTimestamp``, or ``None``."""
        stack = self._stack(name)
        return stack.outer if stack is not None and stack.spec.kind == WINDOW else None

    def get_window_store(self, name: str) -> WindowStore | None:
        """A window store showing plain values (timestamps stripped, like Kafka's facade)."""
        stack = self._stack(name)
        if stack is None or stack.spec.kind != WINDOW:
            return None
        if not stack.spec.timestamped:
            return stack.outer
        from streams_app.state.windowed_layers import PlainWindowValues

        return PlainWindowValues(stack.outer)

    def get_session_store(self, name: str) -> SessionStore | None:
        """A session store, or ``None``."""
        stack = self._stack(name)
        return stack.outer if stack is not None and stack.spec.kind == SESSION else None

    # -- lifecycle ------------------------------------------------------------------------

    def close(self) -> None:
        """Close every task (idempotent)."""
        if not self._closed:
            self._closed = True
            for task in self._tasks:
                task.close()

    def __enter__(self) -> TopologyTestDriver:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class TestInputTopic:
    """Pipes records into one source topic."""

    __test__ = False

    def __init__(self, driver: TopologyTestDriver, name: str, key_serde: Serde,
                 value_serde: Serde, start_timestamp_ms: int, auto_advance_ms: int) -> None:
        self.driver = driver
        self.name = name
        self.key_serde = key_serde
        self.value_serde = value_serde
        self._time = start_timestamp_ms
        self._advance = auto_advance_ms

    def _next_time(self) -> int:
        ts = self._time
        self._time += self._advance
        return ts

    def advance_time(self, ms: int) -> None:
        """Advance the topic's time used for records piped without a timestamp."""
        if ms < 0:
            raise ValueError("advance_time: ms must be >= 0")
        self._time += ms

    def pipe_input(self, key: Any = None, value: Any = None, timestamp: int | None = None,
                   headers: Iterable[tuple[str, bytes]] = ()) -> None:
        """Pipe one record; without ``timestamp`` the topic's own clock is used."""
        ts = self._next_time() if timestamp is None else timestamp
        self.driver._pipe(
            self.name, self.key_serde.serialize(key), self.value_serde.serialize(value), ts,
            tuple(headers),
        )

    def pipe_value(self, value: Any, timestamp: int | None = None) -> None:
        """Pipe a record with a null key."""
        self.pipe_input(None, value, timestamp)

    def pipe_record_list(self, records: Iterable[TestRecord | tuple[Any, ...]]) -> None:
        """Pipe ``TestRecord``s or ``(key, value[, timestamp])`` tuples in order."""
        for rec in records:
            if isinstance(rec, TestRecord):
                self.pipe_input(rec.key, rec.value, rec.timestamp, rec.headers)
            else:
                self.pipe_input(*rec)

    def pipe_key_value_list(self, pairs: Iterable[tuple[Any, Any]],
                            start_timestamp_ms: int | None = None,
                            advance_ms: int = 0) -> None:
        """Pipe ``(key, value)`` pairs; timestamps from ``start`` stepping by ``advance_ms``."""
        ts = start_timestamp_ms
        for key, value in pairs:
            self.pipe_input(key, value, ts)
            if ts is not None:
                ts += advance_ms

    def pipe_values_list(self, values: Iterable[Any]) -> None:
        """Pipe values with null keys."""
        for value in values:
            self.pipe_input(None, value)


class TestOutputTopic:
    """Reads (consumes) what the topology wrote to one topic."""

    __test__ = False

    def __init__(self, driver: TopologyTestDriver, name: str, key_serde: Serde,
                 value_serde: Serde) -> None:
        self.driver = driver
        self.name = name
        self.key_serde = key_serde
        self.value_serde = value_serde

    def _queue(self) -> deque[OutputRecord]:
        return self.driver._outputs.setdefault(self.name, deque())

    def read_record(self) -> TestRecord:
        """The next record; raises :class:`NoSuchElementError` when empty."""
        queue = self._queue()
        if not queue:
            raise NoSuchElementError(f"Empty topic: {self.name}")
        _, key, value, ts, headers = queue.popleft()
        return TestRecord(
            self.key_serde.deserialize(key), self.value_serde.deserialize(value), ts,
            tuple(headers),
        )

    def read_value(self) -> Any:
        """The next record's value."""
        return self.read_record().value

    def read_key_value(self) -> tuple[Any, Any]:
        """The next record's ``(key, value)``."""
        rec = self.read_record()
        return rec.key, rec.value

    def _drain(self) -> Iterator[TestRecord]:
        while self._queue():
            yield self.read_record()

    def read_records_to_list(self) -> list[TestRecord]:
        """Every remaining record."""
        return list(self._drain())

    def read_values_to_list(self) -> list[Any]:
        """Every remaining value."""
        return [r.value for r in self._drain()]

    def read_key_values_to_list(self) -> list[tuple[Any, Any]]:
        """Every remaining ``(key, value)``."""
        return [(r.key, r.value) for r in self._drain()]

    def read_key_values_to_map(self) -> dict[Any, Any]:
        """The last value per key (a tombstone leaves the key mapped to ``None``)."""
        result: dict[Any, Any] = {}
        for rec in self._drain():
            if rec.key is None:
                raise ValueError("Null keys not allowed with read_key_values_to_map")
            result[rec.key] = rec.value
        return result

    def get_queue_size(self) -> int:
        """How many records are left to read."""
        return len(self._queue())

    def is_empty(self) -> bool:
        """True when nothing is left to read."""
        return not self._queue()


class _PlainValues(KeyValueStore):
    """A view of a timestamped store with the timestamps stripped."""

    def __init__(self, store: Any) -> None:
        self._store = store
        self.name = store.name

    def get(self, key: Any) -> Any:
        """The plain value."""
        vt = self._store.get(key)
        return None if vt is None else vt.value

    def put(self, key: Any, value: Any) -> None:
        """Write a plain value (stamped with timestamp 0)."""
        from streams_app.state.api import ValueAndTimestamp

        self._store.put(key, None if value is None else ValueAndTimestamp(value, 0))

    def delete(self, key: Any) -> Any:
        """Delete and return the plain old value."""
        vt = self._store.delete(key)
        return None if vt is None else vt.value

    def range(self, start: Any = None, end: Any = None) -> Iterator[tuple[Any, Any]]:
        """Plain ``(key, value)`` pairs."""
        return iter([(k, vt.value) for k, vt in self._store.range(start, end)])

    def approximate_num_entries(self) -> int:
        """Entry count of the underlying store."""
        return self._store.approximate_num_entries()
