"""Partition planning: how many partitions each internal topic gets and how many tasks each
sub-topology runs, as Kafka Streams decides at its first rebalance (``RepartitionTopics`` and
``CopartitionedTopicsEnforcer``). Pure functions over a :class:`Topology`; the caller supplies
the partition counts of the external source topics.

1. A count set by the user (``Repartitioned(num_partitions=...)``) wins.
2. Otherwise an internal topic gets the maximum partition count of the source topics of the
   sub-topologies that write it, resolved repeatedly so chains of repartitions propagate.
3. Each co-partition group (the sides of a join) must agree: its external topics must have
   equal counts, else :class:`CopartitionError` names them; its internal topics are set to the
   group's count (a user-set count that differs is an error too). Global tables are exempt.
4. A sub-topology runs as many tasks as the maximum count of its source topics.

``default`` is used only where nothing determines a count: an external topic whose count the
caller does not know (e.g. not created yet) and an internal topic no sub-topology with a known
count writes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from streams_app.dsl.topology import SubTopology, Topology, TopologyError
from streams_app.settings import ConfigError

__all__ = [
    "PartitionPlan",
    "CopartitionError",
    "plan_partitions",
    "check_copartitioned",
    "copartition_groups",
]


class CopartitionError(TopologyError, ConfigError):
    """Topics that must be co-partitioned have different partition counts (Kafka Streams'
    ``TopologyException: Topics not co-partitioned``); the message names them and their counts."""


@dataclass(frozen=True)
class PartitionPlan:
    """The planned counts: ``topics`` maps every topic the topology reads (internal ones
    unprefixed) to its partition count, ``tasks`` every non-global sub-topology id to its
    number of tasks."""

    topics: Mapping[str, int]
    tasks: Mapping[int, int]
    internal: frozenset[str]

    def internal_partitions(self) -> dict[str, int]:
        """Internal topic (unprefixed) -> partition count: what the runtime creates."""
        return {t: n for t, n in self.topics.items() if t in self.internal}


def plan_partitions(topology: Topology, source_partitions: Mapping[str, int],
                    default: int) -> PartitionPlan:
    """Plan ``topology``'s partition counts from its external ``source_partitions``
    (topic -> count; a missing topic counts as ``default``); raises CopartitionError."""
    _check_count("default", default)
    for topic, count in source_partitions.items():
        _check_count(f"source topic {topic!r}", count)
    subs = [s for s in topology.subtopologies() if not s.is_global]
    internal = set(topology.internal_topics)
    counts: dict[str, int] = dict(topology.internal_partitions)
    for sub in subs:
        for topic in sub.source_topics:
            if topic not in internal:
                counts[topic] = source_partitions.get(topic, default)
    _resolve_internal(subs, sorted(internal), counts, default)
    regular = {t for sub in subs for t in sub.source_topics}
    for group in copartition_groups(topology.copartition_groups, regular):
        _enforce(group, internal, set(topology.internal_partitions), counts)
    tasks = {sub.id: max(counts[t] for t in sub.source_topics) for sub in subs}
    read = {t: counts[t] for t in sorted(regular | internal)}
    return PartitionPlan(read, tasks, frozenset(internal))


def check_copartitioned(topology: Topology, partitions: Mapping[str, int]) -> None:
    """Raise CopartitionError when a co-partition group's topics (all of them, internal ones
    unprefixed) have different counts in ``partitions`` (e.g. topics found on the cluster);
    topics missing from ``partitions`` are not checked."""
    regular = set(topology.source_topics())
    for group in copartition_groups(topology.copartition_groups, regular):
        known = sorted(t for t in group if t in partitions)
        if len({partitions[t] for t in known}) > 1:
            raise CopartitionError(f"Topics not co-partitioned: [{_listing(known, partitions)}]")


def copartition_groups(groups: Iterable[Iterable[str]], regular: set[str]
                       ) -> list[frozenset[str]]:
    """Groups sharing a topic merged (a topic joined twice ties both joins together), topics
    outside ``regular`` (global tables) dropped, single-topic groups left out."""
    merged: list[set[str]] = []
    for group in groups:
        members = set(group) & regular
        for other in [m for m in merged if m & members]:
            members |= other
            merged.remove(other)
        merged.append(members)
    return [frozenset(m) for m in merged if len(m) > 1]


def _resolve_internal(subs: list[SubTopology], pending: list[str], counts: dict[str, int],
                      default: int) -> None:
    """Kafka's repeated passes: a topic gets the maximum known count of its writers' sources
    (unknown internal ones are skipped, as Kafka does for cycles such as foreign-key joins)."""
    pending = [t for t in pending if t not in counts]
    while pending:
        progress = False
        for topic in list(pending):
            known = [counts[s] for sub in subs if topic in sub.sink_topics
                     for s in sub.source_topics if s in counts]
            if known:
                counts[topic] = max(known)
                pending.remove(topic)
                progress = True
        if not progress:  # no writer reads a topic of known size: nothing decides
            counts[pending.pop(0)] = default


def _enforce(group: frozenset[str], internal: set[str], fixed: set[str],
             counts: dict[str, int]) -> None:
    external = sorted(group - internal)
    members = sorted(group & internal)
    if external:
        sizes = {counts[t] for t in external}
        if len(sizes) > 1:
            raise CopartitionError(
                f"Topics not co-partitioned: [{_listing(external, counts)}]; the sides of a "
                "join must have the same number of partitions")
        want = sizes.pop()
    else:
        pinned = [t for t in members if t in fixed]
        if len({counts[t] for t in pinned}) > 1:
            raise CopartitionError(
                "Repartition topics joined together have different num_partitions: "
                f"[{_listing(pinned, counts)}]")
        want = counts[pinned[0]] if pinned else max(counts[t] for t in members)
    for topic in members:
        if topic not in fixed:
            counts[topic] = want
        elif counts[topic] != want:
            raise CopartitionError(
                f"Number of partitions [{counts[topic]}] of repartition topic [{topic}] "
                f"doesn't match number of partitions [{want}] of the source topics it is "
                f"joined with: [{_listing(external, counts)}]")


def _listing(topics: list[str], counts: Mapping[str, int]) -> str:
    return ", ".join(f"{t}={counts[t]}" for t in topics)


def _check_count(what: str, count: object) -> None:
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise ValueError(f"partition planning: {what} must have an integer count >= 1, "
                         f"got {count!r}")
