"""The local Kafka launcher against real broker JVMs: data flows, replication, clean teardown."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from streams_app.kafka import _maven, broker
from streams_app.kafka.broker import (
    BrokerStartError,
    ExternalKafka,
    KafkaSetupError,
    LocalKafka,
    LocalKafkaCluster,
    demo_broker,
)
from streams_app.kafka.tansu import TansuBroker

REPO = Path(__file__).resolve().parents[2]


def wait_until(cond: Callable[[], bool], timeout_s: float, what: str) -> None:
    """Poll ``cond`` until true or fail naming ``what``."""
    deadline = time.monotonic() + timeout_s
    while not cond():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout_s}s waiting for {what}")
        time.sleep(0.1)


async def create_topic(bootstrap: str, topic: str, partitions: int, replication: int) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, partitions, replication)])
    finally:
        await admin.close()


async def round_trip(bootstrap: str, topic: str, group: str) -> None:
    """Create ``topic``, produce 20 records, read them back through consumer group ``group``."""
    await create_topic(bootstrap, topic, partitions=2, replication=1)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        sent = [(f"k{i}".encode(), f"v{i}".encode()) for i in range(20)]
        for key, value in sent:
            await producer.send_and_wait(topic, value, key=key)
    finally:
        await producer.stop()

    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, group_id=group, auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    got: list[tuple[bytes, bytes]] = []
    try:
        async with asyncio.timeout(60):
            while len(got) < len(sent):
                batch = await consumer.getmany(timeout_ms=1000)
                got += [(r.key, r.value) for recs in batch.values() for r in recs]
        await consumer.commit()
    finally:
        await consumer.stop()
    assert sorted(got) == sorted(sent)


async def test_single_node_produce_consume_round_trip(
    kafka_bootstrap: str, unique_topic: str, unique_name: str
):
    await round_trip(kafka_bootstrap, unique_topic, unique_name)


@pytest.mark.integration
async def test_tansu_fallback_broker_round_trip(unique_topic: str, unique_name: str):
    with TansuBroker() as tansu:
        pids = tansu.pids
        await round_trip(tansu.bootstrap_servers, unique_topic, unique_name)
    assert pids and not broker._pid_alive(pids[0])


async def test_three_broker_cluster_replicates_to_all(kafka_cluster, unique_topic: str):
    bootstrap = kafka_cluster.bootstrap_servers
    assert len(bootstrap.split(",")) == 3
    await create_topic(bootstrap, unique_topic, partitions=3, replication=3)
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        cluster = await admin.describe_cluster()
        assert sorted(b["node_id"] for b in cluster["brokers"]) == [1, 2, 3]
        # ISR membership converges asynchronously after creation: poll, with a deadline.
        async with asyncio.timeout(60):
            while True:
                (desc,) = await admin.describe_topics([unique_topic])
                parts = desc["partitions"]
                if len(parts) == 3 and all(
                    len(p["replicas"]) == 3 and len(p["isr"]) == 3 for p in parts
                ):
                    break
                await asyncio.sleep(0.2)
        assert all(sorted(p["replicas"]) == [1, 2, 3] for p in parts)
    finally:
        await admin.close()


@pytest.mark.integration
def test_stop_leaves_no_jvm_and_no_data_dir():
    node = LocalKafka()
    with node:
        pids = node.pids
        data = node.data_dir
        assert len(pids) == 1 and node.running
        assert broker._pid_alive(pids[0])
        assert data is not None and (data / "node-1" / "server.properties").exists()
    assert not broker._pid_alive(pids[0])
    assert not data.exists()
    node.stop()  # idempotent
    with pytest.raises(BrokerStartError, match="not started"):
        node.bootstrap_servers  # noqa: B018


@pytest.mark.integration
def test_class_data_archive_is_written_once_then_used(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
):
    (tmp_path / _maven.KAFKA_VERSION).mkdir()
    (tmp_path / _maven.KAFKA_VERSION / "libs").symlink_to(_maven.ensure_kafka_jars())
    monkeypatch.setenv(_maven.CACHE_ENV, str(tmp_path))

    def archives() -> list[Path]:
        return sorted((tmp_path / _maven.KAFKA_VERSION).glob("kafka-cds-*"))

    with LocalKafka():
        assert archives() == []  # written when the JVM exits
    (archive,) = archives()
    assert archive.suffix == ".jsa" and archive.stat().st_size > 1_000_000

    with LocalKafka() as node:
        cmdline = Path(f"/proc/{node.pids[0]}/cmdline").read_bytes().split(b"\0")
        assert f"-XX:SharedArchiveFile={archive}".encode() in cmdline
    assert archives() == [archive]

    monkeypatch.setenv(broker.CDS_ENV, "0")
    with LocalKafka() as node:
        cmdline = Path(f"/proc/{node.pids[0]}/cmdline").read_bytes()
        assert b"SharedArchiveFile" not in cmdline and b"ArchiveClassesAtExit" not in cmdline


@pytest.mark.integration
def test_jvm_dies_with_its_parent_process(tmp_path: Path):
    """PR_SET_PDEATHSIG: a SIGKILLed test process must not leave a broker JVM behind."""
    script = (
        "import sys, time\n"
        "from streams_app.kafka.broker import LocalKafka\n"
        "k = LocalKafka().start()\n"
        "print(k.pids[0], k.data_dir, flush=True)\n"
        "time.sleep(600)\n"
    )
    child = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, text=True,
        cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    try:
        line = child.stdout.readline() if child.stdout else ""
        assert line, "child did not start a broker"
        pid = int(line.split()[0])
        assert broker._pid_alive(pid)
    finally:
        child.kill()
        child.wait()
    wait_until(lambda: not broker._pid_alive(pid), 30, f"JVM {pid} to die with its parent")
    data_dir = Path(line.split()[1])
    subprocess.run(["rm", "-rf", str(data_dir)], check=False)  # nobody was left to clean up


@pytest.mark.integration
def test_bad_broker_setting_fails_with_its_name_and_log_tail():
    node = LocalKafka(broker_config={"num.io.threads": "not-a-number"}, startup_timeout_s=60)
    with pytest.raises(BrokerStartError, match="num.io.threads"):
        node.start()
    assert node.pids == []


def test_cluster_size_is_validated():
    with pytest.raises(ValueError, match="brokers"):
        LocalKafkaCluster(brokers=0)
    with pytest.raises(ValueError, match="heap_mb"):
        LocalKafka(heap_mb=16)
    with pytest.raises(TypeError, match="single-node"):
        LocalKafka(brokers=3)


def test_bootstrap_before_start_is_an_error():
    with pytest.raises(BrokerStartError, match="not started"):
        LocalKafka().bootstrap_servers  # noqa: B018


def test_secured_listeners_need_secure_true_and_a_start():
    with pytest.raises(BrokerStartError, match="secure=True"):
        LocalKafka().security  # noqa: B018
    with pytest.raises(BrokerStartError, match="secure=True"):
        LocalKafka().sasl_ssl_bootstrap_servers  # noqa: B018
    with pytest.raises(BrokerStartError, match="secure=True"):
        LocalKafka(secure=True).ssl_bootstrap_servers  # noqa: B018 - certificates come at start


def test_missing_tools_are_named(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv(_maven.CACHE_ENV, str(tmp_path / "cache"))
    with pytest.raises(KafkaSetupError, match="`mvn` was not found"):
        _maven.ensure_kafka_jars()
    with pytest.raises(KafkaSetupError, match="`java` was not found"):
        LocalKafka().start()


def test_unusable_directories_name_their_setting(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
):
    monkeypatch.setenv(_maven.CACHE_ENV, "/proc/no-such-cache")
    with pytest.raises(KafkaSetupError, match=_maven.CACHE_ENV):
        _maven.ensure_kafka_jars("0.0.1")
    monkeypatch.delenv(_maven.CACHE_ENV)
    monkeypatch.setenv(broker.DATA_DIR_ENV, str(tmp_path / "missing"))
    with pytest.raises(KafkaSetupError, match=broker.DATA_DIR_ENV):
        LocalKafka().start()


@pytest.mark.integration  # runs Maven
def test_jar_cache_is_idempotent_and_overridable(monkeypatch: pytest.MonkeyPatch):
    first = _maven.ensure_kafka_jars()
    assert first == _maven.ensure_kafka_jars()
    assert (first / f"kafka_2.13-{_maven.KAFKA_VERSION}.jar").exists()
    monkeypatch.setenv(_maven.CACHE_ENV, "/somewhere/else")
    assert _maven.libs_dir("9.9.9") == Path("/somewhere/else/9.9.9/libs")


@pytest.mark.integration  # runs Maven
def test_concurrent_jar_resolution_is_safe(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    """Two racing resolvers (threads here; the flock is per open file, so also processes)."""
    monkeypatch.setenv(_maven.CACHE_ENV, str(tmp_path))
    results: list[Path | BaseException] = []

    def resolve() -> None:
        try:
            results.append(_maven.ensure_kafka_jars())
        except BaseException as exc:  # noqa: BLE001 - surfaced by the assert below
            results.append(exc)

    threads = [threading.Thread(target=resolve) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(240)
    assert results == [tmp_path / _maven.KAFKA_VERSION / "libs"] * 2
    leftovers = [p.name for p in (tmp_path / _maven.KAFKA_VERSION).iterdir()]
    assert sorted(leftovers) == [".lock", "libs"]


def test_demo_broker_prefers_external_then_local(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv(broker.BOOTSTRAP_ENV, "example:9092")
    chosen = demo_broker()
    assert isinstance(chosen, ExternalKafka) and chosen.bootstrap_servers == "example:9092"
    monkeypatch.delenv(broker.BOOTSTRAP_ENV)
    assert type(demo_broker()) is LocalKafka
    monkeypatch.setenv("PATH", "/nonexistent")  # no java, no mvn
    assert type(demo_broker()) is TansuBroker


@pytest.mark.integration
def test_cli_start_detached_then_stop(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    # Private run-state dir, shared jars.
    (tmp_path / _maven.KAFKA_VERSION).symlink_to(_maven.ensure_kafka_jars().parent)
    monkeypatch.setenv(_maven.CACHE_ENV, str(tmp_path))
    assert broker.main(["fetch"]) == 0
    assert capsys.readouterr().out.strip() == str(tmp_path / _maven.KAFKA_VERSION / "libs")

    assert broker.main(["start"]) == 0
    bootstrap = capsys.readouterr().out.strip()
    state = broker._read_state()
    assert state is not None and state["bootstrap_servers"] == bootstrap
    pids = list(state["pids"])
    try:
        assert asyncio.run(broker._broker_ids(bootstrap, 10)) == {1}
        assert broker.main(["start"]) == 0  # idempotent: reports the running broker
        assert capsys.readouterr().out.strip() == bootstrap
    finally:
        assert broker.main(["stop"]) == 0
    assert not any(broker._pid_alive(p) for p in pids)
    assert not Path(str(state["data_dir"])).exists()


def test_cli_rejects_bad_broker_count(capsys: pytest.CaptureFixture[str]):
    with pytest.raises(SystemExit):
        broker.main(["start", "--brokers", "0"])
    assert "--brokers" in capsys.readouterr().err


@pytest.mark.integration
def test_cli_foreground_serves_until_sigterm():
    proc = subprocess.Popen(
        [sys.executable, "-m", "streams_app.kafka.broker", "start", "--foreground"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    try:
        bootstrap = proc.stdout.readline().strip() if proc.stdout else ""
        assert bootstrap.startswith("127.0.0.1:"), proc.stderr.read() if proc.stderr else ""
        assert asyncio.run(broker._broker_ids(bootstrap, 10)) == {1}
        jvms = [int(p) for p in subprocess.run(
            ["pgrep", "-P", str(proc.pid)], capture_output=True, text=True
        ).stdout.split()]
        assert len(jvms) == 1
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert not broker._pid_alive(jvms[0])
