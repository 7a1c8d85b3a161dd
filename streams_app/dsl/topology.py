"""The compiled topology: sources, processors, sinks, stores, internal topics.

Built by the DSL (or directly, Kafka's Processor API style) and split into sub-topologies:
groups of nodes connected by edges or shared stores. Each sub-topology reads its own
source topics (user or repartition topics) and can be run on its own by a runtime.
Internal topic names are stored without the ``<application_id>-`` prefix, as Kafka
Streams' ``describe()`` shows them; :meth:`Topology.topic_name` adds it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from streams_app.processors.api import Processor
from streams_app.state.spec import StoreSpec

__all__ = [
    "Topology",
    "SourceNode",
    "ProcessorNode",
    "SinkNode",
    "SubTopology",
    "TopologyError",
    "TimestampExtractor",
]

# extractor(record, partition_time) -> timestamp ms; record has key, value, timestamp, headers
TimestampExtractor = Callable[[Any, int], int]


class TopologyError(ValueError):
    """An invalid topology (unknown parent, duplicate name, missing store...)."""


@dataclass
class SourceNode:
    """Reads ``topics`` and deserializes with the given serdes (``None`` = default)."""

    name: str
    topics: list[str]
    key_serde: Any = None
    value_serde: Any = None
    timestamp_extractor: TimestampExtractor | None = None
    children: list[str] = field(default_factory=list)
    parents: list[str] = field(default_factory=list)


@dataclass
class ProcessorNode:
    """Runs ``factory()`` (a fresh processor per task) with access to ``stores``."""

    name: str
    factory: Callable[[], Processor]
    stores: list[str] = field(default_factory=list)
    parents: list[str] = field(default_factory=list)
    children: list[str] = field(default_factory=list)


@dataclass
class SinkNode:
    """Serializes and writes to ``topic`` (``None`` serdes = default)."""

    name: str
    topic: str
    key_serde: Any = None
    value_serde: Any = None
    parents: list[str] = field(default_factory=list)
    children: list[str] = field(default_factory=list)


Node = SourceNode | ProcessorNode | SinkNode


@dataclass
class SubTopology:
    """One independently runnable part: its nodes, source topics, sink topics, stores."""

    id: int
    nodes: list[str]
    source_topics: dict[str, str]  # topic -> source node name
    sink_topics: list[str]
    stores: list[str]
    is_global: bool = False


class Topology:
    """A graph of processing nodes plus the state stores they use."""

    def __init__(self) -> None:
        self.nodes: dict[str, Node] = {}
        self.stores: dict[str, StoreSpec] = {}
        self.internal_topics: set[str] = set()
        #: internal topic -> partition count set by the user (``Repartitioned.num_partitions``)
        self.internal_partitions: dict[str, int] = {}
        #: topic sets whose partitions must line up (the two sides of a join; Kafka's
        #: ``copartitionSources``), internal topics unprefixed
        self.copartition_groups: list[frozenset[str]] = []
        self._global_nodes: set[str] = set()
        self._topic_sources: dict[str, str] = {}

    # -- construction (Kafka's Topology API) -------------------------------------------

    def _add(self, node: Node, parents: list[str]) -> None:
        if node.name in self.nodes:
            raise TopologyError(f"node name {node.name!r} is already used")
        for parent in parents:
            if parent not in self.nodes:
                raise TopologyError(f"node {node.name!r}: unknown parent {parent!r}")
            if isinstance(self.nodes[parent], SinkNode):
                raise TopologyError(f"node {node.name!r}: a sink ({parent!r}) cannot be a parent")
        node.parents = list(parents)
        self.nodes[node.name] = node
        for parent in parents:
            self.nodes[parent].children.append(node.name)

    def add_source(
        self,
        name: str,
        topics: list[str] | str,
        key_serde: Any = None,
        value_serde: Any = None,
        timestamp_extractor: TimestampExtractor | None = None,
    ) -> Topology:
        """Add a source node reading ``topics``."""
        topic_list = [topics] if isinstance(topics, str) else list(topics)
        if not topic_list:
            raise TopologyError(f"source {name!r}: at least one topic is required")
        for topic in topic_list:
            if topic in self._topic_sources:
                raise TopologyError(
                    f"topic {topic!r} is already read by source {self._topic_sources[topic]!r}"
                )
            self._topic_sources[topic] = name
        self._add(SourceNode(name, topic_list, key_serde, value_serde, timestamp_extractor), [])
        return self

    def add_processor(
        self, name: str, factory: Callable[[], Processor], *parents: str
    ) -> Topology:
        """Add a processor node under ``parents``; ``factory`` makes one per task."""
        if not parents:
            raise TopologyError(f"processor {name!r}: at least one parent is required")
        self._add(ProcessorNode(name, factory), list(parents))
        return self

    def add_sink(
        self, name: str, topic: str, *parents: str, key_serde: Any = None, value_serde: Any = None
    ) -> Topology:
        """Add a sink node writing to ``topic``."""
        if not parents:
            raise TopologyError(f"sink {name!r}: at least one parent is required")
        self._add(SinkNode(name, topic, key_serde, value_serde), list(parents))
        return self

    def add_state_store(self, spec: StoreSpec, *processor_names: str) -> Topology:
        """Declare a store and connect it to processors."""
        if spec.name in self.stores and self.stores[spec.name] is not spec:
            raise TopologyError(f"store {spec.name!r} is already declared")
        self.stores[spec.name] = spec
        self.connect_processor_and_state_stores(*processor_names, stores=[spec.name])
        return self

    def connect_processor_and_state_stores(self, *processor_names: str, stores: list[str]) -> None:
        """Give processors access to existing stores."""
        for pname in processor_names:
            node = self.nodes.get(pname)
            if not isinstance(node, ProcessorNode):
                raise TopologyError(f"store connection: {pname!r} is not a processor")
            for store in stores:
                if store not in self.stores:
                    raise TopologyError(f"processor {pname!r}: unknown store {store!r}")
                if store not in node.stores:
                    node.stores.append(store)

    def add_global_store(
        self,
        spec: StoreSpec,
        source_name: str,
        topic: str,
        processor_name: str,
        factory: Callable[[], Processor],
        key_serde: Any = None,
        value_serde: Any = None,
        timestamp_extractor: TimestampExtractor | None = None,
    ) -> Topology:
        """A fully replicated store fed by ``topic`` through one processor."""
        spec.is_global = True
        spec.source_topic = topic
        spec.logging = False
        spec.caching = False
        self.add_source(source_name, topic, key_serde, value_serde, timestamp_extractor)
        self.add_processor(processor_name, factory, source_name)
        self.add_state_store(spec, processor_name)
        self._global_nodes.update((source_name, processor_name))
        return self

    def add_internal_topic(self, name: str, num_partitions: int | None = None) -> None:
        """Mark ``name`` as internal (prefixed with the application id at run time);
        ``num_partitions`` fixes its partition count (else it is planned, see
        :func:`streams_app.dsl.partitions.plan_partitions`)."""
        if num_partitions is not None:
            if isinstance(num_partitions, bool) or not isinstance(num_partitions, int) \
                    or num_partitions < 1:
                raise TopologyError(f"internal topic {name!r}: num_partitions must be an "
                                    f"integer >= 1, got {num_partitions!r}")
            known = self.internal_partitions.get(name)
            if known is not None and known != num_partitions:
                raise TopologyError(f"internal topic {name!r}: num_partitions {num_partitions} "
                                    f"conflicts with {known} set before")
            self.internal_partitions[name] = num_partitions
        self.internal_topics.add(name)

    def add_copartition_group(self, topics: Iterable[str]) -> None:
        """Require ``topics`` (read by sources of this topology) to have equal partition counts;
        groups sharing a topic merge when planned."""
        group = frozenset(topics)
        unknown = sorted(group - set(self._topic_sources))
        if unknown:
            raise TopologyError(f"co-partition group: no source reads {', '.join(unknown)}")
        if len(group) > 1 and group not in self.copartition_groups:
            self.copartition_groups.append(group)

    # -- queries -------------------------------------------------------------------------

    def topic_name(self, topic: str, application_id: str) -> str:
        """The real topic name: internal topics get the ``<application_id>-`` prefix."""
        return f"{application_id}-{topic}" if topic in self.internal_topics else topic

    def source_topics(self) -> list[str]:
        """Every topic a (non-global) source reads, internal ones unprefixed."""
        return [
            t for t, n in self._topic_sources.items() if n not in self._global_nodes
        ]

    def subtopologies(self) -> list[SubTopology]:
        """Connected components over edges and shared stores, numbered by creation order;
        global-store sub-topologies come last and are flagged ``is_global``."""
        order = {name: i for i, name in enumerate(self.nodes)}
        parent = {name: name for name in self.nodes}

        def find(x: str) -> str:
            while parent[x] != x:
                parent[x] = parent[parent[x]]
                x = parent[x]
            return x

        def union(a: str, b: str) -> None:
            ra, rb = find(a), find(b)
            if ra != rb:
                parent[max(ra, rb, key=order.__getitem__)] = min(ra, rb, key=order.__getitem__)

        store_users: dict[str, str] = {}
        for name, node in self.nodes.items():
            for child in node.children:
                union(name, child)
            if isinstance(node, ProcessorNode):
                for store in node.stores:
                    if store in store_users:
                        union(name, store_users[store])
                    store_users.setdefault(store, name)
        groups: dict[str, list[str]] = {}
        for name in self.nodes:
            groups.setdefault(find(name), []).append(name)
        ordered = sorted(groups.values(), key=lambda g: order[g[0]])
        regular = [g for g in ordered if g[0] not in self._global_nodes]
        global_ = [g for g in ordered if g[0] in self._global_nodes]
        result = []
        for i, group in enumerate(regular + global_):
            sources: dict[str, str] = {}
            sinks: list[str] = []
            stores: list[str] = []
            for name in group:
                node = self.nodes[name]
                if isinstance(node, SourceNode):
                    sources.update({t: name for t in node.topics})
                elif isinstance(node, SinkNode):
                    sinks.append(node.topic)
                else:
                    stores.extend(s for s in node.stores if s not in stores)
            is_global = group[0] in self._global_nodes
            result.append(SubTopology(i, group, sources, sinks, stores, is_global=is_global))
        return result

    def describe(self) -> TopologyDescription:
        """A printable description, like Kafka Streams' ``TopologyDescription``."""
        return TopologyDescription(self)


