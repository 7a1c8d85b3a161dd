"""Wall-clock punctuators fire on a Faust worker while no input arrives (real broker)."""

from __future__ import annotations

import pytest

from streams_app.jobs.process import JobProcess
from streams_app.kafka.admin import ensure_topics
from streams_app.kafka.reader import end_offsets, read_to_end, wait_until
from streams_app.kafka.topics import TopicSpec
from streams_app.serdes import JsonSerde, StringSerde
from tests.runtime.punctuation_job import HEARTBEAT_MS
from tests.runtime.test_faust_runtime import produce

J, S = JsonSerde(), StringSerde()
BEATS = 5


@pytest.mark.parametrize("guarantee", ["at_least_once", "exactly_once"])
async def test_heartbeats_while_no_input_arrives(guarantee, kafka_bootstrap, unique_name,
                                                 tmp_path):
    prefix = f"{unique_name}-"
    inputs, output = f"{prefix}beats-in", f"{prefix}heartbeats"
    await ensure_topics(kafka_bootstrap, [TopicSpec(inputs, 1, 1), TopicSpec(output, 1, 1)])
    env = {"STREAMS_BOOTSTRAP_SERVERS": kafka_bootstrap, "STREAMS_APP_ID": f"{unique_name}-app",
           "STREAMS_DATA_DIR": str(tmp_path / "data"), "STREAMS_TOPIC_PREFIX": prefix,
           "STREAMS_TOPIC_PARTITIONS": "1", "STREAMS_COMMIT_INTERVAL_MS": "300",
           "STREAMS_PROCESSING_GUARANTEE": guarantee}
    with JobProcess("tests.runtime.punctuation_job", env, log_path=tmp_path / "worker.log",
                    loglevel="info") as job:
        await produce(kafka_bootstrap, inputs, [("start", {"go": 1}, None)])

        async def beats() -> bool:
            assert job.running, job.log_tail()
            # read_committed: under exactly_once only committed transactions count
            ends = await end_offsets(kafka_bootstrap, output)
            if ends.get(0, 0) < BEATS + 1:
                return False
            return len(await read_to_end(kafka_bootstrap, output)) >= BEATS + 1

        await wait_until(beats, 60, f"{BEATS} heartbeats on {output}")
    records = [(S.deserialize(r.key), J.deserialize(r.value)) for r in
               await read_to_end(kafka_bootstrap, output)]
    assert records[0] == ("start", {"go": 1})
    hb = [value for key, value in records[1:] if key == "hb"]
    assert len(hb) >= BEATS and len(hb) == len(records) - 1  # nothing but heartbeats after
    gaps = [b - a for a, b in zip(hb, hb[1:], strict=False)]
    # One per interval (a late tick fires once, then realigns), and about every interval.
    assert len(gaps) <= (hb[-1] - hb[0]) / HEARTBEAT_MS + 1, gaps
    assert sum(gaps) / len(gaps) < 3 * HEARTBEAT_MS, gaps
