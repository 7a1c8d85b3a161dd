"""``python -m bench.scale``: the scale-out series on a 3-broker cluster.

The count pipeline over one 8-partition topic (replication 3): streams_app as 1, 2, 4 worker
processes of one job (``streams-app job bench.scale_job --processes N``, one consumer group)
against Kafka Streams as one instance with 1, 2, 4 stream threads. records/s runs from the
first record consumed (earliest worker) to the group's committed offsets covering the whole
topic (both commit after flushing their caches, every 1 s), by the contestant's own clock,
checked by polling the group's offsets (the poll's time stands where a stamp is missing).
CPU seconds per worker process come from psutil, sampled until the end, with the run's CPU
budget beside them: the brokers' JVMs, this harness, the supervisor and the rest of the
machine. Every partition holds 1/8 of the rides (``--unbalanced``: murmur2's split of the
zones), and an untimed raw-consumer pass warms the brokers up first. The brokers' JIT stops
at C1 (``--broker-jit``): the full tiered JIT kept compiling for minutes after start-up and took
its CPU from the workers on the 2 shared cores. The series runs ``--rounds`` times round-robin;
each point is the median run. Writes ``bench/results/scale.json`` and ``scale.png``, then
re-renders BENCHMARKS.md (bench.report).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import psutil
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError
from tqdm import tqdm

from bench import report, scale_report
from bench.broker import BenchKafkaCluster
from bench.common import RunConfig, RunResult
from bench.data import ZIPF_S, produce
from bench.runner import _die_with_parent, throughput
from streams_app.kafka.broker import _Node
from streams_app.kafka.reader import end_offsets

ROOT = Path(__file__).resolve().parent.parent
PARTITIONS, REPLICATION, BROKERS = 8, 3, 3
SCALE_JSON = report.RESULTS_DIR / "scale.json"
POLL_S = 0.2
FIRST_RECORD_FILE = "first-record"  # written by each bench.scale_job worker
WORKER_FILE = "worker.json"  # likewise, once it has committed its partitions' ends
# Kafka's default and its advice for production (config/server.properties sets 0 for
# development only): the coordinator waits 3 s for more members before a new group's first
# rebalance, so workers started together join one generation instead of the first consuming
# alone until a second rebalance pauses it. The test brokers keep 0 for a fast start.
BROKER_CONFIG = {"group.initial.rebalance.delay.ms": "3000"}
# Zones drawn uniformly: assignors balance partitions, not records, so with the main bench's
# skew (the busiest zone is 30% of the rides, partition 3 holds 37%) two workers would get
# ~72% / 28% of the records and the data alone would cap the speedup at ~1.4x. Uniform, the 8
# partitions hold 11-16% each: any 4 + 4 split is within 55% / 45%.
SCALE_ZIPF_S = 0.0
# A production broker has compiled its hot paths long before a job starts; these brokers are
# a minute old. With the full tiered JIT their C2 compiler threads still used 0.1-0.9 of the 2
# cores two minutes into a series (2026-12-01: 1.1 of the brokers' 1.7 CPU s in one 2-process
# run), and that CPU came out of the workers' share. C1 alone compiles in seconds and
# then stays quiet: the runs meet brokers at their steady state (both contestants alike).
BROKER_JIT_FLAGS = {"c1": ["-XX:TieredStopAtLevel=1"], "tiered": []}
# Both contestants' consumers fetch up to this much per partition (Kafka's
# max.partition.fetch.bytes, default 1 MiB; the main bench's raw aiokafka loop fetches 4 MiB).
# The brokers serve every fetch request on the workers' cores, and with 2 workers a request
# carries half the partitions: at 4 MiB they spent 0.5 CPU s per 2-process run instead of
# 0.7-0.9 (2026-12-01, 4 rounds each).
FETCH_BYTES = 4 * 1024 * 1024


def _parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.scale", description=__doc__)
    p.add_argument("--records", type=int, default=1_000_000, help="input records (1000000)")
    p.add_argument("--workers", default="1,2,4", help="processes / stream threads (1,2,4)")
    p.add_argument("--contestants", default="streams_app,kafka_streams")
    p.add_argument("--timeout", type=float, default=600.0, help="seconds one run may take")
    p.add_argument("--rounds", type=int, default=3,
                   help="times the whole series runs, round-robin; each point is the median "
                        "run (3)")
    p.add_argument("--fetch-bytes", type=int, default=FETCH_BYTES,
                   help=f"max.partition.fetch.bytes of both contestants ({FETCH_BYTES})")
    p.add_argument("--broker-jit", choices=sorted(BROKER_JIT_FLAGS), default="c1",
                   help="the brokers' JIT: c1 (default: steady within seconds) or tiered (the "
                        "JVM's default; its C2 compiles for minutes after start-up)")
    p.add_argument("--results", default=str(report.RESULTS_DIR), help="output directory")
    p.add_argument("--markdown", default=str(report.MARKDOWN), help="BENCHMARKS.md path")
    p.add_argument("--zipf", type=float, default=SCALE_ZIPF_S,
                   help=f"zone popularity exponent ({SCALE_ZIPF_S}: uniform; the main bench's "
                        f"{ZIPF_S} puts 37%% of the rides in one of the 8 partitions)")
    p.add_argument("--unbalanced", dest="balanced", action="store_false",
                   help="keep murmur2's uneven split of the zones over the partitions (by "
                        "default every partition holds 1/8 of the rides)")
    p.add_argument("--no-warm-up", action="store_true",
                   help="skip the untimed raw-consumer pass before the runs")
    p.add_argument("--variant", action="append", default=[], metavar="NAME:KEY=VALUE[,...]",
                   help="also run streams_app with these environment settings, as contestant "
                        "streams_app:NAME, interleaved with the others (repeatable; experiments)")
    p.add_argument("--broker-jvm", action="append", default=[], metavar="FLAG",
                   help="an extra JVM flag for the brokers (repeatable; experiments), e.g. "
                        "-XX:TieredStopAtLevel=1")
    p.add_argument("--broker-config", action="append", default=[], metavar="KEY=VALUE",
                   help="a broker setting for the cluster (repeatable; experiments)")
    a = p.parse_args(argv)
    if any("=" not in kv for kv in a.broker_config):
        p.error(f"--broker-config: KEY=VALUE (got {a.broker_config})")
    a.broker_config = dict(kv.split("=", 1) for kv in a.broker_config)
    try:
        a.variants = {f"streams_app:{name}": dict(kv.split("=", 1) for kv in kvs.split(","))
                      for name, kvs in (v.split(":", 1) for v in a.variant)}
    except ValueError:
        p.error(f"--variant: NAME:KEY=VALUE[,KEY=VALUE] (got {a.variant})")
    a.workers = [int(x) for x in a.workers.split(",") if x]
    a.contestants = [x for x in a.contestants.split(",") if x] + list(a.variants)
    bad = set(a.contestants) - {"streams_app", "kafka_streams", *a.variants}
    if bad or not a.contestants or not a.workers or min(a.workers) < 1 or a.rounds < 1:
        p.error(f"--contestants: streams_app, kafka_streams (got {sorted(bad)}); "
                "--workers, --rounds: positive numbers")
    return a


class ScaleCluster(BenchKafkaCluster):
    """The bench cluster, with extra JVM flags for its brokers (``--broker-jvm``)."""

    def __init__(self, jvm_flags: list[str], **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.jvm_flags = jvm_flags

    def _java_cmd(self, java: str, libs: Path, node: _Node, heap_mb: int,
                  dump: bool = False) -> list[str]:
        cmd = super()._java_cmd(java, libs, node, heap_mb, dump)
        return [cmd[0], *self.jvm_flags, *cmd[1:]]


class CpuSampler:
    """CPU times (user + system) of each process, sampled over the run. The last sample of a
    process is its figure (one that exits takes it with it, so sampling runs until the end);
    :meth:`since` subtracts what a process had used by a moment (its start-up, up to the
    run's first record), to the sampling period."""

    def __init__(self) -> None:
        self.cpu: dict[int, float] = {}
        self.history: list[tuple[float, dict[int, float]]] = []

    def sample(self, procs: list[psutil.Process]) -> None:
        for proc in procs:
            with contextlib.suppress(psutil.Error):
                t = proc.cpu_times()
                self.cpu[proc.pid] = t.user + t.system
        self.history.append((time.time(), dict(self.cpu)))

    def since(self, t: float) -> dict[int, float]:
        """CPU seconds each process used after wall-clock time ``t`` (by the last sample)."""
        before: dict[int, float] = {}
        for at, cpu in self.history:
            if at > t:
                break
            before = cpu
        return {pid: c - before.get(pid, 0.0) for pid, c in self.cpu.items()}


class GroupWatch:
    """A group's committed offsets against the end of the topic, through one admin client
    kept open (a new client per poll, five times a second, costs the harness and the brokers
    CPU that the workers share). The topic is complete before the runs: its end is read once.
    """

    def __init__(self, bootstrap: str, topic: str) -> None:
        self.bootstrap, self.topic = bootstrap, topic
        self.ends: dict[int, int] = {}
        self.admin: AIOKafkaAdminClient | None = None
        self.brokers: list[psutil.Process] = []  # the cluster's JVMs, for the CPU budget
        self.coordinators: dict[str, int] = {}

    async def start(self) -> None:
        self.ends = await end_offsets(self.bootstrap, self.topic)
        self.admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap)
        await self.admin.start()

    async def close(self) -> None:
        if self.admin is not None:
            await self.admin.close()

    async def caught_up(self, group: str) -> bool:
        """Whether ``group`` has committed the end of every partition of the topic."""
        assert self.admin is not None, "start() first"
        try:  # the coordinator found once per group: one request per poll, not two
            if group not in self.coordinators:
                self.coordinators[group] = await self.admin.find_coordinator(group)
            offsets = await self.admin.list_consumer_group_offsets(
                group, group_coordinator_id=self.coordinators[group])
        except KafkaError:  # the group's coordinator not there yet, or moved
            self.coordinators.pop(group, None)
            return False
        done = {tp.partition: m.offset for tp, m in offsets.items() if tp.topic == self.topic}
        return all(done.get(p, -1) >= end for p, end in self.ends.items())


