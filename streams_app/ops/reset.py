"""``streams-app reset JOB``: what Kafka's ``kafka-streams-application-reset`` does, plus the
local state wipe that Kafka leaves to ``KafkaStreams.cleanUp()``.

1. refuse while the consumer group (the application id) has members: a live worker would
   commit over the reset offsets and keep writing the topics about to be deleted;
2. commit the input topics' offsets for the group: earliest, or the first offset at or after
   a timestamp (the end when there is none), as a standalone commit of a consumer that joins
   no group (aiokafka 0.14 has no AlterConsumerGroupOffsets; the broker only accepts such a
   commit while the group is empty, so a worker starting meanwhile makes it fail, not mix);
3. delete the internal topics (repartition, changelog) and wait until they are gone. Kafka's
   tool deletes every topic named ``<application id>-...-changelog|-repartition``; this one
   knows the topology, so it deletes exactly the job's and only lists the other matches (they
   may belong to an application whose id starts with this one's, ``app`` vs ``app-x``);
4. delete the local state directory (``<STREAMS_DATA_DIR>/v1``: stores and checkpoints).

Dead-letter topics are kept: they record failures, not state.
"""

from __future__ import annotations

import asyncio
import shutil
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TypeVar

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError, for_code

from streams_app.kafka.admin import admin_client
from streams_app.kafka.reader import topic_partitions
from streams_app.kafka.security import client_kwargs, start_client
from streams_app.ops.job import JobInfo

__all__ = ["ResetPlan", "ResetRefused", "apply_reset", "format_plan", "plan_reset"]

_GROUP_ID_NOT_FOUND = 69
# Kafka Streams' internal topic suffixes (StreamsResetter.isInternalTopic).
_INTERNAL_SUFFIXES = ("-changelog", "-repartition", "-subscription-registration-topic",
                      "-subscription-response-topic")
_DELETE_TIMEOUT_S = 30.0
# A young cluster answers COORDINATOR_NOT_AVAILABLE until __consumer_offsets is ready.
_RETRY_TIMEOUT_S = 30.0

T = TypeVar("T")


class ResetRefused(RuntimeError):
    """The reset cannot run now (the group has active members)."""


@dataclass(frozen=True)
class ResetPlan:
    """What a reset changes: ``offsets`` to commit (``committed``: before), topics to delete,
    the state directory to wipe (None: nothing there)."""

    job: JobInfo
    target: str  # "earliest" or the ISO timestamp
    offsets: dict[TopicPartition, int]
    committed: dict[TopicPartition, int]
    delete_topics: list[str]
    state_dir: Path | None
    #: topics named like this application's internal topics but not in its topology: kept
    other_internal: tuple[str, ...] = ()


async def group_members(admin: AIOKafkaAdminClient, group_id: str) -> list[str]:
    """The group's members as ``member_id (client_id@host)``; [] when empty or unknown."""
    members = []
    for response in await admin.describe_consumer_groups([group_id]):
        for group in response.to_object()["groups"]:
            code = group["error_code"]
            if code == _GROUP_ID_NOT_FOUND:
                continue
            if code:
                raise for_code(code)(f"describing consumer group {group_id!r}")
            members += [f"{m['member_id']} ({m['client_id']}@{m['client_host'].lstrip('/')})"
                        for m in group["members"]]
    return members


async def _retrying(call: Callable[[], Awaitable[T]]) -> T:
    """``await call()``, again while it fails with a retriable Kafka error (bounded)."""
    deadline = time.monotonic() + _RETRY_TIMEOUT_S
    while True:
        try:
            return await call()
        except KafkaError as exc:
            if not exc.retriable or time.monotonic() > deadline:
                raise
        await asyncio.sleep(0.5)  # back-off before asking the coordinator again


def _refuse_if_active(group_id: str, members: list[str]) -> None:
    if members:
        raise ResetRefused(
            f"consumer group {group_id!r} has {len(members)} active member(s): "
            f"{', '.join(members)}; stop every worker of the job first")


async def _target_offsets(job: JobInfo, at: datetime | None) -> dict[TopicPartition, int]:
    s = job.settings
    consumer = AIOKafkaConsumer(bootstrap_servers=s.bootstrap_servers, enable_auto_commit=False,
                                **client_kwargs(s))
    await start_client(consumer, s)
    try:
        tps = [tp for topic in job.input_topics() for tp in await topic_partitions(consumer, topic)]
        if at is None:
            return dict(await consumer.beginning_offsets(tps))
        ts = int(at.timestamp() * 1000)
        found = await consumer.offsets_for_times({tp: ts for tp in tps})
        ends = await consumer.end_offsets(tps)
        # No record at or after the time: the end, as Kafka's resetter does.
        return {tp: found[tp].offset if found.get(tp) else ends[tp] for tp in tps}
    finally:
        await consumer.stop()


