"""Input data: scale ``rides.csv`` to N rides in a 4-partition topic, plus the zones topic.

Rides keep their CSV fields; PULocationID is drawn with Zipf-like popularity over the 265 zones
(exponent ``ZIPF_S``: busy Manhattan zones, rare outer ones, so sessions differ per zone; the
busiest zone alone is 30% of the rides; ``zipf_s=0`` draws the zones uniformly), pickup times
advance by Poisson arrivals at ``rate_per_s`` from the CSV's first pickup, and
``LATE_FRACTION`` of rides arrive up to ``MAX_LATE_MS`` late (out of order). The Kafka
record timestamp is the pickup time.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import orjson
from aiokafka import AIOKafkaProducer
from aiokafka.partitioner import DefaultPartitioner

from streams_app.jobs.rides import read_rides, read_zones
from streams_app.kafka.admin import ensure_topics
from streams_app.kafka.topics import TopicSpec

PARTITIONS = 4
ZIPF_S = 1.3
LATE_FRACTION = 0.05
MAX_LATE_MS = 30_000
_BATCH_BYTES = 512 * 1024
_IN_FLIGHT = 8  # concurrent batches per partition


@dataclass
class Dataset:
    """What was written: the events ``(zone, ts_ms)`` in topic order and the zone boroughs."""

    topic: str
    zones_topic: str
    events: list[tuple[int, int]] = field(default_factory=list)
    boroughs: dict[int, str] = field(default_factory=dict)


def zone_boroughs() -> dict[int, str]:
    """locationid -> borough from ``taxi_zone_lookup.csv``."""
    return {z["locationid"]: z["borough"] for z in read_zones()}


def ride_events(n: int, seed: int = 7, rate_per_s: float = 20.0, zipf_s: float = ZIPF_S,
                balance_partitions: int = 0):
    """Yield ``(zone, ts_ms, key, value)`` for ``n`` rides (deterministic for a seed).

    ``balance_partitions=P``: the zones' weights are scaled so that each of ``P`` partitions
    (murmur2 of the key, as :func:`produce` writes them) draws 1/P of the rides; the
    popularity order within a partition stays."""
    rng = random.Random(seed)
    templates = list(read_rides())
    zones = sorted(zone_boroughs())
    ranks = zones[:]
    rng.shuffle(ranks)  # popularity rank is independent of the zone id
    weights = [1.0 / (i + 1) ** zipf_s for i in range(len(ranks))]
    if balance_partitions:
        weights = partition_balanced(ranks, weights, balance_partitions)
    cum = list(_accumulate(weights))
    first = datetime.strptime(templates[0]["tpep_pickup_datetime"], "%Y-%m-%d %H:%M:%S")
    clock_ms = int(first.replace(tzinfo=UTC).timestamp() * 1000)
    mean_gap_ms = 1000.0 / rate_per_s
    picks = rng.choices(ranks, cum_weights=cum, k=n)
    for i in range(n):
        clock_ms += int(rng.expovariate(1.0 / mean_gap_ms))
        ts = clock_ms - (rng.randrange(MAX_LATE_MS) if rng.random() < LATE_FRACTION else 0)
        zone = picks[i]
        ride = dict(templates[i % len(templates)])
        ride["PULocationID"] = zone
        ride["tpep_pickup_datetime"] = (
            datetime.fromtimestamp(ts / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S")
        )
        yield zone, ts, str(zone).encode(), orjson.dumps(ride)


def partition_balanced(zones: list[int], weights: list[float], partitions: int) -> list[float]:
    """``weights`` of ``zones`` rescaled so every partition's zones sum to the same total."""
    parts = list(range(partitions))
    of = [DefaultPartitioner()(str(z).encode(), parts, parts) for z in zones]
    totals = [0.0] * partitions
    for p, w in zip(of, weights, strict=True):
        totals[p] += w
    return [w / totals[p] for p, w in zip(of, weights, strict=True)]


def _accumulate(values: list[float]):
    total = 0.0
    for v in values:
        total += v
        yield total


async def create_topics(bootstrap: str, *names: str, partitions: int = PARTITIONS,
                        replication: int = 1) -> None:
    """Create ``names`` (4 partitions by default) with no time-based retention (the data is
    from 2020)."""
    await ensure_topics(
        bootstrap, [TopicSpec(n, partitions, replication, retention_ms=-1) for n in names]
    )


async def produce(
    bootstrap: str,
    topic: str,
    zones_topic: str,
    n: int,
    progress: Callable[[int], None] | None = None,
    *,
    partitions: int = PARTITIONS,
    replication: int = 1,
    zipf_s: float = ZIPF_S,
    balanced: bool = False,
) -> Dataset:
    """Write ``n`` rides to ``topic`` and the 265 zones to ``zones_topic``; return the events.

    Batches are built per partition with ``create_batch`` (murmur2 partitioning, as the Java
    client does, so the zones topic is co-partitioned with the rides) and sent concurrently.
    ``balanced``: every partition gets 1/``partitions`` of the rides (:func:`ride_events`).
    """
    await create_topics(bootstrap, topic, zones_topic, partitions=partitions,
                        replication=replication)
    data = Dataset(topic, zones_topic, boroughs=zone_boroughs())
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks=1, linger_ms=5,
                                max_batch_size=_BATCH_BYTES, max_request_size=4 * _BATCH_BYTES)
    await producer.start()
    try:
        await _send_zones(producer, zones_topic)
        partitioner = DefaultPartitioner()
        parts = list(range(partitions))
        batches = {p: producer.create_batch() for p in parts}
        pending: set[asyncio.Future] = set()

        async def flush(p: int) -> None:
            batch, batches[p] = batches[p], producer.create_batch()
            batch.close()
            pending.add(await producer.send_batch(batch, topic, partition=p))
            if len(pending) >= _IN_FLIGHT * partitions:
                done, _ = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
                for fut in done:
                    fut.result()
                pending.difference_update(done)

        sent = 0
        for zone, ts, key, value in ride_events(
                n, zipf_s=zipf_s, balance_partitions=partitions if balanced else 0):
            p = partitioner(key, parts, parts)
            if batches[p].append(key=key, value=value, timestamp=ts) is None:
                await flush(p)
                batches[p].append(key=key, value=value, timestamp=ts)
            data.events.append((zone, ts))
            sent += 1
            if progress is not None and sent % 10_000 == 0:
                progress(10_000)
        for p in parts:
            if batches[p].record_count():
                await flush(p)
        for fut in pending:
            await fut
        if progress is not None:
            progress(sent % 10_000)
    finally:
        await producer.stop()
    return data


async def _send_zones(producer: AIOKafkaProducer, zones_topic: str) -> None:
    futures = [
        await producer.send(zones_topic, key=str(z["locationid"]).encode(), value=orjson.dumps(z),
                            timestamp_ms=0)
        for z in read_zones()
    ]
    await asyncio.gather(*futures)
