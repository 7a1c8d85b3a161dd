"""With every partition paused, the fetch loop waits for a resume, not Faust's fixed 1 s
sleep: a restore starts as soon as recovery resumes the changelogs."""

from __future__ import annotations

import asyncio
import time

from faust.types import TP

from streams_app.runtime.faust_runtime import FaustRuntime
from streams_app.settings import Settings
from tests.runtime.topologies import CASES


async def test_a_resume_ends_the_wait_of_a_fetch_with_nothing_active(tmp_path) -> None:
    settings = Settings.from_env(env={}, bootstrap_servers="127.0.0.1:9", app_id="resume-wake",
                                 data_dir=str(tmp_path), topic_partitions=1)
    consumer = FaustRuntime(CASES["count"].build("t-"), settings,
                            config={"default_key_serde": "string"}).app.consumer
    tp = TP("t-in", 0)
    consumer.pause_partitions({tp})
    assert consumer.flow_active
    started = time.monotonic()
    fetch = asyncio.ensure_future(consumer.next_records(5.0))
    await asyncio.sleep(0.05)
    assert not fetch.done()  # waits while nothing is active
    consumer.resume_partitions({tp})
    assert await asyncio.wait_for(fetch, 2.0) == ({}, set())
    assert time.monotonic() - started < 0.5  # Faust: 1 s
