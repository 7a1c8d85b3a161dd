"""The count pipeline as a job: ``streams-app job bench.scale_job --processes N`` (bench.scale).

Settings come from ``STREAMS_*`` as for any job; ``BENCH_INPUT_TOPIC`` names the rides topic.
Each worker writes the time it consumed its first record to ``<data_dir>/first-record`` (the
harness takes the earliest as the start of the run; the end is the group's committed offsets
reaching the end of the topic). Once a worker has processed every record of its input
partitions it commits at once, as the main bench's contestants do (Kafka Streams' included)
instead of waiting up to a commit interval, and then writes ``<data_dir>/worker.json``: the
records it processed per input partition and when its last one was processed.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections import Counter

from bench.common import RunConfig
from bench.contestants.streams_app import _count
from streams_app.runtime.faust_runtime import FaustRuntime
from streams_app.settings import Settings

FIRST_RECORD_FILE = "first-record"  # read by bench.scale
WORKER_FILE = "worker.json"  # read by bench.scale

settings = Settings.from_env()
topic = os.environ["BENCH_INPUT_TOPIC"]
runtime = FaustRuntime(_count(RunConfig(settings.bootstrap_servers, topic, "", "count", 0,
                                        settings.app_id, "")), settings)
app = runtime.app
_handler = runtime.hooks.handlers[topic]
_first: list[float] = []
_next: dict = {}  # input partition -> next offset to process
_records: Counter[int] = Counter()  # input partition -> records processed
_last: list[float] = [0.0]
_cpu: dict[str, float] = {}  # process CPU seconds at the first and the last record
_consumed = asyncio.Event()


def _at_end() -> bool:
    """Whether every assigned input partition is processed up to its high watermark (the
    topic is complete before the run starts)."""
    consumer = app.consumer
    tps = [tp for tp in consumer.assignment() if tp.topic == topic]
    return bool(tps) and all(_done(_next.get(tp, -1), consumer.highwater(tp)) for tp in tps)


def _done(next_offset: int, highwater: int | None) -> bool:
    return highwater is not None and next_offset >= highwater


async def _timed(tp, records) -> None:  # noqa: ANN001 - the runtime's batch handler signature
    if not _first:
        _cpu["first"] = time.process_time()
        _first.append(time.time())
        (settings.data_dir / FIRST_RECORD_FILE).write_text(repr(_first[0]))
    await _handler(tp, records)
    if records:
        _next[tp] = records[-1].offset + 1
        _records[tp.partition] += len(records)
        _last[0] = time.time()
        _cpu["last"] = time.process_time()
        if not _consumed.is_set() and _at_end():
            _consumed.set()


@app.task
async def _commit_at_end() -> None:
    await _consumed.wait()
    await app.consumer.commit()
    (settings.data_dir / WORKER_FILE).write_text(json.dumps({
        "records": {str(p): n for p, n in sorted(_records.items())},
        "first_record": _first[0], "last_record": _last[0], "committed": time.time(),
        "cpu_first_record": _cpu["first"], "cpu_last_record": _cpu["last"],
        "cpu_committed": time.process_time()}))


runtime.hooks.handlers[topic] = _timed
