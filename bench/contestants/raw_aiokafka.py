"""The Python ceiling: a bare aiokafka ``getmany`` loop, orjson and dict updates.

No framework, no state store, no changelog: the least work any Python contestant can do to
consume and deserialise the topic and keep the results. Offsets are committed at the end.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter

import orjson
from aiokafka import AIOKafkaConsumer, TopicPartition

from bench.common import RunConfig, RunResult, TargetReader, announce_ready, latency_ms
from bench.pipelines import Sessions, window_key

_FETCH = dict(max_partition_fetch_bytes=4 * 1024 * 1024, fetch_max_bytes=16 * 1024 * 1024)


def run(cfg: RunConfig) -> RunResult:
    """Consume the whole input topic and return the pipeline's results."""
    return asyncio.run(_run(cfg))


async def _zones(cfg: RunConfig) -> dict[int, str]:
    """The zones topic read to its end: locationid -> borough."""
    consumer = AIOKafkaConsumer(bootstrap_servers=cfg.bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        tps = [TopicPartition(cfg.zones_topic, p)
               for p in consumer.partitions_for_topic(cfg.zones_topic) or ()]
        if not tps:
            await consumer._client.force_metadata_update()
            tps = [TopicPartition(cfg.zones_topic, p)
                   for p in consumer.partitions_for_topic(cfg.zones_topic) or ()]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        ends = await consumer.end_offsets(tps)
        zones: dict[int, str] = {}
        while [tp for tp in tps if await consumer.position(tp) < ends[tp]]:
            for records in (await consumer.getmany(timeout_ms=500)).values():
                for r in records:
                    z = orjson.loads(r.value)
                    zones[z["locationid"]] = z["borough"]
        return zones
    finally:
        await consumer.stop()


async def _run(cfg: RunConfig) -> RunResult:
    target = TargetReader(cfg)
    zones = await _zones(cfg) if cfg.pipeline == "zone_join" else {}
    counts: Counter = Counter()
    sessions = Sessions()
    latencies: list[float] = []
    t_start = time.time()
    consumer = AIOKafkaConsumer(cfg.input_topic, bootstrap_servers=cfg.bootstrap,
                                group_id=cfg.group_id, auto_offset_reset="earliest",
                                enable_auto_commit=False, **_FETCH)
    await consumer.start()
    t_first = t_ready = 0.0
    processed = 0
    try:
        while not target.reached(processed):
            batches = await consumer.getmany(timeout_ms=200, max_records=10_000)
            for records in batches.values():
                if not t_first:
                    t_first = t_ready = time.time()
                    if cfg.mode == "latency":
                        announce_ready()
                _apply(cfg.pipeline, records, counts, sessions, zones)
                processed += len(records)
                if cfg.mode == "latency":
                    now = time.time()
                    for r in records:
                        lat = latency_ms(r.timestamp, t_ready, now)
                        if lat is not None:
                            latencies.append(lat)
        await consumer.commit()
        t_done = time.time()
    finally:
        await consumer.stop()
    results = sessions.results() if cfg.pipeline == "session" else dict(counts)
    return RunResult("ok", t_start, t_first, t_done, processed, results=results,
                     latencies_ms=latencies)


def _apply(pipeline: str, records: list, counts: Counter, sessions: Sessions,
           zones: dict[int, str]) -> None:
    loads = orjson.loads
    if pipeline == "count":
        for r in records:
            counts[str(loads(r.value)["PULocationID"])] += 1
    elif pipeline == "windowed_count":
        for r in records:
            counts[window_key(loads(r.value)["PULocationID"], r.timestamp)] += 1
    elif pipeline == "zone_join":
        for r in records:
            counts[zones[loads(r.value)["PULocationID"]]] += 1
    elif pipeline == "session":
        for r in records:
            sessions.add(loads(r.value)["PULocationID"], r.timestamp)
    else:
        raise ValueError(f"unknown pipeline {pipeline!r}")
