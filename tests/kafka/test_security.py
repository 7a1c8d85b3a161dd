"""kafka.security without a broker: client keyword arguments, TLS contexts, Faust credentials."""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest
from faust.auth import SASLCredentials, SSLCredentials
from faust.transport.drivers.aiokafka import credentials_to_aiokafka_auth

from streams_app.kafka.certs import CertificateAuthority, CertKey
from streams_app.kafka.security import (
    client_kwargs,
    faust_credentials,
    sasl_password,
    ssl_context,
)
from streams_app.settings import ConfigError, Settings

SECRET = "kafka-Pa55-word"


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> tuple[CertificateAuthority, CertKey]:
    ca = CertificateAuthority(tmp_path_factory.mktemp("pki"))
    return ca, ca.issue("client", client=True)


def _sasl(**overrides: object) -> Settings:
    values: dict[str, object] = {"security_protocol": "SASL_SSL", "sasl_mechanism": "SCRAM-SHA-512",
                                 "sasl_username": "alice", "sasl_password": SECRET}
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


def test_no_settings_and_plaintext() -> None:
    assert client_kwargs(None) == {}
    assert client_kwargs(Settings()) == {"security_protocol": "PLAINTEXT"}
    assert faust_credentials(Settings()) is None
    assert ssl_context(Settings()) is None


def test_sasl_ssl_kwargs_check_the_broker_and_its_name(pki: tuple[CertificateAuthority, CertKey]
                                                       ) -> None:
    kwargs = client_kwargs(_sasl(ssl_cafile=pki[0].cert_file))
    context = kwargs.pop("ssl_context")
    assert kwargs == {"security_protocol": "SASL_SSL", "sasl_mechanism": "SCRAM-SHA-512",
                      "sasl_plain_username": "alice", "sasl_plain_password": SECRET}
    assert isinstance(context, ssl.SSLContext)
    assert context.check_hostname and context.verify_mode == ssl.CERT_REQUIRED
    assert _trusts(context, "streams-app test CA")
    assert not ssl_context(_sasl(ssl_check_hostname=False)).check_hostname  # type: ignore[union-attr]


def test_sasl_plaintext_has_no_tls() -> None:
    kwargs = client_kwargs(_sasl(security_protocol="SASL_PLAINTEXT", sasl_mechanism="PLAIN"))
    assert "ssl_context" not in kwargs
    assert kwargs["security_protocol"] == "SASL_PLAINTEXT"


def test_password_file_is_read_when_used(tmp_path: Path) -> None:
    path = tmp_path / "password"
    path.write_text("first\n")
    s = _sasl(sasl_password=None, sasl_password_file=path)
    assert client_kwargs(s)["sasl_plain_password"] == "first"
    path.write_text("rotated\n")
    assert sasl_password(s) == "rotated"


def test_mtls_context_loads_the_client_certificate(pki: tuple[CertificateAuthority, CertKey]
                                                   ) -> None:
    ca, client = pki
    s = Settings(security_protocol="SSL", ssl_cafile=ca.cert_file, ssl_certfile=client.cert,
                 ssl_keyfile=client.key)
    kwargs = client_kwargs(s)
    assert kwargs["security_protocol"] == "SSL"
    assert isinstance(kwargs["ssl_context"], ssl.SSLContext)


def test_bad_ca_file_is_named(tmp_path: Path) -> None:
    bad = tmp_path / "ca.pem"
    bad.write_text("not a certificate\n")
    with pytest.raises(ConfigError, match=r"STREAMS_SSL_CAFILE \(ssl_cafile\): .* no usable PEM"):
        client_kwargs(Settings(security_protocol="SSL", ssl_cafile=bad))


def test_key_of_another_certificate_is_named(tmp_path: Path,
                                             pki: tuple[CertificateAuthority, CertKey]) -> None:
    other = pki[0].issue("other", client=True)
    s = Settings(security_protocol="SSL", ssl_certfile=pki[1].cert, ssl_keyfile=other.key)
    with pytest.raises(ConfigError, match=r"STREAMS_SSL_CERTFILE \(ssl_certfile\) / "
                       r"STREAMS_SSL_KEYFILE \(ssl_keyfile\): cannot load"):
        ssl_context(s)


@pytest.mark.parametrize("protocol", ["SASL_SSL", "SASL_PLAINTEXT"])
def test_faust_sasl_credentials_give_the_same_client_settings(protocol: str) -> None:
    s = _sasl(security_protocol=protocol)
    creds = faust_credentials(s)
    assert isinstance(creds, SASLCredentials)
    assert SECRET not in repr(creds)
    faust_kwargs = credentials_to_aiokafka_auth(creds)
    ours = client_kwargs(s)
    assert faust_kwargs["security_protocol"] == protocol
    for key in ("sasl_mechanism", "sasl_plain_username", "sasl_plain_password"):
        assert faust_kwargs[key] == ours[key]
    assert (faust_kwargs["ssl_context"] is None) == (protocol == "SASL_PLAINTEXT")


def test_faust_ssl_credentials(pki: tuple[CertificateAuthority, CertKey]) -> None:
    ca, client = pki
    s = Settings(security_protocol="SSL", ssl_cafile=ca.cert_file, ssl_certfile=client.cert,
                 ssl_keyfile=client.key)
    creds = faust_credentials(s)
    assert isinstance(creds, SSLCredentials)
    faust_kwargs = credentials_to_aiokafka_auth(creds)
    assert faust_kwargs["security_protocol"] == "SSL"
    context = faust_kwargs["ssl_context"]
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    assert _trusts(context, "streams-app test CA")


def _trusts(context: ssl.SSLContext, ca_name: str) -> bool:
    return any(("commonName", ca_name) in rdn for cert in context.get_ca_certs()
               for rdn in cert["subject"])
