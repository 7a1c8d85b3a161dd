"""streams_app: the DSL on the Faust runtime (batch consumption, RocksDB stores, record cache).

* ``count``: ``stream(rides).group_by_key().count()``: the input is keyed by PULocationID, so no
  repartition is needed (Kafka Streams' plan for the same job).
* ``windowed_count``: ``windowed_by(TimeWindows.of_size_and_grace(1 min, grace)).count()``.
* ``zone_join``: rides joined with the zones ``GlobalKTable`` (key mapper: the record key, the
  PULocationID), the borough re-keys them (repartition) and ``count()`` counts per borough;
  serdes as the Kafka Streams contestant's (rides and the repartitioned borough as strings).
* ``session``: ``windowed_by(SessionWindows.of_inactivity_gap_and_grace(5 min, grace)).count()``.

The worker runs in this process. Once the input is consumed, the run forces commits (cache
flush, changelog, offsets) until the stores cover every input record, reads the results from
the stores and stops.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import faust

from bench.common import (
    GRACE_MS,
    SESSION_GAP_MS,
    WINDOW_MS,
    Missing,
    RunConfig,
    RunResult,
    TargetReader,
    announce_ready,
    latency_ms,
    peak_rss_mb,
)
from streams_app import (
    Grouped,
    Materialized,
    Serdes,
    SessionWindows,
    StreamsBuilder,
    TimeWindows,
    Topology,
)
from streams_app.runtime.faust_runtime import FaustRuntime
from streams_app.settings import Settings
from streams_app.state.api import ValueAndTimestamp, Windowed

STORE = "zone-counts"
# Windows are kept for a day of event time (as in the Kafka Streams contestant): the default
# (size + grace) would expire most windows of a long input before the results are read.
STORE_RETENTION_MS = 24 * 3600 * 1000
# Results that stop growing for this long short of the input end the run (reported, not hung).
STALLED_S = 20.0


def _rides(builder: StreamsBuilder, cfg: RunConfig):
    return builder.stream(cfg.input_topic, key_serde=Serdes.string(), value_serde=Serdes.json())


def _count(cfg: RunConfig) -> Topology:
    builder = StreamsBuilder()
    _rides(builder, cfg).group_by_key().count(Materialized.as_(STORE))
    return builder.build()


def _windowed(cfg: RunConfig) -> Topology:
    builder = StreamsBuilder()
    (_rides(builder, cfg).group_by_key()
     .windowed_by(TimeWindows.of_size_and_grace(WINDOW_MS, GRACE_MS))
     .count(Materialized.as_(STORE).with_retention(STORE_RETENTION_MS)))
    return builder.build()


def _zone_join(cfg: RunConfig) -> Topology:
    # As the Kafka Streams contestant: the key mapper takes the record key (the topic is keyed
    # by PULocationID), the rides are read as strings (nothing parses them) and the borough
    # crosses the repartition topic as a string.
    builder = StreamsBuilder()
    zones = builder.global_table(cfg.zones_topic, key_serde=Serdes.string(),
                                 value_serde=Serdes.json())
    (builder.stream(cfg.input_topic, key_serde=Serdes.string(), value_serde=Serdes.string())
     .join(zones, lambda zone, _ride: zone, lambda _ride, zone: zone["borough"])
     .group_by(lambda _zone, borough: borough, Grouped(name="by-borough",
                                                      key_serde=Serdes.string(),
                                                      value_serde=Serdes.string()))
     .count(Materialized.as_(STORE)))
    return builder.build()


def _session(cfg: RunConfig) -> Topology:
    builder = StreamsBuilder()
    (_rides(builder, cfg).group_by_key()
     .windowed_by(SessionWindows.of_inactivity_gap_and_grace(SESSION_GAP_MS, GRACE_MS))
     .count(Materialized.as_(STORE).with_retention(STORE_RETENTION_MS)))
    return builder.build()


_BUILDERS = {"count": _count, "windowed_count": _windowed, "zone_join": _zone_join,
             "session": _session}


def _result_key(key: Any) -> str:
    if isinstance(key, Windowed):
        if key.end - key.start == WINDOW_MS:  # a tumbling window
            return f"{key.key}@{key.start}"
        return f"{key.key}@{key.start}-{key.end}"  # a session: first to last event
    return str(key)


def _results(runtime: FaustRuntime, pipeline: str) -> dict[str, int]:
    results: dict[str, int] = {}
    for task in runtime.tasks.values():
        stack = task.stores.get(STORE)
        if stack is None:
            continue
        for key, value in stack.outer.all():
            results[_result_key(key)] = (value.value if isinstance(value, ValueAndTimestamp)
                                         else value)
    return results


def run(cfg: RunConfig, metrics_enabled: bool = True, **settings: Any) -> RunResult:
    """Run the pipeline's topology on a Faust worker until its store covers the input
    (``metrics_enabled``: STREAMS_METRICS_ENABLED, on by default as in a worker; ``settings``
    override others, e.g. the web server's)."""
    build = _BUILDERS.get(cfg.pipeline)
    if build is None:
        raise Missing(f"streams_app has no {cfg.pipeline} on the Faust runtime yet")
    settings = Settings.from_env(
        env={}, bootstrap_servers=cfg.bootstrap, app_id=cfg.group_id,
        data_dir=cfg.state_dir or "streams-bench-data", topic_partitions=4,
        auto_offset_reset="earliest", log_level="warning", metrics_enabled=metrics_enabled,
        startup_timeout_ms=10_000,  # the bench's broker is up: do not wait a minute for none
        # the tuning guide's advice for trusted input: counts skip decoding values
        **{"lazy_values": True, **settings})
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
        last_total, since = -1, time.monotonic()
        while True:  # a repartitioned pipeline is done when its store covers the input
            await app.consumer.commit()
            # done when this commit's results cover the input: reading the whole store back
            # to check is the harness's work, not the pipeline's (Kafka Streams' contestant
            # is timed to its last result, not to a read of its store)
            committed = time.time()
            results.clear()
            results.update(_results(runtime, cfg.pipeline))
            total = sum(results.values())
            if total >= progress["processed"]:
                progress["t_done"] = committed
                break
            if total != last_total:
                last_total, since = total, time.monotonic()
            elif time.monotonic() - since > STALLED_S:
                break  # stopped short of the input: the harness's verification shows the gap
            await asyncio.sleep(0.05)
        if not progress["t_done"]:  # stalled: timed to now, the verification shows the gap
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
