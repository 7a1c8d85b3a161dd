"""A worker with an empty data dir restores its store from the changelog, exactly, and the
counts go on from the restored values (a worker in this process).

The changelog holds overwrites, a tombstone and keys on every partition; the cyclic garbage
collector is paused while restoring (streams_app.runtime.table_manager) and runs again once
processing starts.
"""

from __future__ import annotations

import asyncio
import gc
import io
import logging
import struct
import time
from typing import Any

import faust
import pytest
from aiokafka import AIOKafkaProducer
from faust.types import TP

from streams_app.kafka.admin import ensure_topics
from streams_app.kafka.reader import read_to_end, wait_until
from streams_app.kafka.topics import TopicSpec
from streams_app.runtime.faust_runtime import FaustRuntime
from streams_app.runtime.faust_stores import StoreTable
from streams_app.serdes import JsonSerde, StringSerde
from streams_app.settings import Settings
from tests.runtime.topologies import CASES

pytestmark = pytest.mark.integration

J, S, LONG = JsonSerde(), StringSerde(), struct.Struct(">q")
PARTITIONS, KEYS = 2, 3_000


async def _fill_changelog(bootstrap: str, topic: str) -> dict[str, int]:
    """Every key twice (the second count wins), then a tombstone for k0; the truth."""
    await ensure_topics(bootstrap, [TopicSpec(topic, PARTITIONS, 1, cleanup_policy="compact")])
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=5)
    await producer.start()
    try:
        for rnd in (1, 2):
            for i in range(KEYS):
                await producer.send(topic, LONG.pack(i * rnd), key=f"k{i}".encode(),
                                    partition=i % PARTITIONS)
        await producer.send(topic, None, key=b"k0", partition=0)
        await producer.flush()
    finally:
        await producer.stop()
    return {f"k{i}": i * 2 for i in range(1, KEYS)}


def test_a_fresh_worker_restores_every_key_then_counts_on(kafka_bootstrap, unique_name,
                                                           tmp_path, monkeypatch):
    prefix, app_id = f"{unique_name}-", f"{unique_name}-app"
    source, out = f"{prefix}in", f"{prefix}out"
    asyncio.run(ensure_topics(kafka_bootstrap, [TopicSpec(t, PARTITIONS, 1)
                                                for t in (source, out)]))
    truth = asyncio.run(_fill_changelog(kafka_bootstrap, f"{app_id}-counts-changelog"))
    settings = Settings.from_env(
        env={}, bootstrap_servers=kafka_bootstrap, app_id=app_id,
        data_dir=str(tmp_path / "data"), topic_partitions=PARTITIONS,
        auto_offset_reset="earliest", commit_interval_ms=200, log_level="warning")
    gc_during_restore: list[bool] = []
    restore = StoreTable._restore_key_values

    def observed(self: StoreTable, tp: TP, records: list) -> None:
        gc_during_restore.append(gc.isenabled())
        restore(self, tp, records)

    monkeypatch.setattr(StoreTable, "_restore_key_values", observed)
    runtime = FaustRuntime(CASES["count"].build(prefix), settings,
                           config={"default_key_serde": "string"})
    app = runtime.app
    seen: dict[str, Any] = {}

    @app.task
    async def check() -> None:
        await app.tables.recovery.completed.wait()
        seen["gc_after"] = gc.isenabled()
        table = runtime.tables["counts"]
        restored: dict[str, int] = {}
        for p in range(PARTITIONS):
            for key, value in table.store_for(p).all():
                restored[key] = value.value
        seen["restored"] = restored
        seen["offsets"] = {p: table.data.persisted_offset(TP(table.changelog_topic_name(), p))
                           for p in range(PARTITIONS)}
        producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
        await producer.start()
        try:  # one more for k1 and for the deleted k0: 3 and 1
            for key in ("k1", "k0"):
                await producer.send_and_wait(source, J.serialize({"n": 1}),
                                             key=S.serialize(key), partition=int(key[1:]) % 2)
        finally:
            await producer.stop()

        async def counted() -> bool:
            got = {S.deserialize(r.key): J.deserialize(r.value)
                   for r in await read_to_end(kafka_bootstrap, out)}
            seen["out"] = got
            return len(got) == 2

        await wait_until(counted, 60, "the two counts")
        await worker.stop()

    worker = faust.Worker(app, quiet=True, loglevel=logging.WARNING, stdout=io.StringIO())
    started = time.monotonic()
    try:
        worker.execute_from_commandline()
    except SystemExit:
        pass
    assert seen["restored"] == truth
    # the last changelog offsets: 3000 + 3000 records + the tombstone on partition 0
    assert seen["offsets"] == {0: KEYS, 1: KEYS - 1}
    assert seen["out"] == {"k1": 3, "k0": 1}
    assert gc_during_restore and not any(gc_during_restore), gc_during_restore
    assert seen["gc_after"] and gc.isenabled()
    assert time.monotonic() - started < 60
