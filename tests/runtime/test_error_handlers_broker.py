"""Error handlers on a real broker: each handler and choice, as a Faust worker runs them.

``tests/runtime/errors_job.py`` passes JSON records of ``<prefix>in`` to ``<prefix>out``; the
handlers are chosen with ``STREAMS_*_EXCEPTION_HANDLER``.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import orjson
from aiokafka import AIOKafkaProducer

from streams_app.jobs.process import JobProcess
from streams_app.kafka.admin import ensure_topics
from streams_app.kafka.reader import read_to_end, wait_until
from streams_app.kafka.topics import TopicSpec

BAD_JSON = b"{oops"
EXCEPTION, MESSAGE = "__streams.errors.exception", "__streams.errors.message"


class ErrorsJob:
    """Topics, input and worker runs of errors_job for one test."""

    def __init__(self, bootstrap: str, name: str, tmp_path: Path) -> None:
        self.bootstrap, self.tmp_path = bootstrap, tmp_path
        self.prefix = f"{name}-"
        self.app_id = f"{name}-app"
        self.dead_letter = f"{self.app_id}-dead-letter"
        self.runs = 0

    async def create_topics(self, out_max_bytes: int | None = None) -> None:
        out_cfg = {} if out_max_bytes is None else {"max.message.bytes": str(out_max_bytes)}
        await ensure_topics(self.bootstrap, [
            TopicSpec(f"{self.prefix}in", 1, 1),
            TopicSpec(f"{self.prefix}out", 1, 1, configs=out_cfg)])

    async def produce(self, values: list[bytes]) -> None:
        producer = AIOKafkaProducer(bootstrap_servers=self.bootstrap)
        await producer.start()
        try:
            for i, value in enumerate(values):
                await producer.send(f"{self.prefix}in", value, key=f"k{i % 3}".encode())
            await producer.flush()
        finally:
            await producer.stop()

    def worker(self, **handlers: str) -> JobProcess:
        self.runs += 1
        env = {"STREAMS_BOOTSTRAP_SERVERS": self.bootstrap, "STREAMS_APP_ID": self.app_id,
               "STREAMS_DATA_DIR": str(self.tmp_path / "data"),
               "STREAMS_TOPIC_PREFIX": self.prefix, "STREAMS_COMMIT_INTERVAL_MS": "200",
               **{f"STREAMS_{k.upper()}": v for k, v in handlers.items()}}
        return JobProcess("tests.runtime.errors_job", env, loglevel="info",
                          log_path=self.tmp_path / f"worker-{self.runs}.log")

    async def out_ids(self) -> list[int]:
        return [orjson.loads(r.value)["id"] for r in
                await read_to_end(self.bootstrap, f"{self.prefix}out")]

    async def dead_letters(self) -> list:
        try:
            return await read_to_end(self.bootstrap, self.dead_letter)
        except Exception:  # noqa: BLE001 - not created yet
            return []

    async def wait_for(self, job: JobProcess, out: int, dead: int = 0) -> None:
        async def done() -> bool:
            assert job.running, job.log_tail()
            return (len(await self.out_ids()) >= out
                    and len(await self.dead_letters()) >= dead)

        await wait_until(done, 90, f"{out} outputs and {dead} dead letters", interval=0.3)

    async def wait_exit(self, job: JobProcess) -> int:
        async def exited() -> bool:
            return not job.running

        await wait_until(exited, 60, "the worker to exit", interval=0.2)
        assert job.proc is not None
        return job.proc.returncode


def good(i: int, **extra: object) -> bytes:
    return orjson.dumps({"id": i, **extra})


def headers_of(record) -> dict[str, str]:
    """The dead letter's headers (Kafka Streams' KIP-1034 names), decoded."""
    return {k: v.decode() for k, v in record.headers}


async def test_deserialization_dead_letter(kafka_bootstrap, unique_name, tmp_path):
    job = ErrorsJob(kafka_bootstrap, unique_name, tmp_path)
    await job.create_topics()
    values = [good(i) for i in range(5)] + [BAD_JSON] + [good(i) for i in range(5, 9)]
    await job.produce(values)
    with job.worker() as worker:  # the default: dead_letter
        await job.wait_for(worker, out=9, dead=1)
        assert worker.running
    assert sorted(await job.out_ids()) == list(range(9))
    [dead] = await job.dead_letters()
    assert (dead.key, dead.value) == (b"k2", BAD_JSON)  # the original bytes
    h = headers_of(dead)
    assert h["__streams.errors.topic"] == f"{job.prefix}in"
    assert (h["__streams.errors.partition"], h["__streams.errors.offset"]) == ("0", "5")
    assert "Serde" in h[EXCEPTION] or "Decode" in h[EXCEPTION], h
    assert h[MESSAGE], h


async def test_deserialization_continue_skips(kafka_bootstrap, unique_name, tmp_path):
    job = ErrorsJob(kafka_bootstrap, unique_name, tmp_path)
    await job.create_topics()
    await job.produce([good(0), BAD_JSON, good(1), BAD_JSON, good(2)])
    with job.worker(deserialization_exception_handler="continue") as worker:
        await job.wait_for(worker, out=3)
        assert worker.running
    assert sorted(await job.out_ids()) == [0, 1, 2]
    assert await job.dead_letters() == []


async def test_deserialization_fail_stops_then_restart_is_exact(kafka_bootstrap, unique_name,
                                                                tmp_path):
    """exactly_once: the failing worker commits what came before the bad record and exits
    non-zero naming it; a restart with dead_letter goes on: every record once, none lost."""
    job = ErrorsJob(kafka_bootstrap, unique_name, tmp_path)
    await job.create_topics()
    await job.produce([good(i) for i in range(6)] + [BAD_JSON] + [good(i) for i in range(6, 10)])
    first = job.worker(deserialization_exception_handler="fail",
                       processing_guarantee="exactly_once")
    with first:
        code = await job.wait_exit(first)
    assert code != 0
    log = first.log_tail(200)
    assert f"{job.prefix}in" in log and "offset 6" in log, log
    assert sorted(await job.out_ids()) == list(range(6))
    with job.worker(processing_guarantee="exactly_once") as second:
        await job.wait_for(second, out=10, dead=1)
    ids = Counter(await job.out_ids())
    assert ids == Counter(range(10)), ids  # nothing twice, nothing lost
    assert [d.value for d in await job.dead_letters()] == [BAD_JSON]


async def test_processor_raising_for_one_record(kafka_bootstrap, unique_name, tmp_path):
    job = ErrorsJob(kafka_bootstrap, unique_name, tmp_path)
    await job.create_topics()
    await job.produce([good(0), good(1, boom=True), good(2)])
    with job.worker() as worker:  # processing: dead_letter by default
        await job.wait_for(worker, out=2, dead=1)
        assert worker.running
    assert sorted(await job.out_ids()) == [0, 2]
    [dead] = await job.dead_letters()
    assert dead.value == good(1, boom=True)
    h = headers_of(dead)
    assert h[EXCEPTION].endswith("RuntimeError") and "boom for id 1" in h[MESSAGE], h
    assert h["__streams.errors.offset"] == "1"


async def test_record_too_large_dead_letter(kafka_bootstrap, unique_name, tmp_path):
    job = ErrorsJob(kafka_bootstrap, unique_name, tmp_path)
    await job.create_topics(out_max_bytes=1024 * 1024)
    await job.produce([good(0), good(1, pad=2_000_000), good(2)])
    with job.worker(production_exception_handler="dead_letter") as worker:
        await job.wait_for(worker, out=2, dead=1)
        assert worker.running
    assert sorted(await job.out_ids()) == [0, 2]
    [dead] = await job.dead_letters()
    assert dead.value == good(1, pad=2_000_000)  # the source record, not the 2 MB output
    assert "large" in headers_of(dead)[MESSAGE].lower()


async def test_record_too_large_fails_by_default(kafka_bootstrap, unique_name, tmp_path):
    job = ErrorsJob(kafka_bootstrap, unique_name, tmp_path)
    await job.create_topics(out_max_bytes=1024 * 1024)
    await job.produce([good(0), good(1, pad=2_000_000), good(2)])
    with job.worker() as worker:  # production: fail by default
        code = await job.wait_exit(worker)
    assert code != 0
    log = worker.log_tail(200)
    assert f"{job.prefix}out" in log and "offset 1" in log, log
    assert 2 not in await job.out_ids()
