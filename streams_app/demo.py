"""``make demo``: a broker, the rides, the vendor-count job, live counts, the final table.

The worker serves the live dashboard (its address is printed); from a terminal the demo keeps
it up at the end until Enter is pressed (never when stdin is not a terminal, as in CI).

Starts the local Apache Kafka (or uses ``KAFKA_BOOTSTRAP_SERVERS``), creates the job's topics,
runs the job as a Faust worker, streams rides.csv into ``rides``, prints the per-vendor counts as
they change, then the final table checked against a plain count of the CSV, and stops all it
started.
"""

from __future__ import annotations

import asyncio
import os
import socket
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from aiokafka import AIOKafkaConsumer

from streams_app.jobs.process import JobProcess
from streams_app.jobs.produce_rides import produce_rides
from streams_app.jobs.rides import read_rides, vendor_count_topics
from streams_app.kafka.admin import ensure_topics
from streams_app.kafka.broker import demo_broker
from streams_app.kafka.reader import group_stable, topic_partitions, wait_until
from streams_app.kafka.security import client_kwargs, start_client
from streams_app.settings import Settings, env_name

DEFAULT_WEB_PORT = 6066

# Security settings apply to a user's broker only; the local one is PLAINTEXT.
_SECURITY_SETTINGS = ("security_protocol", "sasl_mechanism", "sasl_username", "sasl_password",
                      "sasl_password_file", "ssl_cafile", "ssl_certfile", "ssl_keyfile")


async def _watch_counts(bootstrap: str, topic: str, total: int, job: JobProcess,
                        timeout: float, security: Settings | None) -> dict[str, int]:
    """Print per-vendor counts as they change until they add up to ``total``."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, auto_offset_reset="earliest",
                                enable_auto_commit=False, **client_kwargs(security))
    await start_client(consumer, security, bootstrap_servers=bootstrap)
    counts: dict[str, int] = {}
    try:
        consumer.assign(await topic_partitions(consumer, topic))
        deadline = time.monotonic() + timeout
        last_print = 0.0
        while sum(counts.values()) < total:
            if not job.running:
                raise RuntimeError(f"the job's worker exited:\n{job.log_tail()}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"counts reached {sum(counts.values())} of {total} rides "
                                   f"in {timeout:.0f}s:\n{job.log_tail()}")
            changed = False
            for records in (await consumer.getmany(timeout_ms=250)).values():
                for rec in records:
                    counts[rec.key.decode()] = int(rec.value)
                    changed = True
            now = time.monotonic()
            if changed and (now - last_print > 0.2 or sum(counts.values()) >= total):
                last_print = now
                shown = "  ".join(f"vendor {v}: {c:>4}" for v, c in sorted(counts.items()))
                print(f"  live counts  {shown}  (total {sum(counts.values())}/{total})",
                      flush=True)
    finally:
        await consumer.stop()
    return counts


def _web_port() -> int:
    """The worker's web port: 6066 (STREAMS_WEB_PORT's default) when free, else any free one."""
    for port in (DEFAULT_WEB_PORT, 0):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return int(s.getsockname()[1])
    raise OSError("no free port for the dashboard")


async def run_demo(rate: float = 60.0, timeout: float = 180.0) -> int:
    """Run the demo end to end; returns the process exit code (0 when counts are right)."""
    expected = Counter(str(ride["VendorID"]) for ride in read_rides())
    total = sum(expected.values())
    broker = demo_broker()
    print(f"starting broker: {broker}", flush=True)
    broker.start()
    run = time.strftime("%Y%m%d-%H%M%S")
    # On a user's broker, earlier runs left rides in `rides`: isolate each run by a prefix.
    external = bool(os.environ.get("KAFKA_BOOTSTRAP_SERVERS"))
    prefix = f"demo-{run}-" if external else ""
    workdir = Path(tempfile.mkdtemp(prefix="streams-demo-"))
    port = _web_port()
    job: JobProcess | None = None
    try:
        bootstrap = broker.bootstrap_servers
        print(f"broker ready at {bootstrap}", flush=True)
        topics = vendor_count_topics(prefix, partitions=2, replicas=1)
        # A user's broker: their STREAMS_SECURITY_* settings (validated here, before any work).
        security = Settings.from_env(bootstrap_servers=bootstrap) if external else None
        await ensure_topics(bootstrap, topics, settings=security)
        print("topics: " + ", ".join(t.name for t in topics), flush=True)
        env = {
            "STREAMS_BOOTSTRAP_SERVERS": bootstrap,
            "STREAMS_APP_ID": f"rides-vendor-count-demo-{run}",
            "STREAMS_DATA_DIR": str(workdir / "data"),
            "STREAMS_TOPIC_PARTITIONS": "2",
            "STREAMS_TOPIC_REPLICATION_FACTOR": "1",
            "STREAMS_TOPIC_PREFIX": prefix,
            "STREAMS_COMMIT_INTERVAL_MS": "250",  # caches flush on commit: live updates
            "STREAMS_WEB_ENABLED": "true",  # the live dashboard (and probes, metrics)
            "STREAMS_WEB_PORT": str(port),
        }
        if not external:  # empty values count as unset
            env.update({env_name(name): "" for name in _SECURITY_SETTINGS})
        job = JobProcess("rides-vendor-count", env, log_path=workdir / "worker.log").start()
        print(f"job rides-vendor-count starting as a Faust worker (pid {job.proc.pid}); "
              f"log: {job.log_path}", flush=True)

        async def ready() -> bool:
            if not job.running:
                raise RuntimeError(f"the job's worker exited:\n{job.log_tail()}")
            return await group_stable(bootstrap, env["STREAMS_APP_ID"], settings=security)

        await wait_until(ready, 60, "the job's worker to join its group", interval=0.25)
        print("job ready (group joined, partitions assigned)", flush=True)
        print(f"dashboard at http://127.0.0.1:{port}/", flush=True)
        watcher = asyncio.create_task(
            _watch_counts(bootstrap, f"{prefix}rides-vendor-count", total, job, timeout, security))
        await produce_rides(bootstrap, f"{prefix}rides", rate=rate, progress=sys.stderr.isatty(),
                            settings=security)
        print(f"produced {total} rides to {prefix}rides", flush=True)
        counts = await watcher
        if sys.stdin.isatty():  # a terminal: leave the dashboard up; CI never waits here
            print(f"\nthe dashboard stays at http://127.0.0.1:{port}/ : press Enter to stop",
                  flush=True)
            await asyncio.to_thread(sys.stdin.readline)
    finally:
        if job is not None:
            job.stop()
        broker.stop()
    print("\nfinal table rides-vendor-count (VendorID -> rides):")
    ok = True
    for vendor in sorted(set(counts) | set(expected)):
        got, want = counts.get(vendor, 0), expected[vendor]
        ok &= got == want
        flag = "" if got == want else "  MISMATCH"
        print(f"  {vendor:>8} | {got:>5}   (rides.csv: {want}){flag}")
    print("counts match a plain count of rides.csv" if ok else "COUNTS DIFFER from rides.csv")
    return 0 if ok else 1


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="streams-app demo", description=__doc__)
    parser.add_argument("--rate", type=float, default=60.0, help="rides per second")
    parser.add_argument("--timeout", type=float, default=180.0)
    args = parser.parse_args(argv)
    return asyncio.run(run_demo(args.rate, args.timeout))
