"""The chaos scenarios: each runs a fault pattern against a fresh deployment and returns one
result line (see :meth:`chaos.harness.Verdict.line`). Random points come from ``rng``."""

from __future__ import annotations

import asyncio
import random
import shutil
import signal
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from chaos.harness import Deployment, Verdict
from streams_app.jobs.process import JobProcess
from streams_app.kafka.broker import LocalKafkaCluster
from streams_app.kafka.reader import committed_offsets, group_stable, wait_until

RATE = 400.0  # input records per second while faults happen
SETTLE_S = 180.0  # how long a deployment may take to catch up after the last fault


@dataclass
class Result:
    """A scenario's outcome: the verdict and what the line reports."""

    scenario: str
    guarantee: str
    verdict: Verdict
    kills: int = 0
    stall_s: float = 0.0
    restarts: int = 0  # workers that exited on their own and were started again
    dlq: int = 0
    dlq_exact: bool = True  # the dead letters are the bad input records, once each

    @property
    def line(self) -> str:
        return (self.verdict.line(self.scenario, self.guarantee, self.kills, dlq=self.dlq,
                                  stall_s=self.stall_s) + f" restarts={self.restarts}"
                + ("" if self.dlq_exact else " dlq-not-exact"))

    @property
    def ok(self) -> bool:
        v = self.verdict
        if not self.dlq_exact:
            return False
        if self.guarantee == "exactly_once":
            return v.lost == 0 and v.duplicated == 0
        return v.lost == 0


async def _sleep(rng: random.Random, low: float, high: float) -> None:
    await asyncio.sleep(rng.uniform(low, high))  # a random fault point, by design


def _note(job: Deployment, slot: int, what: str) -> None:
    """A marker line in the worker's log, so a kept log shows where the suite stepped in."""
    with job.log_path(slot).open("a") as log:
        log.write(f"=== chaos {time.strftime('%H:%M:%S')}: {what}\n")


async def _joined(job: Deployment, workers: int = 1) -> None:
    """Wait until the deployment's workers are in their group (assignment done): on a loaded
    machine a worker can take longer to import Faust than a scenario takes to its fault, and a
    fault before that tests start-up (tests/faults/test_startup.py), not the running worker."""
    group = f"{job.name}-app"
    await wait_until(lambda: group_stable(job.bootstrap, group, members=workers), 90,
                     "the workers to join")


async def _dump_stacks(job: Deployment, workers: list[JobProcess]) -> None:
    """A stuck deployment: every worker still running prints its threads' and asyncio tasks'
    stacks into its log (mode's worker does on SIGUSR1), for the post-mortem."""
    for slot, w in enumerate(workers):
        if w.running and w.proc is not None:
            _note(job, slot, "stuck: SIGUSR1 for a stack dump")
            w.proc.send_signal(signal.SIGUSR1)
    await asyncio.sleep(3.0)  # the dump is written by the worker's loop; no signal of done


async def _finish(job: Deployment, workers: list[JobProcess]) -> tuple[Verdict, int]:
    """Let the workers catch up (one that exited is started again, as an orchestrator
    would), stop them, and check the output; also returns how many were restarted."""
    restarts = 0

    async def caught_up() -> bool:
        nonlocal restarts
        for slot, w in enumerate(workers):
            if not w.running:
                restarts += 1
                _note(job, slot, f"exited by itself with code {w.proc and w.proc.returncode}; "
                                 "started again")
                workers[slot] = job.worker(slot).start()
        return await job.complete()

    try:
        await wait_until(caught_up, SETTLE_S, "the deployment to catch up")
    except TimeoutError:
        await _dump_stacks(job, workers)
        raise
    finally:
        for w in workers:
            w.stop()
    return await job.verdict(), restarts


