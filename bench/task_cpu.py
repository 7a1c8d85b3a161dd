"""``python -m bench.task_cpu --pipeline count``: CPU time per record of the stream task alone.

No broker: the rides go as fetched records (the lean tuples the worker's consumer hands out)
through the contestant's topology in :class:`StreamTask`, on RocksDB stores with the record
cache, ``--batch`` records per fetch (sink and changelog records drained after each, as the
worker produces per fetch) and a commit (cache flush) every ``--commit-every`` records (the
worker commits once a second). Process CPU time, so a loaded machine changes the
figure far less than it changes records/s; compare code versions in one run of this
(``--repeat``), the broker benchmark ratio (``bench.profile --compare``) for the whole
worker.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import rocksdict

from bench.common import PIPELINES, RunConfig
from bench.contestants.streams_app import _BUILDERS
from bench.data import ride_events, zone_boroughs
from streams_app.runtime.config import StreamsConfig
from streams_app.runtime.lean_records import LeanConsumerRecord
from streams_app.runtime.task import StreamTask, bind_serde
from streams_app.runtime.worker_gc import GC_GEN0_THRESHOLD
from streams_app.state.api import StateStore, ValueAndTimestamp
from streams_app.state.rocksdb import RocksDictKeyValueStore
from streams_app.state.rocksdb_windowed import RocksDictSessionStore, RocksDictWindowStore
from streams_app.state.spec import (
    KEY_VALUE,
    SESSION,
    WINDOW,
    StoreSpec,
    StoreStack,
    build_store_stack,
)
from streams_app.state.thread_cache import ThreadCache


def _store_factory(root: Path, config: StreamsConfig):
    def make(spec: StoreSpec) -> StateStore:
        db = rocksdict.Rdict(str(root / spec.name), options=rocksdict.Options(raw_mode=True))
        ks = bind_serde(spec.key_serde, config.default_key_serde, config)
        vs = bind_serde(spec.value_serde, config.default_value_serde, config)
        retention = spec.retention_ms or 2**62
        if spec.kind == WINDOW:
            return RocksDictWindowStore(spec.name, db, ks, vs, spec.window_size or 0, retention,
                                        spec.timestamped, spec.time_ordered)
        if spec.kind == SESSION:
            return RocksDictSessionStore(spec.name, db, ks, vs, retention)
        assert spec.kind == KEY_VALUE
        return RocksDictKeyValueStore(spec.name, db, ks, vs, spec.timestamped)
    return make


def _records(topic: str, n: int) -> list[LeanConsumerRecord]:
    return [LeanConsumerRecord((topic, 0, i, ts, 0, key, value, None, ()))
            for i, (_, ts, key, value) in enumerate(ride_events(n))]


def run_once(pipeline: str, n: int, batch: int, commit_every: int) -> float:
    """Microseconds of process CPU per record, all sub-topologies of ``pipeline``."""
    cfg = RunConfig("", "rides", "zones", pipeline, n, "task-cpu", "")
    topology = _BUILDERS[pipeline](cfg)
    # the worker's default: Settings' 10 MiB record cache, one per thread (all tasks)
    config = StreamsConfig.from_mapping({"application_id": "task-cpu",
                                         "cache_max_bytes": 10 * 1024 * 1024})
    thread_cache = ThreadCache(config.cache_max_bytes or 0)
    records = _records("rides", n)
    with tempfile.TemporaryDirectory(prefix="task-cpu-") as tmp:
        make = _store_factory(Path(tmp), config)
        globals_ = _global_stores(topology, make)
        tasks = [StreamTask(topology, sub, config, 0, store_factory=make,
                            global_stores=globals_, thread_cache=thread_cache)
                 for sub in topology.subtopologies() if not sub.is_global]
        by_topic = {t: task for task in tasks for t in task.source_topics}
        gc.collect()
        gc.freeze()  # as the worker's tune_gc
        gc.set_threshold(GC_GEN0_THRESHOLD, *gc.get_threshold()[1:])
        per_commit = max(1, commit_every // batch)
        started = time.process_time()
        pending = [("rides", records)]
        while pending:
            topic, recs = pending.pop(0)
            task = by_topic[topic]
            for i in range(0, len(recs), batch):
                task.process_records(topic, recs[i:i + batch])
                if (i // batch + 1) % per_commit == 0 or i + batch >= len(recs):
                    task.commit()
                task.drain_changelogs()
                fed: dict[str, list[LeanConsumerRecord]] = {}
                for t, key, value, ts, headers in task.drain_output():
                    if t in by_topic:  # a repartition topic feeds the next sub-topology
                        fed.setdefault(t, []).append(
                            LeanConsumerRecord((t, 0, 0, ts, 0, key, value, None, headers)))
                pending.extend(fed.items())
        spent = time.process_time() - started
        for task in tasks:
            task.close()
    return spent / n * 1e6


def _global_stores(topology: Any, make: Any) -> dict[str, StoreStack]:
    """zone_join: the zones GlobalKTable's store, filled as the global task would."""
    stacks = {}
    for name, spec in topology.stores.items():
        if spec.is_global:
            stack = stacks[name] = build_store_stack(spec, 0, make)
            for zone, borough in zone_boroughs().items():
                stack.inner.put(str(zone), ValueAndTimestamp({"borough": borough}, 0))
    return stacks


def main(argv: list[str] | None = None) -> int:
    """Print µs of CPU per record per pipeline (median of ``--repeat`` runs)."""
    p = argparse.ArgumentParser(prog="python -m bench.task_cpu", description=__doc__)
    p.add_argument("--pipeline", default="count", help="comma-separated, or 'all'")
    p.add_argument("--records", type=int, default=100_000)
    p.add_argument("--batch", type=int, default=500, help="records per fetch")
    p.add_argument("--commit-every", type=int, default=50_000, help="records per commit")
    p.add_argument("--repeat", type=int, default=3)
    args = p.parse_args(argv)
    pipelines = list(PIPELINES) if args.pipeline == "all" else args.pipeline.split(",")
    for pipeline in pipelines:
        runs = [run_once(pipeline, args.records, args.batch, args.commit_every)
                for _ in range(args.repeat)]
        print(f"{pipeline:<15} {statistics.median(runs):6.2f} us CPU/record  "
              f"(runs {', '.join(f'{r:.2f}' for r in runs)})", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
