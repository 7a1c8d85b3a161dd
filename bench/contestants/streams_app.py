"""streams_app: the DSL on the Faust runtime (batch consumption, RocksDB stores, record cache).

* ``count``: ``stream(rides).group_by_key().count()``: the input is keyed by PULocationID, so no
  repartition is needed (Kafka Streams' plan for the same job).
* ``windowed_count``, ``zone_join``, ``session``: missing until windows, joins and global stores
  run on the Faust runtime.

The worker runs in this process. Once the stores cover every input record, the run forces a
commit (cache flush, changelog, offsets), reads the results from the stores and stops.
"""

from __future__ import annotations

import asyncio
import logging
import time

import faust

from bench.common import (
    Missing,
    RunConfig,
    RunResult,
    TargetReader,
    announce_ready,
    latency_ms,
    peak_rss_mb,
)
from streams_app import Materialized, Serdes, StreamsBuilder, Topology
from streams_app.runtime.faust_runtime import FaustRuntime
from streams_app.settings import Settings
from streams_app.state.api import ValueAndTimestamp

STORE = "zone-counts"


def _count(cfg: RunConfig) -> Topology:
    builder = StreamsBuilder()
    builder.stream(cfg.input_topic, key_serde=Serdes.string(), value_serde=Serdes.json()) \
        .group_by_key().count(Materialized.as_(STORE))
    return builder.build()


_BUILDERS = {"count": _count}


def run(cfg: RunConfig) -> RunResult:
    """Run the pipeline's topology on a Faust worker until its store covers the input."""
    build = _BUILDERS.get(cfg.pipeline)
    if build is None:
        raise Missing(f"streams_app has no {cfg.pipeline} on the Faust runtime yet")
    settings = Settings.from_env(
        env={}, bootstrap_servers=cfg.bootstrap, app_id=cfg.group_id,
        data_dir=cfg.state_dir or "streams-bench-data", topic_partitions=4,
        auto_offset_reset="earliest", log_level="warning")
    runtime = FaustRuntime(build(cfg), settings)
    app = runtime.app
    target = TargetReader(cfg)
    progress = {"processed": 0, "t_first": 0.0, "t_done": 0.0}
    latencies: list[float] = []
    results: dict[str, int] = {}
    handler = runtime.hooks.handlers[cfg.input_topic]

    async def counting(tp, records) -> None:
        if not progress["t_first"]:
            progress["t_first"] = time.time()
            if cfg.mode == "latency":
                announce_ready()
        await handler(tp, records)
        progress["processed"] += len(records)
        if cfg.mode == "latency":
            now = time.time()
            for r in records:
                lat = latency_ms(r.timestamp, progress["t_first"], now)
                if lat is not None:
                    latencies.append(lat)

    runtime.hooks.handlers[cfg.input_topic] = counting

    @app.task
    async def watch() -> None:
        # Completion is a condition on the handler's progress; polling it costs nothing measurable.
        while not target.reached(progress["processed"]):
            await asyncio.sleep(0.01)
        await app.consumer.commit()
        for task in runtime.tasks.values():
            for key, value in task.stores[STORE].outer.all():
                results[str(key)] = value.value if isinstance(value, ValueAndTimestamp) else value
        progress["t_done"] = time.time()
        await worker.stop()

    worker = faust.Worker(app, quiet=True, loglevel=logging.WARNING)
    t_start = time.time()
    try:
        worker.execute_from_commandline()
    except SystemExit:
        pass
    if not progress["t_done"]:
        raise RuntimeError(f"streams_app worker stopped after {progress['processed']} records")
    return RunResult("ok", t_start, progress["t_first"], progress["t_done"],
                     progress["processed"], peak_rss_mb=peak_rss_mb(), results=results,
                     latencies_ms=latencies)
