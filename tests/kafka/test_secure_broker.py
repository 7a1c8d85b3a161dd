"""Secured clients on a real broker: SASL_SSL with SCRAM users, mTLS, and failures that name
the setting to fix within 15 s without ever showing the password."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from faust.transport.drivers.aiokafka import credentials_to_aiokafka_auth

from streams_app.jobs.produce_rides import produce_rides
from streams_app.jobs.rides import read_rides
from streams_app.kafka.admin import CREATED, UNCHANGED, describe_topic, ensure_topics
from streams_app.kafka.broker import LocalKafka
from streams_app.kafka.certs import CertificateAuthority
from streams_app.kafka.reader import end_offsets, read_to_end
from streams_app.kafka.security import (
    KafkaConnectError,
    check_connection,
    client_kwargs,
    faust_credentials,
    start_client,
)
from streams_app.kafka.topics import TopicSpec
from streams_app.settings import Settings

WRONG_PASSWORD = "Wr0ng-Pa55-9817"
FAIL_WITHIN_S = 15.0


def _sasl(kafka: LocalKafka, **overrides: object) -> Settings:
    return kafka.security.sasl_settings(kafka.sasl_ssl_bootstrap_servers, **overrides)


def _mtls(kafka: LocalKafka, **overrides: object) -> Settings:
    return kafka.security.mtls_settings(kafka.ssl_bootstrap_servers, **overrides)


async def _round_trip(settings: Settings, topic: str) -> None:
    """Create ``topic`` through the secured admin client, produce and consume over ``settings``."""
    spec = TopicSpec(topic, partitions=2, replication_factor=1)
    bootstrap = settings.bootstrap_servers
    assert await ensure_topics(bootstrap, [spec], settings=settings) == {topic: CREATED}
    assert await ensure_topics(bootstrap, [spec], settings=settings) == {topic: UNCHANGED}
    described = await describe_topic(bootstrap, topic, settings=settings)
    assert (described.partitions, described.replication_factor) == (2, 1)

    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", **client_kwargs(settings))
    await start_client(producer, settings)
    try:
        for i in range(10):
            await producer.send(topic, f"v{i}".encode(), key=f"k{i}".encode())
        await producer.flush()
    finally:
        await producer.stop()

    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False,
                                auto_offset_reset="earliest", **client_kwargs(settings))
    await start_client(consumer, settings)
    try:
        tps = [TopicPartition(topic, p) for p in range(2)]
        consumer.assign(tps)
        ends = await consumer.end_offsets(tps)
        assert sum(ends.values()) == 10
        seen: dict[bytes, bytes] = {}
        deadline = time.monotonic() + 30
        while [tp for tp in tps if await consumer.position(tp) < ends[tp]]:
            assert time.monotonic() < deadline, f"consumed only {len(seen)} of 10"
            for records in (await consumer.getmany(timeout_ms=500)).values():
                seen.update((r.key, r.value) for r in records)
    finally:
        await consumer.stop()
    assert seen == {f"k{i}".encode(): f"v{i}".encode() for i in range(10)}


@pytest.mark.parametrize("mechanism", ["SCRAM-SHA-512", "SCRAM-SHA-256"])
async def test_round_trip_over_sasl_ssl_scram(secure_kafka: LocalKafka, unique_topic: str,
                                              mechanism: str) -> None:
    await _round_trip(_sasl(secure_kafka, sasl_mechanism=mechanism), unique_topic)


async def test_round_trip_over_mtls(secure_kafka: LocalKafka, unique_topic: str) -> None:
    await _round_trip(_mtls(secure_kafka), unique_topic)


async def test_round_trip_with_password_file_and_localhost(
        secure_kafka: LocalKafka, unique_topic: str, tmp_path: Path) -> None:
    # The broker certificate names localhost too, so hostname checking passes by name.
    port = secure_kafka.sasl_ssl_bootstrap_servers.rsplit(":", 1)[1]
    password = tmp_path / "password"
    password.write_text(secure_kafka.security.users["streams"] + "\n")
    settings = _sasl(secure_kafka, bootstrap_servers=f"localhost:{port}",
                     sasl_password=None, sasl_password_file=password)
    await _round_trip(settings, unique_topic)


async def test_check_connection_passes_on_good_settings(secure_kafka: LocalKafka) -> None:
    await check_connection(_sasl(secure_kafka))
    await check_connection(_mtls(secure_kafka))


async def test_produce_rides_and_reader_over_sasl_ssl(secure_kafka: LocalKafka,
                                                      unique_topic: str) -> None:
    settings = _sasl(secure_kafka)
    bootstrap = settings.bootstrap_servers
    sent = await produce_rides(bootstrap, unique_topic, progress=False, settings=settings)
    assert sent == len(list(read_rides())) > 0
    assert sum((await end_offsets(bootstrap, unique_topic, settings=settings)).values()) == sent
    assert len(await read_to_end(bootstrap, unique_topic, settings=settings)) == sent


async def test_faust_credentials_connect(secure_kafka: LocalKafka, unique_topic: str) -> None:
    # What a Faust app gets as broker_credentials reaches the secured listeners as is.
    for settings in (_sasl(secure_kafka), _mtls(secure_kafka)):
        auth = credentials_to_aiokafka_auth(faust_credentials(settings))
        producer = AIOKafkaProducer(bootstrap_servers=settings.bootstrap_servers, **auth)
        await producer.start()
        try:
            await producer.send_and_wait(unique_topic, b"via-faust-credentials")
        finally:
            await producer.stop()


async def _fails(settings: Settings) -> str:
    """Start a producer, a consumer and an admin client over ``settings``, and run the
    pre-flight check: each must fail in time with the same diagnosis; return it."""
    messages = []
    for make in (
        lambda: AIOKafkaProducer(bootstrap_servers=settings.bootstrap_servers,
                                 **client_kwargs(settings)),
        lambda: AIOKafkaConsumer(bootstrap_servers=settings.bootstrap_servers,
                                 **client_kwargs(settings)),
    ):
        started = time.monotonic()
        with pytest.raises(KafkaConnectError) as info:
            await start_client(make(), settings)
        assert time.monotonic() - started < FAIL_WITHIN_S
        messages.append(str(info.value))
    started = time.monotonic()
    with pytest.raises(KafkaConnectError) as info:
        await describe_topic(settings.bootstrap_servers, "any", settings=settings)
    assert time.monotonic() - started < FAIL_WITHIN_S
    messages.append(str(info.value))
    started = time.monotonic()
    with pytest.raises(KafkaConnectError) as info:
        await check_connection(settings)
    assert time.monotonic() - started < FAIL_WITHIN_S
    messages.append(str(info.value))
    assert len(set(messages)) == 1, messages
    return messages[0]


def _assert_secret_nowhere(secret: str, text: str, caplog: pytest.LogCaptureFixture) -> None:
    assert secret not in text
    assert caplog.records, "the failed attempts should have logged something"
    for record in caplog.records:
        assert secret not in record.getMessage(), record.getMessage()
        assert secret not in repr(record.args)
        assert secret not in (record.exc_text or "")


async def test_wrong_password_names_the_setting(secure_kafka: LocalKafka,
                                                caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    message = await _fails(_sasl(secure_kafka, sasl_password=WRONG_PASSWORD))
    assert "STREAMS_SASL_PASSWORD (sasl_password)" in message
    assert "authentication as 'streams' with SCRAM-SHA-512 failed" in message
    _assert_secret_nowhere(WRONG_PASSWORD, message, caplog)
    _assert_secret_nowhere(secure_kafka.security.users["streams"], message, caplog)


async def test_unknown_user_names_the_setting(secure_kafka: LocalKafka) -> None:
    message = await _fails(_sasl(secure_kafka, sasl_username="mallory"))
    assert "STREAMS_SASL_USERNAME (sasl_username)" in message


@pytest.mark.parametrize("listener", ["sasl_ssl", "mtls"])
async def test_untrusted_ca_names_the_setting(secure_kafka: LocalKafka, tmp_path: Path,
                                              caplog: pytest.LogCaptureFixture,
                                              listener: str) -> None:
    caplog.set_level(logging.DEBUG)
    other_ca = CertificateAuthority(tmp_path, name="some other CA")
    make = _sasl if listener == "sasl_ssl" else _mtls
    message = await _fails(make(secure_kafka, ssl_cafile=other_ca.cert_file))
    assert "STREAMS_SSL_CAFILE (ssl_cafile)" in message
    assert "certificate is not trusted" in message
    _assert_secret_nowhere(secure_kafka.security.users["streams"], message, caplog)


async def test_mtls_without_client_certificate_names_the_setting(
        secure_kafka: LocalKafka) -> None:
    message = await _fails(_mtls(secure_kafka, ssl_certfile=None, ssl_keyfile=None))
    assert "STREAMS_SSL_CERTFILE (ssl_certfile)" in message


async def test_client_certificate_of_another_ca_is_refused(
        secure_kafka: LocalKafka, tmp_path: Path) -> None:
    stranger = CertificateAuthority(tmp_path, name="stranger CA").issue("stranger", client=True)
    message = await _fails(
        _mtls(secure_kafka, ssl_certfile=stranger.cert, ssl_keyfile=stranger.key))
    assert "STREAMS_SSL_CERTFILE (ssl_certfile)" in message


@pytest.mark.parametrize("protocol", ["PLAINTEXT", "SSL"])
async def test_protocol_not_matching_the_sasl_listener_names_the_setting(
        secure_kafka: LocalKafka, protocol: str) -> None:
    extra = {"ssl_cafile": secure_kafka.security.ca_file} if protocol == "SSL" else {}
    settings = Settings(bootstrap_servers=secure_kafka.sasl_ssl_bootstrap_servers,
                        security_protocol=protocol, **extra)
    message = await _fails(settings)
    assert "STREAMS_SECURITY_PROTOCOL (security_protocol)" in message
