"""The DSL's build-time graph: nodes with processor suppliers, compiled by ``build()``.

Suppliers (:mod:`streams_app.processors.suppliers`, each beside its operator) stay mutable
until ``build()`` because later DSL calls can change earlier nodes, as in Kafka Streams: a
downstream ``group_by`` asks upstream tables to send old values, which materializes an
unmaterialized source table.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from streams_app.dsl.topology import TimestampExtractor, Topology, TopologyError
from streams_app.processors.stream import KStreamFilter
from streams_app.processors.suppliers import FixedSupplier, ProcessorSupplier
from streams_app.state.spec import StoreSpec

__all__ = ["InternalBuilder", "GraphNode", "GlobalStoreNode"]

_GENERATED = re.compile(r"KSTREAM.*-[0-9]{10}")


@dataclass
class GraphNode:
    """One DSL node before compilation."""

    name: str
    kind: str  # "source" | "processor" | "sink"
    parents: list[str] = field(default_factory=list)
    supplier: ProcessorSupplier | None = None
    topics: list[str] = field(default_factory=list)
    key_serde: Any = None
    value_serde: Any = None
    timestamp_extractor: TimestampExtractor | None = None
    #: stores connected by name (``KStream.process(supplier, *store_names)``)
    store_names: list[str] = field(default_factory=list)


@dataclass
class GlobalStoreNode:
    """A global table: its store, source and processor names."""

    spec: StoreSpec
    source_name: str
    processor_name: str
    topic: str
    key_serde: Any
    value_serde: Any
    timestamp_extractor: TimestampExtractor | None


class InternalBuilder:
    """Names nodes like Kafka Streams and compiles the graph into a :class:`Topology`."""

    def __init__(self) -> None:
        self._index = 0
        self.nodes: dict[str, GraphNode] = {}
        self.internal_topics: list[str] = []
        #: internal topic -> the partition count the user asked for (``Repartitioned``)
        self.internal_partitions: dict[str, int] = {}
        #: source topics that must be co-partitioned, one list per join (see ``copartition``)
        self.copartition_groups: list[list[str]] = []
        self.global_stores: list[GlobalStoreNode] = []
        #: stores added with ``StreamsBuilder.add_state_store`` (a StoreBuilder each), by name
        self.state_stores: dict[str, Any] = {}
        self._names: set[str] = set()

    def _next(self) -> int:
        i = self._index
        self._index += 1
        return i

    def new_name(self, prefix: str) -> str:
        """``<prefix><10-digit index>``, e.g. ``KSTREAM-MAP-0000000001``."""
        return f"{prefix}{self._next():010d}"

    def new_store_name(self, prefix: str) -> str:
        """``<prefix>STATE-STORE-<10-digit index>``."""
        return f"{prefix}STATE-STORE-{self._next():010d}"

    def burn_index(self) -> None:
        """Consume an index (Kafka does so for some named nodes; keeps numbering aligned)."""
        self._next()

    def _claim(self, name: str) -> str:
        if name in self._names:
            raise ValueError(f"name {name!r} is already used in this topology")
        self._names.add(name)
        return name

    def add_source(self, name: str, topics: list[str], key_serde: Any, value_serde: Any,
                   extractor: TimestampExtractor | None) -> str:
        """A source node."""
        self.nodes[self._claim(name)] = GraphNode(
            name, "source", [], None, list(topics), key_serde, value_serde, extractor
        )
        return name

    def add_processor(self, name: str, supplier: ProcessorSupplier, *parents: str) -> str:
        """A processor node."""
        self.nodes[self._claim(name)] = GraphNode(name, "processor", list(parents), supplier)
        return name

    def add_sink(self, name: str, topic: str, key_serde: Any, value_serde: Any,
                 parent: str) -> str:
        """A sink node."""
        self.nodes[self._claim(name)] = GraphNode(
            name, "sink", [parent], None, [topic], key_serde, value_serde
        )
        return name

    def add_repartition(self, parent: str, prefix: str, key_serde: Any, value_serde: Any,
                        filter_null_keys: bool = True, num_partitions: int | None = None) -> str:
        """Sink to ``<prefix>-repartition`` and a source reading it back; returns the source.

        Null-keyed records are dropped before the topic (they cannot be partitioned).
        ``num_partitions`` fixes the topic's partition count (else it is planned at start-up).
        """
        topic = prefix if prefix.endswith("-repartition") else f"{prefix}-repartition"
        gen_sink = self.new_name("KSTREAM-SINK-")
        gen_filter = self.new_name("KSTREAM-FILTER-") if filter_null_keys else ""
        gen_source = self.new_name("KSTREAM-SOURCE-")
        if _GENERATED.fullmatch(prefix):
            sink, filt, source = gen_sink, gen_filter, gen_source
        else:
            sink, filt, source = f"{topic}-sink", f"{topic}-filter", f"{topic}-source"
        upstream = parent
        if filter_null_keys:
            upstream = self.add_processor(
                filt, FixedSupplier(lambda: KStreamFilter(lambda k, _v: k is not None)), parent
            )
        self.add_sink(sink, topic, key_serde, value_serde, upstream)
        self.add_source(source, [topic], key_serde, value_serde, None)
        self.internal_topics.append(topic)
        if num_partitions is not None:
            self.internal_partitions[topic] = num_partitions
        return source

    def source_topics_of(self, *nodes: str) -> list[str]:
        """The topics read by the sources upstream of ``nodes`` within their sub-topology
        (Kafka's ``subTopologySourceNodes``): parents never cross a topic."""
        topics: list[str] = []
        seen: set[str] = set()
        todo = list(nodes)
        while todo:
            name = todo.pop()
            if name in seen:
                continue
            seen.add(name)
            node = self.nodes[name]
            if node.kind == "source":
                topics.extend(t for t in node.topics if t not in topics)
            todo.extend(node.parents)
        return topics

    def copartition(self, *nodes: str) -> None:
        """The sources feeding ``nodes`` must be co-partitioned (the sides of a join)."""
        self.copartition_groups.append(self.source_topics_of(*nodes))

    def build(self) -> Topology:
        """Compile into a :class:`Topology` (call once the DSL graph is complete)."""
        topo = Topology()
        for store in self.state_stores.values():
            topo.add_state_store(store.build())
        global_names = {g.source_name for g in self.global_stores} | {
            g.processor_name for g in self.global_stores
        }
        for node in self.nodes.values():
            if node.name in global_names:
                continue
            if node.kind == "source":
                topo.add_source(node.name, node.topics, node.key_serde, node.value_serde,
                                node.timestamp_extractor)
            elif node.kind == "sink":
                topo.add_sink(node.name, node.topics[0], *node.parents,
                              key_serde=node.key_serde, value_serde=node.value_serde)
            else:
                assert node.supplier is not None
                topo.add_processor(node.name, node.supplier.get, *node.parents)
                for spec in node.supplier.store_specs():
                    topo.add_state_store(spec, node.name)
        self._connect_named_stores(topo)
        for g in self.global_stores:
            node = self.nodes[g.processor_name]
            assert node.supplier is not None
            topo.add_global_store(
                g.spec, g.source_name, g.topic, g.processor_name, node.supplier.get,
                g.key_serde, g.value_serde, g.timestamp_extractor,
            )
        for topic in self.internal_topics:
            topo.add_internal_topic(topic, self.internal_partitions.get(topic))
        for group in self.copartition_groups:
            topo.add_copartition_group(group)
        return topo

    def _connect_named_stores(self, topo: Topology) -> None:
        for node in self.nodes.values():
            for store in node.store_names:
                if store not in topo.stores:
                    raise TopologyError(
                        f"processor {node.name!r}: unknown state store {store!r}; add it with "
                        "StreamsBuilder.add_state_store (Stores.key_value_store_builder)")
                topo.connect_processor_and_state_stores(node.name, stores=[store])
