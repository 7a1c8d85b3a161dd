"""Validated application settings, read from ``STREAMS_*`` environment variables.

Every field of :class:`Settings` maps to one env var, ``STREAMS_<FIELD NAME UPPERCASED>``
(``acks`` -> ``STREAMS_ACKS``). Values are validated (and normalised) on construction, so a
``Settings`` instance is always usable; a bad value raises :class:`ConfigError` naming the env
var, the field and what is allowed.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ENV_PREFIX = "STREAMS_"
DEFAULT_BOOTSTRAP_SERVERS = "localhost:9092"

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})
# App ids become consumer group ids and prefixes of internal topic names.
_APP_ID_RE = re.compile(r"^[A-Za-z0-9._-]{1,200}$")
_TOPIC_PREFIX_RE = re.compile(r"^[A-Za-z0-9._-]{0,200}$")


class ConfigError(ValueError):
    """A setting has an invalid value; the message names the setting and what is allowed."""


class _Invalid(Exception):
    """Raised by a parser; the caller adds the setting's names to the message."""


def env_name(setting: str) -> str:
    """Return the environment variable read for ``setting`` (``acks`` -> ``STREAMS_ACKS``)."""
    return ENV_PREFIX + setting.upper()


# -- parsers: take a raw env string or a native override, return the normalised value ----------


def _choice(*allowed: str, aliases: Mapping[str, str] | None = None) -> Callable[[Any], str]:
    aliases = dict(aliases or {})

    def parse(value: Any) -> str:
        text = str(value).strip().lower()
        text = aliases.get(text, text)
        if text not in allowed:
            raise _Invalid(f"{value!r} is not one of {', '.join(allowed)}")
        return text

    return parse


def _int(minimum: int, maximum: int | None = None) -> Callable[[Any], int]:
    def parse(value: Any) -> int:
        if isinstance(value, bool):
            raise _Invalid(f"{value!r} is not an integer")
        if isinstance(value, int):
            number = value
        else:
            try:
                number = int(str(value).strip().replace("_", ""))
            except ValueError:
                raise _Invalid(f"{value!r} is not an integer") from None
        if number < minimum or (maximum is not None and number > maximum):
            bound = f">= {minimum}" if maximum is None else f"between {minimum} and {maximum}"
            raise _Invalid(f"{value!r} must be {bound}")
        return number

    return parse


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise _Invalid(f"{value!r} is not a boolean (use true/false, 1/0, yes/no, on/off)")


def _bootstrap(value: Any) -> str:
    items = value if isinstance(value, list | tuple) else str(value).split(",")
    servers = []
    for item in items:
        server = str(item).strip()
        if "://" in server:  # tolerate kafka://host:port, the form Faust uses
            server = server.split("://", 1)[1]
        host, sep, port = server.rpartition(":")
        if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise _Invalid(f"{value!r} is not a comma-separated list of host:port")
        servers.append(server)
    return ",".join(servers)


def _optional_bool(value: Any) -> bool | None:
    if value is None or (isinstance(value, str) and value.strip().lower() in ("", "auto")):
        return None
    return _bool(value)


def _app_id(value: Any) -> str:
    text = str(value).strip()
    if not _APP_ID_RE.match(text):
        raise _Invalid(f"{value!r} must be 1-200 characters from A-Z a-z 0-9 . _ -")
    return text


def _topic_prefix(value: Any) -> str:
    text = str(value).strip()
    if not _TOPIC_PREFIX_RE.match(text):
        raise _Invalid(f"{value!r} must be at most 200 characters from A-Z a-z 0-9 . _ -")
    return text


def _path(value: Any) -> Path:
    text = str(value).strip()
    if not text or "\0" in text:
        raise _Invalid(f"{value!r} is not a usable path")
    path = Path(text).expanduser()
    if path.exists() and not path.is_dir():
        raise _Invalid(f"{value!r} exists and is not a directory")
    return path


def _setting(default: Any, parse: Callable[[Any], Any], doc: str) -> Any:
    return field(default=default, metadata={"parse": parse, "doc": doc})


