"""A task's record collector: every record the task produces goes through it.

Kafka Streams' ``RecordCollector``: sinks append their serialized output records and
change-logging store layers append their writes (``context.logChange``); the runtime takes
them, serialized, in bulk (:meth:`RecordCollector.take`) or sends them through a
:class:`~streams_app.runtime.producing.BulkProducer` (:meth:`RecordCollector.send`).
Nothing polls store layers. The hot path is one ``list.append`` per record; changelog
entries are serialized in bulk when taken.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Protocol

__all__ = ["ChangelogEncoder", "OutputRecord", "RecordCollector", "RecordSender"]

# (topic, key bytes, value bytes, timestamp ms, headers)
OutputRecord = tuple[str, bytes | None, bytes | None, int, Any]

#: encode(topic, key_serde, value_serde, entries) -> changelog records; a store layer's
#: own layout of the entries it logged.
ChangelogEncoder = Callable[[str, Any, Any, list[Any]], Iterable[OutputRecord]]


class RecordSender(Protocol):
    """What :meth:`RecordCollector.send` hands records to (a BulkProducer)."""

    async def send(self, records: Iterable[OutputRecord],
                   partition: int | None = None) -> int: ...


class _Changelog:
    __slots__ = ("topic", "key_serde", "value_serde", "encode", "entries")

    def __init__(self, topic: str, key_serde: Any, value_serde: Any,
                 encode: ChangelogEncoder) -> None:
        self.topic, self.key_serde, self.value_serde = topic, key_serde, value_serde
        self.encode = encode
        self.entries: list[Any] = []


class RecordCollector:
    """Output and changelog records of one task; changelogs go to the task's ``partition``."""

    def __init__(self, partition: int) -> None:
        self.partition = partition
        #: Serialized sink records, appended by sinks (keyed: partitioned by the producer).
        self.output: list[OutputRecord] = []
        self._changelogs: list[_Changelog] = []
        #: ``on_sent(output count, changelog count, last output timestamp ms or None)``
        #: after each :meth:`send` that sent something (the metrics' per-send count).
        self.on_sent: Callable[[int, int, int | None], None] | None = None

    def changelog(self, topic: str, key_serde: Any, value_serde: Any,
                  encode: ChangelogEncoder) -> Callable[[Any], None]:
        """Register a store's changelog; returns the ``append`` its layer logs entries with."""
        log = _Changelog(topic, key_serde, value_serde, encode)
        self._changelogs.append(log)
        return log.entries.append

    def take_output(self) -> list[OutputRecord]:
        """The sink records collected since the last take."""
        out = self.output
        if not out:
            return []
        taken = out[:]  # sinks hold the list's bound append: empty it in place
        out.clear()
        return taken

    def take_changelogs(self) -> list[OutputRecord]:
        """The logged store writes since the last take, serialized for their changelogs."""
        records: list[OutputRecord] = []
        for log in self._changelogs:
            entries = log.entries
            if entries:
                taken = entries[:]
                entries.clear()
                records.extend(log.encode(log.topic, log.key_serde, log.value_serde, taken))
        return records

    def take(self) -> list[OutputRecord]:
        """Output records, then changelog records."""
        return self.take_output() + self.take_changelogs()

    async def send(self, sender: RecordSender) -> None:
        """Hand everything collected to ``sender`` (delivery is awaited by its flush)."""
        out = self.take_output()
        if out:
            await sender.send(out)
        logs = self.take_changelogs()
        if logs:
            await sender.send(logs, partition=self.partition)
        if self.on_sent is not None and (out or logs):
            self.on_sent(len(out), len(logs), out[-1][3] if out else None)

    def discard(self) -> None:
        """Drop what was collected (a revoked task's uncommitted records)."""
        self.output.clear()
        for log in self._changelogs:
            log.entries.clear()
