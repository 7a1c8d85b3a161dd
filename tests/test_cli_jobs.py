"""ops.load_job: the ways a job module can expose its topology, and what it is told when not."""

from __future__ import annotations

import sys
import types
from collections.abc import Iterator
from pathlib import Path

import pytest

from streams_app import Serdes, StreamsBuilder, Topology
from streams_app.ops.job import (
    CHANGELOG,
    DEAD_LETTER,
    INPUT,
    INTERNAL,
    OUTPUT,
    JobError,
    load_job,
)
from streams_app.settings import Settings

S = Serdes.string()


def topology() -> Topology:
    b = StreamsBuilder()
    b.stream("in", key_serde=S, value_serde=S).group_by_key().count("counts") \
        .to_stream().to("out")
    return b.build()


@pytest.fixture
def module() -> Iterator[types.ModuleType]:
    mod = types.ModuleType("tests._fake_job")
    sys.modules[mod.__name__] = mod
    yield mod
    del sys.modules[mod.__name__]


def test_module_level_topology_and_settings(module: types.ModuleType, tmp_path: Path) -> None:
    module.topology = topology()
    module.settings = Settings(app_id="fake", data_dir=tmp_path)
    job = load_job(module.__name__)
    assert job.topics() == {"in": INPUT, "out": OUTPUT, "fake-counts-changelog": CHANGELOG}
    assert job.internal_topics() == ["fake-counts-changelog"]
    assert job.state_dir == tmp_path / "v1"


def test_runtime_reached_through_the_app(module: types.ModuleType) -> None:
    runtime = types.SimpleNamespace(topology=topology(), settings=Settings(app_id="via-app"),
                                    dead_letter_topic="via-app-dlq", app=None)
    module.app = types.SimpleNamespace(runtime=runtime, topic_specs=[])
    job = load_job(module.__name__)
    assert job.app_id == "via-app"
    assert job.topics()["via-app-dlq"] == DEAD_LETTER
    assert "via-app-dlq" not in job.internal_topics()  # a reset keeps dead letters


def test_a_module_without_a_runtime_is_refused(module: types.ModuleType) -> None:
    with pytest.raises(JobError, match="exposes no runtime"):
        load_job(module.__name__)


def test_the_real_jobs_load_with_the_env_settings() -> None:
    job = load_job("rides-vendor-count")
    assert job.module == "streams_app.jobs.rides_vendor_count"
    roles = job.topics()
    prefix = job.settings.topic_prefix
    assert roles[f"{prefix}rides"] == INPUT
    assert roles[f"{job.app_id}-vendor-count-changelog"] == CHANGELOG
    assert roles[f"{prefix}rides-dead-letter"] == DEAD_LETTER


def test_internal_topics_that_are_not_repartitions(module: types.ModuleType) -> None:
    # A foreign-key join's subscription topics are internal without being repartitions.
    topo = Topology()
    topo.add_source("src", "fk-subscription-registration-topic")
    topo.add_internal_topic("fk-subscription-registration-topic")
    module.topology, module.settings = topo, Settings(app_id="app")
    job = load_job(module.__name__)
    assert job.topics() == {"app-fk-subscription-registration-topic": INTERNAL}
    assert job.internal_topics() == ["app-fk-subscription-registration-topic"]
