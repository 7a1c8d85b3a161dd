"""Apply TopicSpecs to a cluster with aiokafka's admin client, and describe topics."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewPartitions, NewTopic, RecordsToDelete
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import for_code

from streams_app.kafka.security import client_kwargs, start_client
from streams_app.kafka.topics import TopicSpec, normalize_cleanup_policy
from streams_app.settings import Settings

CREATED, UNCHANGED, ALTERED = "created", "unchanged", "altered"
_TOPIC_ALREADY_EXISTS = 36
_UNKNOWN_TOPIC = 3
# How long a freshly created topic may take to show up in metadata (KRaft propagates async).
_VISIBLE_TIMEOUT_S = 15.0


@dataclass(frozen=True)
class Mismatch:
    """One field of a topic that differs from its spec."""

    field: str
    expected: str
    actual: str

    def __str__(self) -> str:
        return f"{self.field}: spec {self.expected}, actual {self.actual}"


class TopicMismatchError(Exception):
    """Existing topics differ from their specs; ``mismatches`` maps topic -> differences."""

    def __init__(self, mismatches: dict[str, list[Mismatch]]) -> None:
        self.mismatches = mismatches
        lines = [
            f"topic {topic!r}: " + "; ".join(str(m) for m in items)
            for topic, items in sorted(mismatches.items())
        ]
        super().__init__("topics differ from their specs: " + " | ".join(lines))


class TopicNotFoundError(LookupError):
    """The topic does not exist on the cluster."""


@dataclass(frozen=True)
class TopicDescription:
    """A topic as the cluster reports it.

    ``in_sync_replicas`` holds the ISR size of each partition, in partition order.
    """

    name: str
    partitions: int
    replication_factor: int
    in_sync_replicas: tuple[int, ...]
    configs: dict[str, str] = field(default_factory=dict)


@asynccontextmanager
async def admin_client(bootstrap_servers: str, *, settings: Settings | None = None
                       ) -> AsyncIterator[AIOKafkaAdminClient]:
    """A started AIOKafkaAdminClient, closed on exit; secured as ``settings`` say (their
    security settings only: ``bootstrap_servers`` is where it connects)."""
    client = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers,
                                 client_id="streams-app-admin", **client_kwargs(settings))
    await start_client(client, settings, bootstrap_servers=bootstrap_servers)
    try:
        yield client
    finally:
        await client.close()


async def describe_topic(bootstrap_servers: str, name: str, *, settings: Settings | None = None
                         ) -> TopicDescription:
    """Describe one topic: partition count, replication factor, ISR sizes and all configs.

    Raises TopicNotFoundError if it does not exist. ``settings``: security, as for every
    function here (see :func:`admin_client`).
    """
    async with admin_client(bootstrap_servers, settings=settings) as client:
        descriptions = await _describe(client, [name])
    if name not in descriptions:
        raise TopicNotFoundError(f"topic {name!r} does not exist")
    return descriptions[name]


async def ensure_topics(
    bootstrap_servers: str, specs: Iterable[TopicSpec], *, alter: bool = False,
    settings: Settings | None = None,
) -> dict[str, str]:
    """Make the cluster's topics match ``specs``; return topic -> "created"/"unchanged"/"altered".

    Missing topics are created with their configs. Existing ones are compared with their spec
    (partitions, replication factor, every config the spec sets); any difference raises
    TopicMismatchError listing all of them, unless ``alter`` is true: then configs are altered
    and partitions increased. Fewer partitions or a different replication factor cannot be
    fixed and still raise. Note that altering uses AlterConfigs, which resets the topic's other
    dynamic configs to broker defaults: the spec is the whole truth about the topic.
    """
    specs = list(specs)
    names = [s.name for s in specs]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError(f"duplicate topic specs: {', '.join(duplicates)}")
    async with admin_client(bootstrap_servers, settings=settings) as client:
        existing = set(await client.list_topics())
        missing = [s for s in specs if s.name not in existing]
        result = {s.name: UNCHANGED for s in specs}
        raced = await _create(client, missing)
        for spec in missing:
            if spec.name not in raced:
                result[spec.name] = CREATED
        to_check = [s for s in specs if result[s.name] == UNCHANGED]
        await _wait_visible(client, [s.name for s in specs])
        actual = await _describe(client, [s.name for s in to_check])
        problems = {s.name: _compare(s, actual[s.name]) for s in to_check}
        problems = {name: items for name, items in problems.items() if items}
        if not problems:
            return result
        if not alter:
            raise TopicMismatchError(problems)
        fixable = {name: items for name, items in problems.items() if _fixable(items)}
        unfixable = {name: items for name, items in problems.items() if name not in fixable}
        if unfixable:
            raise TopicMismatchError(unfixable)
        by_name = {s.name: s for s in specs}
        await _alter(client, [by_name[n] for n in fixable], actual)
        for name in fixable:
            result[name] = ALTERED
        return result


async def delete_records(bootstrap_servers: str, offsets: Mapping[TopicPartition, int], *,
                         settings: Settings | None = None) -> dict[TopicPartition, int]:
    """DeleteRecords: drop every record below ``offsets[tp]`` in each partition (the log start
    offset moves up to it); return each partition's new log start offset. A broker error on any
    partition raises it (other partitions may already be done)."""
    requests: dict[TopicPartition, RecordsToDelete] = {}
    for tp, offset in offsets.items():
        if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
            raise ValueError(f"delete_records: offset of {tp} must be an integer >= 0, "
                             f"got {offset!r}")
        requests[TopicPartition(tp.topic, tp.partition)] = RecordsToDelete(offset)
    if not requests:
        return {}
    async with admin_client(bootstrap_servers, settings=settings) as client:
        return await client.delete_records(requests)


async def log_start_offsets(bootstrap_servers: str, partitions: Iterable[TopicPartition], *,
                            settings: Settings | None = None) -> dict[TopicPartition, int]:
    """ListOffsets (earliest): the first offset still in each partition's log."""
    tps = [TopicPartition(tp.topic, tp.partition) for tp in partitions]
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap_servers, enable_auto_commit=False,
                                **client_kwargs(settings))
    await start_client(consumer, settings, bootstrap_servers=bootstrap_servers)
    try:
        return dict(await consumer.beginning_offsets(tps)) if tps else {}
    finally:
        await consumer.stop()


