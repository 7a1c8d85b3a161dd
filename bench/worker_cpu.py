"""``python -m bench.worker_cpu --base DIR``: the count worker's CPU per record, A/B.

records/s on a shared machine swing with the load; the worker process's own CPU time
(user + system) per record swings far less. Each run is the streams_app contestant
(``bench.child``, as ``bench.run`` times it) on the bench broker; its CPU time is sampled
every 20 ms and interpolated to the run's first consumed record and its last commit, so
start-up, group join and the final store read are left out. ``--base DIR`` runs the
``streams_app`` package in DIR (e.g. ``git archive`` of the base commit) in alternation
with this tree's; ``--env NAME=VALUE`` sets a setting for this tree's runs only.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time

import psutil

from bench.ab import ABInput, ab_input, alternating
from bench.common import RunConfig, RunResult
from bench.report import ROOT
from bench.run import verify
from bench.runner import _finish

SAMPLE_S = 0.02


async def _run(ab: ABInput, variant: str, path: str, i: int) -> tuple[float, float]:
    """(µs of worker CPU per record between first record and done, records/s)."""
    cfg = RunConfig(ab.bootstrap, ab.topic, ab.zones, "count", ab.args.records,
                    f"cpu-{variant}-{ab.tag}-{i}", str(ab.work / f"cpu-{variant}-{i}.json"),
                    state_dir=str(ab.work / f"cpu-state-{variant}-{i}"))
    full_env = {**os.environ, "PYTHONPATH": f"{path}{os.pathsep}{ROOT}"}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.child", "streams_app", cfg.to_json(), cwd=path,
        env=full_env, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL)
    ps = psutil.Process(proc.pid)
    samples: list[tuple[float, float]] = []

    async def sample() -> None:
        while proc.returncode is None:
            try:
                t = ps.cpu_times()
            except psutil.Error:
                return
            samples.append((time.time(), t.user + t.system))
            await asyncio.sleep(SAMPLE_S)

    sampler = asyncio.create_task(sample())
    res: RunResult = await _finish(proc, cfg, variant, time.monotonic(), ab.args.timeout)
    await sampler
    problem = verify(res, ab.want) if res.status == "ok" else res.detail
    if problem:
        raise RuntimeError(f"{variant} run {i + 1}: {problem[-500:]}")
    cpu = _at(samples, res.t_done) - _at(samples, res.t_first)
    return 1e6 * cpu / ab.args.records, ab.args.records / max(res.t_done - res.t_first, 1e-9)


def _at(samples: list[tuple[float, float]], when: float) -> float:
    """CPU seconds at ``when``, interpolated between the samples around it."""
    before = max((s for s in samples if s[0] <= when), default=samples[0])
    after = min((s for s in samples if s[0] >= when), default=samples[-1])
    if after[0] == before[0]:
        return before[1]
    return before[1] + (after[1] - before[1]) * (when - before[0]) / (after[0] - before[0])


async def _main(args: argparse.Namespace) -> int:
    variants = {"head": str(ROOT)}
    if args.base:
        variants = {"base": args.base, **variants}
    variants.update(kv.split("=", 1) for kv in args.variant)
    got: dict[str, list[tuple[float, float]]] = {v: [] for v in variants}
    async with ab_input(args, "cpu") as ab:
        for i in range(args.rounds):
            for variant in alternating(list(variants), i):
                us, rate = await _run(ab, variant, variants[variant], i)
                got[variant].append((us, rate))
                print(f"round {i + 1} {variant:<8} {us:6.2f} µs CPU/record "
                      f"{rate:>10,.0f} rec/s", flush=True)
    for variant, runs in got.items():
        us = [u for u, _ in runs]
        print(f"{variant:<8} median {statistics.median(us):.2f} µs/record "
              f"(min {min(us):.2f}), median {statistics.median(r for _, r in runs):,.0f} rec/s")
    if args.base:
        ratio = [h[0] / b[0] for b, h in zip(got["base"], got["head"], strict=True)]
        print(f"head / base per round: {', '.join(f'{r:.3f}' for r in ratio)}; "
              f"median {statistics.median(ratio):.3f}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Measure and print the CPU per record of each variant."""
    p = argparse.ArgumentParser(prog="python -m bench.worker_cpu", description=__doc__)
    p.add_argument("--records", type=int, default=300_000)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--base", default="", metavar="DIR")
    p.add_argument("--variant", action="append", default=[], metavar="NAME=DIR",
                   help="one more version to alternate with (a directory as for --base)")
    p.add_argument("--timeout", type=float, default=600.0)
    return asyncio.run(_main(p.parse_args(argv)))


if __name__ == "__main__":
    raise SystemExit(main())
