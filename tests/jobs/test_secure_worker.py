"""The taxi job as a Faust worker on a secured broker: SASL_SSL (SCRAM-SHA-512) with
exactly_once, and mTLS; a wrong password or an untrusted CA fails the start naming the setting,
and the password is in no log line."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

from streams_app.jobs.process import JobProcess
from streams_app.jobs.produce_rides import produce_rides
from streams_app.jobs.rides import read_rides, vendor_count_topics
from streams_app.kafka.admin import describe_topic, ensure_topics
from streams_app.kafka.certs import CertificateAuthority
from streams_app.kafka.reader import group_caught_up, latest_by_key, wait_until
from streams_app.settings import Settings

TRUE_COUNTS = {str(k): n for k, n in Counter(r["VendorID"] for r in read_rides()).items()}
PASSWORD_ENV = "STREAMS_SASL_PASSWORD"


def security_env(settings: Settings) -> dict[str, str]:
    """The STREAMS_* variables of ``settings``' connection (what a deployment would set)."""
    names = ("bootstrap_servers", "security_protocol", "sasl_mechanism", "sasl_username",
             "sasl_password", "ssl_cafile", "ssl_certfile", "ssl_keyfile")
    return {f"STREAMS_{n.upper()}": str(getattr(settings, n)) for n in names
            if getattr(settings, n) is not None}


async def run_taxi_job(settings: Settings, name: str, tmp_path: Path, **env: str) -> None:
    prefix, app_id = f"{name}-", f"{name}-app"
    await ensure_topics(settings.bootstrap_servers, vendor_count_topics(prefix, 2, 1),
                        settings=settings)
    await produce_rides(settings.bootstrap_servers, f"{prefix}rides", settings=settings)
    job = JobProcess("rides-vendor-count", {
        **security_env(settings), "STREAMS_APP_ID": app_id, "STREAMS_TOPIC_PREFIX": prefix,
        "STREAMS_DATA_DIR": str(tmp_path / "data"), "STREAMS_TOPIC_PARTITIONS": "2",
        "STREAMS_COMMIT_INTERVAL_MS": "300", **env},
        log_path=tmp_path / "worker.log", loglevel="info")
    with job:
        async def done() -> bool:
            assert job.running, job.log_tail()
            return await group_caught_up(settings.bootstrap_servers, app_id, f"{prefix}rides",
                                         settings=settings)

        await wait_until(done, 120, "the job to commit the end of its input")
    counts = await latest_by_key(settings.bootstrap_servers, f"{prefix}rides-vendor-count",
                                 settings=settings)
    assert {k.decode(): int(v) for k, v in counts.items()} == TRUE_COUNTS
    # The worker created its internal topics through the secured admin client.
    changelog = await describe_topic(settings.bootstrap_servers,
                                     f"{app_id}-vendor-count-changelog", settings=settings)
    assert changelog.partitions == 2
    assert settings.sasl_password is None or \
        settings.sasl_password not in (tmp_path / "worker.log").read_text()


async def test_taxi_job_over_sasl_ssl_exactly_once(secure_kafka, unique_name, tmp_path):
    settings = secure_kafka.security.sasl_settings(secure_kafka.sasl_ssl_bootstrap_servers)
    await run_taxi_job(settings, unique_name, tmp_path,
                       STREAMS_PROCESSING_GUARANTEE="exactly_once")


async def test_taxi_job_over_mtls(secure_kafka, unique_name, tmp_path):
    settings = secure_kafka.security.mtls_settings(secure_kafka.ssl_bootstrap_servers)
    await run_taxi_job(settings, unique_name, tmp_path)


async def fails_at_start(settings: Settings, tmp_path: Path) -> str:
    """Start the job with ``settings``; it must exit non-zero within 15 s. Its log."""
    job = JobProcess("rides-vendor-count", {
        **security_env(settings), "STREAMS_APP_ID": "never-starts",
        "STREAMS_DATA_DIR": str(tmp_path / "data")},
        log_path=tmp_path / "worker.log", loglevel="debug")
    started = time.monotonic()
    with job:
        async def exited() -> bool:
            return not job.running

        await wait_until(exited, 15, "the worker to fail its start", interval=0.2)
    assert job.proc is not None and job.proc.returncode != 0
    assert time.monotonic() - started < 15
    return (tmp_path / "worker.log").read_text()


async def test_wrong_password_fails_the_start_naming_the_setting(secure_kafka, tmp_path):
    wrong = "not-the-password-" + "x" * 8
    settings = secure_kafka.security.sasl_settings(secure_kafka.sasl_ssl_bootstrap_servers,
                                                   sasl_password=wrong)
    log = await fails_at_start(settings, tmp_path)
    assert PASSWORD_ENV in log, log[-2000:]
    assert wrong not in log


async def test_untrusted_ca_fails_the_start_naming_the_setting(secure_kafka, tmp_path):
    other_ca = CertificateAuthority(tmp_path / "ca", name="some other CA")
    settings = secure_kafka.security.sasl_settings(secure_kafka.sasl_ssl_bootstrap_servers,
                                                   ssl_cafile=other_ca.cert_file)
    log = await fails_at_start(settings, tmp_path)
    assert "STREAMS_SSL_CAFILE" in log, log[-2000:]
    assert settings.sasl_password not in log
