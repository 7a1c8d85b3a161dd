"""Settings: env parsing, overrides, normalisation, and error messages that name the setting."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from streams_app.settings import ConfigError, Settings, describe_settings, env_name

# One bad value per setting; every one must be rejected with a message naming it.
BAD_VALUES = {
    "bootstrap_servers": "localhost",
    "app_id": "has space",
    "auto_offset_reset": "middle",
    "acks": "two",
    "enable_idempotence": "perhaps",
    "processing_guarantee": "at_most_once",
    "store": "redis",
    "data_dir": __file__,  # an existing file, not a directory
    "topic_prefix": "bad/prefix",
    "topic_partitions": "0",
    "topic_replication_factor": "many",
    "commit_interval_ms": "-5",
    "repartition_purge_interval_ms": "soon",
    "cache_max_bytes": "-1",
    "max_task_idle_ms": "-2",
    "max_partition_fetch_bytes": "12",
    "standby_replicas": "x",
    "session_timeout_ms": "100",
    "heartbeat_interval_ms": "1.5",
    "startup_timeout_ms": "soon",
    "shutdown_timeout_ms": "500",
    "web_enabled": "maybe",
    "lazy_values": "sometimes",
    "web_port": "70000",
    "application_server": "worker-without-port",
    "metrics_enabled": "sometimes",
    "dashboard_enabled": "perhaps",
    "metrics_recording_level": "trace",
    "deserialization_exception_handler": "ignore",
    "processing_exception_handler": "retry",
    "production_exception_handler": "log",
    "log_level": "loud",
    "log_format": "xml",
    "security_protocol": "TLS",
    "sasl_mechanism": "KERBEROS",
    "sasl_username": "two\nlines",
    "sasl_password": "Xyzzy\nQuux",
    "sasl_password_file": "/nonexistent/sasl-password",
    "ssl_cafile": "/nonexistent/ca.pem",
    "ssl_certfile": "/nonexistent/client.pem",
    "ssl_keyfile": "/nonexistent/client.key",
    "ssl_check_hostname": "maybe",
}
SECRETS = {"sasl_password"}


def test_every_setting_has_a_bad_value_case() -> None:
    assert set(BAD_VALUES) == {f.name for f in dataclasses.fields(Settings)}


@pytest.mark.parametrize("name", sorted(BAD_VALUES))
def test_bad_env_value_names_the_setting(name: str) -> None:
    env = {env_name(name): BAD_VALUES[name]}
    with pytest.raises(ConfigError) as info:
        Settings.from_env(env)
    message = str(info.value)
    assert message.startswith(f"{env_name(name)} ({name}): ")
    if name in SECRETS:  # a secret is never echoed, not even a bad one
        assert "Xyzzy" not in message and "Quux" not in message
    else:
        assert repr(BAD_VALUES[name]) in message


@pytest.mark.parametrize("name", sorted(BAD_VALUES))
def test_bad_override_names_the_setting(name: str) -> None:
    with pytest.raises(ConfigError, match=rf"^{env_name(name)} \({name}\): "):
        Settings.from_env({}, **{name: BAD_VALUES[name]})


def test_config_error_is_a_value_error() -> None:
    assert issubclass(ConfigError, ValueError)


def test_acks_message_lists_allowed_values() -> None:
    with pytest.raises(ConfigError) as info:
        Settings.from_env({"STREAMS_ACKS": "two"})
    assert str(info.value) == "STREAMS_ACKS (acks): 'two' is not one of 0, 1, all"


def test_choice_messages_list_allowed_values() -> None:
    with pytest.raises(ConfigError, match="is not one of earliest, latest"):
        Settings.from_env({"STREAMS_AUTO_OFFSET_RESET": "middle"})
    with pytest.raises(ConfigError, match="is not one of at_least_once, exactly_once"):
        Settings.from_env({"STREAMS_PROCESSING_GUARANTEE": "none"})
    with pytest.raises(ConfigError, match="is not one of rocksdb, memory"):
        Settings.from_env({"STREAMS_STORE": "redis"})


def test_defaults_from_empty_env() -> None:
    s = Settings.from_env({})
    assert s.bootstrap_servers == "localhost:9092"
    assert s.auto_offset_reset == "earliest"
    assert s.acks == "all" and s.producer_acks == -1
    assert s.processing_guarantee == "at_least_once" and not s.exactly_once
    assert s.store == "rocksdb"
    assert s.cache_max_bytes == 10 * 1024 * 1024
    assert isinstance(s.data_dir, Path)
    assert s.deserialization_exception_handler == "dead_letter"
    assert s.processing_exception_handler == "dead_letter"
    assert s.production_exception_handler == "fail"


def test_repartition_purge_interval() -> None:
    assert Settings.from_env({}).repartition_purge_interval_ms == 30_000  # Kafka Streams' default
    env = {"STREAMS_REPARTITION_PURGE_INTERVAL_MS": "0"}  # 0: purge after every commit
    assert Settings.from_env(env).repartition_purge_interval_ms == 0
    with pytest.raises(ConfigError, match=r"^STREAMS_REPARTITION_PURGE_INTERVAL_MS "
                       r"\(repartition_purge_interval_ms\): '-1' must be >= 0"):
        Settings.from_env({"STREAMS_REPARTITION_PURGE_INTERVAL_MS": "-1"})


def test_max_task_idle_ms_takes_kafkas_values() -> None:
    assert Settings.from_env({}).max_task_idle_ms == 0  # Kafka's default
    assert Settings.from_env({"STREAMS_MAX_TASK_IDLE_MS": "-1"}).max_task_idle_ms == -1
    assert Settings.from_env({"STREAMS_MAX_TASK_IDLE_MS": "250"}).max_task_idle_ms == 250
    with pytest.raises(ConfigError, match=r"STREAMS_MAX_TASK_IDLE_MS \(max_task_idle_ms\)"):
        Settings.from_env({"STREAMS_MAX_TASK_IDLE_MS": "-5"})


def test_reads_every_env_var_and_converts_types() -> None:
    env = {
        "STREAMS_BOOTSTRAP_SERVERS": "kafka1:9092, kafka2:9093",
        "STREAMS_APP_ID": "orders-app",
        "STREAMS_AUTO_OFFSET_RESET": "LATEST",
        "STREAMS_ACKS": "1",
        "STREAMS_PROCESSING_GUARANTEE": "exactly_once",
        "STREAMS_DATA_DIR": "/tmp/state",
        "STREAMS_STORE": "memory",
        "STREAMS_TOPIC_PREFIX": "t1-",
        "STREAMS_TOPIC_PARTITIONS": "6",
        "STREAMS_TOPIC_REPLICATION_FACTOR": "3",
        "STREAMS_COMMIT_INTERVAL_MS": "100",
        "STREAMS_CACHE_MAX_BYTES": "0",
        "STREAMS_STANDBY_REPLICAS": "1",
        "STREAMS_SESSION_TIMEOUT_MS": "6000",
        "STREAMS_HEARTBEAT_INTERVAL_MS": "2000",
        "STREAMS_WEB_ENABLED": "yes",
        "STREAMS_WEB_PORT": "6100",
        "STREAMS_DESERIALIZATION_EXCEPTION_HANDLER": "Continue",
        "STREAMS_PROCESSING_EXCEPTION_HANDLER": "fail",
        "STREAMS_PRODUCTION_EXCEPTION_HANDLER": "dead-letter",
        "STREAMS_LOG_LEVEL": "DEBUG",
    }
    s = Settings.from_env(env)
    assert s == Settings(
        bootstrap_servers="kafka1:9092,kafka2:9093",
        app_id="orders-app",
        auto_offset_reset="latest",
        acks="1",
        processing_guarantee="exactly_once",
        data_dir=Path("/tmp/state"),
        store="memory",
        topic_prefix="t1-",
        topic_partitions=6,
        topic_replication_factor=3,
        commit_interval_ms=100,
        cache_max_bytes=0,
        standby_replicas=1,
        session_timeout_ms=6000,
        heartbeat_interval_ms=2000,
        web_enabled=True,
        web_port=6100,
        deserialization_exception_handler="continue",
        processing_exception_handler="fail",
        production_exception_handler="dead_letter",
        log_level="debug",
    )
    assert s.bootstrap_list == ["kafka1:9092", "kafka2:9093"]
    assert s.exactly_once and s.producer_acks == 1


@pytest.mark.parametrize(
    ("raw", "expected", "protocol"),
    [
        ("0", "0", 0),
        ("1", "1", 1),
        ("all", "all", -1),
        ("-1", "all", -1),
        (0, "0", 0),
        (-1, "all", -1),
    ],
)
def test_acks_forms(raw: object, expected: str, protocol: int) -> None:
    s = Settings.from_env({}, acks=raw)
    assert (s.acks, s.producer_acks) == (expected, protocol)


def test_overrides_win_over_env() -> None:
    env = {"STREAMS_APP_ID": "from-env", "STREAMS_TOPIC_PARTITIONS": "4"}
    s = Settings.from_env(env, app_id="from-kw", topic_partitions=8)
    assert (s.app_id, s.topic_partitions) == ("from-kw", 8)


def test_bootstrap_falls_back_to_kafka_env_then_default() -> None:
    assert Settings.from_env({"KAFKA_BOOTSTRAP_SERVERS": "k:1"}).bootstrap_servers == "k:1"
    both = {"KAFKA_BOOTSTRAP_SERVERS": "k:1", "STREAMS_BOOTSTRAP_SERVERS": "s:2"}
    assert Settings.from_env(both).bootstrap_servers == "s:2"
    assert Settings.from_env({}).bootstrap_servers == "localhost:9092"


def test_reads_os_environ_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STREAMS_APP_ID", "environ-app")
    assert Settings.from_env().app_id == "environ-app"


def test_empty_env_value_counts_as_unset() -> None:
    assert Settings.from_env({"STREAMS_ACKS": ""}).acks == "all"


def test_unknown_override_is_rejected_with_known_names() -> None:
    with pytest.raises(ConfigError, match=r"unknown setting\(s\) ack; known: .*acks"):
        Settings.from_env({}, ack="all")
    with pytest.raises(ConfigError, match="unknown setting"):
        Settings().replace(partitions=3)


def test_direct_construction_and_replace_validate() -> None:
    with pytest.raises(ConfigError, match=r"STREAMS_STORE \(store\)"):
        Settings(store="redis")
    with pytest.raises(ConfigError, match=r"STREAMS_TOPIC_PARTITIONS \(topic_partitions\)"):
        Settings().replace(topic_partitions=0)
    assert Settings().replace(topic_partitions="3").topic_partitions == 3


def test_booleans_are_not_integers() -> None:
    with pytest.raises(ConfigError, match="not an integer"):
        Settings(topic_partitions=True)


def test_heartbeat_must_fit_the_session_timeout() -> None:
    with pytest.raises(ConfigError, match=r"STREAMS_HEARTBEAT_INTERVAL_MS .*STREAMS_SESSION"):
        Settings(session_timeout_ms=6000, heartbeat_interval_ms=3000)


def test_settings_are_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        Settings().acks = "1"  # type: ignore[misc]


def test_describe_settings_lists_every_env_var() -> None:
    rows = describe_settings()
    assert [r[0] for r in rows] == [env_name(f.name) for f in dataclasses.fields(Settings)]
    assert all(r[3] for r in rows)


def test_exception_handlers_take_a_callable_override_and_name_allowed_actions() -> None:
    def handler(context: object, error: BaseException) -> str:
        return "continue"

    assert Settings.from_env({}, processing_exception_handler=handler) \
        .processing_exception_handler is handler
    with pytest.raises(ConfigError) as info:
        Settings.from_env({"STREAMS_PRODUCTION_EXCEPTION_HANDLER": "retry"})
    assert str(info.value) == (
        "STREAMS_PRODUCTION_EXCEPTION_HANDLER (production_exception_handler): 'retry' is not "
        "one of fail, continue, dead_letter or a callable (context, error) -> action"
    )
    with pytest.raises(ConfigError, match=r"^STREAMS_PROCESSING_EXCEPTION_HANDLER"):
        Settings(processing_exception_handler=42)


def test_idempotence_defaults_to_acks_all() -> None:
    assert Settings().idempotent and Settings(acks="all").enable_idempotence is None
    assert not Settings(acks="1").idempotent and not Settings(acks="0").idempotent
    assert not Settings(enable_idempotence="false").idempotent
    assert Settings.from_env({"STREAMS_ENABLE_IDEMPOTENCE": "auto"}).idempotent
    assert Settings(acks="1").replace(acks="all").idempotent


@pytest.mark.parametrize("acks", ["0", "1"])
def test_idempotence_with_acks_below_all_names_both_settings(acks: str) -> None:
    with pytest.raises(ConfigError) as info:
        Settings.from_env({"STREAMS_ENABLE_IDEMPOTENCE": "true", "STREAMS_ACKS": acks})
    assert str(info.value) == (
        "STREAMS_ENABLE_IDEMPOTENCE (enable_idempotence): true needs STREAMS_ACKS (acks) "
        f"'all', got {acks!r}")


def test_application_server_defaults_to_hostname_and_web_port_and_is_the_canonical_url() -> None:
    import socket

    from streams_app.app import faust_options

    assert Settings(web_port=7000).advertised_server == f"{socket.gethostname()}:7000"
    s = Settings.from_env({"STREAMS_APPLICATION_SERVER": "worker-2.jobs:8080"})
    assert s.advertised_server == "worker-2.jobs:8080"
    assert faust_options(s)["canonical_url"] == "http://worker-2.jobs:8080"


def test_the_fetch_size_reaches_the_consumer() -> None:
    from streams_app.app import faust_options

    assert faust_options(Settings())["consumer_max_fetch_size"] == 1024 * 1024  # Kafka's
    s = Settings.from_env({"STREAMS_MAX_PARTITION_FETCH_BYTES": "4194304"})
    assert faust_options(s)["consumer_max_fetch_size"] == 4 * 1024 * 1024
    with pytest.raises(ConfigError, match=r"STREAMS_APPLICATION_SERVER \(application_server\)"):
        Settings(application_server="http://worker:80/path")
