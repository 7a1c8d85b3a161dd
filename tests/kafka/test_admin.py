"""ensure_topics / describe_topic against a real Kafka broker (the ``kafka_bootstrap`` fixture)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

import pytest
from aiokafka import AIOKafkaProducer, TopicPartition
from aiokafka.errors import InvalidConfigurationError, InvalidReplicationFactorError

from streams_app.kafka.admin import (
    TopicDescription,
    TopicMismatchError,
    TopicNotFoundError,
    delete_records,
    describe_topic,
    ensure_topics,
    log_start_offsets,
)
from streams_app.kafka.topics import TopicSpec

pytestmark = pytest.mark.integration


async def _eventually(
    probe: Callable[[], Awaitable[TopicDescription]],
    check: Callable[[TopicDescription], bool],
    timeout: float = 10.0,
) -> TopicDescription:
    """Poll ``probe`` until ``check`` holds (metadata propagates asynchronously) or time out."""
    deadline = time.monotonic() + timeout
    while True:
        result = await probe()
        if check(result):
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s; last: {result}")
        await asyncio.sleep(0.05)  # poll interval of the deadline loop


async def test_creates_topics_with_their_configs(kafka_bootstrap: str, unique_name: str) -> None:
    specs = [
        TopicSpec(f"{unique_name}-events", 3, 1, retention_ms=3_600_000, cleanup_policy="delete"),
        TopicSpec(
            f"{unique_name}-state",
            2,
            1,
            retention_ms=-1,
            cleanup_policy="delete,compact",
            configs={"min.compaction.lag.ms": 5000},
        ),
    ]
    result = await ensure_topics(kafka_bootstrap, specs)
    assert result == {s.name: "created" for s in specs}

    events = await describe_topic(kafka_bootstrap, specs[0].name)
    assert (events.partitions, events.replication_factor) == (3, 1)
    assert events.in_sync_replicas == (1, 1, 1)
    assert events.configs["retention.ms"] == "3600000"
    assert events.configs["cleanup.policy"] == "delete"

    state = await describe_topic(kafka_bootstrap, specs[1].name)
    assert (state.partitions, state.replication_factor) == (2, 1)
    assert state.configs["retention.ms"] == "-1"
    assert set(state.configs["cleanup.policy"].split(",")) == {"compact", "delete"}
    assert state.configs["min.compaction.lag.ms"] == "5000"


async def test_matching_existing_topic_is_unchanged(kafka_bootstrap: str, unique_name: str) -> None:
    spec = TopicSpec(unique_name, 2, cleanup_policy="compact,delete", retention_ms=60_000)
    assert await ensure_topics(kafka_bootstrap, [spec]) == {unique_name: "created"}
    # Same spec, other spelling of the policy: still equal.
    again = TopicSpec(unique_name, 2, cleanup_policy="delete,compact", retention_ms=60_000)
    assert await ensure_topics(kafka_bootstrap, [again]) == {unique_name: "unchanged"}
    assert await ensure_topics(kafka_bootstrap, [again], alter=True) == {unique_name: "unchanged"}


async def test_mismatch_lists_every_field(kafka_bootstrap: str, unique_name: str) -> None:
    await ensure_topics(kafka_bootstrap, [TopicSpec(unique_name, 3, retention_ms=60_000)])
    wanted = TopicSpec(
        unique_name,
        partitions=2,
        replication_factor=2,
        retention_ms=1000,
        cleanup_policy="compact",
        configs={"segment.ms": 100_000},
    )
    with pytest.raises(TopicMismatchError) as info:
        await ensure_topics(kafka_bootstrap, [wanted])
    found = {m.field: (m.expected, m.actual) for m in info.value.mismatches[unique_name]}
    assert found == {
        "partitions": ("2", "3"),
        "replication_factor": ("2", "1"),
        "retention.ms": ("1000", "60000"),
        "cleanup.policy": ("compact", "delete"),
        "segment.ms": ("100000", "604800000"),
    }
    text = str(info.value)
    assert unique_name in text and "retention.ms: spec 1000, actual 60000" in text
    # Nothing was changed by the failed check.
    after = await describe_topic(kafka_bootstrap, unique_name)
    assert (after.partitions, after.configs["retention.ms"]) == (3, "60000")


async def test_alter_fixes_configs_and_adds_partitions(
    kafka_bootstrap: str, unique_name: str
) -> None:
    await ensure_topics(kafka_bootstrap, [TopicSpec(unique_name, 1, retention_ms=60_000)])
    wanted = TopicSpec(unique_name, 3, retention_ms=120_000, cleanup_policy="compact")
    with pytest.raises(TopicMismatchError):
        await ensure_topics(kafka_bootstrap, [wanted])

    assert await ensure_topics(kafka_bootstrap, [wanted], alter=True) == {unique_name: "altered"}

    fixed = await _eventually(
        lambda: describe_topic(kafka_bootstrap, unique_name),
        lambda d: d.partitions == 3 and d.configs.get("retention.ms") == "120000",
    )
    assert fixed.configs["cleanup.policy"] == "compact"
    assert await ensure_topics(kafka_bootstrap, [wanted]) == {unique_name: "unchanged"}


async def test_alter_cannot_decrease_partitions_or_change_replication(
    kafka_bootstrap: str, unique_name: str
) -> None:
    await ensure_topics(kafka_bootstrap, [TopicSpec(unique_name, 4)])
    with pytest.raises(TopicMismatchError) as info:
        await ensure_topics(kafka_bootstrap, [TopicSpec(unique_name, 2)], alter=True)
    assert [(m.field, m.expected, m.actual) for m in info.value.mismatches[unique_name]] == [
        ("partitions", "2", "4")
    ]
    with pytest.raises(TopicMismatchError, match="replication_factor: spec 2, actual 1"):
        await ensure_topics(
            kafka_bootstrap, [TopicSpec(unique_name, 4, replication_factor=2)], alter=True
        )
    assert (await describe_topic(kafka_bootstrap, unique_name)).partitions == 4


async def test_concurrent_creation_race_is_handled(kafka_bootstrap: str, unique_name: str) -> None:
    spec = TopicSpec(unique_name, 2, retention_ms=60_000)
    results = await asyncio.gather(*(ensure_topics(kafka_bootstrap, [spec]) for _ in range(4)))
    statuses = sorted(r[unique_name] for r in results)
    assert "created" in statuses
    assert set(statuses) <= {"created", "unchanged"}
    assert (await describe_topic(kafka_bootstrap, unique_name)).partitions == 2


async def test_duplicate_specs_are_rejected(kafka_bootstrap: str, unique_name: str) -> None:
    with pytest.raises(ValueError, match=f"duplicate topic specs: {unique_name}"):
        await ensure_topics(kafka_bootstrap, [TopicSpec(unique_name), TopicSpec(unique_name, 2)])


async def test_describe_missing_topic_raises_and_does_not_create_it(
    kafka_bootstrap: str, unique_name: str
) -> None:
    with pytest.raises(TopicNotFoundError, match=unique_name):
        await describe_topic(kafka_bootstrap, unique_name)
    with pytest.raises(TopicNotFoundError):
        await describe_topic(kafka_bootstrap, unique_name)


async def test_broker_rejections_name_the_topic(kafka_bootstrap: str, unique_name: str) -> None:
    too_many = TopicSpec(f"{unique_name}-rf", replication_factor=99)
    with pytest.raises(InvalidReplicationFactorError, match=f"creating topic '{too_many.name}'"):
        await ensure_topics(kafka_bootstrap, [too_many])
    unknown = TopicSpec(f"{unique_name}-cfg", configs={"no.such.config": "1"})
    with pytest.raises(InvalidConfigurationError, match="no.such.config"):
        await ensure_topics(kafka_bootstrap, [unknown])


async def test_delete_records_moves_the_log_start_offset(
    kafka_bootstrap: str, unique_name: str
) -> None:
    await ensure_topics(kafka_bootstrap, [TopicSpec(unique_name, 2)])
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
    await producer.start()
    try:
        for i in range(10):
            await producer.send_and_wait(unique_name, b"v", partition=i % 2)
    finally:
        await producer.stop()
    p0, p1 = TopicPartition(unique_name, 0), TopicPartition(unique_name, 1)
    assert await log_start_offsets(kafka_bootstrap, [p0, p1]) == {p0: 0, p1: 0}

    assert await delete_records(kafka_bootstrap, {p0: 3}) == {p0: 3}
    assert await log_start_offsets(kafka_bootstrap, [p0, p1]) == {p0: 3, p1: 0}
    assert await delete_records(kafka_bootstrap, {p0: 5, p1: 5}) == {p0: 5, p1: 5}
    assert await log_start_offsets(kafka_bootstrap, [p0, p1]) == {p0: 5, p1: 5}


async def test_delete_records_rejects_bad_offsets(kafka_bootstrap: str, unique_name: str) -> None:
    tp = TopicPartition(unique_name, 0)
    with pytest.raises(ValueError, match=rf"offset of .*{unique_name}.* must be an integer >= 0"):
        await delete_records(kafka_bootstrap, {tp: -1})
    assert await delete_records(kafka_bootstrap, {}) == {}
