"""Error handlers with Kafka Streams' shape (KIP-210, KIP-399, KIP-1033, KIP-1034).

A record that fails is classified by where it failed: *deserialization* (key/value serde,
timestamp extraction, an invalid timestamp), *processing* (a processor raised) or
*production* (a sink's serializer raised, an output record is too large, the broker refused
a send). Each kind has a handler: an action name (``fail``, ``continue``, ``dead_letter``) or
a callable ``(ErrorContext, exception) -> action``. ``continue`` skips the record and counts
it; ``dead_letter`` writes the source record to the dead-letter topic (original key, value
and headers, plus headers naming its source and the error); ``fail`` raises
:class:`StreamsFailure`, which stops the runtime.

:class:`ErrorHandlers` holds one job's three handlers and its counters; runtimes build one
per job (:meth:`ErrorHandlers.from_config`) and share it between their tasks.

What a runtime does (the test driver does the same):

1. ``config = StreamsConfig.from_mapping({**handler_config(settings, job_config, **args), ...})``
   and ``errors = ErrorHandlers.from_config(config, dead_letter_topic)``; pass
   ``errors=errors`` (and ``max_record_bytes={topic: record_size_limit(...)}`` or later
   ``task.set_max_record_bytes``) to every ``StreamTask``.
2. ``task.process_records(topic, records)``: dead letters join the task's output (drained
   with the sink records, topic ``errors.dead_letter_topic``); produce them like any output.
3. On :class:`StreamsFailure` from ``process_records``: produce the output drained so far,
   commit the offsets of ``records[:failure.processed]`` (under exactly-once: in the
   transaction), log the failure and exit non-zero. Raised elsewhere (a wall-clock
   punctuator, a cache flush at commit; ``failure.topic`` is ``None``): commit nothing.
4. A send the broker refuses (found at flush): ``errors.production_failed(topic, exc)``
   returns a dead letter to produce, ``None`` to go on, or raises :class:`StreamsFailure`.
"""

from __future__ import annotations

import logging
import time
import traceback
from collections import Counter, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from streams_app.processors.sink import DEFAULT_MAX_RECORD_BYTES, OutputRecord, RecordTooLargeError
from streams_app.processors.table import StreamsError

__all__ = [
    "ErrorAction",
    "ErrorKind",
    "ErrorContext",
    "ExceptionHandler",
    "ErrorHandlers",
    "StreamsFailure",
    "RecordTooLargeError",
    "HANDLER_SETTINGS",
    "DEFAULT_HANDLERS",
    "DEFAULT_MAX_RECORD_BYTES",
    "parse_handler",
    "dead_letter_topic",
    "handler_config",
    "dead_letter_record",
    "record_size_limit",
    "DeadLetterNote",
]

log = logging.getLogger(__name__)

# KIP-1034's dead-letter headers; the source timestamp is ours (dead letters are stamped
# with the failure time, so the event time must travel in a header).
HEADER_EXCEPTION = "__streams.errors.exception"
HEADER_MESSAGE = "__streams.errors.message"
HEADER_STACKTRACE = "__streams.errors.stacktrace"
HEADER_TOPIC = "__streams.errors.topic"
HEADER_PARTITION = "__streams.errors.partition"
HEADER_OFFSET = "__streams.errors.offset"
HEADER_TIMESTAMP = "__streams.errors.timestamp"
HEADER_KIND = "__streams.errors.kind"


class ErrorAction(StrEnum):
    """What to do with a record that failed."""

    FAIL = "fail"
    CONTINUE = "continue"
    DEAD_LETTER = "dead_letter"


class ErrorKind(StrEnum):
    """Where a record failed."""

    DESERIALIZATION = "deserialization"
    PROCESSING = "processing"
    PRODUCTION = "production"


# The setting (Settings field, StreamsConfig key, env STREAMS_<NAME>) of each kind.
HANDLER_SETTINGS: dict[ErrorKind, str] = {
    kind: f"{kind.value}_exception_handler" for kind in ErrorKind
}
# Bad input and bugs for one record must not stop a job (they go to the dead-letter topic);
# a sink that cannot write is an operational problem: stop (Kafka Streams' default).
DEFAULT_HANDLERS: dict[ErrorKind, ErrorAction] = {
    ErrorKind.DESERIALIZATION: ErrorAction.DEAD_LETTER,
    ErrorKind.PROCESSING: ErrorAction.DEAD_LETTER,
    ErrorKind.PRODUCTION: ErrorAction.FAIL,
}


#: How many of the latest dead letters a job keeps in memory (for the dashboard).
RECENT_DEAD_LETTERS = 50


@dataclass(frozen=True, slots=True)
class DeadLetterNote:
    """One dead-lettered record, as the dashboard lists it: where and why, no key or value
    (the error's message, cut to 500 characters, may still quote part of the record)."""

    at: float  # wall clock, seconds
    kind: str
    where: str
    error: str
    message: str