async def kill_loop(broker: LocalKafkaCluster, workdir: Path, rng: random.Random, *,
                    guarantee: str, topology: str = "count", kills: int = 6,
                    wipe_every: int = 3, records: int = 12_000) -> Result:
    """SIGKILL the worker at random points while input arrives; every ``wipe_every``-th
    restart on an emptied data dir."""
    job = Deployment(broker.bootstrap_servers, workdir, guarantee, topology)
    await job.create_input()
    worker = job.worker().start()
    producing = asyncio.create_task(job.produce(0, records, rate=RATE))
    for k in range(1, kills + 1):
        await _sleep(rng, 1.5, 4.0)
        worker.kill()
        if k % wipe_every == 0:
            shutil.rmtree(job.data_dir(), ignore_errors=True)
        worker = job.worker().start()
    await producing
    verdict, restarts = await _finish(job, [worker])
    return Result(f"kill-loop-{topology}", guarantee, verdict, kills, restarts=restarts)


async def sigterm_midstream(broker: LocalKafkaCluster, workdir: Path, rng: random.Random, *,
                            guarantee: str = "exactly_once", stops: int = 3) -> Result:
    """SIGTERM mid-stream (the worker in its group): each stop exits cleanly (code 0) and
    the restart resumes."""
    job = Deployment(broker.bootstrap_servers, workdir, guarantee)
    await job.create_input()
    worker = job.worker().start()
    producing = asyncio.create_task(job.produce(0, 8000, rate=RATE))
    for _ in range(stops):
        # Mid-stream: a SIGTERM before Faust installed its handlers ends the process as the
        # signal does (exit -15).
        await _joined(job)
        await _sleep(rng, 1.5, 4.0)
        code = worker.stop(timeout=30)
        assert code == 0, f"SIGTERM mid-stream exited {code}:\n{worker.log_tail()}"
        worker = job.worker().start()
    await producing
    verdict, restarts = await _finish(job, [worker])
    return Result("sigterm-midstream", guarantee, verdict, stops, restarts=restarts)


async def broker_down(broker: LocalKafkaCluster, workdir: Path, rng: random.Random, *,
                      seconds: float, guarantee: str = "exactly_once") -> Result:
    """The only broker is down ``seconds`` mid-stream; the worker rides it out."""
    job = Deployment(broker.bootstrap_servers, workdir, guarantee)
    await job.create_input()
    worker = job.worker().start()
    await _joined(job)
    await job.produce(0, 3000, rate=RATE)
    producing = asyncio.create_task(job.produce(3000, 1000, rate=RATE))
    await _sleep(rng, 0.5, 2.0)
    broker.stop_node(0, kill=True)
    _note(job, 0, "broker killed")
    producing.cancel()
    await asyncio.sleep(seconds)  # the outage is a duration
    broker.start_node(0)
    _note(job, 0, "broker started again")
    back = time.monotonic()
    await job.produce(4000, 1000)
    verdict, restarts = await _finish(job, [worker])
    return Result(f"broker-down-{seconds:.0f}s", guarantee, verdict,
                  stall_s=time.monotonic() - back, restarts=restarts)


async def sigterm_in_outage(broker: LocalKafkaCluster, workdir: Path, rng: random.Random, *,
                            guarantee: str = "exactly_once", seconds: float = 20.0) -> Result:
    """SIGTERM while the broker is down: exit within STREAMS_SHUTDOWN_TIMEOUT_MS (non-zero);
    the restart after the outage is exact."""
    job = Deployment(broker.bootstrap_servers, workdir, guarantee,
                     extra_env={"STREAMS_SHUTDOWN_TIMEOUT_MS": "5000"})
    await job.create_input()
    worker = job.worker().start()
    await _joined(job)
    await job.produce(0, 2000, rate=RATE)
    producing = asyncio.create_task(job.produce(2000, 1000, rate=RATE))
    await _sleep(rng, 0.5, 2.0)
    broker.stop_node(0, kill=True)
    producing.cancel()
    await asyncio.sleep(seconds / 2)  # mid-outage
    assert worker.proc is not None
    worker.proc.terminate()
    code = await asyncio.to_thread(worker.proc.wait, 30)
    assert code != 0, worker.log_tail()
    await asyncio.sleep(seconds / 2)
    broker.start_node(0)
    worker = job.worker().start()
    await job.produce(3000, 1000)
    verdict, restarts = await _finish(job, [worker])
    return Result("sigterm-in-outage", guarantee, verdict, 1, restarts=restarts)


