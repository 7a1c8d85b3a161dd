"""The batch consumer (aiokafka in the app loop) through a rebalance on a real broker.

A second worker of the same group joins while records are still being produced to a
4-partition topic: the group must settle with both members, catch up with the whole input
(nothing stalls), and the counts must cover every record (at-least-once: never below).
Then a rebalance forced while a batch handler is still running (awaiting its produce): the
batch is committed before the partitions go, or read again if the handler outlives the wait.
"""

from __future__ import annotations

import asyncio
import io
import logging
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import faust
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from faust.types import TP

from streams_app.jobs.process import JobProcess
from streams_app.kafka.admin import ensure_topics
from streams_app.kafka.reader import group_caught_up, latest_by_key, wait_until
from streams_app.kafka.topics import TopicSpec
from streams_app.runtime import faust_transport
from streams_app.runtime.faust_runtime import FaustRuntime
from streams_app.serdes import JsonSerde, StringSerde
from streams_app.settings import Settings
from tests.runtime.test_faust_transport import produce
from tests.runtime.topologies import CASES

J, S = JsonSerde(), StringSerde()
PARTITIONS = 4
KEYS = [f"k{i}" for i in range(40)]
# The input ends TAIL records (2 s) after the group settled with both workers, so the join is
# mid-stream however slow the workers start; TOTAL (100 s) only bounds a group that never settles.
TOTAL, RATE, TAIL = 120_000, 1_200.0, 2_400


async def produce_paced(bootstrap: str, topic: str, settled: asyncio.Event) -> Counter:
    """Produce keyed records at RATE per second until TAIL records after ``settled`` is set
    (TOTAL at most); return the true count per key."""
    counts: Counter = Counter()
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=5)
    await producer.start()
    try:
        start, chunk, end = time.monotonic(), 200, TOTAL
        for i in range(0, TOTAL, chunk):
            if i >= end:
                break
            if settled.is_set() and end == TOTAL:
                end = min(TOTAL, i + TAIL)
            for j in range(i, i + chunk):
                key = KEYS[j % len(KEYS)]
                counts[key] += 1
                await producer.send(topic, J.serialize({"n": j}), key=S.serialize(key))
            # Pacing (not synchronisation): keep the input arriving while workers come and go.
            ahead = start + (i + chunk) / RATE - time.monotonic()
            if ahead > 0:
                await asyncio.sleep(ahead)
        await producer.flush()
    finally:
        await producer.stop()
    return counts


