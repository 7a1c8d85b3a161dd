"""A/B runs of the count pipeline on one broker and one input: what the overhead benchmarks
(``bench.metrics_overhead``, ``bench.dashboard_overhead``) share.

Every run is verified against counts computed from the generated data; variants alternate so
neither always runs first on a warmer broker.
"""

from __future__ import annotations

import argparse
import tempfile
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.broker import BenchKafka
from bench.common import RunConfig
from bench.data import produce
from bench.pipelines import expected
from bench.run import _warm_up, verify
from bench.runner import throughput


@dataclass
class ABInput:
    """One broker with the rides written once; :meth:`rate` times one verified run."""

    bootstrap: str
    topic: str
    zones: str
    want: Any
    work: Path
    tag: str
    name: str
    args: argparse.Namespace

    async def rate(self, contestant: str, variant: str, i: int) -> float:
        """records/s of one run of ``contestant`` (first record to last result)."""
        cfg = RunConfig(self.bootstrap, self.topic, self.zones, "count", self.args.records,
                        f"bench-{self.name}-{variant}-{self.tag}-{i}",
                        str(self.work / f"{variant}-{i}.json"),
                        state_dir=str(self.work / f"state-{variant}-{i}"))
        res = await throughput(contestant, cfg, f"{self.name} {variant} / run {i + 1}",
                               self.args.timeout)
        problem = verify(res, self.want) if res.status == "ok" else res.detail
        if problem:
            raise RuntimeError(f"{self.name} {variant} run {i + 1}: {problem[-500:]}")
        return self.args.records / max(res.t_done - res.t_first, 1e-9)


@asynccontextmanager
async def ab_input(args: argparse.Namespace, name: str) -> AsyncIterator[ABInput]:
    """Start the bench broker, write ``args.records`` rides, warm up; stop the broker after."""
    broker = BenchKafka()
    broker.start()
    try:
        work = Path(tempfile.mkdtemp(prefix=f"bench-{name}-"))
        tag = uuid.uuid4().hex[:6]
        topic, zones = f"bench-rides-{tag}", f"bench-zones-{tag}"
        data = await produce(broker.bootstrap_servers, topic, zones, args.records,
                             lambda _n: None)
        await _warm_up(broker.bootstrap_servers, topic, zones, args, work, tag)
        yield ABInput(broker.bootstrap_servers, topic, zones,
                      expected("count", data.events, data.boroughs), work, tag, name, args)
    finally:
        broker.stop()


def alternating(variants: Sequence[str], i: int) -> Sequence[str]:
    """Round ``i``'s order: forwards on even rounds, backwards on odd ones."""
    return variants if i % 2 == 0 else variants[::-1]