def _machine_busy_s() -> float:
    """CPU seconds all cores of the machine have been busy since boot (other jobs included)."""
    t = psutil.cpu_times()
    return sum(t) - t.idle - getattr(t, "iowait", 0.0)


class Budget:
    """CPU samplers for the workers and for what shares the cores with them: the brokers'
    JVMs, this harness (its offset polls and sampling), the streams_app supervisor, and the
    whole machine (the rest is other jobs)."""

    def __init__(self, workers: Callable[[], list[psutil.Process]],
                 brokers: list[psutil.Process], supervisor: list[psutil.Process]) -> None:
        self.workers, self.brokers, self.supervisor = workers, brokers, supervisor
        self.cpu = CpuSampler()
        self.others = {"brokers": CpuSampler(), "harness": CpuSampler(),
                       "supervisor": CpuSampler()}
        self.me = psutil.Process()
        self.machine: list[tuple[float, float]] = []

    def sample(self) -> None:
        self.cpu.sample(self.workers())
        self.others["brokers"].sample(self.brokers)
        self.others["harness"].sample([self.me])
        self.others["supervisor"].sample(self.supervisor)
        self.machine.append((time.time(), _machine_busy_s()))

    def since(self, t: float) -> dict[str, float]:
        """CPU seconds each of the others (and the machine) used after ``t``."""
        out = {k: sum(c.since(t).values()) for k, c in self.others.items()}
        before = next((b for at, b in reversed(self.machine) if at <= t), self.machine[0][1])
        out["machine"] = self.machine[-1][1] - before
        return out


