"""``streams-app``: the project's command line.

  streams-app broker fetch|start ...   the local Apache Kafka (jars from Maven Central)
  streams-app produce-rides ...        stream rides.csv into a topic
  streams-app job NAME                 run a job as a Faust worker (wraps `faust -A ... worker`)
  streams-app demo                     broker + rides + job + live counts, end to end
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys


def _produce_rides(argv: list[str]) -> int:
    from streams_app.jobs.produce_rides import produce_rides
    from streams_app.jobs.rides import RIDES_CSV
    from streams_app.settings import Settings

    p = argparse.ArgumentParser(prog="streams-app produce-rides",
                                description="Stream rides.csv into a topic as JSON.")
    p.add_argument("--bootstrap-servers",
                   default=os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "localhost:9092"))
    p.add_argument("--topic", default="rides")
    p.add_argument("--csv", default=str(RIDES_CSV))
    p.add_argument("--key-field", default="VendorID")
    p.add_argument("--rate", type=float, default=None, help="records per second (default: max)")
    p.add_argument("--repeat", type=int, default=1, help="send the file this many times")
    p.add_argument("--acks", default="all", choices=["0", "1", "all"])
    a = p.parse_args(argv)
    acks = a.acks if a.acks == "all" else int(a.acks)
    # Security from STREAMS_SECURITY_PROTOCOL, STREAMS_SASL_*, STREAMS_SSL_*.
    settings = Settings.from_env(bootstrap_servers=a.bootstrap_servers)
    n = asyncio.run(produce_rides(a.bootstrap_servers, a.topic, csv_path=a.csv,
                                  key_field=a.key_field, rate=a.rate, repeat=a.repeat, acks=acks,
                                  settings=settings))
    print(f"sent {n} records to {a.topic}")
    return 0


def _job(argv: list[str]) -> int:
    from streams_app.jobs.process import JOBS, job_module, worker_argv

    p = argparse.ArgumentParser(prog="streams-app job",
                                description="Run a job as a Faust worker (settings: STREAMS_*).")
    p.add_argument("name", help=f"one of {', '.join(sorted(JOBS))} or a module path")
    p.add_argument("-l", "--loglevel", default="info")
    a, extra = p.parse_known_args(argv)
    argv_ = worker_argv(job_module(a.name), a.loglevel, extra)
    os.execv(argv_[0], argv_)
    return 0  # not reached


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``streams-app`` command."""
    argv = list(sys.argv[1:] if argv is None else argv)
    commands = {"broker", "produce-rides", "job", "demo"}
    if not argv or argv[0] not in commands:
        print(__doc__, file=sys.stderr)
        return 0 if argv and argv[0] in {"-h", "--help"} else 2
    cmd, rest = argv[0], argv[1:]
    if cmd == "broker":
        from streams_app.kafka.broker import main as broker_main

        return broker_main(rest)
    if cmd == "produce-rides":
        return _produce_rides(rest)
    if cmd == "job":
        return _job(rest)
    from streams_app.demo import main as demo_main

    return demo_main(rest)


if __name__ == "__main__":
    sys.exit(main())
