"""Reading only committed data (exactly-once): the input consumer and changelog restore.

Under exactly-once every topic the worker reads may hold records of open or aborted
transactions, so its consumer reads with ``isolation_level="read_committed"``: repartition
topics and changelogs deliver committed records only, and end offsets are last stable offsets.

Faust's recovery counts a changelog partition as restored once it has seen the record at
``end offset - 1``. In a transactional changelog that offset is a commit marker (or an aborted
record), never delivered, so recovery would never end. :class:`CommittedRecovery` also counts
it restored once the consumer's position has reached the end offset (aiokafka moves the
position past markers and aborted batches it skips) and recovery has applied every record
fetched before that position (:class:`FetchProgress`): records still queued for recovery
must not be dropped by ending it early.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any

import aiokafka
from faust.types import TP

from streams_app.runtime.faust_compat import fetch_position, set_read_committed
from streams_app.runtime.faust_consumer_loop import InLoopConsumerThread
from streams_app.runtime.table_manager import StreamsRecovery, StreamsTableManager

__all__ = ["CommittedRecovery", "CommittedTableManager", "FetchProgress",
           "ReadCommittedConsumerThread"]


class ReadCommittedConsumerThread(InLoopConsumerThread):
    """The in-loop consumer with ``isolation_level="read_committed"``."""

    def configure(self, consumer: aiokafka.AIOKafkaConsumer) -> None:
        """Faust ties the isolation level to its own exactly-once mode, which is off here
        (see streams_app.runtime.transactions)."""
        super().configure(consumer)
        set_read_committed(consumer)

    def fetched_position(self, tp: TP) -> int | None:
        """The next offset the consumer fetches for ``tp`` (None: unassigned or unknown)."""
        return fetch_position(self.aiokafka_consumer, tp)


class FetchProgress:
    """What the consumer had fetched of each changelog partition under restore.

    Updated each time the consumer's fetch loop takes a new fetch result, when the records
    of every earlier result have been handed to recovery: per watched partition, the
    consumer's position then and the last record offset handed out up to then.
    """

    def __init__(self, position: Callable[[TP], int | None]) -> None:
        self._position = position
        self.watched: set[TP] = set()
        self.last_record: dict[TP, int] = {}
        self.position: dict[TP, int] = {}

    def fetched(self, records: Mapping[TP, list[Any]] | None) -> None:
        """Note a fetch result (``{tp: records}``) about to be handed out."""
        if not self.watched:
            return
        for tp in self.watched:
            batch = records.get(tp) if records else None
            if batch:
                self.last_record[tp] = batch[-1].offset
            at = self._position(tp)
            if at is not None:
                self.position[tp] = at

    def restored(self, tp: TP, applied: int | None, end: int) -> bool:
        """True once the position reached ``end`` and every record before it is ``applied``."""
        self.watched.add(tp)
        at = self.position.get(tp)
        if at is None or at < end:
            return False
        last = self.last_record.get(tp)
        done = last is None or (applied is not None and applied >= last)
        if done:  # stop tracking it; a later recovery of it starts over
            self.watched.discard(tp)
            self.last_record.pop(tp, None)
            self.position.pop(tp, None)
        return done


class CommittedRecovery(StreamsRecovery):
    """Recovery that ends at a transactional changelog's end (see the module docstring)."""

    def active_remaining(self) -> Counter[TP]:
        """Changes left per active changelog partition; 0 once restored to the end offset."""
        remaining = super().active_remaining()
        progress: FetchProgress | None = getattr(self.app.consumer, "fetch_progress", None)
        if progress is None:
            return remaining
        offsets, highwaters = self.active_offsets, self.active_highwaters
        for tp, left in remaining.items():
            # Faust's highwater is the end offset - 1.
            if left > 0 and progress.restored(tp, offsets[tp], highwaters[tp] + 1):
                offsets[tp] = highwaters[tp]  # as Faust's own aborted-transaction check does
                remaining[tp] = 0
        return remaining


class CommittedTableManager(StreamsTableManager):
    """Faust's table manager with :class:`CommittedRecovery`."""

    Recovery = CommittedRecovery
