"""``streams-app job NAME --processes 2`` on a real broker: one consumer group splitting a
4-partition topic, exact counts, and SIGTERM stopping both workers cleanly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from aiokafka.errors import GroupCoordinatorNotAvailableError

from streams_app.kafka.admin import ensure_topics
from streams_app.kafka.reader import group_caught_up, latest_by_key, wait_until
from streams_app.kafka.topics import TopicSpec
from streams_app.serdes import JsonSerde, StringSerde
from tests.runtime.test_faust_transport import produce
from tests.runtime.test_faust_transport_rebalance import group_members

ROOT = Path(__file__).resolve().parent.parent
PARTITIONS = 4
J, S = JsonSerde(), StringSerde()


async def test_two_processes_split_the_input_and_stop_on_sigterm(kafka_bootstrap, unique_name,
                                                                 tmp_path):
    app_id, source, out = f"{unique_name}-app", f"{unique_name}-in", f"{unique_name}-out"
    await ensure_topics(kafka_bootstrap, [TopicSpec(source, PARTITIONS, 1),
                                          TopicSpec(out, PARTITIONS, 1)])
    env = {**os.environ, "STREAMS_BOOTSTRAP_SERVERS": kafka_bootstrap, "STREAMS_APP_ID": app_id,
           "STREAMS_DATA_DIR": str(tmp_path / "data"), "STREAMS_TOPIC_PREFIX": f"{unique_name}-",
           "STREAMS_TOPIC_PARTITIONS": str(PARTITIONS), "STREAMS_COMMIT_INTERVAL_MS": "500",
           "TEST_TOPOLOGY": "count", "PYTHONPATH": str(ROOT)}
    log = tmp_path / "job.log"
    with open(log, "wb") as sink:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streams_app.cli", "job", "tests.runtime.faust_job",
             "--processes", "2", "-l", "info"],
            env=env, cwd=ROOT, stdout=sink, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        async def both_members() -> bool:
            assert proc.poll() is None, log.read_text()[-3000:]
            try:
                return await group_members(kafka_bootstrap, app_id) == 2
            except GroupCoordinatorNotAvailableError:  # a fresh broker: no offsets topic yet
                return False

        # Input only once the group has settled: no rebalance while counting, so exact counts.
        await wait_until(both_members, 120, f"{app_id} to settle with two members")
        truth = await produce(kafka_bootstrap, source)

        async def caught_up() -> bool:
            assert proc.poll() is None, log.read_text()[-3000:]
            return await group_caught_up(kafka_bootstrap, app_id, source)

        await wait_until(caught_up, 120, f"{app_id} to commit the end of {source}")
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    text = log.read_text()
    assert code == 0, text[-3000:]
    for name in ("p0", "p1"):
        assert f"streams-app job: {name} (pid" in text and "exited with code 0" in text
        assert f"\n{name} | " in text  # the worker's own lines, marked
        assert (tmp_path / "data" / name).is_dir()
    table = {S.deserialize(k): J.deserialize(v)
             for k, v in (await latest_by_key(kafka_bootstrap, out)).items()}
    assert table == dict(truth)
