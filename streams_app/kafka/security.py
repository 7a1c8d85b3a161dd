"""Security settings -> Kafka clients: aiokafka keyword arguments, Faust credentials, and
start-up errors that name the setting to fix.

Every Kafka client the project creates goes through :func:`client_kwargs` (aiokafka producer,
consumer, admin) or :func:`faust_credentials` (the Faust app's ``broker_credentials``), so the
``STREAMS_SECURITY_PROTOCOL`` / ``STREAMS_SASL_*`` / ``STREAMS_SSL_*`` settings reach them all.
:func:`start_client` starts a client and turns a failed connection into a
:class:`KafkaConnectError` whose message says which setting is wrong.

The dicts and credentials returned here hold the password: never log them.
"""

from __future__ import annotations

import asyncio
import ssl
from typing import Any, Protocol

from aiokafka.conn import create_conn
from aiokafka.errors import (
    AuthenticationFailedError,
    IllegalSaslStateError,
    KafkaConnectionError,
    KafkaError,
    SaslAuthenticationFailed,
    UnsupportedSaslMechanismError,
)
from aiokafka.protocol.metadata import MetadataRequest

from streams_app.settings import ConfigError, Settings, env_name, read_secret_file

__all__ = [
    "KafkaConnectError",
    "check_connection",
    "client_kwargs",
    "diagnose_connection",
    "faust_credentials",
    "sasl_password",
    "ssl_context",
    "start_client",
]

#: How long a client start (and the diagnosis after a failure) may take by default.
START_TIMEOUT_S = 15.0


class KafkaConnectError(ConnectionError):
    """A client could not connect; the message names the settings to check (never secrets)."""


def _named(*names: str) -> str:
    return " / ".join(f"{env_name(n)} ({n})" for n in names)


def sasl_password(settings: Settings) -> str | None:
    """The SASL password: ``sasl_password``, else read from ``sasl_password_file`` (re-read on
    every call, so a rotated secret file is picked up by the next client)."""
    if settings.sasl_password is not None:
        return settings.sasl_password
    if settings.sasl_password_file is not None:
        return read_secret_file(settings.sasl_password_file)
    return None


def ssl_context(settings: Settings) -> ssl.SSLContext | None:
    """The client TLS context for SSL/SASL_SSL (None otherwise): the CA file (or the system's
    CAs), the client certificate for mTLS, hostname checking unless turned off."""
    if not settings.security_protocol.endswith("SSL"):
        return None
    cafile = None if settings.ssl_cafile is None else str(settings.ssl_cafile)
    try:
        context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=cafile)
    except ssl.SSLError as exc:
        raise ConfigError(f"{_named('ssl_cafile')}: {cafile!r} holds no usable PEM CA "
                          f"certificate ({exc.reason or exc})") from None
    context.check_hostname = settings.ssl_check_hostname
    if settings.ssl_certfile is not None and settings.ssl_keyfile is not None:
        try:
            context.load_cert_chain(str(settings.ssl_certfile), str(settings.ssl_keyfile))
        except ssl.SSLError as exc:
            raise ConfigError(
                f"{_named('ssl_certfile', 'ssl_keyfile')}: cannot load the client certificate "
                f"{str(settings.ssl_certfile)!r} with key {str(settings.ssl_keyfile)!r} "
                f"({exc.reason or exc}; both must be PEM and belong together)"
            ) from None
    return context


def client_kwargs(settings: Settings | None) -> dict[str, Any]:
    """Keyword arguments for ``AIOKafkaProducer`` / ``AIOKafkaConsumer`` /
    ``AIOKafkaAdminClient`` (and ``aiokafka.conn.create_conn``): security only, no bootstrap.
    ``None`` (no settings) gives ``{}``: aiokafka's PLAINTEXT defaults.

    Holds the password: do not log the result.
    """
    if settings is None:
        return {}
    kwargs: dict[str, Any] = {"security_protocol": settings.security_protocol}
    if settings.security_protocol.startswith("SASL_"):
        kwargs.update(
            sasl_mechanism=settings.sasl_mechanism,
            sasl_plain_username=settings.sasl_username,
            sasl_plain_password=sasl_password(settings),
        )
    context = ssl_context(settings)
    if context is not None:
        kwargs["ssl_context"] = context
    return kwargs


