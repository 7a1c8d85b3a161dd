"""``python -m bench.profile --pipeline count``: where the streams_app worker spends its time.

Starts the bench broker, writes the rides, and runs the streams_app contestant (the same
``bench.child`` process ``bench.run`` times) under py-spy, sampling only while a thread is on
the CPU. Each sample goes to one bucket (:mod:`bench.profile_buckets`), and the table gives
every bucket's share of the samples taken while records flowed (start-up and the final reads
left out). ``--compare N`` then times N unprofiled rounds of streams_app and raw aiokafka
on the same broker and data: the ratio is the figure to compare between code versions;
``--base DIR`` adds a third contestant to those rounds, streams_app imported from ``DIR``
(a directory holding another version's ``streams_app`` package, e.g. from ``git archive``).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path

from bench.broker import BenchKafka
from bench.common import PIPELINES, RunConfig, RunResult
from bench.data import produce
from bench.pipelines import expected
from bench.profile_buckets import BUCKETS, classify_raw
from bench.report import ROOT
from bench.run import verify
from bench.runner import _finish, throughput

SAMPLE_RATE = 500  # per second; py-spy samples without pausing the worker (--nonblocking)


def _parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__)
    p.add_argument("--pipeline", default="count",
                   help=f"comma-separated subset of {', '.join(PIPELINES)}, or 'all'")
    p.add_argument("--records", type=int, default=300_000, help="input records (default 300000)")
    p.add_argument("--compare", type=int, default=0, metavar="N",
                   help="also time N unprofiled rounds of streams_app and raw aiokafka")
    p.add_argument("--base", default="", metavar="DIR",
                   help="--compare also runs the streams_app package found in DIR")
    p.add_argument("--no-profile", action="store_true", help="only the --compare rounds")
    p.add_argument("--timeout", type=float, default=600.0, help="seconds per run")
    p.add_argument("--keep", default="", help="directory to keep the raw py-spy stacks in")
    args = p.parse_args(argv)
    chosen = list(PIPELINES) if args.pipeline == "all" else args.pipeline.split(",")
    bad = [x for x in chosen if x not in PIPELINES]
    if bad:
        p.error(f"--pipeline: unknown {bad}; choose from {', '.join(PIPELINES)} or all")
    args.pipelines = chosen
    return args


async def _profiled(cfg: RunConfig, stacks: Path, timeout_s: float) -> RunResult:
    py_spy = shutil.which("py-spy", path=str(Path(sys.executable).parent)) or "py-spy"
    proc = await asyncio.create_subprocess_exec(
        py_spy, "record", "--rate", str(SAMPLE_RATE), "--format", "raw", "--nonblocking",
        "--output", str(stacks), "--", sys.executable, "-m", "bench.child", "streams_app",
        cfg.to_json(), stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL)
    return await _finish(proc, cfg, f"profile {cfg.pipeline}", time.monotonic(), timeout_s)


async def _base_run(base: str, cfg: RunConfig, timeout_s: float) -> RunResult:
    """The streams_app contestant with the package in ``base`` first on the path."""
    env = {**os.environ, "PYTHONPATH": f"{base}{os.pathsep}{ROOT}"}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.child", "streams_app", cfg.to_json(), cwd=base, env=env,
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL)
    return await _finish(proc, cfg, "base", time.monotonic(), timeout_s)


def _rate(res: RunResult, n: int) -> float:
    return n / max(res.t_done - res.t_first, 1e-9)


def table(shares: dict[str, Counter], rates: dict[str, float]) -> str:
    """Markdown table: one column per pipeline, one row per bucket (percent of samples)."""
    names = list(shares)
    out = ["| bucket | " + " | ".join(names) + " |", "|---|" + "---:|" * len(names)]
    for bucket, _ in BUCKETS[1:]:  # the first, excluded, is not counted
        cells = []
        for name in names:
            total = sum(shares[name].values()) or 1
            cells.append(f"{100 * shares[name][bucket] / total:.1f}")
        out.append(f"| {bucket} | " + " | ".join(cells) + " |")
    out.append("| samples | " + " | ".join(str(sum(shares[n].values())) for n in names) + " |")
    out.append("| rec/s (profiled) | " + " | ".join(f"{rates[n]:,.0f}" for n in names) + " |")
    return "\n".join(out)


async def _main(args: argparse.Namespace) -> int:
    broker = BenchKafka()
    print("starting Kafka ...", file=sys.stderr)
    broker.start()
    work = Path(tempfile.mkdtemp(prefix="bench-profile-"))
    keep = Path(args.keep) if args.keep else None
    try:
        tag = uuid.uuid4().hex[:6]
        topic, zones = f"bench-rides-{tag}", f"bench-zones-{tag}"
        data = await produce(broker.bootstrap_servers, topic, zones, args.records)

        def cfg(pipeline: str, name: str, i: int) -> RunConfig:
            return RunConfig(broker.bootstrap_servers, topic, zones, pipeline, args.records,
                             f"prof-{name}-{pipeline}-{tag}-{i}",
                             str(work / f"{pipeline}-{name}-{i}.json"),
                             state_dir=str(work / f"state-{pipeline}-{name}-{i}"))

        await throughput("aiokafka", cfg("count", "warm", 0), "warm-up", args.timeout)
        shares: dict[str, Counter] = {}
        rates: dict[str, float] = {}
        ratios: dict[str, list[float]] = {}  # "<pipeline> <contestant>" -> rate / aiokafka
        failed = False
        for pipeline in args.pipelines:
            want = expected(pipeline, data.events, data.boroughs)
            if not args.no_profile:
                stacks = work / f"{pipeline}.stacks"
                res = await _profiled(cfg(pipeline, "profiled", 0), stacks, args.timeout)
                problem = verify(res, want) if res.status == "ok" else res.detail
                if problem:
                    print(f"{pipeline}: FAILED {problem[-500:]}", file=sys.stderr)
                    failed = True
                    continue
                shares[pipeline] = classify_raw(stacks.read_text())
                rates[pipeline] = _rate(res, args.records)
                if keep is not None:
                    keep.mkdir(parents=True, exist_ok=True)
                    shutil.copy(stacks, keep / stacks.name)
            for i in range(args.compare):
                got = {}
                for name in ("base", "streams_app", "aiokafka") if args.base else (
                        "streams_app", "aiokafka"):
                    run_cfg = cfg(pipeline, name, i + 1)
                    res = (await _base_run(args.base, run_cfg, args.timeout) if name == "base"
                           else await throughput(name, run_cfg, name, args.timeout))
                    problem = verify(res, want) if res.status == "ok" else res.detail
                    if problem:
                        print(f"{pipeline} / {name}: FAILED {problem[-500:]}", file=sys.stderr)
                        failed = True
                        break
                    got[name] = _rate(res, args.records)
                if "aiokafka" in got:
                    print(f"{pipeline} round {i + 1}: " + "  ".join(
                        f"{name} {rate:,.0f} rec/s ({rate / got['aiokafka']:.3f})"
                        for name, rate in got.items()), flush=True)
                    for name, rate in got.items():
                        ratios.setdefault(f"{pipeline} {name}", []).append(
                            rate / got["aiokafka"])
        for key, values in ratios.items():
            if not key.endswith(" aiokafka"):
                print(f"{key} / aiokafka: median {statistics.median(values):.3f} "
                      f"({', '.join(f'{v:.3f}' for v in values)})")
        if shares:
            print(f"\n{args.records:,} records, py-spy {SAMPLE_RATE}/s, on-CPU samples, % per "
                  "bucket\n")
            print(table(shares, rates))
        return 1 if failed else 0
    finally:
        broker.stop()
        shutil.rmtree(work, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    """Profile the chosen pipelines and print the table."""
    return asyncio.run(_main(_parse(argv)))


if __name__ == "__main__":
    raise SystemExit(main())
