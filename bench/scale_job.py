"""The count pipeline as a job: ``streams-app job bench.scale_job --processes N`` (bench.scale).

Settings come from ``STREAMS_*`` as for any job; ``BENCH_INPUT_TOPIC`` names the rides topic.
Each worker writes the time it consumed its first record to ``<data_dir>/first-record`` (the
harness takes the earliest as the start of the run; the end is the group's committed offsets
reaching the end of the topic).
"""

from __future__ import annotations

import os
import time

from bench.common import RunConfig
from bench.contestants.streams_app import _count
from streams_app.runtime.faust_runtime import FaustRuntime
from streams_app.settings import Settings

FIRST_RECORD_FILE = "first-record"  # read by bench.scale

settings = Settings.from_env()
topic = os.environ["BENCH_INPUT_TOPIC"]
runtime = FaustRuntime(_count(RunConfig(settings.bootstrap_servers, topic, "", "count", 0,
                                        settings.app_id, "")), settings)
app = runtime.app
_handler = runtime.hooks.handlers[topic]
_first: list[float] = []


async def _timed(tp, records) -> None:  # noqa: ANN001 - the runtime's batch handler signature
    if not _first:
        _first.append(time.time())
        (settings.data_dir / FIRST_RECORD_FILE).write_text(repr(_first[0]))
    await _handler(tp, records)


runtime.hooks.handlers[topic] = _timed