async def workers_killed(broker: LocalKafkaCluster, workdir: Path, rng: random.Random, *,
                         workers: int, kills: int = 4, guarantee: str = "exactly_once") -> Result:
    """``workers`` workers share the job; one (chosen at random) is SIGKILLed and restarted
    repeatedly."""
    job = Deployment(broker.bootstrap_servers, workdir, guarantee, partitions=6)
    await job.create_input()
    procs = [job.worker(slot).start() for slot in range(workers)]
    producing = asyncio.create_task(job.produce(0, 12_000, rate=RATE))
    for _ in range(kills):
        await _sleep(rng, 2.0, 5.0)
        slot = rng.randrange(workers)
        procs[slot].kill()
        procs[slot] = job.worker(slot).start()
    await producing
    verdict, restarts = await _finish(job, procs)
    return Result(f"workers-{workers}-one-killed", guarantee, verdict, kills,
                  restarts=restarts)


async def zombie(broker: LocalKafkaCluster, workdir: Path, rng: random.Random, *,
                 guarantee: str = "exactly_once") -> Result:
    """SIGSTOP one of two workers past the session timeout; once the other has taken its
    partitions and committed them, SIGCONT it: its stale transaction must not commit."""
    job = Deployment(broker.bootstrap_servers, workdir, guarantee)
    await job.create_input()
    a, b = job.worker(0).start(), job.worker(1).start()
    group = f"{job.name}-app"
    await _joined(job, workers=2)  # Stable with one member is not the state wanted here
    await job.produce(0, 2000, rate=RATE)
    producing = asyncio.create_task(job.produce(2000, 6000, rate=RATE))
    await _sleep(rng, 1.0, 2.0)
    assert a.proc is not None
    a.proc.send_signal(signal.SIGSTOP)
    _note(job, 0, "SIGSTOP")
    stopped_at = await committed_offsets(job.bootstrap, group, job.input)

    async def taken_over() -> bool:
        now = await committed_offsets(job.bootstrap, group, job.input)
        return len(now) == job.partitions and all(
            now[p] > stopped_at.get(p, -1) for p in now)

    try:
        await wait_until(taken_over, 90, "the other worker to commit every partition")
    except TimeoutError:
        await _dump_stacks(job, [a, b])
        raise
    a.proc.send_signal(signal.SIGCONT)
    _note(job, 0, "SIGCONT")
    await producing
    verdict, restarts = await _finish(job, [a, b])
    return Result("zombie", guarantee, verdict, 1, restarts=restarts)


async def cluster_broker_loss(broker: LocalKafkaCluster, workdir: Path, rng: random.Random, *,
                              guarantee: str, wipe: bool = False) -> Result:
    """A 3-node cluster (RF 3, min ISR 2, acks=all) loses a random broker mid-stream;
    with ``wipe`` it comes back with an empty data dir."""
    job = Deployment(broker.bootstrap_servers, workdir, guarantee, replication=3)
    await job.create_input()
    worker = job.worker().start()
    await _joined(job)
    producing = asyncio.create_task(job.produce(0, 8000, rate=RATE))
    await _sleep(rng, 2.0, 5.0)
    node = rng.randrange(3)
    lost_at = time.monotonic()
    broker.stop_node(node, kill=True, wipe=wipe)
    _note(job, 0, f"broker {node} killed")
    await _sleep(rng, 5.0, 10.0)
    broker.start_node(node)
    _note(job, 0, f"broker {node} started again")
    await producing
    verdict, restarts = await _finish(job, [worker])
    name = "cluster-broker-empty-disk" if wipe else "cluster-broker-loss"
    return Result(name, guarantee, verdict, 1, stall_s=time.monotonic() - lost_at,
                  restarts=restarts)


Scenario = Callable[[LocalKafkaCluster, Path, random.Random], Awaitable[Result]]
