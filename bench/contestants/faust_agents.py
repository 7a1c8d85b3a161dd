"""faust-streaming written the way its docs teach: agents, ``group_by``, Tables.

* ``count``: an agent counts rides per record key (the topic is keyed by PULocationID, so no
  ``group_by`` repartition is needed, as for every contestant) in a ``Table(default=int)``.
* ``windowed_count``: a ``.tumbling(60)`` windowed table ``relative_to_stream()`` (event time),
  keyed by the record key (already the zone; a repartition would interleave event time).
* ``zone_join``: the zones topic fills a co-partitioned ``Table``; a rides agent looks each ride's
  borough up there and forwards the borough to a topic keyed by it (the ``group_by`` pattern); a
  third agent counts boroughs.
* ``session``: Faust has no session windows -> missing.

Stores are in memory (``store="memory://"``, the docs' default). Once the tables cover every
input record the agent commits offsets and stops the worker.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import timedelta
from typing import Any

import faust

from bench.common import (
    WINDOW_MS,
    Missing,
    RunConfig,
    RunResult,
    TargetReader,
    announce_ready,
    latency_ms,
    peak_rss_mb,
)

EPOCH_2020_S = 1_577_836_800  # 2020-01-01 UTC: the rides (rides.csv) are from later in 2020


class _Run:
    """Shared progress of one run: processed records, first/done times, latencies."""

    def __init__(self, cfg: RunConfig) -> None:
        self.cfg = cfg
        self.target = TargetReader(cfg)
        self.processed = 0
        self.t_first = 0.0
        self.t_done = 0.0
        self.latencies: list[float] = []
        self.results: dict[str, int] = {}

    def seen(self, event: Any) -> None:
        """Called once per input record when it has been applied to its table."""
        if not self.t_first:
            self.t_first = time.time()
            if self.cfg.mode == "latency":
                announce_ready()
        self.processed += 1
        if self.cfg.mode == "latency":
            lat = latency_ms(int(event.message.timestamp * 1000), self.t_first)
            if lat is not None:
                self.latencies.append(lat)


def _app(cfg: RunConfig) -> faust.App:
    return faust.App(
        cfg.group_id,
        broker=f"kafka://{cfg.bootstrap}",
        store="memory://",
        datadir=cfg.state_dir or "faust-data",
        topic_partitions=4,
        topic_replication_factor=1,
        consumer_auto_offset_reset="earliest",
        web_enabled=False,
    )


def run(cfg: RunConfig) -> RunResult:
    """Build the app for ``cfg.pipeline`` and run a worker until the tables cover the input."""
    if cfg.pipeline == "session":
        raise Missing("faust-streaming has no session windows")
    app = _app(cfg)
    state = _Run(cfg)
    rides = app.topic(cfg.input_topic, key_type=str, key_serializer="raw",
                      value_serializer="json")
    collect = _BUILDERS[cfg.pipeline](app, rides, state, cfg)

    async def finish() -> None:
        state.results = collect()
        await app.consumer.commit()
        state.t_done = time.time()
        await worker.stop()

    @app.task
    async def watch() -> None:
        # Completion is a condition on the agents' progress; polling it costs nothing measurable.
        while not state.target.reached(state.processed):
            await asyncio.sleep(0.01)
        await finish()

    worker = faust.Worker(app, quiet=True, loglevel=logging.WARNING)
    t_start = time.time()
    try:
        worker.execute_from_commandline()
    except SystemExit:
        pass
    if not state.t_done:
        raise RuntimeError(f"faust worker stopped after {state.processed} records")
    return RunResult("ok", t_start, state.t_first, state.t_done, state.processed,
                     peak_rss_mb=peak_rss_mb(), results=state.results,
                     latencies_ms=state.latencies)


def _count(app: faust.App, rides: faust.TopicT, state: _Run, cfg: RunConfig):
    counts = app.Table("zone-counts", default=int)

    @app.agent(rides)
    async def count(stream: faust.StreamT) -> None:
        async for zone, _ride in stream.items():
            counts[zone] += 1
            state.seen(stream.current_event)

    return lambda: {str(k): v for k, v in counts.items()}


def _windowed(app: faust.App, rides: faust.TopicT, state: _Run, cfg: RunConfig):
    # Faust expires windows against the wall clock (its cleanup timer compares a window's end
    # with time.time()), not stream time; the rides are from 2020, so 30 days of expiry
    # deleted every window at the first cleanup (30 s in). Keep them as long as the data is old.
    age_s = time.time() - EPOCH_2020_S
    windows = app.Table("zone-minutes", default=int).tumbling(
        WINDOW_MS / 1000, expires=timedelta(seconds=age_s, days=30)
    ).relative_to_stream()

    @app.agent(rides)
    async def count(stream: faust.StreamT) -> None:
        async for zone, _ride in stream.items():
            windows[zone] += 1
            state.seen(stream.current_event)

    def collect() -> dict[str, int]:
        out = {}
        for (zone, (start, _end)), n in windows.table.data.items():
            out[f"{zone}@{round(start * 1000)}"] = n
        return out

    return collect


def _zone_join(app: faust.App, rides: faust.TopicT, state: _Run, cfg: RunConfig):
    zones_topic = app.topic(cfg.zones_topic, key_type=str, key_serializer="raw",
                          value_serializer="json")
    by_borough = app.topic(f"{cfg.group_id}-by-borough", key_type=str, value_serializer="json",
                           partitions=4, internal=True)
    zones = app.Table("zones", default=None)
    counts = app.Table("borough-counts", default=int)

    @app.agent(zones_topic)
    async def load_zones(stream: faust.StreamT) -> None:
        async for key, zone in stream.items():
            zones[key] = zone["borough"]

    @app.agent(rides)
    async def join(stream: faust.StreamT) -> None:
        async for zone, _ride in stream.items():
            while zones.get(zone) is None:  # the zones agent has not reached this zone yet
                await asyncio.sleep(0.005)
            # The join result is the borough, as in the other contestants' join.
            await by_borough.send(key=zones[zone], value=zones[zone])

    @app.agent(by_borough)
    async def count(stream: faust.StreamT) -> None:
        async for borough, _ride in stream.items():
            counts[borough] += 1
            state.seen(stream.current_event)

    return lambda: {str(k): v for k, v in counts.items()}


_BUILDERS = {"count": _count, "windowed_count": _windowed, "zone_join": _zone_join}
