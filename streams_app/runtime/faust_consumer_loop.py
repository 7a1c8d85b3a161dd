"""Faust's aiokafka consumer "thread", run as a plain service in the app's own event loop.

Faust runs aiokafka in a dedicated thread with its own event loop and hands every fetch,
commit and seek over through a method queue. For a batch consumer that costs most of the
wall time: the processing loop sleeps in ``epoll`` until the thread answers, and the two
threads fight for the GIL while the consumer parses fetch responses. Here the "thread" is
the same class (group membership, assignor, rebalance listener, commits, recovery seeks are
all Faust's code) but it never starts a thread: aiokafka lives in the app loop, like a bare
``getmany`` loop, and calls into it are plain awaits.

Rebalance callbacks still travel through the consumer's method queue
(``threadsafe_partitions_revoked``/``_assigned``), which works unchanged inside one loop.

The price: heartbeats share the loop with processing, so no single synchronous stretch (one
batch handler call) may come near ``broker_session_timeout``; a fetched batch takes tens of
milliseconds, far below it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiokafka.structs import TopicPartition
from faust.transport.drivers import aiokafka as faust_aiokafka
from mode import Service
from mode.utils.futures import maybe_async

from streams_app.runtime import lean_records

#: Longest time the broker may hold a fetch that found no new data. Faust hard-codes 1500 ms;
#: with one fetch in flight per broker, a fetch parked on caught-up partitions (a repartition
#: topic, an exhausted input partition) delays every other partition's next fetch that long.
FETCH_MAX_WAIT_MS = 100


class InLoopConsumerThread(faust_aiokafka.AIOKafkaConsumerThread):
    """:class:`AIOKafkaConsumerThread` whose "thread loop" is the app loop; no thread."""

    def verify_event_path(self, now: float, tp: Any) -> None:
        """Faust's livelock check, minus partitions paused on purpose (they are not fetched).

        The batch consumer pauses in aiokafka what Faust pauses (an unread changelog after
        recovery); Faust's check would report those as "no fetch request since start".
        """
        consumer = self._consumer
        if consumer is not None and TopicPartition(tp.topic, tp.partition) in consumer.paused():
            return None
        return super().verify_event_path(now, tp)

    def _create_worker_consumer(self, transport: Any) -> Any:
        consumer = super()._create_worker_consumer(transport)
        consumer._fetch_max_wait_ms = FETCH_MAX_WAIT_MS  # read when aiokafka starts its fetcher
        lean_records.install()  # a worker process: fetched records as lean tuples
        return consumer

    def __init__(self, consumer: Any, *, loop: Any, **kwargs: Any) -> None:
        # One loop for both roles: mode does not close a thread loop it was given.
        super().__init__(consumer, loop=loop, thread_loop=loop, **kwargs)

    async def start(self) -> None:
        """Start aiokafka in this loop (``on_start``) and this service's own tasks."""
        self._thread_started.set()  # ServiceThread.maybe_start checks this flag
        await self._default_start()

    async def stop(self) -> None:
        """Stop like the thread would on its way out: aiokafka first, then tasks."""
        if not self._started.is_set() or self._stopped.is_set():
            return
        self._stopped.set()
        await self.on_stop()
        # ServiceThread's own teardown (on_thread_stop stops aiokafka, then children,
        # futures and exit stacks); its task sweep is skipped: this loop is the app's.
        await self._shutdown_thread()
        await self.on_shutdown()

    def _stopped_set(self) -> None:
        self._stopped.set()

    def set_shutdown(self) -> None:
        self._shutdown.set()

    async def call_thread(self, fun: Callable[..., Awaitable[Any]], *args: Any,
                          **kwargs: Any) -> Any:
        """Run ``fun`` right here: the caller is already in the consumer's loop."""
        return await maybe_async(fun(*args, **kwargs))  # some are plain functions

    async def cast_thread(self, fun: Callable[..., Awaitable[Any]], *args: Any,
                          **kwargs: Any) -> None:
        """Run ``fun`` in the background, owned (and cancelled on stop) by this service."""
        self.add_future(maybe_async(fun(*args, **kwargs)))

    @Service.task
    async def _thread_keepalive(self) -> None:
        # ServiceThread wakes a foreign loop every second; there is none here.
        return None