@dataclass(frozen=True, slots=True)
class ErrorContext:
    """The record that failed, as a handler sees it (Kafka Streams' ErrorHandlerContext).

    ``topic``/``partition``/``offset``/``key``/``value``/``headers`` describe the *source*
    record (raw bytes); they are ``None`` (headers empty) when there is none, e.g. for a
    production error raised while a punctuator or a cache flush forwarded. ``node`` is the
    processor (or sink) that raised, ``output_topic`` the topic a production error wrote to.
    """

    kind: ErrorKind
    topic: str | None
    partition: int | None
    offset: int | None
    timestamp: int
    headers: Any
    key: bytes | None
    value: bytes | None
    node: str | None = None
    task_id: str | None = None
    output_topic: str | None = None

    def where(self) -> str:
        """``topic/partition/offset`` of the source record, or what failed instead."""
        if self.topic is None:
            about = [f"task {self.task_id}"] if self.task_id else []
            if self.output_topic:
                about.append(f"writing to {self.output_topic}")
            return f"no source record ({', '.join(about) or 'unknown'})"
        return f"{self.topic}/{self.partition}/{self.offset}"


ExceptionHandler = Callable[[ErrorContext, BaseException], "ErrorAction | str"]


class StreamsFailure(StreamsError):
    """A handler said ``fail``: the runtime commits what came before and stops.

    ``processed`` is how many records of the failing batch were fully handled before the
    failing one (processed, skipped or dead-lettered): the runtime commits the batch's
    offsets up to, not including, ``offset``.
    """

    def __init__(self, context: ErrorContext, error: BaseException, reason: str = "") -> None:
        self.context = context
        self.error = error
        self.processed = 0
        node = f" in {context.node}" if context.node else ""
        super().__init__(
            f"{context.kind.value} error at {context.where()}{node}: "
            f"{type(error).__name__}: {error}"
            f" ({HANDLER_SETTINGS[context.kind]}: {reason or 'fail'})"
        )

    @property
    def topic(self) -> str | None:
        """Topic of the failing source record."""
        return self.context.topic

    @property
    def partition(self) -> int | None:
        """Partition of the failing source record."""
        return self.context.partition

    @property
    def offset(self) -> int | None:
        """Offset of the failing source record: the next one to read after a restart."""
        return self.context.offset


def parse_handler(value: Any) -> ErrorAction | ExceptionHandler:
    """An action name (``fail``, ``continue``, ``dead_letter``; ``-`` for ``_`` allowed) or a
    callable handler; anything else raises ``ValueError`` saying what is allowed."""
    if isinstance(value, ErrorAction):
        return value
    if isinstance(value, str):
        text = value.strip().lower().replace("-", "_")
        try:
            return ErrorAction(text)
        except ValueError:
            pass
    elif callable(value):
        return value  # type: ignore[no-any-return]
    allowed = ", ".join(a.value for a in ErrorAction)
    raise ValueError(f"{value!r} is not one of {allowed} or a callable (context, error) -> action")


def handler_config(settings: Any, config: Mapping[str, Any] | None = None,
                   **arguments: Any) -> dict[str, Any]:
    """The three handler entries of a job's StreamsConfig: a runtime's constructor
    ``arguments`` (``None`` = not given) win over the job's ``config`` mapping, which wins
    over ``settings`` (``STREAMS_*_EXCEPTION_HANDLER``)."""
    config = config or {}
    out: dict[str, Any] = {}
    for name in HANDLER_SETTINGS.values():
        given = arguments.pop(name, None)
        out[name] = given if given is not None else config.get(name, getattr(settings, name))
    if arguments:
        raise TypeError(f"unknown handler argument(s): {', '.join(sorted(arguments))}")
    return out


def dead_letter_topic(application_id: str) -> str:
    """The default dead-letter topic of an application."""
    return f"{application_id}-dead-letter"


def record_size_limit(max_request_size: int | None, max_message_bytes: int | None) -> int:
    """The largest record a topic takes: min(producer max.request.size, topic max.message.bytes)."""
    limits = [n for n in (max_request_size, max_message_bytes) if n]
    return min(limits) if limits else DEFAULT_MAX_RECORD_BYTES


def _text(value: object) -> bytes:
    return str(value).encode()


def _class_name(error: BaseException) -> str:
    cls = type(error)  # fully qualified, as Kafka Streams names the Java class
    return cls.__qualname__ if cls.__module__ == "builtins" else \
        f"{cls.__module__}.{cls.__qualname__}"


