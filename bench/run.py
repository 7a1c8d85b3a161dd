"""``python -m bench.run [--quick]``: the whole benchmark, from broker start to BENCHMARKS.md."""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

from tqdm import tqdm

from bench import report
from bench.broker import BenchKafka
from bench.common import CONTESTANTS, PIPELINES, RunConfig, RunResult
from bench.data import produce
from bench.pipelines import expected
from bench.runner import latency, throughput

LATENCY_RATE = 10_000


def _parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__)
    p.add_argument("--quick", action="store_true",
                   help="50k records, 1 run, 3 s latency phase, 60 s per run (~4 min)")
    p.add_argument("--records", type=int, default=None, help="input records (default 1000000)")
    p.add_argument("--runs", type=int, default=None, help="runs per contestant (default 3)")
    p.add_argument("--latency-seconds", type=float, default=None,
                   help="paced phase of the latency test (default 10)")
    p.add_argument("--timeout", type=float, default=None,
                   help="seconds one contestant run may take (default 720; quick 60)")
    p.add_argument("--repeat-limit", type=float, default=120.0,
                   help="a run slower than this many seconds is not repeated (default 120)")
    p.add_argument("--pipelines", default=",".join(PIPELINES), help="comma-separated subset")
    p.add_argument("--contestants", default=",".join(CONTESTANTS), help="comma-separated subset")
    p.add_argument("--results", default=str(report.RESULTS_DIR), help="output directory")
    p.add_argument("--markdown", default=str(report.MARKDOWN), help="BENCHMARKS.md path")
    args = p.parse_args(argv)
    args.records = args.records or (50_000 if args.quick else 1_000_000)
    args.runs = args.runs or (1 if args.quick else 3)
    args.latency_seconds = args.latency_seconds or (3.0 if args.quick else 10.0)
    args.timeout = args.timeout or (60.0 if args.quick else 720.0)
    for opt, allowed in (("pipelines", PIPELINES), ("contestants", CONTESTANTS)):
        chosen = [x for x in getattr(args, opt).split(",") if x]
        bad = [x for x in chosen if x not in allowed]
        if bad or not chosen:
            p.error(f"--{opt}: unknown {bad or 'empty list'}; choose from {', '.join(allowed)}")
        setattr(args, opt, chosen)
    if args.records < 1000 or args.runs < 1:
        p.error("--records must be >= 1000 and --runs >= 1")
    return args


def verify(result: RunResult, want: dict[str, int]) -> str:
    """Empty if ``result`` holds exactly ``want``; else what differs (first few keys)."""
    got = result.results
    if got == want:
        return ""
    diff = sorted(k for k in set(got) | set(want) if got.get(k) != want.get(k))
    sample = ", ".join(f"{k}: got {got.get(k)} want {want.get(k)}" for k in diff[:5])
    return f"{len(diff)} of {len(want)} results differ ({sample})"


async def _bench(args: argparse.Namespace) -> dict:
    if "kafka_streams" in args.contestants:
        from bench.contestants.kafka_streams import build

        build()  # before the broker starts: mvn must not compete with it
    broker = BenchKafka()
    print("starting Kafka (full JIT) ...", file=sys.stderr)
    broker.start()
    work = Path(tempfile.mkdtemp(prefix="bench-"))
    try:
        tag = uuid.uuid4().hex[:6]
        topic, zones_topic = f"bench-rides-{tag}", f"bench-zones-{tag}"
        with tqdm(total=args.records, desc="generate", unit="rec", unit_scale=True) as bar:
            data = await produce(broker.bootstrap_servers, topic, zones_topic, args.records,
                                 bar.update)
        figures: dict = {}
        await _warm_up(broker.bootstrap_servers, topic, zones_topic, args, work, tag)
        for pipeline in args.pipelines:
            want = expected(pipeline, data.events, data.boroughs)
            # Runs go round-robin over the contestants: each sees the broker (its JIT, page
            # cache) in the same state, instead of the first one getting it cold.
            runs: dict[str, list] = {name: [] for name in args.contestants}
            done: set[str] = set()
            for i in range(args.runs):
                for name in args.contestants:
                    if name in done:
                        continue
                    label = f"{pipeline} / {name} / run {i + 1}"
                    cfg = RunConfig(broker.bootstrap_servers, topic, zones_topic, pipeline,
                                    args.records, f"bench-{name}-{pipeline}-{tag}-{i}",
                                    str(work / f"{pipeline}-{name}-{i}.json"),
                                    state_dir=str(work / f"state-{pipeline}-{name}-{i}"))
                    res = await throughput(name, cfg, label, args.timeout)
                    problem = verify(res, want) if res.status == "ok" else res.detail
                    runs[name].append((res, problem))
                    print(f"  {label:<40} {_line(res, problem, args.records)}", file=sys.stderr)
                    if res.status != "ok" or problem:
                        done.add(name)  # a missing or wrong contestant is not re-run
                    elif res.t_done - res.t_start > args.repeat_limit:
                        done.add(name)  # a very slow one gets one run (details.json counts them)
            for name in args.contestants:
                figures.setdefault(pipeline, {})[name] = _summarise(runs[name], args.records)
        if "count" in args.pipelines:
            await _latency_warm_up(broker.bootstrap_servers, zones_topic, args, work, tag)
            names = [n for n in args.contestants if figures["count"][n]["verified"] is True]
            lats: dict[str, list[tuple[float, float]]] = {name: [] for name in names}
            for i in range(args.runs):  # round-robin, as the throughput runs
                for name in names:
                    label = f"latency {LATENCY_RATE // 1000}k/s / {name} / run {i + 1}"
                    cfg = RunConfig(broker.bootstrap_servers, f"bench-lat-{name}-{tag}-{i}",
                                    zones_topic, "count", 0, f"bench-lat-{name}-{tag}-{i}",
                                    str(work / f"lat-{name}-{i}.json"), mode="latency",
                                    state_dir=str(work / f"state-lat-{name}-{i}"))
                    res = await latency(name, cfg, label, LATENCY_RATE, args.latency_seconds,
                                        args.timeout)
                    if res.status == "ok" and res.latencies_ms:
                        p50, p99 = _percentiles(res.latencies_ms)
                        lats[name].append((p50, p99))
                        print(f"  {label:<40} p50 {p50:.1f} ms  p99 {p99:.1f} ms "
                              f"({len(res.latencies_ms)} records)", file=sys.stderr)
                    else:
                        print(f"  {label:<40} failed: {res.detail[-300:]}", file=sys.stderr)
            for name, got in lats.items():
                if got:
                    figures["count"][name]["p50_ms"] = statistics.median(x[0] for x in got)
                    figures["count"][name]["p99_ms"] = statistics.median(x[1] for x in got)
        return figures
    finally:
        broker.stop()