def faust_credentials(settings: Settings) -> Any:
    """Faust's ``broker_credentials`` for ``settings`` (None for PLAINTEXT).

    SASL_PLAINTEXT / SASL_SSL -> ``faust.SASLCredentials`` (PLAIN or SCRAM; its ``ssl_context``
    makes it SASL_SSL); SSL (with or without a client certificate) -> ``faust.SSLCredentials``.
    Faust 0.15.3 passes these to aiokafka unchanged (``credentials_to_aiokafka_auth``).
    """
    from faust.auth import SASLCredentials, SSLCredentials

    protocol = settings.security_protocol
    if protocol == "PLAINTEXT":
        return None
    context = ssl_context(settings)
    if protocol == "SSL":
        return SSLCredentials(context)
    return SASLCredentials(username=settings.sasl_username, password=sasl_password(settings),
                           ssl_context=context, mechanism=settings.sasl_mechanism)


class _Client(Protocol):
    async def start(self) -> None: ...


async def start_client(client: _Client, settings: Settings | None, *,
                       bootstrap_servers: str | None = None,
                       timeout: float = START_TIMEOUT_S) -> None:
    """``await client.start()``; on a failed connection close the client and raise
    :class:`KafkaConnectError` naming the setting to check (diagnosed with one probe
    connection to ``bootstrap_servers``, default the settings'), all within about ``timeout``
    seconds. Without settings, just ``await client.start()``."""
    if settings is None:
        await client.start()
        return
    if bootstrap_servers is not None and bootstrap_servers != settings.bootstrap_servers:
        settings = settings.replace(bootstrap_servers=bootstrap_servers)
    try:
        await asyncio.wait_for(client.start(), timeout)
    except (KafkaError, OSError, TimeoutError) as exc:
        await _close(client)
        reason = await diagnose_connection(settings, timeout)
        raise KafkaConnectError(
            f"cannot connect to Kafka at {settings.bootstrap_servers} "
            f"({env_name('bootstrap_servers')}) over {settings.security_protocol}: "
            f"{reason or _text(exc)}"
        ) from None


async def check_connection(settings: Settings, timeout: float = START_TIMEOUT_S) -> None:
    """Pre-flight for a worker: connect once as its clients will; raise
    :class:`KafkaConnectError` naming the setting to fix when no bootstrap server accepts."""
    reason = await diagnose_connection(settings, timeout)
    if reason is not None:
        raise KafkaConnectError(
            f"cannot connect to Kafka at {settings.bootstrap_servers} "
            f"({env_name('bootstrap_servers')}) over {settings.security_protocol}: {reason}")


async def _close(client: object) -> None:
    for name in ("stop", "close"):  # producers/consumers stop, the admin client closes
        method = getattr(client, name, None)
        if method is not None:
            try:
                await method()
            except Exception:  # noqa: BLE001 - best effort on a client that never started
                pass
            return


