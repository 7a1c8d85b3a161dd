"""Start-up faults (issue 14, defects 2, 3, 5): a worker with a bad config, no broker or a
"black hole" address fails with one clear line naming the setting, without a traceback."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiokafka.errors import KafkaConnectionError

from streams_app.jobs.process import JobProcess
from streams_app.kafka.admin import admin_client
from streams_app.kafka.broker import Broker, LocalKafka
from streams_app.kafka.security import KafkaConnectError
from streams_app.kafka.startup import start_when_broker_answers
from streams_app.settings import ConfigError, Settings

JOB = "rides-vendor-count"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run_worker(tmp_path: Path, env: dict[str, str], timeout: float) -> tuple[int, str, float]:
    """Run the job's worker to its end: exit code, output, seconds taken."""
    log = tmp_path / "worker.log"
    worker = JobProcess(JOB, {"STREAMS_DATA_DIR": str(tmp_path / "data"), **env},
                        log_path=log, loglevel="info")
    started = time.monotonic()
    worker.start()
    assert worker.proc is not None
    try:
        code = worker.proc.wait(timeout)
    except subprocess.TimeoutExpired:
        worker.kill()
        pytest.fail(f"the worker still runs after {timeout} s:\n{worker.log_tail()}")
    return code, log.read_text(errors="replace"), time.monotonic() - started


@pytest.fixture
def black_hole() -> Iterator[str]:
    """A loopback address whose kernel accepts connections that nobody ever answers."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(16)
        yield f"127.0.0.1:{s.getsockname()[1]}"


def test_exactly_once_with_acks_1_prints_only_the_config_error(tmp_path: Path) -> None:
    code, out, _ = run_worker(tmp_path, {"STREAMS_PROCESSING_GUARANTEE": "exactly_once",
                                         "STREAMS_ACKS": "1"}, 30)
    assert code != 0
    assert out.strip().splitlines() == [
        "streams-app worker: configuration error: STREAMS_ACKS (acks): exactly_once "
        "(STREAMS_PROCESSING_GUARANTEE) needs 'all', got '1'"], out


def test_down_broker_is_waited_for_then_named(tmp_path: Path) -> None:
    address = f"127.0.0.1:{_free_port()}"
    code, out, took = run_worker(tmp_path, {"STREAMS_BOOTSTRAP_SERVERS": address,
                                            "STREAMS_STARTUP_TIMEOUT_MS": "7000"}, 60)
    assert code != 0
    assert took >= 7.0, out
    assert "Traceback" not in out and "NotReady" not in out, out
    progress = [line for line in out.splitlines() if "waiting for Kafka" in line]
    assert 1 <= len(progress) <= 2, out
    last = [line for line in out.splitlines() if "[ERROR]" in line]
    assert len(last) == 1, out
    assert "STREAMS_BOOTSTRAP_SERVERS" in last[0] and address in last[0], last
    assert "STREAMS_STARTUP_TIMEOUT_MS" in last[0], last


def test_black_hole_address_fails_within_15_s_with_a_reason(tmp_path: Path,
                                                            black_hole: str) -> None:
    code, out, took = run_worker(tmp_path, {"STREAMS_BOOTSTRAP_SERVERS": black_hole}, 60)
    assert code != 0
    assert took < 15.0, out
    assert "Traceback" not in out, out
    errors = [line for line in out.splitlines() if "[ERROR]" in line]
    assert len(errors) == 1, out
    assert black_hole in errors[0] and "no Kafka answer" in errors[0], errors


@pytest.mark.parametrize("name", ["startup_timeout_ms", "shutdown_timeout_ms"])
def test_timeouts_are_validated(name: str) -> None:
    with pytest.raises(ConfigError, match=f"STREAMS_{name.upper()} \\({name}\\)"):
        Settings.from_env({f"STREAMS_{name.upper()}": "soon"})
    with pytest.raises(ConfigError, match=f"STREAMS_{name.upper()}"):
        Settings.from_env({f"STREAMS_{name.upper()}": "-1"})


@pytest.mark.integration
def test_worker_started_before_the_broker_waits_and_runs(tmp_path: Path) -> None:
    port = _free_port()
    log = tmp_path / "worker.log"
    worker = JobProcess(JOB, {"STREAMS_DATA_DIR": str(tmp_path / "data"),
                              "STREAMS_BOOTSTRAP_SERVERS": f"127.0.0.1:{port}",
                              "STREAMS_STARTUP_TIMEOUT_MS": "120000"},
                        log_path=log, loglevel="info").start()
    try:
        with LocalKafka(first_port=port):
            deadline = time.monotonic() + 90
            while "Worker]: Ready" not in log.read_text(errors="replace"):
                assert worker.running, worker.log_tail()
                assert time.monotonic() < deadline, worker.log_tail()
                time.sleep(0.5)  # polling the worker's log for its readiness line
            assert "Kafka at 127.0.0.1" in log.read_text(errors="replace")
            assert worker.running
    finally:
        worker.stop()


def test_broker_dropping_the_start_up_is_waited_out(kafka: Broker) -> None:
    """The broker goes away while topics are made (the first attempt fails as aiokafka
    does); start-up waits for it again and retries, instead of exiting."""
    settings = Settings.from_env({"STREAMS_BOOTSTRAP_SERVERS": kafka.bootstrap_servers,
                                  "STREAMS_APPLICATION_ID": "startup-retry"})
    attempts: list[float] = []

    async def step() -> None:
        attempts.append(time.monotonic())
        if len(attempts) == 1:
            raise KafkaConnectionError("Connection at broker closed")
        async with admin_client(kafka.bootstrap_servers, settings=settings) as client:
            assert await client.list_topics() is not None

    asyncio.run(start_when_broker_answers(settings, step, timeout_s=30))
    assert len(attempts) == 2


def test_start_up_that_keeps_failing_names_the_settings(kafka: Broker) -> None:
    settings = Settings.from_env({"STREAMS_BOOTSTRAP_SERVERS": kafka.bootstrap_servers,
                                  "STREAMS_APPLICATION_ID": "startup-retry"})

    async def step() -> None:
        raise KafkaConnectionError("Connection at broker closed")

    with pytest.raises(KafkaConnectError, match="STREAMS_STARTUP_TIMEOUT_MS"):
        asyncio.run(start_when_broker_answers(settings, step, timeout_s=1.5))
