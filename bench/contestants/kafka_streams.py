"""Kafka Streams 4.4.0 (the JVM reference): ``bench/kafka_streams``, built with Maven.

``build()`` compiles the project once (``mvn -q compile``) and writes the runtime classpath;
``run()`` starts ``streams_bench.Main`` with the ``RunConfig`` JSON and reads the result file
it writes (same ``RunResult`` format, peak RSS from its own /proc/self/status).
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

from bench.common import RunConfig, RunResult

PROJECT = Path(__file__).resolve().parent.parent / "kafka_streams"
TARGET = PROJECT / "target"


def build() -> None:
    """Compile the Kafka Streams project unless its classes are newer than its sources."""
    classes = TARGET / "classes" / "streams_bench" / "Main.class"
    sources = [*PROJECT.glob("src/**/*.java"), PROJECT / "pom.xml"]
    if classes.exists() and (TARGET / "classpath.txt").exists() and all(
        s.stat().st_mtime < classes.stat().st_mtime for s in sources
    ):
        return
    print("building bench/kafka_streams with Maven ...", file=sys.stderr)
    proc = subprocess.run(["mvn", "-q", "-B", "compile"], cwd=PROJECT,
                          capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"mvn compile failed in {PROJECT}:\n{proc.stdout[-3000:]}"
                           f"{proc.stderr[-2000:]}")


def run(cfg: RunConfig) -> RunResult:
    """Run the JVM contestant; stdin/stdout pass through (latency mode uses both)."""
    build()
    cp = f"{TARGET / 'classes'}:{(TARGET / 'classpath.txt').read_text().strip()}"
    # BENCH_JAVA_OPTS: extra JVM flags for experiments, e.g. -Dks.commit.interval.ms=5000
    # (Main applies every -Dks.<name> as a Kafka Streams property, over its own settings).
    extra = shlex.split(os.environ.get("BENCH_JAVA_OPTS", ""))
    cmd = ["java", "-Xmx2g", *extra, "-cp", cp, "streams_bench.Main", cfg.to_json()]
    proc = subprocess.run(cmd, stdin=sys.stdin, stdout=sys.stdout, stderr=sys.stderr,
                          env={**os.environ})
    if proc.returncode != 0 or not Path(cfg.out).exists():
        return RunResult("error", detail=f"java exited {proc.returncode} without a result")
    return RunResult.read(cfg.out)
