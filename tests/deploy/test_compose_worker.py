"""docker-compose.yml against the Compose Specification's JSON schema, and the scalable
`worker` service (no Docker engine here: checked structurally)."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest
import yaml

from streams_app.jobs.process import JOBS
from streams_app.settings import Settings
from tests.deploy.conftest import COMPOSE, COMPOSE_SCHEMA, DOCKERFILE, ROOT


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text())


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft7Validator:
    schema = json.loads(COMPOSE_SCHEMA.read_text())
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(schema)


def test_compose_file_matches_the_compose_spec(compose: dict[str, Any],
                                               validator: jsonschema.Draft7Validator) -> None:
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
              for e in validator.iter_errors(compose)]
    assert not errors, errors


@pytest.mark.parametrize("mutate", [
    lambda c: c["services"]["worker"].update(replicas="three"),
    lambda c: c["services"]["worker"].update(depends_on={"kafka": {"condition": "started?"}}),
    lambda c: c["services"]["worker"].update(restart_policy="always"),
])
def test_schema_rejects_broken_files(compose: dict[str, Any],
                                     validator: jsonschema.Draft7Validator, mutate: Any) -> None:
    broken = json.loads(json.dumps(compose))
    mutate(broken)
    assert list(validator.iter_errors(broken))


def test_worker_scales(compose: dict[str, Any]) -> None:
    worker = compose["services"]["worker"]
    # `docker compose up --scale worker=3` needs no fixed name and no host port.
    assert "container_name" not in worker
    assert "ports" not in worker
    assert "hostname" not in worker
    # An anonymous volume per container: replicas never share a RocksDB directory.
    env = {k: str(v) for k, v in worker["environment"].items()}
    assert worker["volumes"] == [env["STREAMS_DATA_DIR"]]


def test_worker_runs_the_taxi_job_on_the_compose_kafka(compose: dict[str, Any]) -> None:
    worker = compose["services"]["worker"]
    env = {k: str(v) for k, v in worker["environment"].items()}
    assert env["JOB"] == "rides-vendor-count" and env["JOB"] in JOBS
    settings = Settings.from_env(env)  # every STREAMS_* value is valid
    assert settings.bootstrap_servers == "kafka:29092"  # the in-network listener
    kafka_env = compose["services"]["kafka"]["environment"]
    assert "DOCKER://kafka:29092" in kafka_env["KAFKA_ADVERTISED_LISTENERS"].split(",")
    assert settings.topic_partitions >= 3, "fewer partitions than the scaled workers"
    assert settings.web_enabled and str(settings.web_port) in worker["expose"]
    assert worker["depends_on"]["kafka"]["condition"] == "service_healthy"
    build = worker["build"]
    assert (ROOT / (build if isinstance(build, str) else build["context"]) / DOCKERFILE.name) \
        .is_file()


def test_rides_producer_is_opt_in_and_uses_the_worker_image(compose: dict[str, Any]) -> None:
    rides = compose["services"]["rides"]
    assert rides["profiles"] == ["rides"]
    assert rides["image"] == compose["services"]["worker"]["image"]
    assert rides["entrypoint"][:2] == ["streams-app", "produce-rides"]
    assert "kafka:29092" in rides["entrypoint"]
