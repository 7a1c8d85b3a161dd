"""The same topologies on the TopologyTestDriver and on Kafka through the Faust runtime.

With the record cache off, every output record (key, value, timestamp, order) is the same;
with it on, the final value per key is. The broker run uses one partition so that order is
defined.
"""

from __future__ import annotations

import random
import time

import pytest
from aiokafka import AIOKafkaProducer

from streams_app import TopologyTestDriver
from streams_app.jobs.process import JobProcess
from streams_app.kafka.admin import ensure_topics
from streams_app.kafka.reader import group_caught_up, read_to_end, wait_until
from streams_app.kafka.topics import TopicSpec
from streams_app.serdes import JsonSerde, StringSerde
from tests.runtime.topologies import CASES

KEYS = [f"k{i}" for i in range(7)]
J, S = JsonSerde(), StringSerde()


def make_inputs(seed: int, n: int = 120) -> list[tuple[str, dict | None, int]]:
    """Keyed JSON records with out-of-order timestamps and some tombstones.

    Timestamps are recent: the broker's time-based retention would delete records stamped
    near 1970 within its first retention check.
    """
    rnd = random.Random(seed)
    base = (int(time.time()) // 60 - 10) * 60_000
    out = []
    for i in range(n):
        value = None if rnd.random() < 0.08 else {"n": rnd.randrange(20)}
        out.append((rnd.choice(KEYS), value, base + i * 10 + rnd.randrange(-25, 25)))
    return out


def driver_outputs(case, inputs, cache: bool) -> dict[str, list[tuple]]:
    config = {"default_key_serde": "string", "cache_max_entries": 10_000 if cache else 0}
    with TopologyTestDriver(case.build(""), config) as driver:
        for phase in case.input_phases:
            for name in phase:
                topic = driver.create_input_topic(name, S, J)
                for key, value, ts in inputs[name]:
                    topic.pipe_input(key, value, timestamp=ts)
        return {name: [(r.key, r.value, r.timestamp) for r in
                       driver.create_output_topic(name, S, J).read_records_to_list()]
                for name in case.outputs}


def last_by_key(records: list[tuple]) -> dict:
    """The table an update stream describes: last value per key, tombstones delete."""
    table: dict = {}
    for key, value, _ in records:
        if value is None:
            table.pop(key, None)
        else:
            table[key] = value
    return table


async def produce(bootstrap: str, topic: str, records) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    for key, value, ts in records:
        await producer.send(topic, J.serialize(value), key=S.serialize(key), timestamp_ms=ts)
    await producer.flush()
    await producer.stop()


async def broker_outputs(case_name, inputs, cache: bool, bootstrap, name, tmp_path):
    case = CASES[case_name]
    prefix = f"{name}-"
    await ensure_topics(bootstrap, [TopicSpec(f"{prefix}{t}", 1, 1) for t in case.inputs])
    app_id = f"{name}-app"
    env = {"STREAMS_BOOTSTRAP_SERVERS": bootstrap, "STREAMS_APP_ID": app_id,
           "STREAMS_DATA_DIR": str(tmp_path / "data"), "STREAMS_TOPIC_PREFIX": prefix,
           "STREAMS_TOPIC_PARTITIONS": "1", "STREAMS_COMMIT_INTERVAL_MS": "300",
           "STREAMS_CACHE_MAX_BYTES": str(10 * 1024 * 1024 if cache else 0),
           "TEST_TOPOLOGY": case_name}
    topology = case.build(prefix)
    sources = [topology.topic_name(t, app_id) for t in topology.source_topics()]
    first, *later = case.input_phases
    for topic in first:  # before the worker starts: a global table is restored whole first
        await produce(bootstrap, f"{prefix}{topic}", inputs[topic])
    with JobProcess("tests.runtime.faust_job", env, log_path=tmp_path / "worker.log",
                    loglevel="info") as job:
        async def done() -> bool:
            assert job.running, job.log_tail()
            for _ in range(2):  # twice: a repartition topic may still be growing
                for topic in sources:
                    if not await group_caught_up(bootstrap, app_id, topic):
                        return False
            return True

        await wait_until(done, 90, f"{app_id} to process {first}")
        for phase in later:
            for topic in phase:
                await produce(bootstrap, f"{prefix}{topic}", inputs[topic])
            await wait_until(done, 90, f"{app_id} to process {phase}")
    outputs = {}
    for out in case.outputs:
        records = await read_to_end(bootstrap, f"{prefix}{out}")
        outputs[out] = [(S.deserialize(r.key), J.deserialize(r.value), r.timestamp)
                        for r in records]
    return outputs


@pytest.mark.parametrize("cache", [False, True], ids=["cache-off", "cache-on"])
@pytest.mark.parametrize("case_name", sorted(CASES))
async def test_same_results_on_driver_and_kafka(case_name, cache, kafka_bootstrap, unique_name,
                                                tmp_path):
    case = CASES[case_name]
    seed = sorted(CASES).index(case_name)
    inputs = {name: make_inputs(seed * 10 + i) for i, name in enumerate(case.inputs)}
    expected = driver_outputs(case, inputs, cache=False)
    got = await broker_outputs(case_name, inputs, cache, kafka_bootstrap, unique_name, tmp_path)
    for topic in case.outputs:
        if cache and case.table_outputs:
            want = last_by_key(expected[topic])
            have = last_by_key(got[topic])
            if case.empty_aggregate is not None:
                want = {k: v for k, v in want.items() if v != case.empty_aggregate}
                have = {k: v for k, v in have.items() if v != case.empty_aggregate}
            assert have == want, topic
        else:
            assert got[topic] == expected[topic], topic
