"""Resolve the Apache Kafka broker jars from Maven Central into a local cache.

The cache lives at ``<repo>/.cache/kafka/<version>/libs`` (override the ``.cache/kafka`` part with
the ``STREAMS_KAFKA_CACHE`` environment variable). Resolution is idempotent and safe when several
processes race: it is serialised with an ``flock`` and published with an atomic ``rename``.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

KAFKA_VERSION = "4.4.0"
SCALA_VERSION = "2.13"
# Kafka 4.x ships slf4j-api 1.7; this SLF4J-1 binding routes it to log4j2 (pulls log4j-core).
LOG4J_VERSION = "2.24.3"

CACHE_ENV = "STREAMS_KAFKA_CACHE"
_COMPLETE_MARKER = ".complete"


class KafkaSetupError(RuntimeError):
    """Raised when the local Kafka toolchain (java, mvn, jars) is unusable."""


def repo_root() -> Path:
    """Return the repository root: the parent of the ``streams_app`` package."""
    return Path(__file__).resolve().parents[2]


def cache_root() -> Path:
    """Return the directory holding one sub-directory of jars per Kafka version."""
    override = os.environ.get(CACHE_ENV)
    if override:
        return Path(override).expanduser().resolve()
    return repo_root() / ".cache" / "kafka"


def libs_dir(version: str = KAFKA_VERSION) -> Path:
    """Return where the jars for ``version`` live (whether or not they are resolved yet)."""
    return cache_root() / version / "libs"


def require_tool(name: str) -> str:
    """Return the absolute path of executable ``name`` or raise a message saying what is missing."""
    path = shutil.which(name)
    if path is None:
        hint = {
            "java": "install a JDK (17 or newer), e.g. `apt-get install openjdk-17-jre-headless`",
            "mvn": "install Apache Maven 3.x, e.g. `apt-get install maven`",
        }.get(name, f"install {name}")
        raise KafkaSetupError(
            f"`{name}` was not found on PATH; the local Kafka broker needs it: {hint}. "
            "Alternatively set KAFKA_BOOTSTRAP_SERVERS to use an existing broker."
        )
    return path


def _pom(version: str) -> str:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>streams-app.local</groupId>
  <artifactId>kafka-broker-jars</artifactId>
  <version>{version}</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>org.apache.kafka</groupId>
      <artifactId>kafka_{SCALA_VERSION}</artifactId>
      <version>{version}</version>
    </dependency>
    <dependency>
      <groupId>org.apache.logging.log4j</groupId>
      <artifactId>log4j-slf4j-impl</artifactId>
      <version>{LOG4J_VERSION}</version>
    </dependency>
  </dependencies>
</project>
"""


def ensure_kafka_jars(version: str = KAFKA_VERSION) -> Path:
    """Download the broker jars for ``version`` unless cached; return the ``libs`` directory.

    The directory only ever appears complete: jars are copied into a sibling temp directory and
    renamed into place under an exclusive lock, so a concurrent caller either waits or sees them.
    """
    target = libs_dir(version)
    if (target / _COMPLETE_MARKER).exists():
        return target
    version_dir = target.parent
    try:
        version_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise KafkaSetupError(
            f"cannot create the Kafka jar cache {version_dir} ({exc.strerror}); "
            f"set {CACHE_ENV} to a writable directory"
        ) from exc
    with open(version_dir / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (target / _COMPLETE_MARKER).exists():  # another process won the race
            return target
        _resolve_into(version, target)
    return target


def _resolve_into(version: str, target: Path) -> None:
    mvn = require_tool("mvn")
    staging = Path(tempfile.mkdtemp(prefix="resolve-", dir=target.parent))
    try:
        (staging / "pom.xml").write_text(_pom(version))
        out = staging / "libs"
        cmd = [
            mvn, "-q", "-B", "-f", str(staging / "pom.xml"),
            "dependency:copy-dependencies",
            f"-DoutputDirectory={out}", "-DincludeScope=runtime",
        ]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0 or not any(out.glob("kafka_*.jar")):
            tail = (proc.stdout + proc.stderr).strip()[-3000:]
            raise KafkaSetupError(
                f"Maven could not resolve org.apache.kafka:kafka_{SCALA_VERSION}:{version} "
                f"(exit {proc.returncode}); is Maven Central reachable?\n{tail}"
            )
        (out / _COMPLETE_MARKER).write_text(version + "\n")
        if target.exists():  # leftover of an interrupted run without the marker
            shutil.rmtree(target)
        os.rename(out, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
