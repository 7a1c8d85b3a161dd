"""Declarative topic specifications (what a topic should look like), validated on creation."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from streams_app.settings import ConfigError

CLEANUP_POLICIES = ("delete", "compact", "compact,delete")
# Kafka's own limits: legal characters and at most 249 of them.
_TOPIC_RE = re.compile(r"^[A-Za-z0-9._-]{1,249}$")
# Configs with a dedicated TopicSpec field; setting them in `configs` too would be ambiguous.
_DEDICATED = {"cleanup.policy": "cleanup_policy", "retention.ms": "retention_ms"}


class TopicSpecError(ConfigError):
    """A TopicSpec field has an invalid value; the message names topic and field."""


def normalize_cleanup_policy(value: str) -> str:
    """Return the canonical form of a cleanup.policy value ("delete,compact" -> "compact,delete").

    Raises ValueError for anything else.
    """
    parts = sorted({p.strip().lower() for p in str(value).split(",") if p.strip()})
    text = ",".join(parts)
    if text not in CLEANUP_POLICIES:
        raise ValueError(f"{value!r} is not one of {', '.join(CLEANUP_POLICIES)}")
    return text


def _config_value(value: Any) -> str:
    if isinstance(value, bool):  # Kafka spells booleans in lower case
        return "true" if value else "false"
    return str(value)


@dataclass(frozen=True)
class TopicSpec:
    """Desired state of one topic.

    ``retention_ms`` None leaves the broker default; -1 means keep forever. ``configs`` holds
    any other topic configs (e.g. ``{"min.insync.replicas": 2}``); values are stored as strings.
    """

    name: str
    partitions: int = 1
    replication_factor: int = 1
    retention_ms: int | None = None
    cleanup_policy: str = "delete"
    configs: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if (
            not isinstance(self.name, str)
            or not _TOPIC_RE.match(self.name)
            or self.name
            in {
                ".",
                "..",
            }
        ):
            raise TopicSpecError(
                f"topic name {self.name!r}: must be 1-249 characters from A-Z a-z 0-9 . _ - "
                "and not '.' or '..'"
            )
        self._check_int("partitions", self.partitions, 1)
        self._check_int("replication_factor", self.replication_factor, 1)
        if self.retention_ms is not None:
            self._check_int("retention_ms", self.retention_ms, -1)
        try:
            policy = normalize_cleanup_policy(self.cleanup_policy)
        except ValueError as exc:
            raise TopicSpecError(f"topic {self.name!r} cleanup_policy: {exc}") from None
        object.__setattr__(self, "cleanup_policy", policy)
        configs: dict[str, str] = {}
        for key, value in dict(self.configs).items():
            if not isinstance(key, str) or not key:
                raise TopicSpecError(f"topic {self.name!r} configs: bad key {key!r}")
            if key in _DEDICATED:
                raise TopicSpecError(
                    f"topic {self.name!r} configs: set {key!r} with the "
                    f"{_DEDICATED[key]!r} field, not in configs"
                )
            configs[key] = _config_value(value)
        object.__setattr__(self, "configs", MappingProxyType(configs))

    def _check_int(self, field_name: str, value: Any, minimum: int) -> None:
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise TopicSpecError(
                f"topic {self.name!r} {field_name}: {value!r} must be an integer >= {minimum}"
            )

    def __hash__(self) -> int:
        return hash(
            (
                self.name,
                self.partitions,
                self.replication_factor,
                self.retention_ms,
                self.cleanup_policy,
                tuple(sorted(self.configs.items())),
            )
        )

    def topic_configs(self) -> dict[str, str]:
        """All topic-level configs this spec sets, as Kafka config name -> string value."""
        configs = {"cleanup.policy": self.cleanup_policy}
        if self.retention_ms is not None:
            configs["retention.ms"] = str(self.retention_ms)
        configs.update(self.configs)
        return configs

    @classmethod
    def changelog(cls, name: str, partitions: int = 1, replication_factor: int = 1) -> TopicSpec:
        """Spec of a state-store changelog topic: compacted, kept forever."""
        return cls(name, partitions, replication_factor, cleanup_policy="compact")

    @classmethod
    def repartition(cls, name: str, partitions: int = 1, replication_factor: int = 1
                    ) -> TopicSpec:
        """Spec of a repartition topic, as Kafka Streams creates one: delete policy, kept
        forever, 50 MB segments. Records keep their event timestamps through a repartition,
        so time-based retention would delete historical data before it was read; consumed
        records are deleted instead (``streams_app.runtime.purge``)."""
        return cls(name, partitions, replication_factor, retention_ms=-1,
                   cleanup_policy="delete", configs={"segment.bytes": "52428800"})
