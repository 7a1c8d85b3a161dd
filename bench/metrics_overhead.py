"""``python -m bench.metrics_overhead``: the count pipeline's throughput with metrics on and off.

Same broker, same input, runs alternating between the two (on, off, on, off, ...) so both see
the broker in the same state; every run's result is verified. Prints the medians and their
ratio (target: metrics on within 3% of off) and writes ``bench/results/metrics_overhead.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import uuid
from pathlib import Path

from bench import report
from bench.broker import BenchKafka
from bench.common import RunConfig
from bench.data import produce
from bench.pipelines import expected
from bench.run import _warm_up, verify
from bench.runner import throughput

VARIANTS = {"on": "streams_app", "off": "streams_app_nometrics"}


async def _bench(args: argparse.Namespace) -> dict:
    broker = BenchKafka()
    broker.start()
    work = Path(tempfile.mkdtemp(prefix="bench-metrics-"))
    try:
        tag = uuid.uuid4().hex[:6]
        topic, zones = f"bench-rides-{tag}", f"bench-zones-{tag}"
        data = await produce(broker.bootstrap_servers, topic, zones, args.records,
                             lambda _n: None)
        want = expected("count", data.events, data.boroughs)
        await _warm_up(broker.bootstrap_servers, topic, zones, args, work, tag)
        rates: dict[str, list[float]] = {"on": [], "off": []}
        for i in range(args.runs):
            for variant, name in VARIANTS.items():
                cfg = RunConfig(broker.bootstrap_servers, topic, zones, "count", args.records,
                                f"bench-metrics-{variant}-{tag}-{i}",
                                str(work / f"{variant}-{i}.json"),
                                state_dir=str(work / f"state-{variant}-{i}"))
                res = await throughput(name, cfg, f"metrics {variant} / run {i + 1}",
                                       args.timeout)
                problem = verify(res, want) if res.status == "ok" else res.detail
                if problem:
                    raise RuntimeError(f"metrics {variant} run {i + 1}: {problem[-500:]}")
                rate = args.records / max(res.t_done - res.t_first, 1e-9)
                rates[variant].append(rate)
                print(f"  metrics {variant:<3} run {i + 1}: {rate:>10,.0f} rec/s",
                      file=sys.stderr)
        on, off = statistics.median(rates["on"]), statistics.median(rates["off"])
        return {"records": args.records, "runs": rates, "median_on": on, "median_off": off,
                "ratio_on_off": on / off}
    finally:
        broker.stop()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.metrics_overhead", description=__doc__)
    p.add_argument("--records", type=int, default=300_000)
    p.add_argument("--runs", type=int, default=3, help="runs per variant (alternating)")
    p.add_argument("--timeout", type=float, default=600.0)
    p.add_argument("--out", default=str(report.RESULTS_DIR / "metrics_overhead.json"))
    args = p.parse_args(argv)
    result = asyncio.run(_bench(args))
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(f"count pipeline, {args.records} records, median of {args.runs}: metrics on "
          f"{result['median_on']:,.0f} rec/s, off {result['median_off']:,.0f} rec/s, "
          f"on/off = {result['ratio_on_off']:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
