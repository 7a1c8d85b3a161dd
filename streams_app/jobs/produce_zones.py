"""Put ``taxi_zone_lookup.csv`` into the zones topic of ``rides-zone-join`` (key = location id).

``python -m streams_app.jobs.produce_zones --bootstrap-servers HOST:PORT [--topic T]``; the
topic is created (compacted, it is a table) when missing. Producing again rewrites the same
rows, so it is safe to repeat.
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

import orjson
from aiokafka import AIOKafkaProducer

from streams_app.jobs.rides import ZONES_CSV, ZONES_TOPIC, zone_records, zones_topic_spec
from streams_app.kafka.admin import ensure_topics
from streams_app.kafka.security import client_kwargs, start_client
from streams_app.settings import Settings


async def produce_zones(bootstrap_servers: str, topic: str = ZONES_TOPIC, *,
                        csv_path: Path | str = ZONES_CSV, replication_factor: int = 1,
                        settings: Settings | None = None) -> int:
    """Create ``topic`` if missing (as the job declares it) and send every zone to it, all
    acknowledged on return.

    Returns the number of zones sent. ``settings``: security settings of the clients.
    """
    zones = list(zone_records(csv_path))
    await ensure_topics(bootstrap_servers, [zones_topic_spec(topic, replication_factor)],
                        settings=settings)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap_servers, acks="all", linger_ms=5,
                                **client_kwargs(settings))
    await start_client(producer, settings, bootstrap_servers=bootstrap_servers)
    try:
        pending = [await producer.send(topic, orjson.dumps(zone), key=key.encode())
                   for key, zone in zones]
        await producer.flush()
        await asyncio.gather(*pending)
    finally:
        await producer.stop()
    return len(zones)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bootstrap-servers", default="localhost:9092")
    parser.add_argument("--topic", default=ZONES_TOPIC)
    parser.add_argument("--csv", default=str(ZONES_CSV), help="a taxi_zone_lookup.csv")
    parser.add_argument("--replication-factor", type=int, default=1)
    args = parser.parse_args(argv)
    sent = asyncio.run(produce_zones(args.bootstrap_servers, args.topic, csv_path=args.csv,
                                     replication_factor=args.replication_factor))
    print(f"{sent} zones sent to {args.topic}")


if __name__ == "__main__":
    main()
