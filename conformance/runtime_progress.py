"""A scenario's progress on the broker (end offsets, the group's commits) through two clients
kept for the scenario's whole run: the harness polls every 50 ms, and a fresh consumer and
admin client per poll (streams_app.kafka.reader's one-shot helpers) cost more CPU than the
scenario itself on a loaded machine.
"""

from __future__ import annotations

from types import TracebackType

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError

from streams_app.kafka.reader import topic_partitions


class Progress:
    """End offsets and committed offsets of one group, one consumer and one admin client."""

    def __init__(self, bootstrap: str, group_id: str) -> None:
        self.group_id = group_id
        self._consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
        self._admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
        self._partitions: dict[str, list[TopicPartition]] = {}

    async def __aenter__(self) -> Progress:
        await self._consumer.start()
        await self._admin.start()
        return self

    async def __aexit__(self, *exc: type[BaseException] | BaseException | TracebackType | None
                        ) -> None:
        await self._consumer.stop()
        await self._admin.close()

    async def _tps(self, topics: list[str]) -> list[TopicPartition]:
        for t in topics:
            if t not in self._partitions:  # an internal topic may not exist yet: LookupError
                self._partitions[t] = await topic_partitions(self._consumer, t)
        return [tp for t in topics for tp in self._partitions[t]]

    async def end_offsets(self, topics: list[str]) -> dict[TopicPartition, int]:
        """Partition -> the offset the next record will get, for every partition of ``topics``."""
        return dict(await self._consumer.end_offsets(await self._tps(topics)))

    async def caught_up(self, topics: list[str]) -> bool:
        """Whether the group has committed the end of every partition of ``topics``."""
        try:
            ends = await self.end_offsets(topics)
        except LookupError:  # a topic the worker has not created yet
            return False
        try:
            done = await self._admin.list_consumer_group_offsets(self.group_id)
        except KafkaError as exc:
            if not exc.retriable:
                raise
            return False  # a coordinator not ready yet: nothing committed
        committed = {tp: m.offset for tp, m in done.items() if m.offset >= 0}
        return all(committed.get(tp, 0) >= end for tp, end in ends.items())
