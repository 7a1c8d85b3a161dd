"""The batch consumer runs aiokafka in the worker's own event loop: no consumer thread.

A Faust worker runs in this process (as the benchmark runs it) on a real broker. Every batch
must reach the handler on the main thread, from an aiokafka consumer bound to the running
loop, with no mode ``WorkerThread`` alive; the counts must be complete, and the worker must
stop cleanly (aiokafka closed) once asked to.
"""

from __future__ import annotations

import asyncio
import io
import logging
import threading
import time
from collections import Counter
from typing import Any

import faust
from aiokafka import AIOKafkaProducer
from faust.types import TP
from mode.threads import WorkerThread

from streams_app.kafka.admin import ensure_topics
from streams_app.kafka.topics import TopicSpec
from streams_app.runtime.faust_consumer_loop import InLoopConsumerThread
from streams_app.runtime.faust_runtime import FaustRuntime
from streams_app.serdes import JsonSerde, StringSerde
from streams_app.settings import Settings
from streams_app.state.api import ValueAndTimestamp
from tests.runtime.topologies import CASES

J, S = JsonSerde(), StringSerde()
PARTITIONS, TOTAL = 4, 6_000


async def produce(bootstrap: str, topic: str) -> Counter:
    counts: Counter = Counter()
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=5)
    await producer.start()
    try:
        for i in range(TOTAL):
            key = f"k{i % 23}"
            counts[key] += 1
            await producer.send(topic, J.serialize({"n": i}), key=S.serialize(key))
        await producer.flush()
    finally:
        await producer.stop()
    return counts


def test_batches_arrive_in_the_worker_loop_without_a_thread(kafka_bootstrap, unique_name,
                                                            tmp_path):
    prefix = f"{unique_name}-"
    source = f"{prefix}in"
    asyncio.run(ensure_topics(kafka_bootstrap, [TopicSpec(source, PARTITIONS, 1)]))
    truth = asyncio.run(produce(kafka_bootstrap, source))
    settings = Settings.from_env(
        env={}, bootstrap_servers=kafka_bootstrap, app_id=f"{unique_name}-app",
        data_dir=str(tmp_path / "data"), topic_partitions=PARTITIONS,
        auto_offset_reset="earliest", log_level="warning")
    runtime = FaustRuntime(CASES["count"].build(prefix), settings,
                           config={"default_key_serde": "string"})
    app = runtime.app
    handler = runtime.hooks.handlers[source]
    seen: dict[str, Any] = {"records": 0, "foreign": []}

    async def observing(tp: TP, records: list) -> None:
        aiokafka_consumer = app.consumer._thread._consumer
        if (threading.current_thread() is not threading.main_thread()
                or aiokafka_consumer._loop is not asyncio.get_running_loop()):
            seen["foreign"].append(tp)
        await handler(tp, records)
        seen["records"] += len(records)

    runtime.hooks.handlers[source] = observing
    counts: dict[str, int] = {}

    @app.task
    async def finish() -> None:
        # Completion is a condition on the handler's progress, polled with a deadline.
        deadline = time.monotonic() + 120
        while seen["records"] < TOTAL and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        seen["threads"] = [t.name for t in threading.enumerate() if isinstance(t, WorkerThread)]
        # The store's changelog is assigned but unread: paused in aiokafka too (else its
        # records, once fetched, stall every fetch for aiokafka's 100 ms backoff), and
        # Faust's livelock check must not call that a stuck partition.
        aio = app.consumer._thread._consumer
        changelog = {tp for tp in aio.assignment() if tp.topic.endswith("-changelog")}
        seen["changelog_paused"] = bool(changelog) and changelog <= aio.paused()
        errors: list = []
        log = app.consumer._thread.log
        real_error, log.error = log.error, lambda *a, **k: errors.append(a)
        try:
            for tp in changelog:
                app.consumer._thread.verify_event_path(time.monotonic() + 3600, tp)
        finally:
            log.error = real_error
        seen["livelock_errors"] = errors
        await app.consumer.commit()
        for task in runtime.tasks.values():
            for key, value in task.stores["counts"].outer.all():
                counts[str(key)] = value.value if isinstance(value, ValueAndTimestamp) else value
        seen["stop_asked"] = time.monotonic()
        await worker.stop()  # this task is cancelled on the way

    # Its own stdout: Faust's spinner writes to it at exit, after pytest closed the capture.
    worker = faust.Worker(app, quiet=True, loglevel=logging.WARNING, stdout=io.StringIO())
    try:
        worker.execute_from_commandline()
    except SystemExit:
        pass
    stopped_in = time.monotonic() - seen["stop_asked"]
    thread = app.consumer._thread
    assert seen["records"] >= TOTAL, seen
    assert seen["foreign"] == [], "batches handled outside the worker's loop"
    assert seen["changelog_paused"], "changelog partitions still fetched by aiokafka"
    assert seen["livelock_errors"] == []
    assert seen["threads"] == [], f"threads of mode services alive: {seen['threads']}"
    assert counts == dict(truth)
    assert stopped_in < 30, f"worker took {stopped_in:.1f} s to stop"
    assert thread._consumer._closed, "aiokafka consumer left open after stop"
    assert isinstance(thread, InLoopConsumerThread)
