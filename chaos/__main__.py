"""``python -m chaos [--seed N] [--only NAME ...] [--quick] [--keep DIR]``: run the fault-injection
suite.

Prints the seed first, then one line per scenario (see :mod:`chaos.scenarios`); exits 1 when
any line misses its guarantee (exactly_once: lost=0 duplicated=0; at_least_once: lost=0).
``--keep DIR`` keeps each scenario's work dir (worker logs, data dirs) under ``DIR``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import logging
import random
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from chaos import scenarios as sc
from chaos.taxi import oversize_record, taxi_kill_loop
from streams_app.kafka.broker import LocalKafka, LocalKafkaCluster

Run = Callable[[LocalKafkaCluster, Path, random.Random], Awaitable[sc.Result]]
P = functools.partial

#: name -> (brokers, scenario). Single-broker ones share one broker unless they stop it.
SCENARIOS: dict[str, tuple[int, Run]] = {
    "kill-loop-count-eos": (1, P(sc.kill_loop, guarantee="exactly_once")),
    "kill-loop-count-alos": (1, P(sc.kill_loop, guarantee="at_least_once")),
    "kill-loop-regroup-eos": (1, P(sc.kill_loop, guarantee="exactly_once",
                                   topology="regroup_count")),
    "kill-loop-regroup-alos": (1, P(sc.kill_loop, guarantee="at_least_once",
                                    topology="regroup_count")),
    "taxi-garbage-eos": (1, P(taxi_kill_loop, guarantee="exactly_once")),
    "taxi-garbage-alos": (1, P(taxi_kill_loop, guarantee="at_least_once")),
    "oversize-record": (1, oversize_record),
    "sigterm-midstream": (1, sc.sigterm_midstream),
    "workers-2-one-killed": (1, P(sc.workers_killed, workers=2)),
    "workers-3-one-killed": (1, P(sc.workers_killed, workers=3)),
    "zombie": (1, sc.zombie),
    "broker-down-20s": (-1, P(sc.broker_down, seconds=20.0)),
    "broker-down-60s": (-1, P(sc.broker_down, seconds=60.0)),
    "sigterm-in-outage": (-1, sc.sigterm_in_outage),
    "cluster-broker-loss-eos": (3, P(sc.cluster_broker_loss, guarantee="exactly_once")),
    "cluster-broker-loss-alos": (3, P(sc.cluster_broker_loss, guarantee="at_least_once")),
    "cluster-broker-empty-disk": (3, P(sc.cluster_broker_loss, guarantee="exactly_once",
                                       wipe=True)),
}
QUICK = ("kill-loop-count-eos", "sigterm-midstream", "zombie")


def _workdirs(keep: Path | None) -> contextlib.AbstractContextManager[str]:
    if keep is None:
        return tempfile.TemporaryDirectory(prefix="chaos-")
    keep.mkdir(parents=True, exist_ok=True)
    return contextlib.nullcontext(str(keep))


async def run(names: list[str], seed: int, out: Callable[[str], None],
              keep: Path | None = None) -> bool:
    """Run ``names`` in order; a broker per scenario that stops one (-1: a private single
    node), one shared single node and one shared 3-node cluster otherwise. Work dirs go to
    a temporary dir, or stay in ``keep``."""
    shared: dict[int, LocalKafkaCluster] = {}
    ok = True
    try:
        with _workdirs(keep) as tmp:
            for i, name in enumerate(names):
                brokers, scenario = SCENARIOS[name]
                rng = random.Random(f"{seed}-{name}")
                private = brokers < 0
                if private:
                    broker: LocalKafkaCluster = LocalKafka().start()
                else:
                    if brokers not in shared:
                        shared[brokers] = (LocalKafka() if brokers == 1
                                           else LocalKafkaCluster(brokers=brokers)).start()
                    broker = shared[brokers]
                workdir = Path(tmp) / f"{i}-{name}"
                workdir.mkdir(exist_ok=keep is not None)
                started = time.monotonic()
                try:
                    result = await scenario(broker, workdir, rng)
                    line = f"{result.line} took_s={time.monotonic() - started:.0f}"
                    ok &= result.ok
                    out(line if result.ok else f"{line} FAILED")
                except Exception as exc:  # noqa: BLE001 - one scenario's failure, reported
                    ok = False
                    out(f"chaos {name}: FAILED {type(exc).__name__}: {exc}")
                finally:
                    if private:
                        broker.stop()
    finally:
        for broker in shared.values():
            broker.stop()
    return ok


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m chaos", description=__doc__)
    p.add_argument("--seed", type=int, default=None, help="default: from the clock")
    p.add_argument("--only", nargs="+", choices=sorted(SCENARIOS), metavar="NAME")
    p.add_argument("--quick", action="store_true", help=f"only {', '.join(QUICK)}")
    p.add_argument("--keep", type=Path, metavar="DIR",
                   help="keep the work dirs (worker logs, data dirs) under DIR")
    a = p.parse_args(argv)
    # The suite's own clients meet the outages too; the workers' logs hold what matters.
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
    seed = a.seed if a.seed is not None else int(time.time())
    names = a.only or (list(QUICK) if a.quick else list(SCENARIOS))
    print(f"chaos seed={seed} (python -m chaos --seed {seed} repeats it)", flush=True)
    ok = asyncio.run(run(names, seed, lambda line: print(line, flush=True), a.keep))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
