"""Restore time of a 1M-key store from its changelog (``python -m bench.restore``).

Writes N keys straight into the changelog topic of a count store, then starts a
streams_app worker with an empty data dir (in a fresh process, ``--runs`` times) and times
how long Faust's recovery takes to rebuild the RocksDB store (worker start to recovery
complete), and checks the store holds every key. The result is the median run. Writes
``bench/results/restore.json`` (or ``--results``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import statistics
import struct
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import faust
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from bench.broker import BenchKafka
from streams_app import Materialized, Serdes, StreamsBuilder
from streams_app.kafka.admin import ensure_topics
from streams_app.kafka.topics import TopicSpec
from streams_app.runtime.faust_runtime import FaustRuntime
from streams_app.settings import Settings

PARTITIONS = 4
STORE = "counts"
RESULTS = Path(__file__).parent / "results" / "restore.json"


async def fill_changelog(bootstrap: str, topic: str, keys: int) -> None:
    """``keys`` distinct keys (string serde) with long counts, spread like a count store's."""
    await ensure_topics(bootstrap, [TopicSpec(topic, PARTITIONS, 1, cleanup_policy="compact")])
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks=1, linger_ms=20,
                                max_batch_size=1 << 20)
    await producer.start()
    try:
        batches = {p: producer.create_batch() for p in range(PARTITIONS)}
        pending = []
        now = int(time.time() * 1000)
        for i in range(keys):
            p = i % PARTITIONS
            key, value = f"zone-{i}".encode(), struct.pack(">q", i % 1000 + 1)
            if batches[p].append(key=key, value=value, timestamp=now) is None:
                pending.append(await producer.send_batch(batches[p], topic, partition=p))
                batches[p] = producer.create_batch()
                batches[p].append(key=key, value=value, timestamp=now)
        for p, batch in batches.items():
            if batch.record_count():
                pending.append(await producer.send_batch(batch, topic, partition=p))
        await asyncio.gather(*pending)
    finally:
        await producer.stop()


async def warm_group_coordinator(bootstrap: str, topic: str) -> None:
    """Commit an offset for a throw-away group: on a fresh broker the first group creates
    ``__consumer_offsets`` and waits for its coordinator (~1 s), broker start-up that the
    restore time is not about."""
    tp = TopicPartition(topic, 0)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=f"{topic}-warm-up",
                                enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign([tp])
        await consumer.commit({tp: 0})
    finally:
        await consumer.stop()


def restore(bootstrap: str, app_id: str, input_topic: str) -> tuple[float, int]:
    """Start a worker with an empty data dir; return (seconds to restore, keys restored)."""
    builder = StreamsBuilder()
    builder.stream(input_topic, key_serde=Serdes.string()).group_by_key().count(
        Materialized.as_(STORE))
    settings = Settings.from_env(env={}, bootstrap_servers=bootstrap, app_id=app_id,
                                 data_dir=tempfile.mkdtemp(), topic_partitions=PARTITIONS,
                                 log_level="warning")
    runtime = FaustRuntime(builder.build(), settings)
    app = runtime.app
    out: dict[str, float] = {}

    @app.task
    async def watch() -> None:
        await app.tables.recovery.completed.wait()
        out["t"] = time.monotonic()
        table = runtime.tables[STORE]
        out["keys"] = sum(table.store_for(p).approximate_num_entries()
                          for p in range(PARTITIONS))
        await worker.stop()

    worker = faust.Worker(app, quiet=True, loglevel=logging.WARNING)
    t0 = time.monotonic()
    try:
        worker.execute_from_commandline()
    except SystemExit:
        pass
    return out["t"] - t0, int(out["keys"])


def restore_in_child(bootstrap: str, app_id: str, input_topic: str) -> tuple[float, int]:
    """:func:`restore` in a fresh process (a worker start as in production, its own heap)."""
    out = subprocess.run([sys.executable, "-m", "bench.restore", "--child", bootstrap, app_id,
                          input_topic], capture_output=True, text=True, check=True)
    line = out.stdout[out.stdout.rindex(RESULT_MARK) + len(RESULT_MARK):].splitlines()[0]
    seconds, keys = json.loads(line)
    return float(seconds), int(keys)


RESULT_MARK = "RESTORE-RESULT "


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.restore", description=__doc__)
    p.add_argument("--keys", type=int, default=1_000_000)
    p.add_argument("--runs", type=int, default=3, help="restores (fresh worker and data dir "
                   "each); the median is the result")
    p.add_argument("--results", type=Path, default=RESULTS, help="where the JSON goes")
    p.add_argument("--child", nargs=3, metavar=("BOOTSTRAP", "APP_ID", "INPUT"),
                   help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        print(RESULT_MARK + json.dumps(restore(*args.child)), flush=True)
        return 0
    with BenchKafka() as kafka:
        bootstrap = kafka.bootstrap_servers
        app_id = f"restore-{uuid.uuid4().hex[:6]}"
        input_topic = f"{app_id}-input"
        asyncio.run(ensure_topics(bootstrap, [TopicSpec(input_topic, PARTITIONS, 1)]))
        print(f"writing {args.keys:,} keys to the changelog ...", flush=True)
        asyncio.run(fill_changelog(bootstrap, f"{app_id}-{STORE}-changelog", args.keys))
        asyncio.run(warm_group_coordinator(bootstrap, input_topic))
        runs = [restore_in_child(bootstrap, app_id, input_topic) for _ in range(args.runs)]
    seconds = statistics.median(s for s, _ in runs)
    keys = min(k for _, k in runs)
    ok = keys == args.keys
    print(f"restore of {args.keys:,} keys: {seconds:.1f} s median of "
          f"{', '.join(f'{s:.1f}' for s, _ in runs)} ({args.keys / seconds:,.0f} keys/s), "
          f"{'verified' if ok else f'ONLY {keys:,} keys restored'}")
    args.results.parent.mkdir(parents=True, exist_ok=True)
    args.results.write_text(json.dumps({"keys": args.keys, "seconds": round(seconds, 2),
                                        "runs": [round(s, 2) for s, _ in runs],
                                        "restored_keys": keys, "verified": ok}, indent=1))
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
