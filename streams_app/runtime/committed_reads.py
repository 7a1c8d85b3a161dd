"""Reading only committed data (exactly-once): the input consumer and changelog restore.

Under exactly-once every topic the worker reads may hold records of open or aborted
transactions, so its consumer reads with ``isolation_level="read_committed"``: repartition
topics and changelogs deliver committed records only, and end offsets are last stable offsets.

Faust's recovery counts a changelog partition as restored once it has seen the record at
``end offset - 1``. In a transactional changelog that offset is a commit marker (or an aborted
record), never delivered, so recovery would never end. :class:`CommittedRecovery` also counts
it restored once the consumer's position has reached the end offset (aiokafka moves the
position past markers and aborted batches it skips).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import aiokafka
from faust.tables import TableManager
from faust.tables.recovery import Recovery
from faust.types import TP

from streams_app.runtime.faust_consumer_loop import InLoopConsumerThread

__all__ = ["CommittedRecovery", "CommittedTableManager", "ReadCommittedConsumerThread"]

READ_COMMITTED = "read_committed"


class ReadCommittedConsumerThread(InLoopConsumerThread):
    """The in-loop consumer with ``isolation_level="read_committed"``."""

    def _create_worker_consumer(self, transport: Any) -> aiokafka.AIOKafkaConsumer:
        consumer = super()._create_worker_consumer(transport)
        # Faust ties the isolation level to its own exactly-once mode, which is off here (see
        # streams_app.runtime.transactions); aiokafka reads it when the consumer starts.
        assert hasattr(consumer, "_isolation_level"), "aiokafka consumer layout changed"
        consumer._isolation_level = READ_COMMITTED
        return consumer

    def fetched_position(self, tp: TP) -> int | None:
        """The next offset the consumer fetches for ``tp`` (None: unassigned or unknown)."""
        consumer = self._consumer
        if consumer is None:
            return None
        subscription = consumer._subscription
        if not subscription.is_assigned(tp):
            return None
        state = subscription.subscription.assignment.state_value(tp)
        return state.position if state is not None and state.has_valid_position else None


class CommittedRecovery(Recovery):
    """Recovery that ends at a transactional changelog's end (see the module docstring)."""

    def active_remaining(self) -> Counter[TP]:
        """Changes left per active changelog partition; 0 once the position is at the end."""
        remaining = super().active_remaining()
        thread = getattr(self.app.consumer, "_thread", None)
        position = getattr(thread, "fetched_position", None)
        if position is None:
            return remaining
        for tp, left in remaining.items():
            if left > 0:
                at = position(tp)
                # Faust's highwater is end offset - 1.
                if at is not None and at > self.active_highwaters[tp]:
                    remaining[tp] = 0
        return remaining


class CommittedTableManager(TableManager):
    """Faust's table manager with :class:`CommittedRecovery`."""

    @property
    def recovery(self) -> Recovery:
        """Recovery service used by this table manager."""
        if self._recovery is None:
            self._recovery = CommittedRecovery(
                self.app, self, beacon=self.beacon, loop=self.loop)
        return self._recovery
