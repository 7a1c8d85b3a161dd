"""The sink: serializes records into the task's output buffer (no I/O here).

A serializer that raises or a record larger than its topic takes is a production error: the
sink hands it to ``context.handle_production_error`` (the task's production handler) and
writes nothing.
"""

from __future__ import annotations

from typing import Any

from streams_app.processors.api import Processor, ProcessorContext, Record
from streams_app.processors.table import StreamsError

__all__ = ["SinkProcessor", "OutputRecord", "RecordTooLargeError", "DEFAULT_MAX_RECORD_BYTES"]

# (topic, key bytes, value bytes, timestamp ms, headers); the runtime produces these in bulk
OutputRecord = tuple[str, bytes | None, bytes | None, int, Any]

# The producer's default max.request.size and the broker's default message.max.bytes, ~1 MiB.
DEFAULT_MAX_RECORD_BYTES = 1024 * 1024


class RecordTooLargeError(StreamsError):
    """An output record is larger than its topic accepts."""


def record_size(key: bytes | None, value: bytes | None, headers: Any) -> int:
    """Key + value + header keys and values, in bytes (the batch overhead left out)."""
    size = (len(key) if key is not None else 0) + (len(value) if value is not None else 0)
    for name, data in headers or ():
        size += len(name) + (len(data) if data is not None else 0)
    return size


class SinkProcessor(Processor):
    """Serialize with the sink's serdes and append to ``context.sink_buffer``.

    ``max_bytes`` is the largest record the topic takes; the runtime sets it per topic.
    """

    def __init__(self, topic: str, key_serde: Any, value_serde: Any,
                 max_bytes: int = DEFAULT_MAX_RECORD_BYTES) -> None:
        self.topic = topic
        self.key_serde = key_serde
        self.value_serde = value_serde
        self.max_bytes = max_bytes

    def init(self, context: ProcessorContext) -> None:
        """Bind the buffer's append once (hot path)."""
        self.context = context
        self._append = context.sink_buffer.append  # type: ignore[attr-defined]
        self._failed = getattr(context, "handle_production_error", None)

    def process(self, record: Record) -> None:
        """Serialize and buffer the record."""
        ts = record.timestamp
        if ts < 0:
            raise StreamsError(
                f"Sink to {self.topic}: invalid (negative) timestamp {ts} for key {record.key!r}"
            )
        try:
            key = self.key_serde.serialize(record.key)
            value = self.value_serde.serialize(record.value)
        except Exception as exc:
            self._production_error(exc)
            return
        headers = record.headers
        size = (len(key) if key is not None else 0) + (len(value) if value is not None else 0)
        if size > self.max_bytes or (headers and record_size(key, value, headers) > self.max_bytes):
            self._production_error(RecordTooLargeError(
                f"record of {record_size(key, value, headers)} bytes for {self.topic} is larger "
                f"than its limit of {self.max_bytes} bytes (min of the producer's "
                "max.request.size and the topic's max.message.bytes)"))
            return
        self._append((self.topic, key, value, ts, headers))

    def _production_error(self, error: Exception) -> None:
        if self._failed is None:  # a context without handlers: the error is the caller's
            raise error
        self._failed(self.topic, error)
