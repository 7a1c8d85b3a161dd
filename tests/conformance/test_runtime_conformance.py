"""The conformance corpus through the Faust runtime on a real broker, against the golden
Kafka Streams results (conformance/runtime_engine.py; report: conformance/RUNTIME-REPORT.md).

`make test` runs a reduced set (conformance.runtime_report.REDUCED); with
CONFORMANCE_RUNTIME=all (`make conformance-runtime`) the whole corpus, narrowed by
CONFORMANCE_RUNTIME_NAMES (comma-separated regexes on scenario names) while iterating.
Scenarios run in shards of separate processes against the one broker
(conformance/runtime_shards.py).
Every difference must carry a known reason (wall-clock): an unexplained one fails.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

from conformance import runtime_report, runtime_shards
from conformance.scenarios import CORPUS, load_folder

# Scenario processes at once (CONFORMANCE_RUNTIME_JOBS overrides): their time is mostly
# waiting on the broker, so more shards than cores still pay on a 2-core machine.
FULL_JOBS = 4
REDUCED_JOBS = 2


async def test_corpus_on_the_faust_runtime(kafka_bootstrap: str, unique_name: str,
                                           tmp_path: Path) -> None:
    full = os.environ.get("CONFORMANCE_RUNTIME") == "all"
    scenarios = load_folder(CORPUS)
    if not full:
        scenarios = runtime_report.reduced(scenarios)
    if os.environ.get("CONFORMANCE_RUNTIME_NAMES"):  # a subset by name (comma-separated regexes)
        wanted = [re.compile(p) for p in os.environ["CONFORMANCE_RUNTIME_NAMES"].split(",")]
        scenarios = [s for s in scenarios if any(p.search(s["name"]) for p in wanted)]
    if os.environ.get("CONFORMANCE_RUNTIME_LIMIT"):  # a quick look at the first few
        scenarios = scenarios[:int(os.environ["CONFORMANCE_RUNTIME_LIMIT"])]
    started = time.monotonic()
    verdicts = await runtime_shards.run_parallel(
        scenarios, bootstrap=kafka_bootstrap, name=unique_name, data_dir=tmp_path,
        shards=runtime_shards.jobs(FULL_JOBS if full else REDUCED_JOBS))
    whole = full and len(scenarios) == len(load_folder(CORPUS))  # a subset: target/ only
    path = runtime_report.write(verdicts, time.monotonic() - started, full=whole)
    unexplained = [v for v in verdicts if runtime_report.is_unexplained(v)]
    assert not unexplained, (f"{len(unexplained)} unexplained differences (see {path}):\n"
                             + "\n".join(f"{v.name}: {v.detail}" for v in unexplained[:10]))