async def diagnose_connection(settings: Settings, timeout: float = START_TIMEOUT_S) -> str | None:
    """Connect once to each bootstrap server as a client bootstraps (connect, authenticate,
    fetch metadata); return why it fails, naming the setting to check, or None when a server
    answers."""
    kwargs = client_kwargs(settings)
    reasons = []
    for server in settings.bootstrap_list:
        host, _, port = server.rpartition(":")
        try:
            conn = await asyncio.wait_for(
                create_conn(host, int(port), request_timeout_ms=int(timeout * 1000), **kwargs),
                timeout,
            )
        except (KafkaError, OSError, TimeoutError) as exc:
            reasons.append(f"{server}: {_explain(exc, settings)}")
            continue
        try:
            await asyncio.wait_for(conn.send(MetadataRequest([])), timeout)
        except (KafkaError, OSError, TimeoutError) as exc:
            # ApiVersions is answered before authentication; Metadata is not.
            reasons.append(f"{server}: the broker closed the connection after the handshake "
                           f"({_text(exc)}); check that {_protocol(settings)} matches the "
                           f"listener (a SASL listener needs SASL_SSL or SASL_PLAINTEXT)")
            continue
        finally:
            conn.close()
        return None
    return "; ".join(reasons)


def _text(exc: BaseException) -> str:
    """An exception as ``Type: message`` (aiokafka's messages already start with the type)."""
    text = str(exc) or getattr(exc, "strerror", None) or ""
    name = type(exc).__name__
    return text if name in text else f"{name}: {text}".rstrip(": ")


def _protocol(s: Settings) -> str:
    return f"{_named('security_protocol')} = {s.security_protocol}"


_AUTH_ERRORS = (SaslAuthenticationFailed, AuthenticationFailedError, IllegalSaslStateError)


def _explain(exc: BaseException, s: Settings) -> str:
    protocol = _protocol(s)
    if isinstance(exc, _AUTH_ERRORS):
        return (f"authentication as {s.sasl_username!r} with {s.sasl_mechanism} failed "
                f"({_text(exc)}); check {_named('sasl_username', 'sasl_password')}"
                + (f" (read from {_named('sasl_password_file')})"
                   if s.sasl_password_file is not None else ""))
    if isinstance(exc, UnsupportedSaslMechanismError):
        return f"{exc}; check {_named('sasl_mechanism')}"
    if isinstance(exc, ssl.SSLCertVerificationError):
        if exc.verify_code == 62:  # X509_V_ERR_HOSTNAME_MISMATCH
            return (f"the broker's certificate does not name this host ({exc.verify_message}); "
                    f"connect by a name it holds or set {_named('ssl_check_hostname')} false")
        where = "the system's CAs" if s.ssl_cafile is None else repr(str(s.ssl_cafile))
        return (f"the broker's certificate is not trusted by {where} ({exc.verify_message}); "
                f"check {_named('ssl_cafile')}")
    if isinstance(exc, ssl.SSLError):
        if s.ssl_certfile is None:
            return (f"TLS failed ({exc.reason or exc}); the listener may require a client "
                    f"certificate: set {_named('ssl_certfile', 'ssl_keyfile')}, or check "
                    f"that {protocol} matches the listener")
        return (f"TLS failed ({exc.reason or exc}); the broker may not trust the client "
                f"certificate: check {_named('ssl_certfile', 'ssl_keyfile')}")
    if isinstance(exc, TimeoutError):
        return (f"the server took the connection but sent no Kafka answer in time "
                f"({_text(exc)}); check that {_named('bootstrap_servers')} names a Kafka "
                f"listener and that {protocol} matches it")
    if isinstance(exc, KafkaConnectionError | ConnectionError):
        if s.security_protocol == "SSL" and s.ssl_certfile is None:
            hint = (f"the listener may require a client certificate "
                    f"({_named('ssl_certfile', 'ssl_keyfile')}) or {protocol} may not match "
                    f"the listener")
        elif s.security_protocol.endswith("SSL") and s.ssl_certfile is not None:
            hint = (f"the broker may have rejected the client certificate "
                    f"({_named('ssl_certfile', 'ssl_keyfile')}) or {protocol} may not match "
                    f"the listener")
        else:
            hint = f"check that {protocol} matches the listener"
        return f"the connection failed or was closed ({_text(exc)}); {hint}"
    if isinstance(exc, OSError):
        return f"{exc.strerror or exc}; check {_named('bootstrap_servers')}"
    return f"{type(exc).__name__}: {exc}"
