"""Faust's aiokafka consumer "thread", run as a plain service in the app's own event loop.

Faust runs aiokafka in a dedicated thread with its own event loop and hands every fetch,
commit and seek over through a method queue. For a batch consumer that costs most of the
wall time: the processing loop sleeps in ``epoll`` until the thread answers, and the two
threads fight for the GIL while the consumer parses fetch responses. Here the "thread" is
the same class (group membership, assignor, rebalance listener, commits, recovery seeks are
all Faust's code) but it never starts a thread: aiokafka lives in the app loop, like a bare
``getmany`` loop, and calls into it are plain awaits (the mechanics are in
:class:`~streams_app.runtime.faust_compat.InLoopConsumerThreadBase`).

Rebalance callbacks still travel through the consumer's method queue
(``threadsafe_partitions_revoked``/``_assigned``), which works unchanged inside one loop.

The price: heartbeats share the loop with processing, so no single synchronous stretch (one
batch handler call) may come near ``broker_session_timeout``; a fetched batch takes tens of
milliseconds, far below it.
"""

from __future__ import annotations

from typing import Any

from aiokafka import AIOKafkaConsumer
from aiokafka.structs import TopicPartition

from streams_app.runtime import lean_records
from streams_app.runtime.faust_compat import InLoopConsumerThreadBase, set_fetch_max_wait

__all__ = ["FETCH_MAX_WAIT_MS", "InLoopConsumerThread"]

#: Longest time the broker may hold a fetch that found no new data. Faust hard-codes 1500 ms;
#: with one fetch in flight per broker, a fetch parked on caught-up partitions (a repartition
#: topic, an exhausted input partition) delays every other partition's next fetch that long.
FETCH_MAX_WAIT_MS = 100


class InLoopConsumerThread(InLoopConsumerThreadBase):
    """Faust's consumer thread whose "thread loop" is the app loop; no thread."""

    def verify_event_path(self, now: float, tp: Any) -> None:
        """Faust's livelock check, minus partitions paused on purpose (they are not fetched).

        The batch consumer pauses in aiokafka what Faust pauses (an unread changelog after
        recovery); Faust's check would report those as "no fetch request since start".
        """
        consumer = self.aiokafka_consumer
        if consumer is not None and TopicPartition(tp.topic, tp.partition) in consumer.paused():
            return None
        return super().verify_event_path(now, tp)

    def configure(self, consumer: AIOKafkaConsumer) -> None:
        """Shorter fetch waits; fetched records as lean tuples (this is a worker process)."""
        set_fetch_max_wait(consumer, FETCH_MAX_WAIT_MS)
        lean_records.install()
