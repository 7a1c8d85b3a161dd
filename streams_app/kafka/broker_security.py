"""Secured listeners for the local test broker: SASL_SSL with SCRAM users, and mTLS (SSL with
``ssl.client.auth=required``), with certificates made at start-up.

``LocalKafkaCluster(secure=True)`` uses :class:`BrokerSecurity` to add both listeners next to
the PLAINTEXT one (which inter-broker and controller traffic keep, on loopback) and to add the
SCRAM credentials when it formats the storage (KRaft has no ZooKeeper to hold them).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from streams_app.kafka.certs import CertificateAuthority, CertKey
from streams_app.settings import Settings

SASL_SSL_LISTENER = "SASL_SSL"
SSL_LISTENER = "SSL"
SCRAM_MECHANISMS = ("SCRAM-SHA-512", "SCRAM-SHA-256")
#: Test users (name -> password), each registered for both SCRAM mechanisms.
DEFAULT_USERS: Mapping[str, str] = {"streams": "streams-secret-4f2a", "other": "other-secret-9c1d"}
_SERVER_HOSTS = ("127.0.0.1", "localhost")


@dataclass
class BrokerSecurity:
    """Certificates and SCRAM users of one secured local cluster (files under ``directory``)."""

    directory: Path
    users: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_USERS))
    ca: CertificateAuthority = field(init=False)
    server: CertKey = field(init=False)
    client: CertKey = field(init=False)
    _keystore: Path = field(init=False)

    def __post_init__(self) -> None:
        self.ca = CertificateAuthority(self.directory)
        self.server = self.ca.issue("broker", hosts=_SERVER_HOSTS)
        self.client = self.ca.issue("streams-client", client=True)
        # Kafka's PEM keystore file: the private key followed by the certificate chain.
        self._keystore = self.directory / "broker-keystore.pem"
        self._keystore.write_bytes(self.server.key.read_bytes() + self.server.cert.read_bytes())
        self._keystore.chmod(0o600)

    @property
    def ca_file(self) -> Path:
        """The CA certificate clients trust (it signed the broker and client certificates)."""
        return self.ca.cert_file

    def format_args(self) -> list[str]:
        """``kafka-storage format`` arguments registering every user for both mechanisms."""
        args = []
        for mechanism in SCRAM_MECHANISMS:
            for name, password in self.users.items():
                args += ["--add-scram", f"{mechanism}=[name={name},password={password}]"]
        return args

    def listener_properties(self) -> dict[str, str]:
        """Broker properties for the SASL_SSL and SSL listeners (added to the PLAINTEXT ones)."""
        props = {
            "ssl.keystore.type": "PEM",
            "ssl.keystore.location": str(self._keystore),
            "ssl.truststore.type": "PEM",
            "ssl.truststore.location": str(self.ca_file),
            # Clients check the broker's name; the broker checks no client hostnames.
            "ssl.endpoint.identification.algorithm": "",
            "sasl.enabled.mechanisms": ",".join(SCRAM_MECHANISMS),
            f"listener.name.{SSL_LISTENER.lower()}.ssl.client.auth": "required",
            f"listener.name.{SASL_SSL_LISTENER.lower()}.ssl.client.auth": "none",
        }
        for mechanism in SCRAM_MECHANISMS:
            key = f"listener.name.{SASL_SSL_LISTENER.lower()}.{mechanism.lower()}.sasl.jaas.config"
            props[key] = "org.apache.kafka.common.security.scram.ScramLoginModule required;"
        return props

    def sasl_settings(self, bootstrap: str, user: str = "streams",
                      mechanism: str = "SCRAM-SHA-512", **overrides: Any) -> Settings:
        """Client settings for the SASL_SSL listener as ``user``."""
        values: dict[str, Any] = {
            "bootstrap_servers": bootstrap, "security_protocol": "SASL_SSL",
            "sasl_mechanism": mechanism, "sasl_username": user,
            "sasl_password": self.users[user], "ssl_cafile": self.ca_file,
        }
        values.update(overrides)
        return Settings(**values)

    def mtls_settings(self, bootstrap: str, **overrides: Any) -> Settings:
        """Client settings for the SSL listener with the client certificate (mTLS)."""
        values: dict[str, Any] = {
            "bootstrap_servers": bootstrap, "security_protocol": "SSL",
            "ssl_cafile": self.ca_file, "ssl_certfile": self.client.cert,
            "ssl_keyfile": self.client.key,
        }
        values.update(overrides)
        return Settings(**values)
