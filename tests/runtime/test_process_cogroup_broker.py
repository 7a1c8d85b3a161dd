"""process() with a store and a wall-clock punctuator, and cogroup, on a real broker."""

from __future__ import annotations

import random

import pytest

from streams_app.jobs.process import JobProcess
from streams_app.kafka.admin import ensure_topics
from streams_app.kafka.reader import end_offsets, group_caught_up, read_to_end, wait_until
from streams_app.kafka.topics import TopicSpec
from tests.runtime.process_job import EMIT_MS, J, L, S
from tests.runtime.test_faust_runtime import produce

PARTITIONS = 2
COMMIT_INTERVAL_MS = 300
# Only a hang guard (a dead worker fails at once): the worker's start (imports, topics, group
# join) and its first commit of every input, slow when another test process and its broker
# share the cores.
CONSUMED_GUARD_S = 180.0
# Once the inputs are committed, the punctuated counts are out within a punctuation interval
# plus a commit interval; this many of those cycles allow for a worker loop slowed by a busy
# machine.
CYCLES = 60
OUTPUT_DEADLINE_S = CYCLES * (EMIT_MS + COMMIT_INTERVAL_MS) / 1000


def inputs(seed: int) -> tuple[list[tuple[str, dict, int]], list[tuple[str, dict, int]]]:
    rng = random.Random(seed)
    users = [f"u{i}" for i in range(5)]
    clicks = [(rng.choice(users), {"page": i}, 1000 + i) for i in range(60)]
    purchases = [(rng.choice(users), {"amount": rng.randrange(1, 30)}, 1000 + i)
                 for i in range(25)]
    return clicks, purchases


async def last_by_key(bootstrap: str, topic: str, value_serde) -> dict:
    return {S.deserialize(r.key): value_serde.deserialize(r.value)
            for r in await read_to_end(bootstrap, topic)}


@pytest.mark.parametrize("guarantee", ["at_least_once", "exactly_once"])
async def test_process_and_cogroup_jobs_on_the_broker(guarantee, kafka_bootstrap, unique_name,
                                                       tmp_path) -> None:
    prefix, app_id = f"{unique_name}-", f"{unique_name}-app"
    topics = {name: f"{prefix}{name}" for name in
              ("clicks", "purchases", "click-counts", "per-user")}
    await ensure_topics(kafka_bootstrap, [TopicSpec(t, PARTITIONS, 1) for t in topics.values()])
    clicks, purchases = inputs(7)
    want_counts: dict[str, int] = {}
    want_agg: dict[str, dict] = {}
    for user, _, _ in clicks:
        want_counts[user] = want_counts.get(user, 0) + 1
        want_agg.setdefault(user, {"clicks": 0, "spend": 0})["clicks"] += 1
    for user, value, _ in purchases:
        want_agg.setdefault(user, {"clicks": 0, "spend": 0})["spend"] += value["amount"]
    env = {"STREAMS_BOOTSTRAP_SERVERS": kafka_bootstrap, "STREAMS_APP_ID": app_id,
           "STREAMS_DATA_DIR": str(tmp_path / "data"), "STREAMS_TOPIC_PREFIX": prefix,
           "STREAMS_TOPIC_PARTITIONS": str(PARTITIONS),
           "STREAMS_COMMIT_INTERVAL_MS": str(COMMIT_INTERVAL_MS),
           "STREAMS_PROCESSING_GUARANTEE": guarantee}
    with JobProcess("tests.runtime.process_job", env, log_path=tmp_path / "worker.log",
                    loglevel="info") as job:
        await produce(kafka_bootstrap, topics["clicks"], clicks)
        await produce(kafka_bootstrap, topics["purchases"], purchases)

        async def consumed() -> bool:
            assert job.running, job.log_tail()
            return all([await group_caught_up(kafka_bootstrap, app_id, topics[name])
                        for name in ("clicks", "purchases")])

        async def counts_emitted() -> bool:
            assert job.running, job.log_tail()
            return await last_by_key(kafka_bootstrap, topics["click-counts"], L) == want_counts

        async def aggregated() -> bool:
            assert job.running, job.log_tail()
            return await last_by_key(kafka_bootstrap, topics["per-user"], J) == want_agg

        try:
            await wait_until(consumed, CONSUMED_GUARD_S, f"group {app_id} to commit the inputs")
            await wait_until(counts_emitted, OUTPUT_DEADLINE_S,
                             f"the punctuated counts on {topics['click-counts']}")
            await wait_until(aggregated, OUTPUT_DEADLINE_S,
                             f"the cogrouped aggregates on {topics['per-user']}")
        except TimeoutError as exc:
            pytest.fail(f"{exc}\n{job.log_tail()}")
    emitted = await read_to_end(kafka_bootstrap, topics["click-counts"])
    # only the punctuator forwards: its records carry wall-clock time, not the inputs' times
    assert emitted and all(r.timestamp > 1_000_000_000_000 for r in emitted)
    # both stores were logged by the runtime (their changelogs hold the final values)
    for store in ("click-counts", "per-user"):
        ends = await end_offsets(kafka_bootstrap, f"{app_id}-{store}-changelog")
        assert sum(ends.values()) > 0, store