# -- helpers ------------------------------------------------------------------------------------


async def _create(client: AIOKafkaAdminClient, specs: list[TopicSpec]) -> set[str]:
    """Create topics; return the names someone else created first (TopicAlreadyExists)."""
    if not specs:
        return set()
    new = [
        NewTopic(s.name, s.partitions, s.replication_factor, topic_configs=s.topic_configs())
        for s in specs
    ]
    response = await client.create_topics(new)
    raced: set[str] = set()
    for topic, code, message, *_ in response.topic_errors:
        if code == _TOPIC_ALREADY_EXISTS:
            raced.add(topic)
        elif code:
            raise for_code(code)(f"creating topic {topic!r}: {message}")
    return raced


async def _wait_visible(client: AIOKafkaAdminClient, names: list[str]) -> None:
    """Wait until every topic has leaders for all partitions in metadata (creation is async)."""
    deadline = time.monotonic() + _VISIBLE_TIMEOUT_S
    pending = set(names)
    while pending:
        # list_topics first: a metadata request naming an unknown topic may auto-create it.
        known = pending & set(await client.list_topics())
        for topic in await client.describe_topics(list(known)) if known else []:
            parts = topic["partitions"]
            if not topic["error_code"] and parts and all(p["leader"] >= 0 for p in parts):
                pending.discard(topic["topic"])
        if not pending:
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"topics not visible in metadata: {', '.join(sorted(pending))}")
        await asyncio.sleep(0.05)  # poll interval of the deadline loop above


async def _describe(client: AIOKafkaAdminClient, names: list[str]) -> dict[str, TopicDescription]:
    """Describe the existing topics among ``names`` (absent ones are left out)."""
    present = [n for n in names if n in set(await client.list_topics())]
    if not present:
        return {}
    metadata = {t["topic"]: t for t in await client.describe_topics(present)}
    resources = [ConfigResource(ConfigResourceType.TOPIC, n, None) for n in present]
    configs: dict[str, dict[str, str]] = {}
    for response in await client.describe_configs(resources):
        for code, message, _type, name, entries, *_ in response.resources:
            if code:
                raise for_code(code)(f"describing configs of {name!r}: {message}")
            configs[name] = {e[0]: e[1] for e in entries if e[1] is not None}
    out = {}
    for name in present:
        topic = metadata[name]
        if topic["error_code"] == _UNKNOWN_TOPIC:  # deleted in between
            continue
        if topic["error_code"]:
            raise for_code(topic["error_code"])(f"describing topic {name!r}")
        parts = sorted(topic["partitions"], key=lambda p: p["partition"])
        out[name] = TopicDescription(
            name=name,
            partitions=len(parts),
            replication_factor=len(parts[0]["replicas"]) if parts else 0,
            in_sync_replicas=tuple(len(p["isr"]) for p in parts),
            configs=configs.get(name, {}),
        )
    return out


def _compare(spec: TopicSpec, actual: TopicDescription) -> list[Mismatch]:
    found = []
    if spec.partitions != actual.partitions:
        found.append(Mismatch("partitions", str(spec.partitions), str(actual.partitions)))
    if spec.replication_factor != actual.replication_factor:
        found.append(
            Mismatch(
                "replication_factor", str(spec.replication_factor), str(actual.replication_factor)
            )
        )
    for key, want in spec.topic_configs().items():
        have = actual.configs.get(key)
        if not _same_config(key, want, have):
            found.append(Mismatch(key, want, "<unset>" if have is None else have))
    return found


def _same_config(key: str, want: str, have: str | None) -> bool:
    if have is None:
        return False
    if key == "cleanup.policy":
        try:
            return normalize_cleanup_policy(have) == want
        except ValueError:
            return False
    return want.strip().lower() == have.strip().lower()


def _fixable(items: list[Mismatch]) -> bool:
    for m in items:
        if m.field == "replication_factor":
            return False
        if m.field == "partitions" and int(m.expected) < int(m.actual):
            return False
    return True


async def _alter(
    client: AIOKafkaAdminClient, specs: list[TopicSpec], actual: dict[str, TopicDescription]
) -> None:
    resources = [ConfigResource(ConfigResourceType.TOPIC, s.name, s.topic_configs()) for s in specs]
    for response in await client.alter_configs(resources):
        for code, message, _type, name, *_ in response.resources:
            if code:
                raise for_code(code)(f"altering configs of {name!r}: {message}")
    grow = {
        s.name: NewPartitions(s.partitions)
        for s in specs
        if s.partitions > actual[s.name].partitions
    }
    if grow:
        await client.create_partitions(grow)
