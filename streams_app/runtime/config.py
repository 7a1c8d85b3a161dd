"""Application settings shared by the runtimes (a small, validated StreamsConfig)."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from streams_app.errors import DEFAULT_HANDLERS, HANDLER_SETTINGS, ErrorKind, parse_handler
from streams_app.serdes import JsonSerde, Serde, resolve_serde
from streams_app.settings import ConfigError  # one error type for every bad setting

__all__ = ["StreamsConfig", "ConfigError"]

_APP_ID = re.compile(r"^[A-Za-z0-9._-]+$")


@dataclass
class StreamsConfig:
    """Settings; keys may be given Kafka style (``application.id``) or snake_case.

    ``cache_max_entries`` is the per-store record cache size in entries; 0 turns caching
    off so every update is forwarded (Kafka Streams' ``statestore.cache.max.bytes`` = 0).
    ``cache_max_bytes`` (when not None) replaces it with Kafka Streams' byte-sized cache,
    one per thread over all its tasks' stores; 0 turns caching off.
    The ``*_exception_handler`` entries are ``fail``, ``continue``, ``dead_letter`` or a
    callable ``(ErrorContext, exception) -> action`` (see :mod:`streams_app.errors`).
    """

    application_id: str = "dummy-topology-test-driver-app-id"
    bootstrap_servers: str = "dummy-bootstrap-host:0"
    default_key_serde: Serde = field(default_factory=JsonSerde)
    default_value_serde: Serde = field(default_factory=JsonSerde)
    default_timestamp_extractor: Callable[[Any, int], int] | None = None
    cache_max_entries: int = 10_000
    cache_max_bytes: int | None = None
    commit_interval_ms: int = 30_000
    #: skip decoding values no processor reads (counts); off: Kafka Streams' behaviour, every
    #: value decoded at the source, a malformed one goes to the deserialization handler
    lazy_values: bool = False
    deserialization_exception_handler: Any = DEFAULT_HANDLERS[ErrorKind.DESERIALIZATION]
    processing_exception_handler: Any = DEFAULT_HANDLERS[ErrorKind.PROCESSING]
    production_exception_handler: Any = DEFAULT_HANDLERS[ErrorKind.PRODUCTION]
    # Kafka's internal __emit.interval.ms.kstreams.windowed.aggregation__ and
    # __emit.interval.ms.kstreams.outer.join.spurious.results.fix__: the wall-clock throttle
    # of emit-on-window-close and of outer-join results; None keeps the operators' 1 s
    # (TopologyTestDriver sets both to 0).
    windowed_emit_interval_ms: int | None = None
    outer_join_emit_interval_ms: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_mapping(
        cls, config: Mapping[str, Any] | StreamsConfig | None, allow_unknown: bool = False
    ) -> StreamsConfig:
        """Validate a mapping; unknown keys fail unless ``allow_unknown`` (kept in ``extra``)."""
        if isinstance(config, StreamsConfig):
            return config
        known = {f.name for f in fields(cls)} - {"extra"}
        values: dict[str, Any] = {}
        extra: dict[str, Any] = {}
        for raw_key, value in (config or {}).items():
            key = str(raw_key).replace(".", "_").replace("-", "_")
            if key in known:
                values[key] = value
            elif allow_unknown:
                extra[str(raw_key)] = value
            else:
                raise ConfigError(
                    f"unknown setting {raw_key!r}; known settings: {sorted(known)}"
                )
        cfg = cls(**values, extra=extra)
        cfg.validate()
        return cfg

    def validate(self) -> None:
        """Check every setting, naming the first bad one."""
        if not isinstance(self.application_id, str) or not _APP_ID.match(self.application_id):
            raise ConfigError(
                f"application_id: must be a non-empty string of [A-Za-z0-9._-], "
                f"got {self.application_id!r}"
            )
        for name in ("default_key_serde", "default_value_serde"):
            serde = resolve_serde(getattr(self, name), name)
            if serde is None:
                raise ConfigError(f"{name}: must not be None")
            setattr(self, name, serde)
        for name in ("cache_max_entries", "commit_interval_ms"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ConfigError(f"{name}: must be an integer >= 0, got {value!r}")
        for name in ("windowed_emit_interval_ms", "outer_join_emit_interval_ms",
                     "cache_max_bytes"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                                      or value < 0):
                raise ConfigError(f"{name}: must be None or an integer >= 0, got {value!r}")
        if self.cache_max_bytes == 0:
            self.cache_max_entries = 0  # bytes 0: caching off, not the entry default
        for name in HANDLER_SETTINGS.values():
            try:
                setattr(self, name, parse_handler(getattr(self, name)))
            except ValueError as exc:
                raise ConfigError(f"{name}: {exc}") from None
        extractor = self.default_timestamp_extractor
        if extractor is not None and not callable(extractor):
            raise ConfigError(
                f"default_timestamp_extractor: must be callable(record, partition_time), "
                f"got {extractor!r}"
            )
