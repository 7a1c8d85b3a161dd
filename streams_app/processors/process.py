"""User processors in the DSL: ``KStream.process`` and ``KStream.process_values``.

Kafka Streams' ``ProcessorSupplier``, ``FixedKeyProcessor``, ``FixedKeyRecord`` and
``FixedKeyProcessorContext``. A ``process()`` processor is run as given (it may forward any
key); a ``process_values()`` processor sees its context through :class:`FixedKeyContext`,
which only forwards :class:`FixedKeyRecord` s with the key of the record being processed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from streams_app.processors.api import (
    Cancellable,
    Headers,
    Processor,
    ProcessorContext,
    PunctuationType,
    Punctuator,
    Record,
)
from streams_app.processors.suppliers import ProcessorSupplier
from streams_app.state.spec import StoreSpec

__all__ = [
    "FixedKeyRecord",
    "FixedKeyProcessor",
    "FixedKeyContext",
    "UserProcessorSupplier",
    "KStreamProcessValues",
    "supplier_factory",
]


class FixedKeyRecord(Record):
    """A record whose key cannot change: made from an input record by ``process_values``;
    ``with_value``/``with_timestamp``/``with_headers`` give fixed-key copies."""

    __slots__ = ()

    def with_key(self, key: Any) -> Record:
        """Not allowed: ``process_values`` keeps keys (use ``process`` to change them)."""
        raise TypeError("FixedKeyRecord.with_key: a process_values() processor cannot change "
                        "the key; use KStream.process to forward new keys")

    def with_value(self, value: Any) -> FixedKeyRecord:
        """A copy with another value."""
        return FixedKeyRecord(self.key, value, self.timestamp, self.headers)

    def with_timestamp(self, timestamp: int) -> FixedKeyRecord:
        """A copy with another timestamp."""
        return FixedKeyRecord(self.key, self.value, timestamp, self.headers)

    def with_headers(self, headers: Headers) -> FixedKeyRecord:
        """A copy with other headers."""
        return FixedKeyRecord(self.key, self.value, self.timestamp, headers)


class FixedKeyProcessor(Processor):
    """A ``process_values`` processor: ``process`` gets a :class:`FixedKeyRecord` and
    ``context`` is a :class:`FixedKeyContext`."""

    context: FixedKeyContext  # type: ignore[assignment]

    def init(self, context: FixedKeyContext) -> None:  # type: ignore[override]
        """Keep the context; look up stores and schedule punctuations here."""
        self.context = context

    def process(self, record: FixedKeyRecord) -> None:  # type: ignore[override]
        """Handle one record; forward fixed-key records with ``self.context.forward``."""
        raise NotImplementedError


class FixedKeyContext(ProcessorContext):
    """The task's context for a ``process_values`` processor: everything but forwarding
    passes through; ``forward`` takes only fixed-key records with the input record's key."""

    def __init__(self, inner: ProcessorContext) -> None:
        self._inner = inner
        self.application_id = inner.application_id
        self.input_key: Any = None
        self.in_process = False  # False in punctuations: no input record to compare with

    @property  # type: ignore[override]
    def current_node(self) -> Any:
        return self._inner.current_node

    @property  # type: ignore[override]
    def sink_buffer(self) -> Any:
        return self._inner.sink_buffer

    def forward(self, record: Record, child: str | None = None) -> None:
        """Forward ``record`` (a :class:`FixedKeyRecord`) to the children, or ``child``."""
        if not isinstance(record, FixedKeyRecord):
            raise TypeError("process_values(): forward() takes a FixedKeyRecord (made from the "
                            f"input record with with_value()), got {type(record).__name__}")
        if self.in_process and record.key is not self.input_key \
                and record.key != self.input_key:
            raise ValueError(f"process_values(): the key {record.key!r} differs from the input "
                             f"record's {self.input_key!r}; use KStream.process to change keys")
        # downstream operators may re-key: they get a plain record
        self._inner.forward(Record(record.key, record.value, record.timestamp, record.headers),
                            child)

    def get_state_store(self, name: str) -> Any:
        """The store ``name`` (connected by name in ``process_values``)."""
        return self._inner.get_state_store(name)

    def schedule(self, interval_ms: int, punctuation_type: PunctuationType,
                 callback: Punctuator) -> Cancellable:
        """Call ``callback(timestamp)`` every ``interval_ms`` of stream or wall-clock time."""
        return self._inner.schedule(interval_ms, punctuation_type, callback)

    @property
    def topic(self) -> str | None:
        return self._inner.topic

    @property
    def partition(self) -> int | None:
        return self._inner.partition

    @property
    def offset(self) -> int | None:
        return self._inner.offset

    @property
    def timestamp(self) -> int:
        return self._inner.timestamp

    @property
    def headers(self) -> Headers:
        return self._inner.headers

    @property
    def stream_time(self) -> int:
        return self._inner.stream_time

    @property
    def wall_clock_time(self) -> int:
        return self._inner.wall_clock_time


