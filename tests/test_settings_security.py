"""Security settings: Kafka's names, cross-checks naming the settings, secrets never shown."""

from __future__ import annotations

from pathlib import Path

import pytest

from streams_app.settings import ConfigError, Settings, describe_settings

SECRET = "s3cr3t-Pa55word"
SASL_ENV = {
    "STREAMS_SECURITY_PROTOCOL": "sasl_ssl",
    "STREAMS_SASL_MECHANISM": "scram-sha-512",
    "STREAMS_SASL_USERNAME": "alice",
    "STREAMS_SASL_PASSWORD": SECRET,
}


def test_defaults_are_plaintext_with_hostname_checks() -> None:
    s = Settings.from_env({})
    assert s.security_protocol == "PLAINTEXT"
    assert (s.sasl_mechanism, s.sasl_username, s.sasl_password, s.sasl_password_file) == (
        None, None, None, None)
    assert (s.ssl_cafile, s.ssl_certfile, s.ssl_keyfile) == (None, None, None)
    assert s.ssl_check_hostname is True


def test_reads_sasl_env_in_kafkas_spelling() -> None:
    s = Settings.from_env(SASL_ENV)
    assert (s.security_protocol, s.sasl_mechanism, s.sasl_username, s.sasl_password) == (
        "SASL_SSL", "SCRAM-SHA-512", "alice", SECRET)
    assert Settings.from_env({**SASL_ENV, "STREAMS_SASL_MECHANISM": "scram_sha_256"}
                             ).sasl_mechanism == "SCRAM-SHA-256"


def test_reads_tls_env(tmp_path: Path) -> None:
    files = {name: tmp_path / f"{name}.pem" for name in ("ca", "cert", "key")}
    for path in files.values():
        path.write_text("x")
    s = Settings.from_env({
        "STREAMS_SECURITY_PROTOCOL": "SSL", "STREAMS_SSL_CAFILE": str(files["ca"]),
        "STREAMS_SSL_CERTFILE": str(files["cert"]), "STREAMS_SSL_KEYFILE": str(files["key"]),
        "STREAMS_SSL_CHECK_HOSTNAME": "false",
    })
    assert (s.ssl_cafile, s.ssl_certfile, s.ssl_keyfile) == (
        files["ca"], files["cert"], files["key"])
    assert s.ssl_check_hostname is False


@pytest.mark.parametrize(("missing", "named"), [
    ("STREAMS_SASL_MECHANISM", r"STREAMS_SASL_MECHANISM \(sasl_mechanism\) must be set"),
    ("STREAMS_SASL_USERNAME", r"STREAMS_SASL_USERNAME \(sasl_username\) must be set"),
    ("STREAMS_SASL_PASSWORD",
     r"STREAMS_SASL_PASSWORD \(sasl_password\) or STREAMS_SASL_PASSWORD_FILE .* must be set"),
])
def test_sasl_protocol_needs_mechanism_user_and_password(missing: str, named: str) -> None:
    env = {k: v for k, v in SASL_ENV.items() if k != missing}
    with pytest.raises(ConfigError, match=named + r" when STREAMS_SECURITY_PROTOCOL "
                       r"\(security_protocol\) is SASL_SSL"):
        Settings.from_env(env)


def test_sasl_settings_without_a_sasl_protocol_are_rejected() -> None:
    env = {**SASL_ENV, "STREAMS_SECURITY_PROTOCOL": "SSL"}
    with pytest.raises(ConfigError, match=r"STREAMS_SASL_MECHANISM \(sasl_mechanism\) is set "
                       r"but STREAMS_SECURITY_PROTOCOL \(security_protocol\) is SSL") as info:
        Settings.from_env(env)
    assert SECRET not in str(info.value)


def test_tls_files_without_a_tls_protocol_are_rejected(tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text("x")
    with pytest.raises(ConfigError, match=r"STREAMS_SSL_CAFILE \(ssl_cafile\) is set but "
                       r"STREAMS_SECURITY_PROTOCOL \(security_protocol\) is PLAINTEXT"):
        Settings(ssl_cafile=ca)


@pytest.mark.parametrize("given", ["ssl_certfile", "ssl_keyfile"])
def test_certificate_and_key_go_together(tmp_path: Path, given: str) -> None:
    path = tmp_path / "one.pem"
    path.write_text("x")
    with pytest.raises(ConfigError, match=r"STREAMS_SSL_CERTFILE \(ssl_certfile\) and "
                       r"STREAMS_SSL_KEYFILE \(ssl_keyfile\) must be set together"):
        Settings(security_protocol="SSL", **{given: path})


def test_missing_file_is_named() -> None:
    with pytest.raises(ConfigError, match=r"^STREAMS_SSL_CAFILE \(ssl_cafile\): "
                       r"'/no/such/ca.pem' is not an existing file"):
        Settings(security_protocol="SSL", ssl_cafile="/no/such/ca.pem")


def test_password_file(tmp_path: Path) -> None:
    path = tmp_path / "password"
    path.write_text(SECRET + "\n")
    env = {k: v for k, v in SASL_ENV.items() if k != "STREAMS_SASL_PASSWORD"}
    s = Settings.from_env({**env, "STREAMS_SASL_PASSWORD_FILE": str(path)})
    assert s.sasl_password_file == path and s.sasl_password is None
    with pytest.raises(ConfigError, match=r"set only one of STREAMS_SASL_PASSWORD "
                       r"\(sasl_password\) and STREAMS_SASL_PASSWORD_FILE") as info:
        s.replace(sasl_password=SECRET)
    assert SECRET not in str(info.value)
    path.write_text("\n")
    with pytest.raises(ConfigError, match=r"STREAMS_SASL_PASSWORD_FILE .* is empty"):
        Settings.from_env({**env, "STREAMS_SASL_PASSWORD_FILE": str(path)})


def test_secrets_are_masked_in_repr_and_str() -> None:
    s = Settings.from_env(SASL_ENV)
    for text in (repr(s), str(s), f"{s}", repr([s])):
        assert SECRET not in text
        assert "sasl_password='***'" in text
        assert "sasl_username='alice'" in text
    assert "sasl_password=None" in repr(Settings())


def test_secrets_are_not_in_error_messages() -> None:
    with pytest.raises(ConfigError) as bad_value:
        Settings.from_env({**SASL_ENV, "STREAMS_SASL_PASSWORD": SECRET + "\n"})
    with pytest.raises(ConfigError) as cross_check:
        Settings.from_env({**SASL_ENV, "STREAMS_SECURITY_PROTOCOL": "PLAINTEXT"})
    for error in (bad_value.value, cross_check.value):
        assert "STREAMS_SASL_PASSWORD" in str(error) or "STREAMS_SASL_MECHANISM" in str(error)
        assert SECRET not in str(error) and SECRET not in repr(error)


def test_describe_settings_shows_no_secret() -> None:
    rows = {row[1]: row for row in describe_settings()}
    assert rows["sasl_password"][0] == "STREAMS_SASL_PASSWORD"
    assert rows["sasl_password"][2] is None
    assert "never shown" in rows["sasl_password"][3]
    assert rows["security_protocol"][2] == "PLAINTEXT"
    assert rows["ssl_check_hostname"][2] is True
