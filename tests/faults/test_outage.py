"""An outage of the only broker (issue 14, defects 1 and 4), on a real broker.

Issue 14 asked for a 60 s outage: `make test-long` (TEST_LONG=1) runs that; `make test` runs
a 15 s one, which still fails on both defects (the flood was ~100 lines a second; the hang
lasted as long as the outage). The worker logs fewer than 100 lines during the outage;
SIGTERM at its end exits within STREAMS_SHUTDOWN_TIMEOUT_MS, non-zero, saying the last commit
was left out; after the broker and the worker restart, exactly_once output is exact (no count
lost, none twice).
"""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

import pytest

from chaos.harness import Deployment
from streams_app.kafka.broker import LocalKafka
from streams_app.kafka.reader import wait_until
from streams_app.runtime.shutdown import EXIT_SHUTDOWN_TIMEOUT

pytestmark = [pytest.mark.integration, pytest.mark.long]

OUTAGE_S = 60.0 if os.environ.get("TEST_LONG") == "1" else 15.0
SHUTDOWN_TIMEOUT_MS = 5000


async def _outage_then_sigterm(broker: LocalKafka, tmp_path: Path) -> None:
    job = Deployment(broker.bootstrap_servers, tmp_path, "exactly_once",
                     extra_env={"STREAMS_SHUTDOWN_TIMEOUT_MS": str(SHUTDOWN_TIMEOUT_MS)})
    await job.create_input()
    worker = job.worker().start()
    try:
        await job.produce(0, 1000)
        await wait_until(job.complete, 90, "the first counts")
        # Records still flowing when the broker goes: a commit is pending in the outage.
        producing = asyncio.create_task(job.produce(1000, 400, rate=200))
        await asyncio.sleep(0.5)  # pacing: the stop lands mid-stream
        lines_before = len(job.log_path().read_text().splitlines())
        broker.stop_node(0, kill=True)
        producing.cancel()
        outage_end = time.monotonic() + OUTAGE_S
        while time.monotonic() < outage_end:  # the outage is a duration, not a condition
            assert worker.running, worker.log_tail()
            await asyncio.sleep(1.0)
        during = job.log_path().read_text().splitlines()[lines_before:]
        assert len(during) < 100, "\n".join(during[:150])

        assert worker.proc is not None
        worker.proc.terminate()
        stopping = time.monotonic()
        code = await asyncio.to_thread(worker.proc.wait, 60)
        took = time.monotonic() - stopping
        assert code == EXIT_SHUTDOWN_TIMEOUT, worker.log_tail()
        assert took < SHUTDOWN_TIMEOUT_MS / 1000 + 3.0, took
        assert "STREAMS_SHUTDOWN_TIMEOUT_MS" in worker.log_tail(5)
        assert "left to the broker to abort" in worker.log_tail(5)
    finally:
        worker.kill()

    broker.start_node(0)
    worker = job.worker().start()
    try:
        await job.produce(2000, 500)
        await wait_until(job.complete, 120, "every count after the restart")
        verdict = await job.verdict()
        assert (verdict.lost, verdict.duplicated) == (0, 0), (verdict, await job.updates())
    finally:
        worker.stop()


def test_outage_logs_little_and_sigterm_exits_in_time(tmp_path: Path) -> None:
    with LocalKafka() as broker:
        asyncio.run(_outage_then_sigterm(broker, tmp_path))
