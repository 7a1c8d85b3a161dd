"""Stream ``rides.csv`` into a Kafka topic as JSON, keyed by a ride field (VendorID by default)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable
from pathlib import Path

import orjson
from aiokafka import AIOKafkaProducer
from tqdm import tqdm

from streams_app.jobs.rides import RIDES_CSV, read_rides
from streams_app.kafka.security import client_kwargs, start_client
from streams_app.settings import Settings


async def produce_rides(
    bootstrap_servers: str,
    topic: str = "rides",
    *,
    csv_path: Path | str = RIDES_CSV,
    key_field: str = "VendorID",
    rate: float | None = None,
    repeat: int = 1,
    acks: int | str = "all",
    progress: bool = True,
    settings: Settings | None = None,
) -> int:
    """Send every ride (``repeat`` times) to ``topic``; ``rate`` caps records per second.

    Returns the number of records sent. All sends are awaited before returning, so on return
    every record is in the log (acks permitting). ``settings``: security settings for the
    producer (``bootstrap_servers`` is still where it connects).
    """
    if rate is not None and rate <= 0:
        raise ValueError(f"--rate must be a positive number of records per second, not {rate}")
    rides = list(read_rides(csv_path))
    for ride in rides:
        if key_field not in ride:
            raise ValueError(f"key field {key_field!r} is not a column of {csv_path}")
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap_servers, acks=acks, linger_ms=5,
                                **client_kwargs(settings))
    await start_client(producer, settings, bootstrap_servers=bootstrap_servers)
    sent = 0
    try:
        total = len(rides) * repeat
        bar = tqdm(total=total, unit="ride", desc=f"producing to {topic}", disable=not progress)
        started = time.monotonic()
        pending = []
        for ride in _repeat(rides, repeat):
            key = str(ride[key_field]).encode()
            pending.append(await producer.send(topic, orjson.dumps(ride), key=key))
            sent += 1
            bar.update(1)
            if rate is not None:
                # Pace against the schedule, not per record, so the average rate holds.
                ahead = sent / rate - (time.monotonic() - started)
                if ahead > 0:
                    await asyncio.sleep(ahead)
        await producer.flush()
        await asyncio.gather(*pending)
        bar.close()
    finally:
        await producer.stop()
    return sent


def _repeat(rides: list[dict], times: int) -> Iterable[dict]:
    for _ in range(times):
        yield from rides