async def _warm_up(bootstrap: str, topic: str, zones_topic: str, args: argparse.Namespace,
                   work: Path, tag: str) -> None:
    """One untimed pass of the raw consumer: the broker's JIT and page cache warm up first."""
    cfg = RunConfig(bootstrap, topic, zones_topic, "count", args.records,
                    f"bench-warm-up-{tag}", str(work / "warm-up.json"))
    res = await throughput("aiokafka", cfg, "warm-up (not timed)", args.timeout)
    print(f"  {'warm-up (raw aiokafka, not timed)':<40} {res.status}", file=sys.stderr)


async def _latency_warm_up(bootstrap: str, zones_topic: str, args: argparse.Namespace,
                           work: Path, tag: str) -> None:
    """One untimed latency run of the raw consumer before the timed ones.

    The throughput runs leave the broker's JIT warm for large batches; the paced test's
    small produce and fetch requests take other paths, and the broker's C2 compiler spent
    about half a core on them during the first timed latency run (2026-12-01), on a machine
    with 2 cores: the first contestant measured its p99 on a busier machine than the others.
    """
    cfg = RunConfig(bootstrap, f"bench-lat-warm-up-{tag}", zones_topic, "count", 0,
                    f"bench-lat-warm-up-{tag}", str(work / "lat-warm-up.json"), mode="latency")
    res = await latency("aiokafka", cfg, "latency warm-up (not timed)", LATENCY_RATE,
                        args.latency_seconds, args.timeout)
    print(f"  {'latency warm-up (raw aiokafka, not timed)':<40} {res.status}", file=sys.stderr)


def _percentiles(values: list[float]) -> tuple[float, float]:
    q = statistics.quantiles(values, n=100, method="inclusive")
    return q[49], q[98]


def _line(res: RunResult, problem: str, n: int) -> str:
    if res.status == "missing":
        return "missing"
    if res.status != "ok" or problem:
        return f"FAILED: {problem.strip().splitlines()[-1] if problem else res.status}"
    rate = n / max(res.t_done - res.t_first, 1e-9)
    return (f"{rate:>10,.0f} rec/s  join {res.t_first - res.t_start:5.2f}s  "
            f"rss {res.peak_rss_mb:6.1f} MiB  verified")


def _summarise(runs: list[tuple[RunResult, str]], n: int) -> dict:
    """Medians over the verified runs; figures stay None unless every run verified."""
    last, problem = runs[-1]
    if last.status == "missing":
        return {"verified": "missing", "status": "missing", "detail": last.detail}
    if last.status != "ok" or problem:
        return {"verified": False, "status": "failed", "detail": problem or last.detail}
    ok = [r for r, _ in runs]
    return {
        "verified": True,
        "status": "ok",
        "records_per_s": statistics.median(n / max(r.t_done - r.t_first, 1e-9) for r in ok),
        "join_s": statistics.median(r.t_first - r.t_start for r in ok),
        "peak_rss_mb": statistics.median(r.peak_rss_mb for r in ok),
        "runs": [n / max(r.t_done - r.t_first, 1e-9) for r in ok],
    }


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; write the JSON, the markdown and the chart; print the table."""
    args = _parse(argv)
    started = time.monotonic()
    figures = asyncio.run(_bench(args))
    out = report.write_all(figures, args, Path(args.results), Path(args.markdown))
    print(report.table(out))
    print(f"\nwrote {args.results}/latest.json, {args.markdown}, {args.results}/chart.png "
          f"in {time.monotonic() - started:.0f}s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