def dead_letter_record(
    topic: str, context: ErrorContext, error: BaseException, now_ms: int | None = None
) -> OutputRecord:
    """The dead letter of ``context``'s source record: its original key, value and headers,
    plus headers naming the error and the source; stamped with the failure time (an old
    event time would let the topic's time-based retention delete it at once)."""
    headers = [
        *(context.headers or ()),
        (HEADER_KIND, _text(context.kind.value)),
        (HEADER_EXCEPTION, _text(_class_name(error))),
        (HEADER_MESSAGE, _text(error)),
        (HEADER_STACKTRACE, "".join(traceback.format_exception(error)).encode()),
        (HEADER_TOPIC, _text(context.topic if context.topic is not None else "")),
        (HEADER_PARTITION, _text(context.partition if context.partition is not None else -1)),
        (HEADER_OFFSET, _text(context.offset if context.offset is not None else -1)),
        (HEADER_TIMESTAMP, _text(context.timestamp)),
    ]
    ts = int(time.time() * 1000) if now_ms is None else now_ms
    return (topic, context.key, context.value, ts, headers)


class ErrorHandlers:
    """One job's three handlers, its dead-letter topic and counters per kind.

    ``skipped`` counts records dropped with ``continue``, ``dead_lettered`` those written
    to the dead-letter topic.
    """

    def __init__(
        self,
        deserialization: Any = DEFAULT_HANDLERS[ErrorKind.DESERIALIZATION],
        processing: Any = DEFAULT_HANDLERS[ErrorKind.PROCESSING],
        production: Any = DEFAULT_HANDLERS[ErrorKind.PRODUCTION],
        dead_letter_topic: str = "dead-letter",
    ) -> None:
        self.handlers: dict[ErrorKind, ErrorAction | ExceptionHandler] = {
            ErrorKind.DESERIALIZATION: parse_handler(deserialization),
            ErrorKind.PROCESSING: parse_handler(processing),
            ErrorKind.PRODUCTION: parse_handler(production),
        }
        self.dead_letter_topic = dead_letter_topic
        self.skipped: Counter[ErrorKind] = Counter()
        self.dead_lettered: Counter[ErrorKind] = Counter()
        #: The latest dead letters, newest last (bounded: shown by the dashboard).
        self.recent: deque[DeadLetterNote] = deque(maxlen=RECENT_DEAD_LETTERS)

    @classmethod
    def from_config(cls, config: Any, dead_letter_topic_name: str | None = None) -> ErrorHandlers:
        """The handlers a StreamsConfig (or a mapping) names; the dead-letter topic defaults
        to ``<application_id>-dead-letter``."""
        get = config.get if isinstance(config, Mapping) else (
            lambda name, default=None: getattr(config, name, default))
        app_id = get("application_id") or "streams-app"
        return cls(
            *(get(HANDLER_SETTINGS[kind], DEFAULT_HANDLERS[kind]) for kind in ErrorKind),
            dead_letter_topic=dead_letter_topic_name or dead_letter_topic(app_id),
        )

    def decide(self, context: ErrorContext, error: BaseException) -> ErrorAction:
        """The action for ``error``; a user handler that raises or answers something else
        than an action fails the job, like Kafka Streams."""
        handler = self.handlers[context.kind]
        if isinstance(handler, ErrorAction):
            return handler
        try:
            answer = handler(context, error)
        except Exception as exc:
            failure = StreamsFailure(
                context, error, f"the handler raised {type(exc).__name__}: {exc}")
            raise failure from exc
        try:
            return ErrorAction(answer)
        except ValueError:
            raise StreamsFailure(
                context, error, f"the handler returned {answer!r}, not an action") from error

    def handle(self, context: ErrorContext, error: BaseException) -> OutputRecord | None:
        """Apply the handler: ``None`` to skip, a dead-letter record to produce, or raise
        :class:`StreamsFailure` (``fail``)."""
        action = self.decide(context, error)
        setting = HANDLER_SETTINGS[context.kind]
        if action is ErrorAction.FAIL:
            raise StreamsFailure(context, error) from error
        if action is ErrorAction.CONTINUE:
            self.skipped[context.kind] += 1
            log.warning("%s: skipping record at %s: %s: %s", setting, context.where(),
                        type(error).__name__, error)
            return None
        self.dead_lettered[context.kind] += 1
        self.recent.append(DeadLetterNote(time.time(), context.kind.value, context.where(),
                                          type(error).__name__, str(error)[:500]))
        log.warning("%s: dead-lettering record at %s to %s: %s: %s", setting, context.where(),
                    self.dead_letter_topic, type(error).__name__, error)
        return dead_letter_record(self.dead_letter_topic, context, error)

    def production_failed(
        self, output_topic: str, error: BaseException, task_id: str | None = None
    ) -> OutputRecord | None:
        """Route an error the broker reported for a send (e.g. authorization, too large,
        found at flush) through the production handler; the source record is no longer
        known, so a dead letter carries no key or value, only the error headers."""
        context = ErrorContext(ErrorKind.PRODUCTION, None, None, None, -1, (), None, None,
                               task_id=task_id, output_topic=output_topic)
        return self.handle(context, error)
