"""Existing Faust code keeps working: a plain ``@app.agent`` in the same worker as a topology."""

from __future__ import annotations

from aiokafka import AIOKafkaProducer

from streams_app.jobs.process import JobProcess
from streams_app.kafka.admin import ensure_topics
from streams_app.kafka.reader import read_to_end, wait_until
from streams_app.kafka.topics import TopicSpec
from streams_app.serdes import LongSerde, StringSerde

S, L = StringSerde(), LongSerde()
WORDS = ["a", "b", "a", "c", "a", "b"]
SHOUTS = [("k1", "hello"), ("k2", "world"), ("k1", "again")]


async def test_agent_and_topology_in_one_worker(kafka_bootstrap, unique_name, tmp_path):
    prefix = f"{unique_name}-"
    await ensure_topics(kafka_bootstrap, [TopicSpec(f"{prefix}{t}", 1, 1) for t in
                                          ("words", "word-counts", "shout-in", "shout-out")])
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
    await producer.start()
    try:
        for word in WORDS:
            await producer.send(f"{prefix}words", S.serialize("x"), key=S.serialize(word))
        for key, value in SHOUTS:
            # Faust's raw str codec: the value is the UTF-8 text itself.
            await producer.send(f"{prefix}shout-in", value.encode(), key=key.encode())
        await producer.flush()
    finally:
        await producer.stop()
    env = {"STREAMS_BOOTSTRAP_SERVERS": kafka_bootstrap, "STREAMS_APP_ID": f"{unique_name}-app",
           "STREAMS_DATA_DIR": str(tmp_path / "data"), "STREAMS_TOPIC_PREFIX": prefix,
           "STREAMS_COMMIT_INTERVAL_MS": "200"}
    with JobProcess("tests.runtime.agent_job", env, log_path=tmp_path / "worker.log",
                    loglevel="info") as job:
        counts: dict[str, int] = {}
        shouted: list[tuple[str, str]] = []

        async def both_done() -> bool:
            assert job.running, job.log_tail()
            counts.clear()
            for r in await read_to_end(kafka_bootstrap, f"{prefix}word-counts"):
                counts[S.deserialize(r.key)] = L.deserialize(r.value)
            shouted[:] = [(r.key.decode(), r.value.decode()) for r in
                          await read_to_end(kafka_bootstrap, f"{prefix}shout-out")]
            return counts == {"a": 3, "b": 2, "c": 1} and len(shouted) >= len(SHOUTS)

        await wait_until(both_done, 90, "the topology and the agent to process their input",
                         interval=0.3)
    assert counts == {"a": 3, "b": 2, "c": 1}
    assert shouted == [(k, v.upper()) for k, v in SHOUTS]
