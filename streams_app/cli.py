"""``streams-app``: the project's command line.

usage: streams-app COMMAND [ARGS]    (streams-app COMMAND --help for each; --version)

jobs:
  jobs                       list the jobs
  job NAME                   run a job as a Faust worker (wraps `faust -A ... worker`);
                             --processes N runs N workers of it in one consumer group
  describe JOB               print the job's topology (--format text|mermaid|dot)
  topics JOB                 the topics a job reads, writes and owns, as the broker has them
  reset JOB                  reset the job to reprocess its input (kafka-streams-application-reset)
  status [--url URL ...]     the workers' lag, rates and restore progress (from their /metrics)

development:
  broker fetch|start ...     the local Apache Kafka (jars from Maven Central)
  produce-rides ...          stream rides.csv into a topic
  demo                       broker + rides + job + live counts, end to end

Settings (broker, application id, security, data dir) come from STREAMS_* variables, as for
the workers. Exit codes: 0 success; 1 failure (one line on stderr, e.g. a broker that cannot
be reached or a reset refused while workers run); 2 bad command or arguments.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Callable
from datetime import UTC, datetime

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2


def _job_names() -> str:
    from streams_app.jobs.process import JOBS

    return ", ".join(sorted(JOBS))


def _parser(command: str, description: str) -> argparse.ArgumentParser:
    return argparse.ArgumentParser(prog=f"streams-app {command}", description=description)


def _add_job(p: argparse.ArgumentParser) -> None:
    p.add_argument("job", metavar="JOB", help=f"one of {_job_names()}, or a job module path")


def _quiet_clients() -> None:
    # aiokafka logs each failed connection attempt; the command reports the failure itself.
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)


def _produce_rides(argv: list[str]) -> int:
    from streams_app.jobs.produce_rides import produce_rides
    from streams_app.jobs.rides import RIDES_CSV
    from streams_app.settings import Settings

    p = _parser("produce-rides", "Stream rides.csv into a topic as JSON.")
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
    return EXIT_OK


def _positive_int(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {n}")
    return n


def _job(argv: list[str]) -> int:
    from streams_app.jobs.process import job_module, worker_argv
    from streams_app.settings import Settings

    p = _parser("job", "Run a job as a Faust worker (settings: STREAMS_*). Arguments after "
                       "NAME that are not options here go to `faust worker`.")
    p.add_argument("name", metavar="NAME", help=f"one of {_job_names()}, or a module path")
    p.add_argument("-l", "--loglevel", default=None,
                   help="worker log level (default: STREAMS_LOG_LEVEL, info)")
    p.add_argument("-p", "--processes", type=_positive_int, default=1,
                   help="worker processes of the job on this machine, one consumer group "
                        "(default 1); each gets <data_dir>/p<i> and web port web_port + i")
    a, extra = p.parse_known_args(argv)
    settings = Settings.from_env()  # validated: a bad setting fails here, named
    loglevel = a.loglevel or settings.log_level
    argv_ = worker_argv(job_module(a.name), loglevel, extra)
    if a.processes == 1:
        os.execv(argv_[0], argv_)
        return EXIT_OK  # not reached
    from streams_app.ops.processes import (
        Supervisor,
        create_data_dirs,
        stop_timeout_s,
        worker_envs,
    )

    envs = worker_envs(settings, a.processes, os.environ)
    create_data_dirs(envs)
    return Supervisor(argv_, envs, stop_timeout_s=stop_timeout_s(settings),
                      json_logs=settings.log_format == "json").run()


def _jobs(argv: list[str]) -> int:
    from streams_app.jobs.process import JOB_DESCRIPTIONS, JOBS

    _parser("jobs", "List the jobs (name, module, what it does).").parse_args(argv)
    width = max(map(len, JOBS))
    for name in sorted(JOBS):
        print(f"{name.ljust(width)}  {JOBS[name]}  {JOB_DESCRIPTIONS.get(name, '')}".rstrip())
    return EXIT_OK


def _describe(argv: list[str]) -> int:
    from streams_app.dsl.describe import FORMATS, render
    from streams_app.ops.job import load_job

    p = _parser("describe", "Print a job's topology without starting it: Kafka Streams' "
                            "TopologyDescription text, a Mermaid flowchart or a Graphviz graph.")
    _add_job(p)
    p.add_argument("--format", "-f", choices=list(FORMATS), default="text")
    a = p.parse_args(argv)
    sys.stdout.write(render(load_job(a.job).topology, a.format))
    return EXIT_OK


def _topics(argv: list[str]) -> int:
    from streams_app.ops.job import load_job
    from streams_app.ops.topics import describe_job_topics, format_json, format_table

    p = _parser("topics", "The topics a job reads (input), writes (output) and owns "
                          "(repartition, changelog, dead-letter), with partitions, replicas and "
                          "configs as found on the broker; missing topics are marked MISSING.")
    _add_job(p)
    p.add_argument("--all-configs", action="store_true", help="every topic config, not the "
                   "main ones")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    a = p.parse_args(argv)
    job = load_job(a.job)
    _quiet_clients()
    reports = asyncio.run(describe_job_topics(job))
    fmt = format_json if a.json else format_table
    sys.stdout.write(fmt(job, reports, a.all_configs))
    return EXIT_OK


def _datetime(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an ISO 8601 date-time (e.g. 2024-05-01T12:00:00Z)") from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _reset(argv: list[str]) -> int:
    from streams_app.ops.job import load_job
    from streams_app.ops.reset import apply_reset, format_plan, plan_reset

    p = _parser("reset", "Reset a job so that it reprocesses its input, as Kafka's "
                         "kafka-streams-application-reset does: the group's input offsets go "
                         "to the earliest (or a time), internal topics (repartition, changelog) "
                         "are deleted, and the local state directory is wiped. Refused while "
                         "the consumer group has active members: stop every worker first. "
                         "Wipes the state of this machine only: on other hosts delete the "
                         "job's data volumes too.")
    _add_job(p)
    to = p.add_mutually_exclusive_group()
    to.add_argument("--to-earliest", action="store_true", help="the default")
    to.add_argument("--to-datetime", type=_datetime, metavar="ISO",
                    help="first offsets at or after this time (no zone: UTC)")
    p.add_argument("--dry-run", action="store_true", help="print the plan, change nothing")
    a = p.parse_args(argv)
    job = load_job(a.job)
    _quiet_clients()

    async def run() -> str:
        plan = await plan_reset(job, a.to_datetime)
        if not a.dry_run:
            await apply_reset(plan)
        return format_plan(plan, a.dry_run)

    sys.stdout.write(asyncio.run(run()))
    return EXIT_OK


def _status(argv: list[str]) -> int:
    from streams_app.ops.status import fetch_status, format_status

    p = _parser("status", "Read the workers' /metrics and print, per worker, readiness, "
                          "process rate and totals, the lag of each input partition and the "
                          "restore progress of each store. Exit 1 if a worker cannot be read.")
    p.add_argument("--url", action="append", default=[], metavar="URL",
                   help="a worker's address (host:port or http://host:port), repeatable; "
                        "default: STREAMS_STATUS_URLS (comma-separated)")
    a = p.parse_args(argv)
    urls = a.url or [u for u in os.environ.get("STREAMS_STATUS_URLS", "").split(",")
                     if u.strip()]
    if not urls:
        p.error("no worker: give --url or set STREAMS_STATUS_URLS")
    sys.stdout.write(format_status([fetch_status(url) for url in urls]))
    return EXIT_OK


def _broker(argv: list[str]) -> int:
    from streams_app.kafka.broker import main as broker_main

    return broker_main(argv)


def _demo(argv: list[str]) -> int:
    from streams_app.demo import main as demo_main

    return demo_main(argv)


COMMANDS: dict[str, Callable[[list[str]], int]] = {
    "jobs": _jobs, "job": _job, "describe": _describe, "topics": _topics, "reset": _reset,
    "status": _status,
    "broker": _broker, "produce-rides": _produce_rides, "demo": _demo,
}


def _error_line(exc: BaseException) -> str:
    name, text = type(exc).__name__, " ".join(str(exc).split())
    if not text:
        return name
    # Our errors read as sentences; aiokafka's already start with "[Error N] Name: ...".
    if type(exc).__module__.startswith("streams_app") or name in text:
        return text
    return f"{name}: {text}"


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``streams-app`` command; returns the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in {"-h", "--help", "help"}:
        sys.stdout.write(__doc__)
        return EXIT_OK
    if argv and argv[0] in {"-V", "--version"}:
        from streams_app import __version__

        print(f"streams-app {__version__}")
        return EXIT_OK
    if not argv or argv[0] not in COMMANDS:
        what = f"unknown command {argv[0]!r}" if argv else "a command is required"
        print(f"streams-app: error: {what} (one of {', '.join(COMMANDS)}; "
              "streams-app --help)", file=sys.stderr)
        return EXIT_USAGE
    cmd, rest = argv[0], argv[1:]
    try:
        return COMMANDS[cmd](rest)
    except SystemExit as exc:  # argparse: --help (0) or a usage error (2)
        return exc.code if isinstance(exc.code, int) else EXIT_FAILURE
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # noqa: BLE001 - an operator gets one line, not a traceback
        print(f"streams-app {cmd}: error: {_error_line(exc)}", file=sys.stderr)
        return EXIT_FAILURE


if __name__ == "__main__":
    sys.exit(main())