@dataclass(frozen=True)
class Settings:
    """Validated settings for one streams application (one Faust app, one consumer group)."""

    bootstrap_servers: str = _setting(
        DEFAULT_BOOTSTRAP_SERVERS, _bootstrap, "Kafka bootstrap servers, host:port[,host:port]"
    )
    app_id: str = _setting("streams-app", _app_id, "application id; also the consumer group id")
    auto_offset_reset: str = _setting(
        "earliest", _choice("earliest", "latest"), "where to start without a committed offset"
    )
    acks: str = _setting(
        "all", _choice("0", "1", "all", aliases={"-1": "all"}), "producer acks (-1 means all)"
    )
    enable_idempotence: bool | None = _setting(
        None, _optional_bool,
        "idempotent producer (no duplicates from retries); default: on when acks is all",
    )
    processing_guarantee: str = _setting(
        "at_least_once",
        _choice("at_least_once", "exactly_once", aliases={"exactly_once_v2": "exactly_once"}),
        "at_least_once or exactly_once (transactions)",
    )
    store: str = _setting("rocksdb", _choice("rocksdb", "memory"), "table store backend")
    data_dir: Path = _setting(Path("streams-data"), _path, "directory for local state")
    topic_prefix: str = _setting("", _topic_prefix, "prefix of the jobs' topic names")
    topic_partitions: int = _setting(1, _int(1, 100_000), "default partitions of new topics")
    topic_replication_factor: int = _setting(1, _int(1, 32_767), "default replication factor")
    commit_interval_ms: int = _setting(1000, _int(1), "how often consumed offsets are committed")
    cache_max_bytes: int = _setting(10 * 1024 * 1024, _int(0), "record cache size; 0 = off")
    standby_replicas: int = _setting(0, _int(0, 32), "standby replicas per table partition")
    session_timeout_ms: int = _setting(
        10_000, _int(6000, 1_800_000), "consumer group session timeout (broker limits)"
    )
    heartbeat_interval_ms: int = _setting(1000, _int(100), "consumer group heartbeat interval")
    web_enabled: bool = _setting(False, _bool, "run Faust's HTTP server")
    web_port: int = _setting(6066, _int(1, 65535), "port of Faust's HTTP server")
    log_level: str = _setting(
        "info", _choice("debug", "info", "warning", "error", "critical"), "worker log level"
    )

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            object.__setattr__(self, f.name, _parse_field(f, getattr(self, f.name)))
        if self.heartbeat_interval_ms * 3 > self.session_timeout_ms:
            raise ConfigError(
                f"{env_name('heartbeat_interval_ms')} (heartbeat_interval_ms): "
                f"{self.heartbeat_interval_ms} must be at most a third of "
                f"{env_name('session_timeout_ms')} (session_timeout_ms) = {self.session_timeout_ms}"
            )
        if self.enable_idempotence and self.acks != "all":
            # Kafka's producer rule: idempotence needs acks=all.
            raise ConfigError(
                f"{env_name('enable_idempotence')} (enable_idempotence): true needs "
                f"{env_name('acks')} (acks) 'all', got {self.acks!r}"
            )

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Build settings from ``env`` (default ``os.environ``); keyword overrides win.

        Only ``STREAMS_<FIELD>`` variables are read, plus ``KAFKA_BOOTSTRAP_SERVERS`` as a
        fallback for ``bootstrap_servers``. Empty env values count as unset. Unknown override
        names raise :class:`ConfigError`.
        """
        env = os.environ if env is None else env
        names = _check_names(overrides)
        values: dict[str, Any] = {}
        for name in names:
            raw = env.get(env_name(name), "")
            if name == "bootstrap_servers" and not raw.strip():
                raw = env.get("KAFKA_BOOTSTRAP_SERVERS", "")
            if raw.strip():
                values[name] = raw
        values.update(overrides)
        return cls(**values)

    def replace(self, **changes: Any) -> Settings:
        """Return a copy with ``changes`` applied (and validated)."""
        _check_names(changes)
        return dataclasses.replace(self, **changes)

    @property
    def bootstrap_list(self) -> list[str]:
        """The bootstrap servers as a list of ``host:port`` strings."""
        return self.bootstrap_servers.split(",")

    @property
    def producer_acks(self) -> int:
        """Acks as the Kafka protocol integer (-1 for ``all``)."""
        return -1 if self.acks == "all" else int(self.acks)

    @property
    def idempotent(self) -> bool:
        """Whether producers are idempotent: as set, else on exactly when acks is all."""
        if self.enable_idempotence is None:
            return self.acks == "all"
        return self.enable_idempotence

    @property
    def exactly_once(self) -> bool:
        """True when transactions (exactly-once processing) are on."""
        return self.processing_guarantee == "exactly_once"


def _check_names(values: Mapping[str, Any]) -> set[str]:
    """Return all field names; raise ConfigError for any name in ``values`` that is not one."""
    names = {f.name for f in dataclasses.fields(Settings)}
    unknown = sorted(set(values) - names)
    if unknown:
        raise ConfigError(
            f"unknown setting(s) {', '.join(unknown)}; known: {', '.join(sorted(names))}"
        )
    return names


def _parse_field(f: dataclasses.Field[Any], value: Any) -> Any:
    try:
        return f.metadata["parse"](value)
    except _Invalid as exc:
        raise ConfigError(f"{env_name(f.name)} ({f.name}): {exc}") from None


def describe_settings() -> list[tuple[str, str, Any, str]]:
    """Rows of (env var, field, default, description) for help output."""
    return [
        (env_name(f.name), f.name, f.default, f.metadata["doc"])
        for f in dataclasses.fields(Settings)
    ]
