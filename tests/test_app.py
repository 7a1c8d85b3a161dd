"""create_app: settings mapped onto Faust's config, and a real worker ready within 5 s."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import faust
import pytest

from streams_app.app import StreamsApp, create_app
from streams_app.kafka.admin import describe_topic
from streams_app.kafka.topics import TopicSpec
from streams_app.settings import ConfigError, Settings

READY_WITHIN_S = 5.0


def test_settings_map_onto_faust_conf(tmp_path: Path) -> None:
    settings = Settings(
        bootstrap_servers="k1:9092,k2:9093",
        app_id="conf-test",
        auto_offset_reset="latest",
        acks="1",
        processing_guarantee="exactly_once",
        store="memory",
        data_dir=tmp_path,
        topic_partitions=4,
        topic_replication_factor=1,
        commit_interval_ms=250,
        standby_replicas=1,
        session_timeout_ms=8000,
        heartbeat_interval_ms=500,
    )
    app = create_app(settings)
    conf = app.conf
    assert isinstance(app, faust.App) and app.settings is settings
    assert conf.id == "conf-test"
    assert [str(url) for url in conf.broker] == ["kafka://k1:9092", "kafka://k2:9093"]
    assert str(conf.store) == "memory:"
    assert Path(conf.datadir) == tmp_path
    assert (conf.topic_partitions, conf.topic_replication_factor) == (4, 1)
    assert conf.consumer_auto_offset_reset == "latest"
    assert conf.producer_acks == 1
    assert conf.processing_guarantee.value == "exactly_once"
    assert conf.broker_commit_interval == 0.25
    assert conf.table_standby_replicas == 1
    assert (conf.broker_session_timeout, conf.broker_heartbeat_interval) == (8.0, 0.5)
    assert conf.broker_rebalance_timeout == 8.0
    assert conf.stream_recovery_delay == 0.0
    assert conf.topic_disable_leader is True
    assert conf.web_enabled is False


def test_defaults_use_rocksdb_and_acks_all(tmp_path: Path) -> None:
    app = create_app(Settings(data_dir=tmp_path))
    assert str(app.conf.store) == "rocksdb:"
    assert app.conf.producer_acks == -1
    assert app.conf.processing_guarantee.value == "at_least_once"


def test_overrides_apply_and_are_validated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STREAMS_APP_ID", "from-env")
    assert create_app().conf.id == "from-env"
    assert create_app(app_id="from-kw").conf.id == "from-kw"
    assert create_app(Settings(app_id="base"), app_id="over").conf.id == "over"
    with pytest.raises(ConfigError, match=r"STREAMS_ACKS \(acks\)"):
        create_app(acks="two")
    with pytest.raises(ConfigError, match="unknown setting"):
        create_app(Settings(), no_such_setting=1)


def test_topic_specs_are_kept_on_the_app() -> None:
    specs = [TopicSpec("a"), TopicSpec("b", 2)]
    app = create_app(Settings(), topics=specs)
    assert isinstance(app, StreamsApp) and app.topic_specs == specs


@pytest.mark.integration
async def test_worker_ready_within_five_seconds(
    kafka_bootstrap: str, unique_name: str, tmp_path: Path
) -> None:
    source = TopicSpec(f"{unique_name}-in", partitions=2, retention_ms=3_600_000)
    app = create_app(
        Settings(bootstrap_servers=kafka_bootstrap, app_id=unique_name, data_dir=tmp_path),
        topics=[source],
        topic_partitions=2,
    )
    topic = app.topic(source.name, key_type=str, value_type=str, partitions=2)
    counts = app.Table("counts", default=int, partitions=2)
    ready = asyncio.Event()

    @app.on_partitions_assigned.connect
    async def on_assigned(sender: faust.App, assigned: set, **kwargs: object) -> None:
        if any(tp.topic == source.name for tp in assigned):
            ready.set()

    @app.agent(topic)
    async def count(stream: faust.StreamT) -> None:
        async for key in stream:
            counts[key] += 1

    started = time.monotonic()
    start = asyncio.ensure_future(app.start())
    try:
        await asyncio.wait_for(ready.wait(), timeout=READY_WITHIN_S)
        elapsed = time.monotonic() - started
        assignment = {(tp.topic, tp.partition) for tp in app.consumer.assignment()}
        assert {(source.name, 0), (source.name, 1)} <= assignment, assignment
        assert elapsed < READY_WITHIN_S
        await asyncio.wait_for(start, timeout=30)

        # The spec'd topic was created from its TopicSpec before the consumer subscribed.
        created = await describe_topic(kafka_bootstrap, source.name)
        assert (created.partitions, created.configs["retention.ms"]) == (2, "3600000")
        # The table's changelog is compacted, and its store is rocksdict-backed RocksDB.
        changelog = await describe_topic(kafka_bootstrap, f"{unique_name}-counts-changelog")
        assert changelog.configs["cleanup.policy"] == "compact"
        assert changelog.partitions == 2
        assert counts.data.use_rocksdict is True
    finally:
        if not start.done():
            start.cancel()
        await app.stop()


def test_faust_web_server_stays_off_even_when_faust_worker_turns_it_on() -> None:
    # `faust worker` sets conf.web_enabled from its --with-web default (True); the worker's
    # endpoints are streams_app.runtime.web's, so Faust's server must not start anyway.
    app = create_app(Settings(web_enabled=True))
    app.conf.web_enabled = True
    assert app.boot_strategy.web_server() == []


async def test_only_a_worker_process_stops_under_the_shutdown_deadline(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # Faust's own stop stands in for the last commit: the deadline must be armed around it in
    # a worker process only (an embedding program's process is not the app's to exit).
    armed: list[bool] = []

    async def faust_stop(self: StreamsApp) -> None:
        armed.append(self.shutdown_deadline.armed)

    monkeypatch.setattr(faust.App, "on_stop", faust_stop)
    for in_worker in (False, True):
        app = create_app(Settings(app_id=f"deadline-{in_worker}", data_dir=tmp_path,
                                  shutdown_timeout_ms=600_000))
        app.in_worker = in_worker
        await app.on_stop()
        assert not app.shutdown_deadline.armed  # cancelled once the stop returned
    assert armed == [False, True]
