"""The one place that builds the Faust app from :class:`~streams_app.settings.Settings`."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import faust

from streams_app.kafka.admin import ensure_topics
from streams_app.kafka.ratelimit_log import install_outage_log_filter
from streams_app.kafka.security import KafkaConnectError, faust_credentials
from streams_app.kafka.startup import start_when_broker_answers
from streams_app.kafka.topics import TopicSpec
from streams_app.runtime.shutdown import ShutdownDeadline
from streams_app.settings import Settings

# Rebalance tuning. Measured on the local 4.3 KRaft broker (group.initial.rebalance.delay.ms=0):
# a lone worker with one table had partitions assigned ~1.3-1.5 s after app.start() and was fully
# recovered ~0.1 s later (tests/test_app.py asserts < 5 s). About 1 s of that was a fixed sleep in
# Faust's TableManager.on_start, which StreamsTableManager skips; the group join/sync itself
# takes ~0.1 s.
# - stream_recovery_delay: Faust may sleep this long after each rebalance before recovery;
#   0 in faust-streaming 0.15 already, pinned so a changed default cannot slow readiness.
# - broker_rebalance_timeout: how long the coordinator waits for members to rejoin. Tied to the
#   session timeout so a member that died without leaving (e.g. a killed test worker with the
#   same group) delays the next join by at most one session, not Faust's default 60 s.
# - topic_disable_leader: Faust otherwise creates and subscribes an extra
#   "<id>-__assignor-__leader" topic per app, which we never use.
STREAM_RECOVERY_DELAY_S = 0.0
#: Exit code of a worker that found no broker to talk to (sysexits' EX_UNAVAILABLE).
EXIT_NO_BROKER = 69

log = logging.getLogger(__name__)


class _Boot(faust.App.BootStrategy):
    # Faust's own web server stays off however the worker is started (``faust worker``
    # turns it on by default): the worker's endpoints are streams_app.runtime.web's.
    enable_web = False


class StreamsApp(faust.App):
    """A Faust app that also ensures its declared TopicSpecs before the consumer starts."""

    BootStrategy = _Boot

    def __init__(
        self, *args: Any, settings: Settings, topic_specs: Iterable[TopicSpec] = (), **kw: Any
    ) -> None:
        super().__init__(*args, **kw)
        self.settings = settings
        self.topic_specs: list[TopicSpec] = list(topic_specs)
        # Async checks run at first start, after the topics exist (e.g. co-partitioning).
        self.startup_checks: list[Callable[[], Awaitable[None]]] = []
        # Run first thing at first start, before the broker is contacted (the web server).
        self.first_start_hooks: list[Callable[[], Awaitable[None]]] = []
        self.on_rebalance_complete.connect(self._hold_flow_until_seeked)
        self.shutdown_deadline = ShutdownDeadline(settings.shutdown_timeout_ms,
                                                  settings.processing_guarantee)
        install_outage_log_filter()

    async def on_stop(self) -> None:
        """Faust's stop (the last commit among it), bounded by STREAMS_SHUTDOWN_TIMEOUT_MS in a
        worker process.

        Only a worker (Faust's ``Worker`` runs the app: ``streams-app job``, ``faust worker``)
        exits at the deadline; the process is the job's, and an orchestrator would kill it
        anyway. An app started inside someone else's program (``await app.start()`` in tests,
        the conformance engine, a notebook) is stopped without the deadline: that process is
        not the app's to end, as Kafka Streams' ``close(timeout)`` returns instead of exiting.
        """
        if self.in_worker:
            self.shutdown_deadline.start()
        try:
            await super().on_stop()
        finally:
            self.shutdown_deadline.cancel()  # the rest of the exit does not wait on Kafka

    async def _hold_flow_until_seeked(self, sender: Any, **kwargs: Any) -> None:
        """Keep the fetcher from delivering stream records until recovery has seeked them.

        Works around faust-streaming 0.15.3: after a changelog restore the flow is still on
        when ``Recovery.on_recovery_completed`` resumes the stream partitions and awaits
        ``perform_seek``; it then calls ``flow_control.resume()``, which empties every agent
        queue. Records delivered in that window are dropped without an ack, leaving a gap the
        consumer never commits past (a stall), or skips silently if it is one record long.
        Faust resumes the flow itself once the seek is done.
        """
        self.consumer.stop_flow()

    async def on_first_start(self) -> None:
        """Run the first-start hooks (the worker's web server), wait for the broker and check
        the connection (a bad address, password or CA fails here, naming the setting), create
        (or verify) the declared topics, then do Faust's first-start work."""
        for hook in self.first_start_hooks:
            await hook()
        try:
            # Waits out a broker not up yet, or one that goes down while topics are made.
            await start_when_broker_answers(self.settings, self._prepare_cluster)
        except KafkaConnectError as exc:
            # One line, not Faust's traceback of a crash: nothing is wrong with the worker.
            log.error("%s", exc)
            raise SystemExit(EXIT_NO_BROKER) from None
        await super().on_first_start()

    async def _prepare_cluster(self) -> None:
        """Create (or verify) the declared topics and run the start-up checks."""
        if self.topic_specs:
            await ensure_topics(self.settings.bootstrap_servers, self.topic_specs,
                                settings=self.settings)
        for check in self.startup_checks:
            await check()


#: Largest produce batch per partition: below the broker's default message.max.bytes (1 MiB).
PRODUCER_MAX_BATCH_BYTES = 512 * 1024


def faust_options(settings: Settings) -> dict[str, Any]:
    """The faust.App keyword arguments for ``settings`` (exposed for inspection and tests)."""
    session_s = settings.session_timeout_ms / 1000.0
    options: dict[str, Any] = {}
    credentials = faust_credentials(settings)
    if credentials is not None:  # Faust's clients, and the runtime's producers through them
        options["broker_credentials"] = credentials
    return {
        **options,
        "broker": [f"kafka://{server}" for server in settings.bootstrap_list],
        "store": f"{settings.store}://",  # rocksdb:// uses rocksdict when python-rocksdb is absent
        "datadir": str(settings.data_dir),
        "topic_partitions": settings.topic_partitions,
        "topic_replication_factor": settings.topic_replication_factor,
        "topic_disable_leader": True,
        "consumer_auto_offset_reset": settings.auto_offset_reset,
        "consumer_max_fetch_size": settings.max_partition_fetch_bytes,
        "producer_acks": settings.producer_acks,
        # Output leaves in one batch per partition per produce request (see BulkProducer);
        # Faust's 16 KiB default would cap a request at ~50 records per partition.
        "producer_max_batch_size": PRODUCER_MAX_BATCH_BYTES,
        "processing_guarantee": settings.processing_guarantee,
        "broker_commit_interval": settings.commit_interval_ms / 1000.0,
        "broker_session_timeout": session_s,
        "broker_heartbeat_interval": settings.heartbeat_interval_ms / 1000.0,
        "broker_rebalance_timeout": session_s,
        "stream_recovery_delay": STREAM_RECOVERY_DELAY_S,
        # Faust's table manager sleeps 1 s before the consumer subscribes; ours does not.
        "TableManager": "streams_app.runtime.table_manager:StreamsTableManager",
        "table_standby_replicas": settings.standby_replicas,
        # STREAMS_WEB_* drive streams_app.runtime.web; Faust's web server is never started.
        "web_enabled": False,
        "web_port": settings.web_port,
        # Shared with the other workers in the assignor's client metadata: the address
        # interactive queries forward a key to (streams_app.query.routing).
        "canonical_url": f"http://{settings.advertised_server}",
        # Logging from STREAMS_LOG_LEVEL / STREAMS_LOG_FORMAT (streams_app.logs).
        "Worker": "streams_app.logs:StreamsWorker",
    }


def create_app(
    settings: Settings | None = None,
    *,
    topics: Iterable[TopicSpec] = (),
    **overrides: Any,
) -> StreamsApp:
    """Build the Faust app for ``settings`` (default: ``Settings.from_env()``).

    ``overrides`` are Settings fields (``create_app(app_id="x")``), applied on top of
    ``settings`` and validated. ``topics`` are TopicSpecs created or verified (see
    :func:`streams_app.kafka.admin.ensure_topics`) when the app first starts. Tables get
    compacted changelog topics (Faust's default for changelogs).
    """
    if settings is None:
        settings = Settings.from_env(**overrides)
    elif overrides:
        settings = settings.replace(**overrides)
    return StreamsApp(
        settings.app_id,
        settings=settings,
        topic_specs=topics,
        **faust_options(settings),
    )