class KStreamProcessValues(Processor):
    """Runs a fixed-key processor: input records become :class:`FixedKeyRecord` s."""

    def __init__(self, user: Processor) -> None:
        self.user = user
        self.fixed: FixedKeyContext | None = None

    def init(self, context: ProcessorContext) -> None:
        """Give the user processor its fixed-key view of ``context``."""
        self.context = context
        self.fixed = FixedKeyContext(context)
        self.user.init(self.fixed)

    def process(self, record: Record) -> None:
        """Pass the record on as a fixed-key record."""
        fixed = self.fixed
        assert fixed is not None
        fixed.input_key, fixed.in_process = record.key, True
        try:
            self.user.process(FixedKeyRecord(record.key, record.value, record.timestamp,
                                             record.headers))
        finally:
            fixed.input_key, fixed.in_process = None, False

    def close(self) -> None:
        """Close the user processor."""
        self.user.close()


def supplier_factory(supplier: Any, what: str) -> Callable[[], Processor]:
    """A factory of fresh processors from what ``process``/``process_values`` accept: an
    object with ``get()`` (Kafka's ProcessorSupplier) or a callable such as a Processor
    class. Like Kafka, a supplier returning the same instance twice is an error."""
    if isinstance(supplier, Processor):
        raise TypeError(f"{what}: pass a processor supplier (a Processor class, a callable "
                        "returning a new Processor, or an object with get()), not an instance")
    get = getattr(supplier, "get", None)
    make = get if callable(get) and not isinstance(supplier, type) else supplier
    if not callable(make):
        raise TypeError(f"{what}: expected a processor supplier, got {supplier!r}")
    last: list[Processor] = []

    def factory() -> Processor:
        processor = make()
        if not isinstance(processor, Processor):
            raise TypeError(f"{what}: the supplier returned {processor!r}, not a Processor")
        if last and last[0] is processor:
            raise ValueError(f"{what}: the supplier returned the same processor instance twice; "
                             "it must return a new one on every call")
        last[:] = [processor]
        return processor

    return factory


class UserProcessorSupplier(ProcessorSupplier):
    """The node of ``process``/``process_values``: the user's processors (wrapped for fixed
    keys) and the stores the supplier itself provides (Kafka's ``stores()``)."""

    def __init__(self, factory: Callable[[], Processor], fixed_key: bool,
                 specs: Sequence[StoreSpec] = ()) -> None:
        self.factory = factory
        self.fixed_key = fixed_key
        self.specs = list(specs)

    def get(self) -> Processor:
        """A fresh (wrapped) user processor."""
        processor = self.factory()
        return KStreamProcessValues(processor) if self.fixed_key else processor

    def store_specs(self) -> list[StoreSpec]:
        """The stores the supplier provides."""
        return list(self.specs)
