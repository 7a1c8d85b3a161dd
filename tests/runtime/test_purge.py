"""RepartitionPurger: consumed repartition records are deleted after commits, at most once per
interval, never records of other topics; failures are logged and processing goes on."""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Mapping

import pytest
from aiokafka import AIOKafkaProducer, TopicPartition

from streams_app.kafka.admin import delete_records, ensure_topics, log_start_offsets
from streams_app.kafka.topics import TopicSpec
from streams_app.runtime.purge import RepartitionPurger

R0, R1 = TopicPartition("app-r-repartition", 0), TopicPartition("app-r-repartition", 1)
USER = TopicPartition("input", 0)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Recorder:
    """A delete function that records its calls and can be made to fail or to block."""

    def __init__(self) -> None:
        self.calls: list[dict[TopicPartition, int]] = []
        self.fail: Exception | None = None
        self.gate: asyncio.Event | None = None
        self.called = asyncio.Event()

    async def __call__(self, offsets: Mapping[TopicPartition, int]) -> None:
        self.calls.append(dict(offsets))
        self.called.set()
        if self.gate is not None:
            await self.gate.wait()
        if self.fail is not None:
            raise self.fail


def purger(delete: Recorder, clock: Clock, interval_ms: int = 1000) -> RepartitionPurger:
    return RepartitionPurger(delete, ["app-r-repartition"], interval_ms, clock)


async def test_purges_at_most_once_per_interval_with_the_newest_offsets() -> None:
    delete, clock = Recorder(), Clock()
    p = purger(delete, clock)
    await p.after_commit({R0: 5, USER: 9})
    assert delete.calls == []  # the first interval has not passed
    clock.now = 1000
    await p.after_commit({R1: 7})
    await p.wait()
    assert delete.calls == [{R0: 5, R1: 7}]  # offsets of earlier commits count too
    clock.now = 1500
    await p.after_commit({R0: 8})
    await p.wait()
    assert len(delete.calls) == 1
    clock.now = 2000
    await p.after_commit({})
    await p.wait()
    assert delete.calls[1] == {R0: 8}  # R1 did not move: not asked again


async def test_failures_are_logged_rate_limited_and_retried(
    caplog: pytest.LogCaptureFixture,
) -> None:
    delete, clock = Recorder(), Clock()
    delete.fail = RuntimeError("broker says no")
    p = purger(delete, clock, interval_ms=0)
    with caplog.at_level(logging.WARNING, logger="streams_app.runtime.purge"):
        for step in range(3):
            clock.now = step * 100
            await p.after_commit({R0: 5 + step})
            await p.wait()
    assert [c[R0] for c in delete.calls] == [5, 6, 7]  # retried with newer offsets
    warnings = [r for r in caplog.records if "broker says no" in r.getMessage()]
    assert len(warnings) == 1
    delete.fail = None
    clock.now = 70_000
    await p.after_commit({R0: 9})
    await p.wait()
    assert delete.calls[-1] == {R0: 9}


async def test_no_new_request_while_one_is_in_flight() -> None:
    delete, clock = Recorder(), Clock()
    delete.gate = asyncio.Event()
    p = purger(delete, clock, interval_ms=0)
    await p.after_commit({R0: 5})
    await delete.called.wait()  # the background deletion has started and is blocked
    await p.after_commit({R0: 6})  # returns at once: the commit never waits for a purge
    assert delete.calls == [{R0: 5}]
    delete.gate.set()
    await p.wait()
    await p.after_commit({})
    await p.close()
    assert delete.calls == [{R0: 5}, {R0: 6}]


def test_interval_must_be_non_negative() -> None:
    with pytest.raises(ValueError, match="interval_ms must be an integer >= 0, got -1"):
        RepartitionPurger(Recorder(), [], -1)


async def test_purger_advances_log_start_of_repartition_partitions_only(
    kafka_bootstrap: str, unique_name: str
) -> None:
    repartition, other = f"{unique_name}-x-repartition", f"{unique_name}-input"
    await ensure_topics(kafka_bootstrap, [TopicSpec.repartition(repartition, 2),
                                          TopicSpec(other, 1)])
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
    await producer.start()
    try:
        for i in range(6):
            await producer.send_and_wait(repartition, b"v", partition=i % 2)
            await producer.send_and_wait(other, b"v", partition=0)
    finally:
        await producer.stop()
    r0, r1, o0 = (TopicPartition(repartition, 0), TopicPartition(repartition, 1),
                  TopicPartition(other, 0))
    p = RepartitionPurger(functools.partial(delete_records, kafka_bootstrap), [repartition],
                          interval_ms=0)
    await p.after_commit({r0: 2, r1: 3, o0: 4})
    await p.close()
    assert await log_start_offsets(kafka_bootstrap, [r0, r1, o0]) == {r0: 2, r1: 3, o0: 0}
