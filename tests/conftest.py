"""Shared fixtures: real Kafka brokers (local JVMs or an external one) and collision-free names.

* ``kafka`` (session): a started single-node ``LocalKafka``; or, when ``KAFKA_BOOTSTRAP_SERVERS``
  is set, an ``ExternalKafka`` pointing there. Either has ``.bootstrap_servers``.
* ``kafka_bootstrap`` (session): that bootstrap string.
* ``kafka_cluster`` (session, started on first use): a 3-node ``LocalKafkaCluster``; or
  ``ExternalKafka`` from ``KAFKA_CLUSTER_BOOTSTRAP_SERVERS``.
* ``secure_kafka`` (session, started on first use): a single-node ``LocalKafka(secure=True)``
  with a SASL_SSL listener (SCRAM-SHA-512/256 users) and an mTLS listener
  (``.sasl_ssl_bootstrap_servers``, ``.ssl_bootstrap_servers``, ``.security``: CA and client
  certificate files, users, ``sasl_settings()`` / ``mtls_settings()``). Always local.
* ``unique_name`` / ``unique_topic`` (function): names no other test uses on the shared broker;
  ``unique_name_factory`` makes as many as a test needs.

Tests using any Kafka fixture are marked ``integration`` automatically (``-m "not integration"``
runs the rest).

Under pytest-xdist (``make test``: ``-n 2 --dist loadfile``) "session" means one worker process:
each starts its own brokers. A worker's terminal summary is not shown, so a conftest hands its
summary lines to the controller in ``config.workeroutput["summary_sections"]`` ({title: lines}).
"""

from __future__ import annotations

import itertools
import os
import re
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from streams_app.kafka.broker import (
    BOOTSTRAP_ENV,
    Broker,
    ExternalKafka,
    LocalKafka,
    LocalKafkaCluster,
)

CLUSTER_BOOTSTRAP_ENV = "KAFKA_CLUSTER_BOOTSTRAP_SERVERS"
KAFKA_FIXTURES = frozenset({"kafka", "kafka_bootstrap", "kafka_cluster", "secure_kafka"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that (directly or indirectly) needs a broker as ``integration``."""
    for item in items:
        if KAFKA_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.integration)


_WORKER_SECTIONS: dict[str, list[str]] = {}


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: object | None) -> None:
    """Keep the summary sections an xdist worker handed over."""
    sections = getattr(node, "workeroutput", {}).get("summary_sections", {})
    for title, lines in sections.items():
        _WORKER_SECTIONS.setdefault(title, []).extend(lines)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    for title, lines in _WORKER_SECTIONS.items():
        terminalreporter.section(title)
        for line in lines:
            terminalreporter.write_line(line)


def _broker(env: str, factory: Callable[[], Broker]) -> Iterator[Broker]:
    external = os.environ.get(env, "").strip()
    broker: Broker = ExternalKafka(external) if external else factory()
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()


@pytest.fixture(scope="session")
def kafka() -> Iterator[Broker]:
    """A running single-node broker shared by the whole session (one per xdist worker)."""
    yield from _broker(BOOTSTRAP_ENV, LocalKafka)


@pytest.fixture(scope="session")
def kafka_bootstrap(kafka: Broker) -> str:
    """Bootstrap servers of the shared single-node broker."""
    return kafka.bootstrap_servers


@pytest.fixture(scope="session")
def kafka_cluster() -> Iterator[Broker]:
    """A running 3-broker cluster (replication factor 3, min ISR 2), started on first use."""
    yield from _broker(CLUSTER_BOOTSTRAP_ENV, lambda: LocalKafkaCluster(brokers=3))


@pytest.fixture(scope="session")
def secure_kafka() -> Iterator[LocalKafka]:
    """A running broker with SASL_SSL (SCRAM) and mTLS listeners, started on first use."""
    broker = LocalKafka(secure=True)
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()


_counter = itertools.count()


def _make_name(request: pytest.FixtureRequest, prefix: str) -> str:
    # Legal Kafka topic / group id chars only; keep the test name for readable broker state.
    test = re.sub(r"[^a-zA-Z0-9._-]+", "-", request.node.name).strip("-")[:80]
    return f"{prefix}{test}-{uuid.uuid4().hex[:8]}-{next(_counter)}"


@pytest.fixture
def unique_name_factory(request: pytest.FixtureRequest) -> Callable[[str], str]:
    """``make(prefix)`` returns a fresh name (topic, group id, app id) on every call."""
    return lambda prefix="": _make_name(request, prefix)


@pytest.fixture
def unique_name(unique_name_factory: Callable[[str], str]) -> str:
    """A name (e.g. application or group id) unique to this test invocation."""
    return unique_name_factory("")


@pytest.fixture
def unique_topic(unique_name_factory: Callable[[str], str]) -> str:
    """A topic name unique to this test invocation."""
    return unique_name_factory("topic-")
