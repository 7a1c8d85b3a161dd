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
import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from streams_app.errors import DEFAULT_HANDLERS, ErrorAction, ErrorKind, parse_handler

ENV_PREFIX = "STREAMS_"
DEFAULT_BOOTSTRAP_SERVERS = "localhost:9092"

SECURITY_PROTOCOLS = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
SASL_MECHANISMS = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512")

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


def _host_port(value: Any) -> str:
    text = str(value).strip()
    host, sep, port = text.rpartition(":")
    if (not sep or not host or not port.isdigit() or not 0 < int(port) < 65536
            or any(c in host for c in "/@?#[] ")):
        raise _Invalid(f"{value!r} is not host:port (e.g. worker-1.example:6066)")
    return text


def _upper_choice(*allowed: str) -> Callable[[Any], str]:
    """Kafka's own spelling (SASL_SSL, SCRAM-SHA-512), accepted in any case."""

    def parse(value: Any) -> str:
        text = str(value).strip().upper()
        for candidate in (text, text.replace("_", "-"), text.replace("-", "_")):
            if candidate in allowed:
                return candidate
        raise _Invalid(f"{value!r} is not one of {', '.join(allowed)}")

    return parse


def _optional(parse: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """None or an empty string means unset."""

    def parse_optional(value: Any) -> Any:
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        return parse(value)

    return parse_optional


def _username(value: Any) -> str:
    text = str(value).strip()
    if any(c in text for c in "\0\r\n"):
        raise _Invalid(f"{value!r} must not contain line breaks or NUL")
    return text


def _password(value: Any) -> str:
    # Never echo the value: it is a secret.
    if not isinstance(value, str):
        raise _Invalid("must be a string")
    if any(c in value for c in "\0\r\n"):
        raise _Invalid("must not contain line breaks or NUL (the value is not shown)")
    return value


def _file(value: Any) -> Path:
    text = str(value).strip()
    if "\0" in text:
        raise _Invalid(f"{value!r} is not a usable path")
    path = Path(text).expanduser()
    if not path.is_file():
        raise _Invalid(f"{str(path)!r} is not an existing file")
    if not os.access(path, os.R_OK):
        raise _Invalid(f"{str(path)!r} is not readable")
    return path


def _setting(default: Any, parse: Callable[[Any], Any], doc: str, secret: bool = False) -> Any:
    return field(default=default, metadata={"parse": parse, "doc": doc, "secret": secret})


def _handler(value: Any) -> Any:
    """An action name (stored as its plain string) or a callable handler (overrides only)."""
    try:
        handler = parse_handler(value)
    except ValueError as exc:
        raise _Invalid(str(exc)) from None
    return handler.value if isinstance(handler, ErrorAction) else handler


def _handler_setting(kind: ErrorKind, what: str) -> Any:
    return _setting(
        DEFAULT_HANDLERS[kind].value,
        _handler,
        f"on a {what}: fail, continue or dead_letter (a callable as an override)",
    )


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
    repartition_purge_interval_ms: int = _setting(
        30_000, _int(0), "how often consumed records are deleted from repartition topics")
    cache_max_bytes: int = _setting(10 * 1024 * 1024, _int(0), "record cache size; 0 = off")
    max_task_idle_ms: int = _setting(
        0, _int(-1),
        "how long a task with several input partitions waits for an empty one before "
        "processing without it (Kafka's max.task.idle.ms): 0 waits only for data already on "
        "the broker, -1 never waits")
    max_partition_fetch_bytes: int = _setting(
        1024 * 1024, _int(1024),
        "most data one fetch returns per partition (Kafka's max.partition.fetch.bytes); "
        "larger means fewer fetch requests for the brokers to serve while a worker is behind")
    lazy_values: bool = _setting(
        False, _bool,
        "skip decoding values no processor reads (a source feeding only counts): faster, but a "
        "malformed value there is counted instead of going to the deserialization handler")
    standby_replicas: int = _setting(0, _int(0, 32), "standby replicas per table partition")
    session_timeout_ms: int = _setting(
        10_000, _int(6000, 1_800_000), "consumer group session timeout (broker limits)"
    )
    heartbeat_interval_ms: int = _setting(1000, _int(100), "consumer group heartbeat interval")
    startup_timeout_ms: int = _setting(
        60_000, _int(0, 3_600_000), "how long a worker waits at start for a broker to answer")
    shutdown_timeout_ms: int = _setting(
        10_000, _int(1000, 600_000),
        "how long a stopping worker may take for its last commit before exiting without it")
    web_enabled: bool = _setting(
        False, _bool, "serve /metrics, /health and /ready over HTTP (streams_app.runtime.web)")
    web_port: int = _setting(6066, _int(1, 65535), "port of /metrics, /health and /ready")
    application_server: str | None = _setting(
        None, _optional(_host_port),
        "host:port other workers and clients reach this worker's web server at (interactive "
        "queries; Kafka's application.server); default <hostname>:<web_port>")
    metrics_enabled: bool = _setting(
        True, _bool, "count the worker's metrics (per batch; served at /metrics)")
    dashboard_enabled: bool = _setting(
        True, _bool, "serve the live dashboard at / when the web server is on "
        "(streams_app.dashboard)")
    metrics_recording_level: str = _setting(
        "info", _choice("info", "debug"),
        "debug adds per-read metrics (record cache hit ratio), as Kafka's recording level")
    deserialization_exception_handler: Any = _handler_setting(
        ErrorKind.DESERIALIZATION, "record whose key, value or timestamp cannot be read"
    )
    processing_exception_handler: Any = _handler_setting(
        ErrorKind.PROCESSING, "processor that raises for a record"
    )
    production_exception_handler: Any = _handler_setting(
        ErrorKind.PRODUCTION, "sink record that cannot be serialized, is too large or is refused"
    )
    log_level: str = _setting(
        "info", _choice("debug", "info", "warning", "error", "critical"), "worker log level"
    )
    log_format: str = _setting(
        "text", _choice("text", "json"), "worker log lines: text, or json (one object a line)"
    )
    # -- security (Kafka's names; passed to every client, see streams_app.kafka.security) ------
    security_protocol: str = _setting(
        "PLAINTEXT", _upper_choice(*SECURITY_PROTOCOLS), "PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL"
    )
    sasl_mechanism: str | None = _setting(
        None, _optional(_upper_choice(*SASL_MECHANISMS)), "PLAIN, SCRAM-SHA-256, SCRAM-SHA-512"
    )
    sasl_username: str | None = _setting(None, _optional(_username), "SASL user name")
    sasl_password: str | None = _setting(
        None, _optional(_password), "SASL password (never shown)", secret=True
    )
    sasl_password_file: Path | None = _setting(
        None, _optional(_file), "file holding the SASL password (instead of sasl_password)"
    )
    ssl_cafile: Path | None = _setting(
        None, _optional(_file), "PEM CA certificates that sign the brokers' (default: system's)"
    )
    ssl_certfile: Path | None = _setting(None, _optional(_file), "PEM client certificate (mTLS)")
    ssl_keyfile: Path | None = _setting(None, _optional(_file), "PEM client private key (mTLS)")
    ssl_check_hostname: bool = _setting(
        True, _bool, "check that the broker's certificate names the host connected to"
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
        _check_security(self)

    def __repr__(self) -> str:
        # Secrets are masked; everything else as the dataclass would show it.
        parts = []
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            shown = "'***'" if f.metadata["secret"] and value is not None else repr(value)
            parts.append(f"{f.name}={shown}")
        return f"{type(self).__name__}({', '.join(parts)})"

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
    def advertised_server(self) -> str:
        """``application_server``, or ``<hostname>:<web_port>`` when unset."""
        return self.application_server or f"{socket.gethostname()}:{self.web_port}"

    @property
    def exactly_once(self) -> bool:
        """True when transactions (exactly-once processing) are on."""
        return self.processing_guarantee == "exactly_once"


def _named(*names: str) -> str:
    return " and ".join(f"{env_name(n)} ({n})" for n in names)


def _check_security(s: Settings) -> None:
    """Cross-checks between the security settings; messages name settings, never secrets."""
    sasl = s.security_protocol.startswith("SASL_")
    tls = s.security_protocol.endswith("SSL")
    protocol = _named("security_protocol")
    if sasl:
        for name in ("sasl_mechanism", "sasl_username"):
            if getattr(s, name) is None:
                raise ConfigError(f"{_named(name)} must be set when {protocol} is "
                                  f"{s.security_protocol}")
        if s.sasl_password is None and s.sasl_password_file is None:
            raise ConfigError(f"{_named('sasl_password')} or {_named('sasl_password_file')} "
                              f"must be set when {protocol} is {s.security_protocol}")
    else:
        for name in ("sasl_mechanism", "sasl_username", "sasl_password", "sasl_password_file"):
            if getattr(s, name) is not None:
                raise ConfigError(f"{_named(name)} is set but {protocol} is "
                                  f"{s.security_protocol}; use SASL_SSL or SASL_PLAINTEXT")
    if s.sasl_password is not None and s.sasl_password_file is not None:
        raise ConfigError(f"set only one of {_named('sasl_password')} and "
                          f"{_named('sasl_password_file')}")
    if s.sasl_password_file is not None and not read_secret_file(s.sasl_password_file):
        raise ConfigError(f"{_named('sasl_password_file')}: {str(s.sasl_password_file)!r} "
                          f"is empty")
    if not tls:
        for name in ("ssl_cafile", "ssl_certfile", "ssl_keyfile"):
            if getattr(s, name) is not None:
                raise ConfigError(f"{_named(name)} is set but {protocol} is "
                                  f"{s.security_protocol}; use SSL or SASL_SSL")
    if (s.ssl_certfile is None) != (s.ssl_keyfile is None):
        raise ConfigError(f"{_named('ssl_certfile', 'ssl_keyfile')} must be set together "
                          f"(the client certificate and its private key)")


def read_secret_file(path: Path) -> str:
    """The secret in ``path`` without its trailing line break (as Kubernetes secrets mount it)."""
    try:
        return path.read_text().rstrip("\r\n")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{_named('sasl_password_file')}: cannot read {str(path)!r}: "
                          f"{type(exc).__name__}") from None


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