async def _warm_up(bootstrap: str, topic: str, a: argparse.Namespace, work: Path,
                   tag: str) -> None:
    """One untimed pass of the raw consumer, as the main bench does: the brokers' JIT
    compiles their fetch path (C1/C2 compiler threads were most of the brokers' CPU in the
    first run otherwise) and the page cache holds the topic before the first timed run."""
    if a.no_warm_up:
        return
    cfg = RunConfig(bootstrap, topic, "", "count", a.records, f"scale-warm-up-{tag}",
                    str(work / "warm-up.json"))
    res = await throughput("aiokafka", cfg, "warm-up (not timed)", a.timeout)
    print(f"  warm-up (raw aiokafka, not timed): {res.status}", file=sys.stderr)


async def _idle_cores(procs: list[psutil.Process], seconds: float = 3.0) -> float:
    """Cores ``procs`` use with no client working (the brokers' own floor: replication
    fetches, controller heartbeats)."""
    cpu = CpuSampler()
    cpu.sample(procs)
    t0 = time.time()
    await asyncio.sleep(seconds)
    first = dict(cpu.cpu)
    cpu.sample(procs)
    return sum(c - first.get(pid, 0.0) for pid, c in cpu.cpu.items()) / (time.time() - t0)


async def _watch(watch: GroupWatch, group: str, budget: Budget, alive: Callable[[], bool],
                 timeout: float) -> float:
    """Sample CPU until the group has committed the whole topic; its time."""
    deadline = time.monotonic() + timeout
    while True:
        budget.sample()
        if await watch.caught_up(group):
            t_done = time.time()
            budget.sample()
            return t_done
        if not alive() and not await watch.caught_up(group):
            raise RuntimeError("the workers stopped before the end of the topic")
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out after {timeout:.0f} s")
        await asyncio.sleep(POLL_S)