class TopologyDescription:
    """Sub-topologies with their nodes, then stores and repartition topics."""

    def __init__(self, topology: Topology) -> None:
        self.topology = topology
        self.subtopologies = topology.subtopologies()

    def _subtree_sizes(self) -> dict[str, int]:
        nodes = self.topology.nodes
        sizes: dict[str, int] = {}

        def size(name: str, seen: frozenset[str]) -> int:
            if name in sizes:
                return sizes[name]
            total = 1 + sum(size(c, seen | {name}) for c in nodes[name].children if c not in seen)
            sizes[name] = total
            return total

        for name in nodes:
            size(name, frozenset())
        return sizes

    def __str__(self) -> str:
        topo = self.topology
        sizes = self._subtree_sizes()
        lines = ["Topologies:"]
        for sub in self.subtopologies:
            if sub.is_global:
                lines.append(
                    f"   Sub-topology: {sub.id} for global store (will not generate tasks)"
                )
            else:
                lines.append(f"   Sub-topology: {sub.id}")
            for name in sorted(sub.nodes, key=lambda n: (-sizes[n], n)):
                node = topo.nodes[name]
                children = ", ".join(sorted(node.children)) or "none"
                parents = ", ".join(sorted(node.parents)) or "none"
                if isinstance(node, SourceNode):
                    lines.append(f"    Source: {name} (topics: [{', '.join(node.topics)}])")
                    lines.append(f"      --> {children}")
                elif isinstance(node, SinkNode):
                    lines.append(f"    Sink: {name} (topic: {node.topic})")
                    lines.append(f"      <-- {parents}")
                else:
                    lines.append(f"    Processor: {name} (stores: [{', '.join(node.stores)}])")
                    lines.append(f"      --> {children}")
                    lines.append(f"      <-- {parents}")
            lines.append("")
        if topo.stores:
            lines.append("Stores:")
            for spec in topo.stores.values():
                changelog = (
                    f"source topic: {spec.source_topic}"
                    if spec.is_global
                    else f"changelog: <application_id>-{spec.name}-changelog"
                    if spec.logging
                    else "no changelog"
                )
                lines.append(f"    {spec.name} ({spec.kind}, {changelog})")
            lines.append("")
        if topo.internal_topics:
            lines.append("Repartition topics:")
            lines.extend(f"    {t}" for t in sorted(topo.internal_topics))
            lines.append("")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return str(self)
