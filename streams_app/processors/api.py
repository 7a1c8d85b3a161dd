"""The Processor API: records, changes, processors and the context they run in.

Modeled on Kafka Streams' ``org.apache.kafka.streams.processor.api``. Everything here is
synchronous: a runtime hands a processor one record at a time (a whole fetched batch in
a plain loop) and collects what reaches sinks into a buffer it produces in bulk.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from enum import Enum
from typing import Any

__all__ = [
    "Record",
    "Change",
    "Processor",
    "ProcessorContext",
    "PunctuationType",
    "Cancellable",
    "Punctuator",
    "OutputRecord",
]

Headers = tuple[tuple[str, bytes], ...]
# (topic, key bytes, value bytes, timestamp, headers): what a task produces, to sinks and
# changelogs alike
OutputRecord = tuple[str, bytes | None, bytes | None, int, Any]


class Record:
    """A key, a value, an event timestamp (epoch ms) and headers. Treated as immutable."""

    __slots__ = ("key", "value", "timestamp", "headers")

    def __init__(self, key: Any, value: Any, timestamp: int, headers: Headers = ()) -> None:
        self.key = key
        self.value = value
        self.timestamp = timestamp
        self.headers = headers

    def with_key(self, key: Any) -> Record:
        """A copy with another key."""
        return Record(key, self.value, self.timestamp, self.headers)

    def with_value(self, value: Any) -> Record:
        """A copy with another value."""
        return Record(self.key, value, self.timestamp, self.headers)

    def with_timestamp(self, timestamp: int) -> Record:
        """A copy with another timestamp."""
        return Record(self.key, self.value, timestamp, self.headers)

    def with_headers(self, headers: Headers) -> Record:
        """A copy with other headers."""
        return Record(self.key, self.value, self.timestamp, headers)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Record):
            return NotImplemented
        return (self.key, self.value, self.timestamp, tuple(self.headers)) == (
            other.key,
            other.value,
            other.timestamp,
            tuple(other.headers),
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Record(key={self.key!r}, value={self.value!r}, timestamp={self.timestamp})"


class Change:
    """A KTable update: the new value and (when requested) the old one.

    ``is_latest`` is False for an out-of-order update of a versioned table (a version older
    than the key's latest); operators with versioned semantics skip those (KIP-914).
    """

    __slots__ = ("new", "old", "is_latest")

    def __init__(self, new: Any, old: Any = None, is_latest: bool = True) -> None:
        self.new = new
        self.old = old
        self.is_latest = is_latest

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Change):
            return NotImplemented
        return (self.new == other.new and self.old == other.old
                and self.is_latest == other.is_latest)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        latest = "" if self.is_latest else ", is_latest=False"
        return f"Change(new={self.new!r}, old={self.old!r}{latest})"


class PunctuationType(Enum):
    """What drives a scheduled punctuation."""

    STREAM_TIME = "stream-time"
    WALL_CLOCK_TIME = "wall-clock-time"


Punctuator = Callable[[int], None]


class Cancellable(ABC):
    """Handle returned by :meth:`ProcessorContext.schedule`."""

    @abstractmethod
    def cancel(self) -> None:
        """Stop the punctuation."""


class ProcessorContext(ABC):
    """What a processor can see and do; one per task (sub-topology instance).

    ``current_node`` is the node being run (forward() sends to its children);
    ``sink_buffer`` collects serialized output records for the runtime to produce.
    """

    application_id: str
    current_node: Any
    sink_buffer: list[OutputRecord]

    @abstractmethod
    def forward(self, record: Record, child: str | None = None) -> None:
        """Send ``record`` to every child of the current node, or only to ``child``."""

    @abstractmethod
    def get_state_store(self, name: str) -> Any:
        """The store ``name`` (it must be connected to the current processor)."""

    @abstractmethod
    def schedule(
        self, interval_ms: int, punctuation_type: PunctuationType, callback: Punctuator
    ) -> Cancellable:
        """Call ``callback(timestamp)`` every ``interval_ms`` of stream or wall-clock time."""

    @property
    @abstractmethod
    def topic(self) -> str | None:
        """Topic of the record being processed (``None`` in a punctuation)."""

    @property
    @abstractmethod
    def partition(self) -> int | None:
        """Partition of the record being processed."""

    @property
    @abstractmethod
    def offset(self) -> int | None:
        """Offset of the record being processed."""

    @property
    @abstractmethod
    def timestamp(self) -> int:
        """Timestamp of the record being processed."""

    @property
    @abstractmethod
    def headers(self) -> Headers:
        """Headers of the record being processed."""

    @property
    @abstractmethod
    def stream_time(self) -> int:
        """The task's stream time: the max timestamp seen (-1 before any record)."""

    @property
    @abstractmethod
    def wall_clock_time(self) -> int:
        """The runtime's wall-clock time in epoch ms (mocked by the test driver)."""


class Processor:
    """A node's logic. Subclasses override :meth:`process` (and :meth:`init` for stores)."""

    context: ProcessorContext
    # False: process() at most tests ``record.value is None`` (counts). A task may then hand
    # it the undecoded bytes of a source record (see Serde.presence) and skip decoding.
    reads_value: bool = True

    def init(self, context: ProcessorContext) -> None:
        """Called once before processing; keep the context, look up stores here."""
        self.context = context

    def process(self, record: Record) -> None:
        """Handle one record; forward results with ``self.context.forward``."""
        raise NotImplementedError

    def close(self) -> None:  # noqa: B027 - optional hook
        """Called once when the task closes."""