class _Children:
    """The worker processes: the CLI itself for one (it execs the worker), else the
    supervisor's children, listed until all ``n`` are there (a scan of /proc costs ms)."""

    def __init__(self, sup: psutil.Process, n: int) -> None:
        self.sup, self.n = sup, n
        self.procs: list[psutil.Process] = [sup] if n == 1 else []

    def __call__(self) -> list[psutil.Process]:
        if len(self.procs) < self.n:
            with contextlib.suppress(psutil.Error):
                self.procs = self.sup.children()
        return self.procs


async def run_streams_app(watch: GroupWatch, n: int, work: Path, tag: str,
                          timeout: float, records: int, fetch_bytes: int, variant: str = "",
                          extra_env: dict[str, str] | None = None) -> dict:
    """``streams-app job bench.scale_job --processes n``: rate and per-worker CPU;
    ``extra_env`` over the harness's environment (a ``--variant``)."""
    bootstrap, topic = watch.bootstrap, watch.topic
    group = f"scale-sa{variant}-{n}-{tag}"
    data = work / group
    # As the main bench's contestant: the tuning guide's lazy values (counts decode no value);
    # STREAMS_* in the harness's environment override it and the other settings' defaults.
    env = {"STREAMS_LAZY_VALUES": "true", "STREAMS_MAX_PARTITION_FETCH_BYTES": str(fetch_bytes),
           **os.environ,
           "STREAMS_BOOTSTRAP_SERVERS": bootstrap, "STREAMS_APP_ID": group,
           "STREAMS_DATA_DIR": str(data), "STREAMS_TOPIC_PARTITIONS": str(PARTITIONS),
           "STREAMS_TOPIC_REPLICATION_FACTOR": str(REPLICATION),
           "STREAMS_AUTO_OFFSET_RESET": "earliest", "STREAMS_LOG_LEVEL": "warning",
           "BENCH_INPUT_TOPIC": topic, "PYTHONPATH": str(ROOT), **(extra_env or {})}
    log = work / f"{group}.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streams_app.cli", "job", "bench.scale_job",
             "--processes", str(n)], env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, preexec_fn=_die_with_parent)
    sup = psutil.Process(proc.pid)
    dirs = [data] if n == 1 else [data / f"p{i}" for i in range(n)]  # one: no supervisor
    try:
        budget = Budget(_Children(sup, n), watch.brokers, [] if n == 1 else [sup])
        t_polled = await _watch(watch, group, budget, lambda: proc.poll() is None, timeout)
        workers = await _worker_files(dirs)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    firsts = [float((d / FIRST_RECORD_FILE).read_text()) for d in dirs
              if (d / FIRST_RECORD_FILE).exists()]
    if not firsts:
        raise RuntimeError(f"no worker consumed a record: {log.read_text()[-2000:]}")
    complete = len(workers) == len(dirs)  # else the polled end stands
    fig = _figures(n, t_polled, min(firsts), budget,
                   t_end=max(w["committed"] for w in workers) if complete else None)
    fig["assignment"] = workers
    return fig


