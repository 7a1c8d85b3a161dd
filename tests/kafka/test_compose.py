"""Static checks of docker-compose.yml (no Docker engine here): pinned images, loopback-only
ports, a healthcheck gating the UI, and listener settings that agree with each other."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from streams_app.kafka._maven import KAFKA_VERSION

COMPOSE = Path(__file__).resolve().parents[2] / "docker-compose.yml"


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text())


@pytest.fixture(scope="module")
def kafka_env(compose: dict[str, Any]) -> dict[str, str]:
    return {k: str(v) for k, v in compose["services"]["kafka"]["environment"].items()}


def listeners(value: str) -> dict[str, tuple[str, int]]:
    """``NAME://host:port,...`` -> {NAME: (host, port)}."""
    out = {}
    for item in value.split(","):
        name, _, address = item.partition("://")
        host, _, port = address.rpartition(":")
        out[name] = (host, int(port))
    return out


def published(service: dict[str, Any]) -> list[tuple[str, int, int]]:
    """Short-syntax ``ip:host_port:container_port`` entries -> (ip, host_port, container_port)."""
    out = []
    for entry in service.get("ports", []):
        assert isinstance(entry, str), f"use the short port syntax: {entry!r}"
        ip, host_port, container_port = entry.split(":")
        out.append((ip, int(host_port), int(container_port)))
    return out


def test_services_present(compose: dict[str, Any]):
    assert set(compose["services"]) == {"kafka", "kafka-ui", "worker", "rides"}


def test_images_are_pinned_and_kafka_matches_our_version(compose: dict[str, Any]):
    for name, svc in compose["services"].items():
        image, _, tag = svc["image"].rpartition(":")
        assert image and tag, f"{name}: image {svc['image']!r} has no tag"
        assert tag not in {"latest", "main", "master", "edge"}, f"{name}: floating tag {tag}"
        assert any(c.isdigit() for c in tag), f"{name}: tag {tag!r} is not a version"
    assert compose["services"]["kafka"]["image"] == f"apache/kafka:{KAFKA_VERSION}"


def test_ports_bind_loopback_only(compose: dict[str, Any]):
    for name, svc in compose["services"].items():
        for ip, _, _ in published(svc):
            assert ip == "127.0.0.1", f"{name} publishes on {ip}, not loopback"
    assert ("127.0.0.1", 8080, 8080) in published(compose["services"]["kafka-ui"])


def test_kraft_combined_node(kafka_env: dict[str, str]):
    assert set(kafka_env["KAFKA_PROCESS_ROLES"].split(",")) == {"broker", "controller"}
    voters = kafka_env["KAFKA_CONTROLLER_QUORUM_VOTERS"].split(",")
    assert [v.split("@")[0] for v in voters] == [kafka_env["KAFKA_NODE_ID"]]


def test_listeners_are_consistent(compose: dict[str, Any], kafka_env: dict[str, str]):
    bound = listeners(kafka_env["KAFKA_LISTENERS"])
    advertised = listeners(kafka_env["KAFKA_ADVERTISED_LISTENERS"])
    protocol_map = kafka_env["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"]
    protocols = dict(p.split(":") for p in protocol_map.split(","))
    controller = kafka_env["KAFKA_CONTROLLER_LISTENER_NAMES"]

    assert set(bound) <= set(protocols), "every listener needs a security protocol"
    assert set(advertised) <= set(bound), "advertised listeners must be bound listeners"
    assert controller in bound and controller not in advertised
    assert kafka_env["KAFKA_INTER_BROKER_LISTENER_NAME"] in advertised
    for name, (host, port) in advertised.items():
        if host != "localhost":  # in-network address: no port mapping in between
            assert bound[name][1] == port, f"{name} advertises port {port}, binds another"

    # The quorum voter address is this service's controller listener.
    voter_host, voter_port = kafka_env["KAFKA_CONTROLLER_QUORUM_VOTERS"].split("@")[1].split(":")
    assert voter_host == compose["services"]["kafka"]["hostname"]
    assert int(voter_port) == bound[controller][1]

    # Host clients reach localhost:9092, which is published to the HOST listener's port.
    host_listeners = [n for n, (h, _) in advertised.items() if h == "localhost"]
    assert len(host_listeners) == 1
    (host_name,) = host_listeners
    assert advertised[host_name][1] == 9092
    assert ("127.0.0.1", 9092, bound[host_name][1]) in published(compose["services"]["kafka"])


def test_single_node_internal_topics_use_one_replica(kafka_env: dict[str, str]):
    for key in (
        "KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR",
        "KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR",
        "KAFKA_TRANSACTION_STATE_LOG_MIN_ISR",
    ):
        assert kafka_env[key] == "1", key


def test_healthcheck_probes_a_bound_listener(compose: dict[str, Any], kafka_env: dict[str, str]):
    check = compose["services"]["kafka"]["healthcheck"]
    command = " ".join(check["test"][1:]) if isinstance(check["test"], list) else check["test"]
    assert "/opt/kafka/bin/kafka-broker-api-versions.sh" in command
    target = command.split("--bootstrap-server")[1].split()[0]
    assert target in {
        f"{h}:{p}" for h, p in listeners(kafka_env["KAFKA_ADVERTISED_LISTENERS"]).values()
    }
    for key in ("interval", "timeout", "retries"):
        assert key in check, key


def test_ui_waits_for_healthy_kafka_and_uses_the_docker_listener(
    compose: dict[str, Any], kafka_env: dict[str, str]
):
    ui = compose["services"]["kafka-ui"]
    assert ui["depends_on"]["kafka"]["condition"] == "service_healthy"
    bootstrap = ui["environment"]["KAFKA_CLUSTERS_0_BOOTSTRAPSERVERS"]
    docker_side = {
        f"{h}:{p}" for h, p in listeners(kafka_env["KAFKA_ADVERTISED_LISTENERS"]).values()
        if h != "localhost"
    }
    assert bootstrap in docker_side
