"""The taxi job's /metrics, /ready and `streams-app status` on the real broker, and its JSON logs.

One worker counts the rides (metrics scraped while it runs and after: processed records equal
the input, the lag reaches 0; `status` prints the lag), logging JSON; it is killed, its data
dir deleted, and a second worker restores the store: /ready answers 503 until the restore is
done, and restore progress appears and reaches 100%.
"""

from __future__ import annotations

import asyncio
import shutil
import socket
import time
from pathlib import Path

import aiohttp
import orjson
from prometheus_client.parser import text_string_to_metric_families

from streams_app.cli import main
from streams_app.jobs.process import JobProcess
from streams_app.jobs.produce_rides import produce_rides
from streams_app.kafka.reader import read_to_end, wait_until
from tests.jobs.test_rides_vendor_count_integration import RIDES, Job

STORE = "vendor-count"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Scraper:
    """GETs a worker's endpoints; None while nothing listens yet."""

    def __init__(self, port: int) -> None:
        self.base = f"http://127.0.0.1:{port}"

    async def get(self, path: str) -> tuple[int, str] | None:
        try:
            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as s, \
                    s.get(self.base + path) as response:
                return response.status, await response.text()
        except aiohttp.ClientConnectionError:
            return None

    async def metrics(self) -> dict[str, dict[tuple[tuple[str, str], ...], float]] | None:
        got = await self.get("/metrics")
        if got is None:
            return None
        assert got[0] == 200, got
        out: dict[str, dict[tuple[tuple[str, str], ...], float]] = {}
        for family in text_string_to_metric_families(got[1]):
            for s in family.samples:
                out.setdefault(s.name, {})[tuple(sorted(s.labels.items()))] = s.value
        return out


def total(metrics: dict, name: str) -> float:
    return sum(metrics.get(name, {}).values())


def worker(job: Job, port: int, **env: str) -> JobProcess:
    return JobProcess("rides-vendor-count", {**job.env, "STREAMS_WEB_ENABLED": "true",
                                             "STREAMS_WEB_PORT": str(port), **env},
                      log_path=job.log, loglevel="warn")


async def test_metrics_ready_status_and_json_logs(kafka_bootstrap, unique_name, tmp_path,
                                                  capsys):
    job = Job(kafka_bootstrap, unique_name, tmp_path)
    await job.create_topics()
    await produce_rides(kafka_bootstrap, job.rides, progress=False)
    port = free_port()
    scrape = Scraper(port)

    first = worker(job, port, STREAMS_LOG_FORMAT="json", STREAMS_LOG_LEVEL="info").start()
    try:
        seen: dict = {}

        async def counted_all() -> bool:
            assert first.running, first.log_tail()
            m = await scrape.metrics()
            if m is None:
                return False
            seen.setdefault("first", m)  # scraped while the worker runs
            lag = m.get("streams_records_lag", {})
            seen["last"] = m
            return total(m, "streams_process_total") >= len(RIDES) and len(lag) == 2 and \
                not any(lag.values())

        await wait_until(counted_all, 120, "the metrics to show every ride processed, lag 0")
        m = seen["last"]
        assert total(m, "streams_process_total") == len(RIDES)
        assert total(m, "streams_records_consumed_total") == len(RIDES)
        assert m["streams_records_lag"] == {
            (("partition", str(p)), ("topic", job.rides)): 0.0 for p in range(2)}
        assert total(m, "streams_records_produced_total") >= len(RIDES)  # branches alone
        assert m["streams_active_task_count"][()] == 2
        assert m["streams_ready"][()] == 1
        async def committed() -> bool:
            seen["last"] = await scrape.metrics()
            return seen["last"]["streams_commit_total"][()] >= 1

        await wait_until(committed, 60, "a commit")
        m = seen["last"]
        assert m["streams_commit_latency_seconds_count"][()] >= 1
        assert m["streams_record_e2e_latency_seconds_count"]

        code = await asyncio.to_thread(main, ["status", "--url", f"127.0.0.1:{port}"])
        out = capsys.readouterr().out
        assert code == 0, out
        assert f"app {job.app_id}  READY" in out
        assert f"{job.rides}[0]  0" in out and f"{job.rides}[1]  0" in out
        assert "total lag 0" in out and f"processed {len(RIDES)}" in out
    finally:
        first.kill()

    lines = [line for line in job.log.read_text().splitlines() if line.strip()]
    assert len(lines) > 5, lines
    for line in lines:  # every line a JSON object, as a log shipper reads it
        entry = orjson.loads(line)
        assert {"time", "level", "logger", "message"} <= set(entry), line
    assert any(orjson.loads(line)["level"] == "info" for line in lines)

    shutil.rmtree(job.data_dir)
    Path(job.log).unlink()
    second = worker(job, port).start()
    try:
        # /ready is polled until it first answers 200; the restore must be complete then.
        answers: list[int] = []
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            assert second.running, second.log_tail()
            got = await scrape.get("/ready")
            if got is not None:
                answers.append(got[0])
                if got[0] == 200:
                    break
            await asyncio.sleep(0.02)
        assert answers and answers[-1] == 200, (answers, second.log_tail())
        m = await scrape.metrics()
        assert m is not None
        restored = m["streams_restore_records_total"][(("store", STORE),)]
        changelog = await read_to_end(kafka_bootstrap, f"{job.app_id}-{STORE}-changelog")
        assert restored == len(changelog) > 0, m.get("streams_restore_records_total")
        assert m["streams_restore_progress_ratio"][(("store", STORE),)] == 1.0
        assert total(m, "streams_restore_remaining_records") == 0
        assert m["streams_restore_seconds"][(("store", STORE),)] >= 0
        assert 503 in answers, answers  # not ready while joining and restoring
        code = await asyncio.to_thread(main, ["status", "--url", f"127.0.0.1:{port}"])
        out = capsys.readouterr().out
        assert code == 0 and f"restore {STORE}: 100%  restored {restored:.0f}" in out, out
    finally:
        second.stop()
