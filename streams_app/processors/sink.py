"""The sink: serializes records into the task's output buffer (no I/O here)."""

from __future__ import annotations

from typing import Any

from streams_app.processors.api import Processor, ProcessorContext, Record
from streams_app.processors.table import StreamsError

__all__ = ["SinkProcessor", "OutputRecord"]

# (topic, key bytes, value bytes, timestamp ms, headers); the runtime produces these in bulk
OutputRecord = tuple[str, bytes | None, bytes | None, int, Any]


class SinkProcessor(Processor):
    """Serialize with the sink's serdes and append to ``context.sink_buffer``."""

    def __init__(self, topic: str, key_serde: Any, value_serde: Any) -> None:
        self.topic = topic
        self.key_serde = key_serde
        self.value_serde = value_serde

    def init(self, context: ProcessorContext) -> None:
        """Bind the buffer's append once (hot path)."""
        self.context = context
        self._append = context.sink_buffer.append  # type: ignore[attr-defined]

    def process(self, record: Record) -> None:
        """Serialize and buffer the record."""
        ts = record.timestamp
        if ts < 0:
            raise StreamsError(
                f"Sink to {self.topic}: invalid (negative) timestamp {ts} for key {record.key!r}"
            )
        self._append(
            (
                self.topic,
                self.key_serde.serialize(record.key),
                self.value_serde.serialize(record.value),
                ts,
                record.headers,
            )
        )