async def group_members(bootstrap: str, group_id: str) -> int:
    """Members of ``group_id`` once it is Stable (0 while it rebalances)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        responses = await admin.describe_consumer_groups([group_id])
    finally:
        await admin.close()
    for group in (g for r in responses for g in r.groups):
        if group[1] == group_id and group[2] == "Stable":
            return len(group[5])
    return 0


def worker(bootstrap: str, name: str, data: Path, log: Path) -> JobProcess:
    env = {"STREAMS_BOOTSTRAP_SERVERS": bootstrap, "STREAMS_APP_ID": f"{name}-app",
           "STREAMS_DATA_DIR": str(data), "STREAMS_TOPIC_PREFIX": f"{name}-",
           "STREAMS_TOPIC_PARTITIONS": str(PARTITIONS), "STREAMS_COMMIT_INTERVAL_MS": "500",
           "TEST_TOPOLOGY": "count"}
    return JobProcess("tests.runtime.faust_job", env, log_path=log, loglevel="info")


async def test_second_worker_joins_mid_stream(kafka_bootstrap, unique_name, tmp_path):
    app_id, source, out = f"{unique_name}-app", f"{unique_name}-in", f"{unique_name}-out"
    await ensure_topics(kafka_bootstrap, [TopicSpec(source, PARTITIONS, 1),
                                          TopicSpec(out, PARTITIONS, 1)])
    first = worker(kafka_bootstrap, unique_name, tmp_path / "a", tmp_path / "a.log")
    second = worker(kafka_bootstrap, unique_name, tmp_path / "b", tmp_path / "b.log")
    settled = asyncio.Event()
    producing = asyncio.create_task(produce_paced(kafka_bootstrap, source, settled))
    try:
        first.start()

        async def first_counts() -> bool:
            assert first.running, first.log_tail()
            try:
                return bool(await latest_by_key(kafka_bootstrap, out))
            except LookupError:
                return False

        await wait_until(first_counts, 90, "the first worker's first counts")
        assert not producing.done(), "the second worker must join mid-stream"
        second.start()

        async def both_members() -> bool:
            assert first.running, first.log_tail()
            assert second.running, second.log_tail()
            return await group_members(kafka_bootstrap, app_id) == 2

        await wait_until(both_members, 90, f"{app_id} to settle with two members")
        assert not producing.done(), "the rebalance must happen mid-stream"
        settled.set()  # TAIL more records reach the two members
        truth = await producing

        async def caught_up() -> bool:
            assert first.running, first.log_tail()
            assert second.running, second.log_tail()
            return await group_caught_up(kafka_bootstrap, app_id, source)

        await wait_until(caught_up, 120, f"{app_id} to commit the end of {source}")
        assert await group_members(kafka_bootstrap, app_id) == 2
    finally:
        producing.cancel()
        second.stop()
        first.stop()
    # Offsets are committed only after the caches are flushed: the output is final.
    table = {S.deserialize(k): J.deserialize(v)
             for k, v in (await latest_by_key(kafka_bootstrap, out)).items()}
    assert set(table) == set(truth)
    low = {k: (table[k], n) for k, n in truth.items() if table[k] < n}
    assert not low, f"counts below the truth (lost records): {low}"


def run_with_one_rebalance(
        bootstrap: str, name: str, data: Path,
        handled_until: Callable[[Any, TP, int], bool], *,
        commit_first: bool) -> tuple[Any, dict, Counter]:
    """Count 6000 records (23 keys) in a worker in this process; the first batch's handler forces a
    real rejoin of the group and returns once ``handled_until(app, tp, generation)`` holds
    (``generation``: the consumer group generation before the rejoin).

    With ``commit_first`` the handler commits before the rejoin, as a periodic commit
    landing while a handler awaits its produce: that flushes the batch's state but cannot
    commit its offsets. Otherwise offsets are committed by this test once the handler
    returned, every 0.2 s until the group has committed the whole input. Returns what the first
    batch saw, the counts in the output topic and the true counts.
    """
    prefix = f"{name}-"
    source, out = f"{prefix}in", f"{prefix}out"
    asyncio.run(ensure_topics(bootstrap, [TopicSpec(source, PARTITIONS, 1),
                                          TopicSpec(out, PARTITIONS, 1)]))
    truth = asyncio.run(produce(bootstrap, source))
    settings = Settings.from_env(
        env={}, bootstrap_servers=bootstrap, app_id=f"{name}-app", data_dir=str(data),
        topic_partitions=PARTITIONS, auto_offset_reset="earliest", log_level="warning",
        commit_interval_ms=600_000)
    runtime = FaustRuntime(CASES["count"].build(prefix), settings,
                           config={"default_key_serde": "string"})
    app = runtime.app
    handler = runtime.hooks.handlers[source]
    seen: dict[str, Any] = {"first": None}

    async def rebalancing_once(tp: TP, records: list) -> None:
        await handler(tp, records)
        if seen["first"] is not None:
            return
        seen["first"] = (tp, len(records))
        if commit_first:
            await app.consumer.commit()
        generation = app.consumer_generation_id
        app.consumer._thread._consumer._coordinator.request_rejoin()
        deadline = time.monotonic() + 30
        while not handled_until(app, tp, generation) and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        seen["waited"] = handled_until(app, tp, generation)
        seen["generations"] = (generation, app.consumer_generation_id)

    runtime.hooks.handlers[source] = rebalancing_once

    @app.task
    async def finish() -> None:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if "waited" in seen:
                await app.consumer.commit()
            if seen["first"] is not None and await group_caught_up(bootstrap, app.conf.id,
                                                                  source):
                break
            await asyncio.sleep(0.2)
        seen["generation_end"] = app.consumer_generation_id
        await worker.stop()

    worker = faust.Worker(app, quiet=True, loglevel=logging.WARNING, stdout=io.StringIO())
    try:
        worker.execute_from_commandline()
    except SystemExit:
        pass
    # Offsets are committed only after the caches are flushed: the output is final.
    counts = {S.deserialize(k): J.deserialize(v)
              for k, v in asyncio.run(latest_by_key(bootstrap, out)).items()}
    return seen, counts, truth


def test_rebalance_during_a_handler_commits_it_first(kafka_bootstrap, unique_name, tmp_path):
    """A revocation waits for the batch in hand and commits it (as Kafka Streams commits
    before an eager rebalance): the revoked tasks go with nothing uncommitted, and the
    counts are exact, neither short (a batch marked done but dropped) nor doubled (state
    flushed by a commit whose offsets did not cover the batch)."""

    def revocation_began(app: Any, tp: TP, generation: int) -> bool:
        return app.rebalancing and not app.consumer.flow_active

    seen, counts, truth = run_with_one_rebalance(kafka_bootstrap, unique_name,
                                                 tmp_path / "data", revocation_began,
                                                 commit_first=True)
    assert seen.get("waited"), f"the revocation did not begin while the handler ran: {seen}"
    assert seen["generation_end"] > seen["generations"][0], seen
    diff = {k: (counts.get(k), n) for k, n in truth.items() if counts.get(k) != n}
    assert not diff, f"first batch {seen['first']}: (count, truth) {diff}"


def test_handler_outliving_the_revocation_loses_nothing(kafka_bootstrap, unique_name, tmp_path,
                                                        monkeypatch):
    """A handler still awaiting when the new assignment has sought its partitions (Faust's
    seek to the committed offsets done) must not mark its batch done: the records are read
    again (at-least-once: counted twice at worst, never lost)."""
    monkeypatch.setattr(faust_transport, "REVOKE_WAIT_S", 0.2)

    def reassigned_and_sought(app: Any, tp: TP, generation: int) -> bool:
        # Revocation drops tp's read offset; Faust's seek after the assignment sets it again.
        return app.consumer_generation_id != generation and tp in app.consumer._read_offset

    seen, counts, truth = run_with_one_rebalance(kafka_bootstrap, unique_name,
                                                 tmp_path / "data", reassigned_and_sought,
                                                 commit_first=False)
    assert seen.get("waited"), f"the partition was not sought while the handler ran: {seen}"
    low = {k: (counts.get(k), n) for k, n in truth.items() if (counts.get(k) or 0) < n}
    assert not low, f"first batch {seen['first']}: lost records, (count, truth) {low}"
