"""Versioned tables on the Faust runtime and a real broker: the corpus' versioned join
scenarios give Kafka Streams' outputs, and a versioned store restored from its changelog
still answers a stream-table join as of the stream record's time."""

from __future__ import annotations

from pathlib import Path

from aiokafka import AIOKafkaProducer

from conformance import runtime_report
from conformance.runtime_report import IDENTICAL
from conformance.scenarios import CORPUS, load_folder
from streams_app import Materialized, Stores, StreamsBuilder
from streams_app.kafka.admin import describe_topic, ensure_topics
from streams_app.kafka.reader import group_caught_up, read_to_end, wait_until
from streams_app.kafka.topics import TopicSpec
from streams_app.runtime.faust_runtime import FaustRuntime
from streams_app.serdes import JsonSerde, StringSerde
from streams_app.settings import Settings

S, J = StringSerde(), JsonSerde()
SCENARIOS = ("edge.versioned.join_stream_table.left-asof-h20",
             "edge.versioned.join_stream_table.left-grace10",
             "edge.versioned.join_table_table.outer-rm1")


async def test_versioned_join_scenarios_match_kafka_streams(kafka_bootstrap: str,
                                                           unique_name: str,
                                                           tmp_path: Path) -> None:
    chosen = [s for s in load_folder(CORPUS / "edge") if s["name"] in SCENARIOS]
    assert len(chosen) == len(SCENARIOS)
    for i, s in enumerate(chosen):
        v = await runtime_report.verdict(s, bootstrap=kafka_bootstrap, name=f"{unique_name}-{i}",
                                         data_dir=tmp_path / str(i))
        assert v.status == IDENTICAL, (v.name, v.detail)


def topology(prefix: str):  # noqa: ANN201 - a built Topology
    b = StreamsBuilder()
    rates = b.table(f"{prefix}rates", key_serde=S, value_serde=J, materialized=Materialized.as_(
        Stores.persistent_versioned_key_value_store("rates", 1_000)))
    orders = b.stream(f"{prefix}orders", key_serde=S, value_serde=J)
    orders.join(rates, lambda order, rate: order * rate).to(f"{prefix}priced", value_serde=J)
    return b.build()


async def run_worker(bootstrap: str, app_id: str, data_dir: Path, prefix: str,
                     records: list[tuple[str, str, int, int]]) -> None:
    """Start a worker, produce ``(topic, key, value, timestamp)`` in order (each one
    processed before the next), stop it."""
    settings = Settings(bootstrap_servers=bootstrap, app_id=app_id, data_dir=data_dir,
                        topic_partitions=1, commit_interval_ms=100, cache_max_bytes=0)
    runtime = FaustRuntime(topology(prefix), settings,
                           config={"default_key_serde": "string", "cache_max_entries": 0})
    app = runtime.app
    await app.start()
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=0)
    await producer.start()
    try:
        for topic, key, value, ts in records:
            await producer.send_and_wait(prefix + topic, J.serialize(value),
                                         key=S.serialize(key), timestamp_ms=ts)

            async def processed(topic: str = prefix + topic) -> bool:
                assert not app.crashed, app.crash_reason
                return await group_caught_up(bootstrap, app_id, topic)

            await wait_until(processed, 60, f"{app_id} to process {topic}", interval=0.05)
    finally:
        await producer.stop()
        await app.stop()


async def test_restored_versioned_store_answers_as_of(kafka_bootstrap: str, unique_name: str,
                                                     tmp_path: Path) -> None:
    prefix, app_id = f"{unique_name}-", f"{unique_name}-app"
    await ensure_topics(kafka_bootstrap, [TopicSpec(prefix + t, 1, 1, retention_ms=-1)
                                          for t in ("rates", "orders", "priced")])
    await run_worker(kafka_bootstrap, app_id, tmp_path / "first", prefix,
                     [("rates", "eur", 2, 100), ("rates", "eur", 3, 300),
                      ("rates", "eur", 5, 200)])  # out of order: history only
    # a second worker with an empty state directory restores the store from its changelog
    await run_worker(kafka_bootstrap, app_id, tmp_path / "second", prefix,
                     [("orders", "eur", 10, 150), ("orders", "eur", 10, 250),
                      ("orders", "eur", 10, 350), ("orders", "eur", 10, 50)])
    priced = [(S.deserialize(r.key), J.deserialize(r.value), r.timestamp)
              for r in await read_to_end(kafka_bootstrap, prefix + "priced")]
    assert priced == [("eur", 20, 150), ("eur", 50, 250), ("eur", 30, 350)]
    changelog = await describe_topic(kafka_bootstrap, f"{app_id}-rates-changelog")
    # compaction must keep the history for the retention (+ a day), as in Kafka Streams
    assert changelog.configs["min.compaction.lag.ms"] == str(1_000 + 86_400_000)
