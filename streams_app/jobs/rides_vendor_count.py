"""The seed's first job: count rides per vendor, and branch rides by amount.

Reads JSON rides from ``rides`` (key = VendorID), keeps a RocksDB-backed, changelogged count per
vendor, publishes every count update to ``rides-vendor-count`` and routes each ride to
``rides-high-amount`` (total_amount >= 40) or ``rides-low-amount``. A record that is not a JSON
ride goes to ``rides-dead-letter`` with the reason in its headers; the job keeps running.

Run it as a Faust worker: ``faust -A streams_app.jobs.rides_vendor_count worker`` or
``streams-app job rides-vendor-count``. Settings come from ``STREAMS_*`` env vars; topic names
get an optional ``STREAMS_TOPIC_PREFIX`` (tests use it to share one broker).
"""

from __future__ import annotations

import os

from streams_app.app import create_app
from streams_app.jobs.rides import parse_ride, vendor_count_topics
from streams_app.kafka.topics import TopicSpec
from streams_app.settings import Settings

HIGH_AMOUNT = 40.0

settings = Settings.from_env(app_id=os.environ.get("STREAMS_APP_ID", "rides-vendor-count"))
prefix = settings.topic_prefix
partitions = settings.topic_partitions
replicas = settings.topic_replication_factor
TOPICS = vendor_count_topics(prefix, partitions, replicas)
RIDES, VENDOR_COUNT, HIGH, LOW, DEAD_LETTER = TOPICS
app = create_app(settings, topics=TOPICS)


def _raw_topic(spec: TopicSpec):
    return app.topic(spec.name, key_type=bytes, value_type=bytes, value_serializer="raw",
                     key_serializer="raw", partitions=spec.partitions)


rides_topic = _raw_topic(RIDES)
vendor_count_topic = _raw_topic(VENDOR_COUNT)
high_topic = _raw_topic(HIGH)
low_topic = _raw_topic(LOW)
dead_letter_topic = _raw_topic(DEAD_LETTER)

vendor_counts = app.Table(
    "vendor-count", default=int, key_type=str, value_type=int, partitions=partitions,
    help="Rides per VendorID.",
)


@app.agent(rides_topic)
async def count_rides(stream):
    """Count per vendor, publish each update, branch by amount; bad records go to dead letter."""
    async for event in stream.events():
        message = event.message
        try:
            vendor, amount = parse_ride(event.value)
        except ValueError as exc:
            source = f"{message.topic}/{message.partition}/{message.offset}"
            await dead_letter_topic.send(
                key=event.key, value=event.value,
                headers=[("error", str(exc).encode()), ("source", source.encode())],
            )
            continue
        count = vendor_counts[vendor] + 1
        vendor_counts[vendor] = count
        await vendor_count_topic.send(key=vendor.encode(), value=str(count).encode())
        await (high_topic if amount >= HIGH_AMOUNT else low_topic).send(key=event.key,
                                                                       value=event.value)
