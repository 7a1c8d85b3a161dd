"""Start-up wait for the broker: retry while nothing listens, fail at once when something
answers wrongly.

A worker started before its brokers (a deploy, a restart of both) waits up to
``STREAMS_STARTUP_TIMEOUT_MS``, logging one progress line every :data:`PROGRESS_EVERY_S`
seconds, then fails naming ``STREAMS_BOOTSTRAP_SERVERS`` and each address tried. An address
that accepts the TCP connection but does not answer as a Kafka broker (a "black hole"), a
failed TLS handshake or a refused password are not outages: they fail on the first attempt,
within :data:`HANDSHAKE_TIMEOUT_S`, with the reason (see :mod:`.security`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from aiokafka.errors import (
    KafkaConnectionError,
    KafkaTimeoutError,
    NodeNotReadyError,
    RequestTimedOutError,
)

from streams_app.kafka.security import KafkaConnectError, diagnose_connection
from streams_app.settings import Settings, env_name

__all__ = ["HANDSHAKE_TIMEOUT_S", "PROGRESS_EVERY_S", "start_when_broker_answers",
           "wait_for_broker"]

log = logging.getLogger(__name__)

#: How long one server may take to answer the Kafka handshake once TCP-connected.
HANDSHAKE_TIMEOUT_S = 5.0
#: TCP connect timeout of one attempt (a dropped SYN counts as "not up yet").
CONNECT_TIMEOUT_S = 3.0
PROGRESS_EVERY_S = 5.0
RETRY_EVERY_S = 0.5
#: aiokafka's errors of a broker that went away in the middle of a request.
DROPPED: tuple[type[Exception], ...] = (KafkaConnectionError, NodeNotReadyError,
                                        RequestTimedOutError, KafkaTimeoutError)


async def _tcp_reason(server: str) -> str | None:
    """None if ``server`` accepts a TCP connection, else why not."""
    host, _, port = server.rpartition(":")
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(host, int(port)),
                                           CONNECT_TIMEOUT_S)
    except TimeoutError:
        return f"no TCP answer within {CONNECT_TIMEOUT_S:.0f} s"
    except OSError as exc:
        return exc.strerror or str(exc) or type(exc).__name__
    writer.close()
    return None


async def wait_for_broker(settings: Settings, timeout_s: float | None = None) -> None:
    """Return once a bootstrap server answers as Kafka; raise :class:`KafkaConnectError`
    when none listens within ``timeout_s`` (default ``settings.startup_timeout_ms``) or one
    listens but fails the handshake."""
    timeout_s = settings.startup_timeout_ms / 1000.0 if timeout_s is None else timeout_s
    started = time.monotonic()
    next_progress = started + PROGRESS_EVERY_S
    setting = f"{env_name('bootstrap_servers')} (bootstrap_servers)"
    while True:
        reasons = {s: await _tcp_reason(s) for s in settings.bootstrap_list}
        if any(r is None for r in reasons.values()):
            # Something listens: it answers the handshake or the start fails with the reason.
            reason = await diagnose_connection(settings, HANDSHAKE_TIMEOUT_S)
            if reason is None:
                if time.monotonic() - started > RETRY_EVERY_S:
                    log.info("Kafka at %s answers after %.1f s", settings.bootstrap_servers,
                             time.monotonic() - started)
                return
            raise KafkaConnectError(
                f"cannot connect to Kafka at {settings.bootstrap_servers} ({setting}) over "
                f"{settings.security_protocol}: {reason}")
        tried = "; ".join(f"{s}: {r}" for s, r in reasons.items())
        waited = time.monotonic() - started
        if waited >= timeout_s:
            raise KafkaConnectError(
                f"no Kafka broker answered at {settings.bootstrap_servers} ({setting}) within "
                f"{timeout_s:.0f} s ({env_name('startup_timeout_ms')}); tried {tried}; check "
                "that the brokers run and that the addresses are right")
        if time.monotonic() >= next_progress:
            next_progress += PROGRESS_EVERY_S
            log.warning("waiting for Kafka at %s (%s): %s (%.0f s of %.0f s, %s)",
                        settings.bootstrap_servers, setting, tried, waited, timeout_s,
                        env_name("startup_timeout_ms"))
        await asyncio.sleep(min(RETRY_EVERY_S, max(0.0, timeout_s - waited)))


async def start_when_broker_answers(settings: Settings, step: Callable[[], Awaitable[None]],
                                    timeout_s: float | None = None) -> None:
    """Wait for the broker, then run ``step`` (topic creation, start-up checks); when the
    broker drops the connection during ``step`` (it went down, or is still starting), wait
    again and retry it, all within ``timeout_s`` (default ``settings.startup_timeout_ms``).
    A broker that answers but refuses the handshake (bad credentials) fails at once."""
    timeout_s = settings.startup_timeout_ms / 1000.0 if timeout_s is None else timeout_s
    deadline = time.monotonic() + timeout_s
    while True:
        await wait_for_broker(settings, max(0.0, deadline - time.monotonic()))
        try:
            await step()
            return
        except (KafkaConnectError, *DROPPED) as exc:
            if time.monotonic() >= deadline:
                raise KafkaConnectError(
                    f"Kafka at {settings.bootstrap_servers} ({env_name('bootstrap_servers')}) "
                    f"kept dropping the connection during start-up for {timeout_s:.0f} s "
                    f"({env_name('startup_timeout_ms')}): {exc}") from None
            log.warning("Kafka dropped the connection during start-up (%s); waiting for it "
                        "again", exc)
            await asyncio.sleep(RETRY_EVERY_S)
