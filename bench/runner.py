"""Run one contestant subprocess (throughput or latency mode) with a live status line."""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import signal
import sys
import time
from pathlib import Path

import psutil
from aiokafka import AIOKafkaProducer
from aiokafka.partitioner import DefaultPartitioner

from bench.common import RunConfig, RunResult
from bench.data import PARTITIONS, create_topics, ride_events

READY_TIMEOUT_S = 120.0


_last_status = 0.0


def _status(label: str, started: float, proc_pid: int, extra: str = "") -> None:
    """Rewrite the live status line (at most 4 times a second, only on a terminal)."""
    global _last_status
    if not sys.stderr.isatty() or time.monotonic() - _last_status < 0.25:
        return
    _last_status = time.monotonic()
    rss = 0.0
    with contextlib.suppress(psutil.Error):
        p = psutil.Process(proc_pid)
        rss = sum(c.memory_info().rss for c in [p, *p.children(recursive=True)]) / 2**20
    line = f"  {label:<40} {time.monotonic() - started:6.1f}s  rss {rss:7.1f} MiB {extra}"
    sys.stderr.write("\r" + line[:118].ljust(118))
    sys.stderr.flush()


def _die_with_parent() -> None:
    # A killed harness must not leave contestants (or their JVMs) consuming in the background.
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG


async def _spawn(name: str, cfg: RunConfig) -> asyncio.subprocess.Process:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with open(f"{cfg.out}.log", "wb") as log:
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bench.child", name, cfg.to_json(),
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=log, env=env,
            preexec_fn=_die_with_parent,
        )


async def _finish(proc: asyncio.subprocess.Process, cfg: RunConfig, label: str,
                  started: float, timeout_s: float) -> RunResult:
    deadline = time.monotonic() + timeout_s
    try:
        while proc.returncode is None:
            _status(label, started, proc.pid)
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(proc.wait(), 0.5)
            if time.monotonic() > deadline:
                return RunResult("error", detail=f"timed out after {timeout_s:.0f}s")
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    if sys.stderr.isatty():
        sys.stderr.write("\r" + " " * 118 + "\r")
    if not Path(cfg.out).exists():
        log = Path(f"{cfg.out}.log").read_text(errors="replace")[-3000:]
        return RunResult("error", detail=f"exit {proc.returncode} without a result:\n{log}")
    return RunResult.read(cfg.out)


async def throughput(name: str, cfg: RunConfig, label: str, timeout_s: float) -> RunResult:
    """Run contestant ``name`` over the whole input topic (at most ``timeout_s``)."""
    proc = await _spawn(name, cfg)
    proc.stdin.close()  # type: ignore[union-attr]
    return await _finish(proc, cfg, label, time.monotonic(), timeout_s)


async def latency(name: str, cfg: RunConfig, label: str, rate: int, seconds: float,
                  timeout_s: float) -> RunResult:
    """Feed a fresh topic at ``rate`` records/s for ``seconds`` while the contestant runs.

    Warm-up records trickle in until the contestant says READY (group joined, first record
    seen), then the paced phase starts; the contestant reports the latency of each record
    created after READY. The total is sent on its stdin once everything is produced.
    """
    await create_topics(cfg.bootstrap, cfg.input_topic)
    producer = AIOKafkaProducer(bootstrap_servers=cfg.bootstrap, acks=1, linger_ms=1,
                                max_batch_size=256 * 1024)
    await producer.start()
    started = time.monotonic()
    proc = await _spawn(name, cfg)
    sent = 0
    paced = False
    # Values are made up front and records go out as one batch per partition per tick: the
    # harness must not eat the CPU the contestant and the broker need.
    rides = [(key, value) for _, _, key, value in ride_events(int(rate * seconds) + 2000, seed=11)]
    parts = list(range(PARTITIONS))
    partitioner = DefaultPartitioner()

    async def send(count: int) -> None:
        nonlocal sent
        batches = {p: producer.create_batch() for p in parts}
        now_ms = int(time.time() * 1000)

        async def flush(p: int) -> None:
            batch, batches[p] = batches[p], producer.create_batch()
            batch.close()
            await producer.send_batch(batch, cfg.input_topic, partition=p)

        for i in range(sent, sent + count):
            key, value = rides[i % len(rides)]
            p = partitioner(key, parts, parts)
            if batches[p].append(key=key, value=value, timestamp=now_ms) is None:  # full
                await flush(p)
                batches[p].append(key=key, value=value, timestamp=now_ms)
        sent += count
        for p in parts:
            if batches[p].record_count():
                await flush(p)

    try:
        ready = asyncio.ensure_future(proc.stdout.readline())  # type: ignore[union-attr]
        while not ready.done():
            if time.monotonic() - started > READY_TIMEOUT_S or proc.returncode is not None:
                ready.cancel()
                break
            await send(1)
            _status(label, started, proc.pid, "joining")
            await asyncio.wait([ready], timeout=0.1)
        paced = ready.done() and not ready.cancelled() and b"READY" in ready.result()
        if paced:
            t0, warm = time.monotonic(), sent
            while (elapsed := time.monotonic() - t0) < seconds:
                due = int(elapsed * rate) - (sent - warm)  # catch up to the schedule
                if due > 0:
                    await send(due)
                _status(label, started, proc.pid, f"paced {elapsed:4.1f}/{seconds:.0f}s")
                await asyncio.sleep(0.005)
            await producer.flush()
    finally:
        await producer.stop()
        if proc.stdin is not None:
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                proc.stdin.write(f"{sent}\n".encode())
                await proc.stdin.drain()
                proc.stdin.close()
    if not paced:  # no READY: give it a moment to write what went wrong, then stop it
        result = await _finish(proc, cfg, label, started, 10.0)
        if result.status == "ok":
            result = RunResult("error", detail="never reported READY (its first record)")
        return result
    return await _finish(proc, cfg, label, started, timeout_s)

