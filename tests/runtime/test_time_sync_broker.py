"""A stream-table join whose table side is later in the log but earlier in time: the Faust
runtime takes its two input partitions in timestamp order, as Kafka Streams does, so the
output is the TopologyTestDriver's for the records piped in timestamp order."""

from __future__ import annotations

import time

import pytest

from streams_app import TopologyTestDriver
from streams_app.jobs.process import JobProcess
from streams_app.kafka.admin import ensure_topics
from streams_app.kafka.reader import committed_offsets, group_caught_up, read_to_end, wait_until
from streams_app.kafka.topics import TopicSpec
from tests.runtime.test_faust_runtime import produce
from tests.runtime.time_sync_job import J, S, build

Rec = tuple[str, dict, int]
KEYS = ("a", "b", "c", "d")  # on both partitions of a 2-partition topic (murmur2)


def inputs() -> tuple[list[Rec], list[Rec]]:
    """Orders (produced first) and rate updates (produced after), interleaved in time."""
    base = (int(time.time()) // 60 - 10) * 60_000  # recent: the broker's retention keeps it
    orders = [(k, {"n": i}, base + 100 * i + 50) for i in range(8) for k in KEYS]
    rates = [(k, {"r": i}, base + 100 * i) for i in range(8) for k in KEYS]
    return orders, rates


def driver_output(piped: list[tuple[str, Rec]]) -> list[tuple]:
    with TopologyTestDriver(build(""), {}) as driver:
        topics = {name: driver.create_input_topic(name, S, J) for name in ("orders", "rates")}
        for name, (key, value, ts) in piped:
            topics[name].pipe_input(key, value, timestamp=ts)
        return [(r.key, r.value, r.timestamp) for r in
                driver.create_output_topic("priced", S, J).read_records_to_list()]


def kafka_streams_result(orders: list[Rec], rates: list[Rec]) -> list[tuple]:
    """Kafka Streams' output: the driver fed in timestamp order (no two records tie)."""
    piped = sorted([("orders", r) for r in orders] + [("rates", r) for r in rates],
                   key=lambda item: item[1][2])
    return driver_output(piped)


def worker_env(bootstrap: str, prefix: str, app_id: str, tmp_path, idle_ms: str,
               partitions: int = 1) -> dict:
    return {"STREAMS_BOOTSTRAP_SERVERS": bootstrap, "STREAMS_APP_ID": app_id,
            "STREAMS_DATA_DIR": str(tmp_path / "data"), "STREAMS_TOPIC_PREFIX": prefix,
            "STREAMS_COMMIT_INTERVAL_MS": "200", "STREAMS_CACHE_MAX_BYTES": "0",
            "STREAMS_MAX_TASK_IDLE_MS": idle_ms, "STREAMS_TOPIC_PARTITIONS": str(partitions)}


def per_key(records: list[tuple]) -> dict[str, list[tuple]]:
    """Output in order per key (the order across partitions is not defined)."""
    out: dict[str, list[tuple]] = {}
    for record in records:
        out.setdefault(record[0], []).append(record)
    return out


async def priced(bootstrap: str, prefix: str) -> list[tuple]:
    return [(S.deserialize(r.key), J.deserialize(r.value), r.timestamp)
            for r in await read_to_end(bootstrap, f"{prefix}priced")]


@pytest.mark.parametrize(("idle_ms", "partitions"), [("0", 2), ("300", 1)])
async def test_join_follows_timestamps_not_log_order(idle_ms, partitions, kafka_bootstrap,
                                                      unique_name, tmp_path) -> None:
    prefix, app_id = f"{unique_name}-", f"{unique_name}-app"
    await ensure_topics(kafka_bootstrap, [TopicSpec(f"{prefix}{t}", partitions, 1)
                                          for t in ("orders", "rates", "priced")])
    orders, rates = inputs()
    want = kafka_streams_result(orders, rates)
    arrival = driver_output([("orders", r) for r in orders] + [("rates", r) for r in rates])
    # in log order no order finds its rate; in time order every one does
    assert arrival == [] and len(want) == len(orders)
    await produce(kafka_bootstrap, f"{prefix}orders", orders)
    await produce(kafka_bootstrap, f"{prefix}rates", rates)
    env = worker_env(kafka_bootstrap, prefix, app_id, tmp_path, idle_ms, partitions)
    with JobProcess("tests.runtime.time_sync_job", env, log_path=tmp_path / "worker.log",
                    loglevel="info") as job:
        async def caught_up() -> bool:
            assert job.running, job.log_tail()
            return (await group_caught_up(kafka_bootstrap, app_id, f"{prefix}orders")
                    and await group_caught_up(kafka_bootstrap, app_id, f"{prefix}rates"))

        await wait_until(caught_up, 90, f"{app_id} to process orders and rates")
    got = await priced(kafka_bootstrap, prefix)
    assert per_key(got) == per_key(want) and len(got) == len(want)


async def test_an_idling_task_commits_only_what_it_processed(kafka_bootstrap, unique_name,
                                                             tmp_path) -> None:
    """The rates run dry while an order waits: the task idles (10 min), and the order it
    holds is neither processed nor committed until a later rate arrives."""
    prefix, app_id = f"{unique_name}-", f"{unique_name}-app"
    orders_topic, rates_topic = f"{prefix}orders", f"{prefix}rates"
    await ensure_topics(kafka_bootstrap, [TopicSpec(f"{prefix}{t}", 1, 1)
                                          for t in ("orders", "rates", "priced")])
    base = (int(time.time()) // 60 - 10) * 60_000
    await produce(kafka_bootstrap, orders_topic, [("a", {"n": 1}, base + 100),
                                                  ("a", {"n": 2}, base + 300)])
    await produce(kafka_bootstrap, rates_topic, [("a", {"r": 1}, base + 50),
                                                 ("a", {"r": 2}, base + 200)])
    env = worker_env(kafka_bootstrap, prefix, app_id, tmp_path, "600000")
    with JobProcess("tests.runtime.time_sync_job", env, log_path=tmp_path / "worker.log",
                    loglevel="info") as job:
        async def committed(topic: str, offset: int) -> bool:
            assert job.running, job.log_tail()
            return (await committed_offsets(kafka_bootstrap, app_id, topic)).get(0) == offset

        async def first_order_done() -> bool:
            return await committed(rates_topic, 2) and await committed(orders_topic, 1)

        await wait_until(first_order_done, 90, "the rates and the first order committed")
        assert await priced(kafka_bootstrap, prefix) == [
            ("a", {"order": 1, "rate": 1}, base + 100)]
        assert await committed(orders_topic, 1)  # the buffered order is not committed
        await produce(kafka_bootstrap, rates_topic, [("a", {"r": 3}, base + 400)])
        await wait_until(lambda: committed(orders_topic, 2), 90, "the second order committed")
    assert await priced(kafka_bootstrap, prefix) == [
        ("a", {"order": 1, "rate": 1}, base + 100), ("a", {"order": 2, "rate": 2}, base + 300)]