async def plan_reset(job: JobInfo, at: datetime | None = None) -> ResetPlan:
    """Work out the reset (reads only); raises ResetRefused while the group has members."""
    s, group = job.settings, job.app_id
    async with admin_client(s.bootstrap_servers, settings=s) as admin:
        _refuse_if_active(group, await _retrying(lambda: group_members(admin, group)))
        listed = await _retrying(lambda: admin.list_consumer_group_offsets(group))
        committed = {tp: meta.offset for tp, meta in listed.items() if meta.offset >= 0}
        existing = set(await admin.list_topics())
    internal = [t for t in job.internal_topics() if t in existing]
    others = sorted(t for t in existing if t.startswith(f"{group}-") and t not in internal
                    and t.endswith(_INTERNAL_SUFFIXES))
    offsets = await _target_offsets(job, at)
    state_dir = job.state_dir if job.state_dir is not None and job.state_dir.exists() else None
    return ResetPlan(job, "earliest" if at is None else at.isoformat(), offsets,
                     {tp: o for tp, o in committed.items() if tp in offsets}, internal,
                     state_dir, tuple(others))


async def apply_reset(plan: ResetPlan) -> None:
    """Carry out ``plan``: offsets, then internal topics, then local state."""
    job = plan.job
    s, group = job.settings, job.app_id
    async with admin_client(s.bootstrap_servers, settings=s) as admin:
        _refuse_if_active(group, await _retrying(lambda: group_members(admin, group)))
    if plan.offsets:
        await _retrying(lambda: _commit(job, plan.offsets))
    if plan.delete_topics:
        await _delete_topics(job, plan.delete_topics)
    if plan.state_dir is not None:
        shutil.rmtree(plan.state_dir, ignore_errors=False)


async def _commit(job: JobInfo, offsets: dict[TopicPartition, int]) -> None:
    s = job.settings
    consumer = AIOKafkaConsumer(bootstrap_servers=s.bootstrap_servers, group_id=job.app_id,
                                enable_auto_commit=False, **client_kwargs(s))
    await start_client(consumer, s)
    try:
        consumer.assign(list(offsets))  # assigned, not subscribed: joins no group
        await consumer.commit(offsets)
    finally:
        await consumer.stop()


async def _delete_topics(job: JobInfo, names: list[str]) -> None:
    s = job.settings
    async with admin_client(s.bootstrap_servers, settings=s) as admin:
        response = await admin.delete_topics(names)
        for name, code, *_ in response.topic_error_codes:
            if code and code != 3:  # 3: already gone
                raise for_code(code)(f"deleting topic {name!r}")
        deadline = time.monotonic() + _DELETE_TIMEOUT_S
        while left := set(names) & set(await admin.list_topics()):
            if time.monotonic() > deadline:
                raise TimeoutError(f"topics still listed {_DELETE_TIMEOUT_S:.0f}s after "
                                   f"deletion: {', '.join(sorted(left))}")
            await asyncio.sleep(0.2)  # deletion completes asynchronously on the broker


def format_plan(plan: ResetPlan, dry_run: bool) -> str:
    job = plan.job
    verb = "would" if dry_run else "did"
    lines = [f"reset of job {job.name} (application id / consumer group {job.app_id})"
             + (" -- dry run, nothing changed" if dry_run else "")]
    lines.append(f"input offsets ({verb} commit, to {plan.target}):")
    for tp in sorted(plan.offsets):
        was = plan.committed.get(tp)
        lines.append(f"  {tp.topic}[{tp.partition}] -> {plan.offsets[tp]}"
                     f" (committed: {'none' if was is None else was})")
    if not plan.offsets:
        lines.append("  (no input topic partitions)")
    lines.append(f"internal topics ({verb} delete):")
    lines += [f"  {t}" for t in plan.delete_topics] or ["  (none on the broker)"]
    lines.append(f"local state ({verb} delete):")
    lines.append(f"  {plan.state_dir}" if plan.state_dir else
                 f"  (nothing at {job.state_dir})")
    if plan.other_internal:
        lines.append("kept (named like this application's internal topics, not in its topology):")
        lines += [f"  {t}" for t in plan.other_internal]
    return "\n".join(lines) + "\n"
