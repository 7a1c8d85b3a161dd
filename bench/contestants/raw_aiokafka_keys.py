"""The decode-nothing ceiling for count: a bare aiokafka ``getmany`` loop counting record keys.

The rides topic is keyed by zone, so a count per zone needs no value decoding at all; with lazy
values streams_app's count does not decode them either, which lets it pass the ``aiokafka``
contestant (that one parses every ride's JSON). This loop does the least possible work per
record (one dict update on the key's bytes), so the Python ceiling stays honest. Count only.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter

from aiokafka import AIOKafkaConsumer

from bench.common import Missing, RunConfig, RunResult, TargetReader, announce_ready, latency_ms
from bench.contestants.raw_aiokafka import _FETCH


def run(cfg: RunConfig) -> RunResult:
    """Consume the whole input topic and count records per key."""
    if cfg.pipeline != "count":
        raise Missing("the decode-nothing loop runs the count pipeline only")
    return asyncio.run(_run(cfg))


async def _run(cfg: RunConfig) -> RunResult:
    target = TargetReader(cfg)
    counts: Counter = Counter()
    t_start = time.time()
    consumer = AIOKafkaConsumer(cfg.input_topic, bootstrap_servers=cfg.bootstrap,
                                group_id=cfg.group_id, auto_offset_reset="earliest",
                                enable_auto_commit=False, **_FETCH)
    await consumer.start()
    t_first = 0.0
    processed = 0
    latencies: list[float] = []
    try:
        while not target.reached(processed):
            batches = await consumer.getmany(timeout_ms=200, max_records=10_000)
            for records in batches.values():
                if not t_first:
                    t_first = time.time()
                    if cfg.mode == "latency":
                        announce_ready()
                for r in records:
                    counts[r.key] += 1
                processed += len(records)
                if cfg.mode == "latency":
                    now = time.time()
                    latencies += [lat for r in records
                                  if (lat := latency_ms(r.timestamp, t_first, now)) is not None]
        await consumer.commit()
        t_done = time.time()
    finally:
        await consumer.stop()
    results = {key.decode(): n for key, n in counts.items()}
    return RunResult("ok", t_start, t_first, t_done, processed, results=results,
                     latencies_ms=latencies)
