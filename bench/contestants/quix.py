"""Quix Streams, written with its own API: StreamingDataFrame, group_by, stateful apply, windows.

The topic is keyed by PULocationID, so ``count`` and the windowed pipelines aggregate per record
key with no repartition (as every contestant does); ``zone_join`` re-keys by borough with
``group_by`` (a repartition topic). State
lives in Quix's RocksDB stores with changelog topics (the defaults); an ``update`` callback keeps
the latest value per result key. The run stops (``app.stop()``) once those results cover every
input record, and Quix commits its checkpoint on the way out; if records stop arriving first
(e.g. dropped as late), it stops after ``IDLE_S`` and verification reports what is missing.

``zone_join``: Quix has no table abstraction to join a stream with; the zones topic is read into
a dict at start and applied with ``apply`` (``join_asof`` does not wait for the zones side, so a
ride could be processed before its zone and be lost).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import orjson
from confluent_kafka import Consumer, TopicPartition
from quixstreams import Application

from bench.common import (
    GRACE_MS,
    SESSION_GAP_MS,
    WINDOW_MS,
    RunConfig,
    RunResult,
    TargetReader,
    announce_ready,
    latency_ms,
)
from bench.pipelines import session_key

IDLE_S = 20.0


def _zones(cfg: RunConfig) -> dict[int, str]:
    """The zones topic read to its end with a plain consumer: locationid -> borough."""
    consumer = Consumer({"bootstrap.servers": cfg.bootstrap, "group.id": f"{cfg.group_id}-z",
                         "enable.auto.commit": False})
    try:
        meta = consumer.list_topics(cfg.zones_topic, timeout=30).topics[cfg.zones_topic]
        tps = [TopicPartition(cfg.zones_topic, p, 0) for p in meta.partitions]
        ends = {tp.partition: consumer.get_watermark_offsets(tp, timeout=30)[1] for tp in tps}
        consumer.assign(tps)
        zones: dict[int, str] = {}
        done = {p for p, end in ends.items() if end == 0}
        while len(done) < len(tps):
            msg = consumer.poll(1.0)
            if msg is None or msg.error():
                continue
            z = orjson.loads(msg.value())
            zones[z["locationid"]] = z["borough"]
            if msg.offset() + 1 >= ends[msg.partition()]:
                done.add(msg.partition())
        return zones
    finally:
        consumer.close()


def _key(key: object) -> str:
    return key.decode() if isinstance(key, bytes) else str(key)


def run(cfg: RunConfig) -> RunResult:
    """Run the pipeline until its results cover every input record."""
    target = TargetReader(cfg)
    zones = _zones(cfg) if cfg.pipeline == "zone_join" else {}
    app = Application(broker_address=cfg.bootstrap, consumer_group=cfg.group_id,
                      auto_offset_reset="earliest", state_dir=cfg.state_dir or "state",
                      loglevel="WARNING")
    sdf = app.dataframe(app.topic(cfg.input_topic, value_deserializer="json"))
    results: dict[str, int] = {}
    sessions: dict[str, list[tuple[int, int]]] = {}
    latencies: list[float] = []
    clock = {"t_first": 0.0, "covered": 0}

    def first(value: dict) -> None:
        if not clock["t_first"]:
            clock["t_first"] = time.time()
            if cfg.mode == "latency":
                announce_ready()

    def settle(rkey: str, n: int, ts: int) -> None:
        clock["covered"] += n - results.get(rkey, 0)
        results[rkey] = n
        if cfg.mode == "latency":
            lat = latency_ms(ts, clock["t_first"])
            if lat is not None:
                latencies.append(lat)
        if target.reached(clock["covered"]):
            app.stop()

    sdf = sdf.update(first)
    if cfg.pipeline == "count":
        sdf = sdf.apply(_count, stateful=True)
        sdf.update(lambda n, key, ts, _h: settle(_key(key), n, ts), metadata=True)
    elif cfg.pipeline == "zone_join":
        sdf = sdf.apply(lambda ride: {"borough": zones[ride["PULocationID"]]})
        sdf = sdf.group_by("borough").apply(_count, stateful=True)
        sdf.update(lambda n, key, ts, _h: settle(_key(key), n, ts), metadata=True)
    elif cfg.pipeline == "windowed_count":
        sdf = sdf.tumbling_window(WINDOW_MS, grace_ms=GRACE_MS).count().current()
        sdf.update(lambda w, key, ts, _h: settle(f"{_key(key)}@{w['start']}", w["value"], ts),
                   metadata=True)
    elif cfg.pipeline == "session":
        sdf = sdf.session_window(SESSION_GAP_MS, grace_ms=GRACE_MS).count().current()
        sdf.update(_session_sink(sessions, results, settle), metadata=True)
    else:
        raise ValueError(f"unknown pipeline {cfg.pipeline!r}")
    t_start = time.time()
    app.run(timeout=IDLE_S)
    t_done = time.time()
    return RunResult("ok", t_start, clock["t_first"], t_done, clock["covered"], results=results,
                     latencies_ms=latencies)


def _count(_value: object, state) -> int:  # noqa: ANN001 - Quix's State
    n = state.get("count", 0) + 1
    state.set("count", n)
    return n


def _session_sink(sessions: dict[str, list[tuple[int, int]]], results: dict[str, int],
                  settle: Callable[[str, int, int], None]) -> Callable:
    """An update callback keeping the live sessions: a merged session replaces those it spans."""

    def sink(w: dict, key: object, ts: int, _headers: object) -> None:
        zone, start, last = _key(key), w["start"], w["end"] - 1  # Quix's end is exclusive
        live = sessions.setdefault(zone, [])
        for s, e in [se for se in live if start <= se[0] and se[1] <= last]:
            live.remove((s, e))
            settle(session_key(zone, s, e), 0, ts)
            results.pop(session_key(zone, s, e), None)
        live.append((start, last))
        settle(session_key(zone, start, last), w["value"], ts)

    return sink
