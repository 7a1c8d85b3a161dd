"""TopicSpec validation and the configs it produces."""

from __future__ import annotations

import pytest

from streams_app.kafka.topics import TopicSpec, TopicSpecError, normalize_cleanup_policy
from streams_app.settings import ConfigError


def test_defaults_and_topic_configs() -> None:
    spec = TopicSpec("orders")
    assert (spec.partitions, spec.replication_factor, spec.retention_ms) == (1, 1, None)
    assert spec.topic_configs() == {"cleanup.policy": "delete"}


def test_all_fields_become_configs() -> None:
    spec = TopicSpec(
        "orders",
        partitions=3,
        replication_factor=1,
        retention_ms=60_000,
        cleanup_policy="compact",
        configs={"min.insync.replicas": 1, "unclean.leader.election.enable": False},
    )
    assert spec.topic_configs() == {
        "cleanup.policy": "compact",
        "retention.ms": "60000",
        "min.insync.replicas": "1",
        "unclean.leader.election.enable": "false",
    }


@pytest.mark.parametrize(
    ("given", "canonical"),
    [
        ("delete", "delete"),
        ("compact", "compact"),
        ("compact,delete", "compact,delete"),
        ("delete,compact", "compact,delete"),
        (" Delete , Compact ", "compact,delete"),
    ],
)
def test_cleanup_policy_forms(given: str, canonical: str) -> None:
    assert TopicSpec("t", cleanup_policy=given).cleanup_policy == canonical
    assert normalize_cleanup_policy(given) == canonical


def test_retention_minus_one_means_forever() -> None:
    assert TopicSpec("t", retention_ms=-1).topic_configs()["retention.ms"] == "-1"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"name": ""}, "topic name ''"),
        ({"name": "a/b"}, "topic name 'a/b'"),
        ({"name": ".."}, "topic name '..'"),
        ({"name": "x" * 250}, "1-249 characters"),
        ({"name": "t", "partitions": 0}, "topic 't' partitions: 0 must be an integer >= 1"),
        ({"name": "t", "partitions": "2"}, "topic 't' partitions: '2'"),
        ({"name": "t", "partitions": True}, "topic 't' partitions: True"),
        ({"name": "t", "replication_factor": 0}, "topic 't' replication_factor: 0"),
        ({"name": "t", "retention_ms": -2}, "topic 't' retention_ms: -2 must be an integer >= -1"),
        ({"name": "t", "retention_ms": 1.5}, "topic 't' retention_ms: 1.5"),
        (
            {"name": "t", "cleanup_policy": "forever"},
            "topic 't' cleanup_policy: 'forever' is not one of delete, compact, compact,delete",
        ),
        ({"name": "t", "configs": {"retention.ms": "5"}}, "with the 'retention_ms' field"),
        ({"name": "t", "configs": {"cleanup.policy": "compact"}}, "'cleanup_policy' field"),
        ({"name": "t", "configs": {"": "x"}}, "configs: bad key ''"),
    ],
)
def test_invalid_specs_name_topic_and_field(kwargs: dict, message: str) -> None:
    with pytest.raises(TopicSpecError) as info:
        TopicSpec(**kwargs)
    assert message in str(info.value)
    assert isinstance(info.value, ConfigError)


def test_specs_are_frozen_hashable_and_configs_immutable() -> None:
    a = TopicSpec("t", configs={"segment.ms": 1000})
    b = TopicSpec("t", configs={"segment.ms": "1000"})
    assert a == b and hash(a) == hash(b)
    assert len({a, b}) == 1
    with pytest.raises(TypeError):
        a.configs["segment.ms"] = "5"  # type: ignore[index]


def test_changelog_spec_is_compacted() -> None:
    spec = TopicSpec.changelog("app-store-changelog", partitions=4)
    assert spec.cleanup_policy == "compact" and spec.partitions == 4