async def run_kafka_streams(watch: GroupWatch, n: int, work: Path, tag: str,
                            timeout: float, records: int, fetch_bytes: int) -> dict:
    """The Kafka Streams contestant (count) with ``num.stream.threads = n``."""
    bootstrap, topic = watch.bootstrap, watch.topic
    group = f"scale-ks-{n}-{tag}"
    # It stops itself once its results cover the topic (committing on close); its end time
    # is still the harness's, polled as for streams_app.
    cfg = RunConfig(bootstrap, topic, "", "count", records, group, str(work / f"{group}.json"),
                    state_dir=str(work / group))
    # A slow start on the loaded cluster is not a stall: give it 2 min without progress.
    env = {**os.environ, "BENCH_JAVA_OPTS": f"-Dks.num.stream.threads={n} "
           f"-Dks.replication.factor={REPLICATION} -Dks.max.partition.fetch.bytes={fetch_bytes} "
           "-Dbench.idle.ms=120000"}
    with open(work / f"{group}.log", "wb") as err:
        proc = subprocess.Popen([sys.executable, "-m", "bench.child", "kafka_streams",
                                 cfg.to_json()], env=env, cwd=ROOT, stdout=err, stderr=err,
                                stdin=subprocess.DEVNULL, preexec_fn=_die_with_parent)
    child = psutil.Process(proc.pid)

    found: list[psutil.Process] = []

    def jvms() -> list[psutil.Process]:  # listed until the JVM is there, as _Children
        if not found:
            with contextlib.suppress(psutil.Error):
                found.extend(p for p in child.children() if p.name() == "java")
        return found

    try:
        budget = Budget(jvms, watch.brokers, [])
        t_polled = await _watch(watch, group, budget, lambda: proc.poll() is None, timeout)
        proc.wait(60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    res = RunResult.read(cfg.out)
    return _figures(n, t_polled, res.t_first, budget, threads=n,
                    t_end=res.t_done if res.t_done > 0 else None)


async def _worker_files(dirs: list[Path], wait_s: float = 5.0) -> list[dict]:
    """Each worker's ``worker.json`` (its records per partition, and when it had committed its
    partitions' ends), waiting up to ``wait_s`` for all of them; those written by then."""
    deadline = time.monotonic() + wait_s
    while not all((d / WORKER_FILE).exists() for d in dirs) and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    return [json.loads((d / WORKER_FILE).read_text()) for d in dirs
            if (d / WORKER_FILE).exists()]


def _figures(n: int, t_polled: float, t_first: float, budget: Budget, threads: int = 1,
             t_end: float | None = None) -> dict:
    """The run's figures; per worker, CPU seconds of the whole process and of the run alone
    (from the first record: start-up and the group's join are not the pipeline's cost), and
    the CPU budget of the run: workers, brokers, harness, supervisor, the rest of the machine.

    The run ends at ``t_end``, the contestant's own stamp (streams_app: its last worker's
    commit of its partitions' ends returned; Kafka Streams: its results covered the input, in
    the commit that flushes its cache), else when the harness's poll (every POLL_S) saw the
    group's offsets at the end: a poll adds up to POLL_S, a tenth of a 2 s run."""
    t_done = t_end if t_end is not None and t_first < t_end <= t_polled else t_polled
    cpu = budget.cpu
    run = cpu.since(t_first)
    pids = sorted(cpu.cpu, key=lambda pid: -cpu.cpu[pid])
    others = budget.since(t_first)
    machine = others.pop("machine")
    spent = {"workers": sum(run.values()), **others}
    spent["rest"] = max(0.0, machine - sum(spent.values()))
    return {"workers": n, "seconds": t_done - t_first, "threads": threads,
            "end": "polled" if t_done == t_polled else "own",
            "polled_seconds": round(t_polled - t_first, 3),
            "worker_cpu_s": [cpu.cpu[p] for p in pids], "cpu_s": sum(cpu.cpu.values()),
            "run_cpu_s": [run[p] for p in pids], "run_cpu_total_s": sum(run.values()),
            # time a worker was not on a core: waiting for fetches, its turn, or its end
            "idle_s": [round(max(0.0, t_done - t_first - run[p]), 2) for p in pids],
            "budget_cpu_s": {k: round(v, 2) for k, v in spent.items()}}


def _finish(fig: dict, records: int) -> dict:
    fig["records_per_s"] = records / max(fig["seconds"], 1e-9)
    fig["records_per_cpu_s"] = records / max(fig["run_cpu_total_s"], 1e-9)
    fig["records_per_process_cpu_s"] = records / max(fig["cpu_s"], 1e-9)
    return fig


def _median(figs: list[dict]) -> dict:
    """The median run by records/s (the lower middle of an even count), with every run's
    records/s beside it; the last failure if no run succeeded."""
    ok = sorted((f for f in figs if "error" not in f), key=lambda f: f["records_per_s"])
    if not ok:
        return figs[-1]
    return {**ok[(len(ok) - 1) // 2],
            "runs_records_per_s": [round(f["records_per_s"]) for f in figs if "error" not in f],
            "failed_runs": len(figs) - len(ok)}


def _line(fig: dict) -> str:
    """One run as a progress line."""
    if "error" in fig:
        return f"FAILED: {fig['error']}"
    return (f"{fig['records_per_s']:>10,.0f} rec/s  cpu "
            + " ".join(f"{c:.1f}" for c in fig["run_cpu_s"]) + " s (whole process "
            + " ".join(f"{c:.1f}" for c in fig["worker_cpu_s"]) + " s, idle "
            + " ".join(f"{c:.1f}" for c in fig["idle_s"]) + " s)  "
            f"{fig['records_per_cpu_s']:,.0f} rec/cpu-s  budget "
            + " ".join(f"{k} {v:.1f}" for k, v in fig["budget_cpu_s"].items())
            + "".join(f"\n      worker {w['records']} first {w.get('first_record', 0):.2f} "
                      f"last {w['last_record']:.2f} committed {w['committed']:.2f}"
                      for w in fig.get("assignment", [])))


async def _scale(a: argparse.Namespace) -> dict:
    if "kafka_streams" in a.contestants:
        from bench.contestants.kafka_streams import build

        build()
    cluster = ScaleCluster(BROKER_JIT_FLAGS[a.broker_jit] + a.broker_jvm, brokers=BROKERS,
                           broker_config={**BROKER_CONFIG, **a.broker_config})
    print(f"starting a {BROKERS}-broker Kafka cluster ...", file=sys.stderr)
    cluster.start()
    work = Path(tempfile.mkdtemp(prefix="bench-scale-"))
    load_start = os.getloadavg()[0]  # the machine is shared: say how busy it was
    watch: GroupWatch | None = None
    try:
        tag = uuid.uuid4().hex[:6]
        topic = f"scale-rides-{tag}"
        with tqdm(total=a.records, desc="generate", unit="rec", unit_scale=True) as bar:
            await produce(cluster.bootstrap_servers, topic, f"scale-zones-{tag}", a.records,
                          bar.update, partitions=PARTITIONS, replication=REPLICATION,
                          zipf_s=a.zipf, balanced=a.balanced)
        runners = {"streams_app": run_streams_app, "kafka_streams": run_kafka_streams}
        for i, (name, env) in enumerate(a.variants.items()):
            runners[name] = functools.partial(run_streams_app, variant=f"v{i}", extra_env=env)
        await _warm_up(cluster.bootstrap_servers, topic, a, work, tag)
        watch = GroupWatch(cluster.bootstrap_servers, topic)
        await watch.start()
        watch.brokers = [psutil.Process(pid) for pid in cluster.pids]
        total = sum(watch.ends.values())
        shares = {p: round(end / total, 4) for p, end in sorted(watch.ends.items())}
        idle = await _idle_cores(watch.brokers)
        print(f"brokers idle: {idle:.3f} cores", file=sys.stderr)
        print("partition shares: " + " ".join(f"{p}:{v:.1%}" for p, v in shares.items()),
              file=sys.stderr)
        runs: dict[str, dict[int, list[dict]]] = {name: {} for name in a.contestants}
        done = 0
        for r in range(a.rounds):
            for n in a.workers:  # round-robin: both meet the cluster in the same state
                for name in a.contestants:
                    done += 1  # a fresh group and data dir per run
                    try:
                        fig = _finish(await runners[name](watch, n, work, f"{tag}-{done}",
                                                          a.timeout, a.records, a.fetch_bytes),
                                      a.records)
                    except (RuntimeError, OSError, ValueError) as exc:
                        fig = {"workers": n, "error": str(exc)[-500:]}
                    runs[name].setdefault(n, []).append(fig)
                    print(f"  round {r + 1}/{a.rounds} {name:<14} x{n}: {_line(fig)}",
                          file=sys.stderr)
        series = {name: [_median(figs) for figs in by_n.values()] for name, by_n in runs.items()}
        failed = any("error" in f for by_n in runs.values() for figs in by_n.values()
                     for f in figs)
        if failed:  # the workers' logs and data dirs say why
            print(f"  a run failed: its logs are in {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)
        return {"records": a.records, "partitions": PARTITIONS, "brokers": BROKERS,
                "replication": REPLICATION, "cores": os.cpu_count(), "zipf_s": a.zipf,
                "balanced": a.balanced, "brokers_idle_cores": round(idle, 3),
                "broker_jvm": a.broker_jvm, "broker_jit": a.broker_jit, "rounds": a.rounds,
                "fetch_bytes": a.fetch_bytes,
                "variants": a.variants, "partition_shares": shares,
                "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "series": series,
                "load_avg": [round(load_start, 1), round(os.getloadavg()[0], 1)]}
    finally:
        if watch is not None:
            await watch.close()
        cluster.stop()


def main(argv: list[str] | None = None) -> int:
    """Run the series, write scale.json and the chart, re-render BENCHMARKS.md."""
    a = _parse(argv)
    doc = asyncio.run(_scale(a))
    results = Path(a.results)
    results.mkdir(parents=True, exist_ok=True)
    (results / "scale.json").write_text(json.dumps(doc, indent=2) + "\n")
    scale_report.chart(doc, results / "scale.png")
    if (results / "latest.json").exists():
        report.rerender(results, Path(a.markdown))
    print(scale_report.table(doc))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
