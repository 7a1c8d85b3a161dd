"""Topology diagrams: Mermaid flowcharts and Graphviz dot.

Both show what :class:`~streams_app.dsl.topology.TopologyDescription` prints as text: one
box (subgraph / cluster) per sub-topology holding its processors and stores, topics outside
them, and the repartition topics that link sub-topologies drawn with thick edges. Internal
topic names are shown unprefixed, as in the text format.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from streams_app.dsl.topology import SinkNode, SourceNode, Topology

__all__ = ["FORMATS", "TopologyGraph", "render", "to_dot", "to_mermaid", "topology_graph"]


@dataclass(frozen=True)
class TopologyGraph:
    """The topology flattened to ids and labels, shared by both renderers."""

    clusters: list[tuple[str, str, list[tuple[str, str, str]]]]  # (id, title, [(id, label, kind)])
    topics: list[tuple[str, str, bool]]  # (id, name, is_repartition)
    edges: list[tuple[str, str, str]]  # (from, to, kind: flow | repartition | store)


def topology_graph(topology: Topology) -> TopologyGraph:
    node_ids = {name: f"n{i}" for i, name in enumerate(topology.nodes)}
    topic_ids: dict[str, str] = {}
    store_ids: dict[str, str] = {}

    def topic(name: str) -> str:
        return topic_ids.setdefault(name, f"t{len(topic_ids)}")

    clusters = []
    edges: list[tuple[str, str, str]] = []
    for sub in topology.subtopologies():
        title = f"Sub-topology {sub.id}" + (" (global store)" if sub.is_global else "")
        members: list[tuple[str, str, str]] = []
        for name in sub.nodes:
            node = topology.nodes[name]
            if isinstance(node, SourceNode):
                members.append((node_ids[name], f"Source: {name}", "source"))
                for t in node.topics:
                    kind = "repartition" if t in topology.internal_topics else "flow"
                    edges.append((topic(t), node_ids[name], kind))
            elif isinstance(node, SinkNode):
                members.append((node_ids[name], f"Sink: {name}", "sink"))
                kind = "repartition" if node.topic in topology.internal_topics else "flow"
                edges.append((node_ids[name], topic(node.topic), kind))
            else:
                members.append((node_ids[name], f"Processor: {name}", "processor"))
                for store in node.stores:
                    if store not in store_ids:
                        store_ids[store] = f"s{len(store_ids)}"
                        members.append((store_ids[store], f"Store: {store}", "store"))
                    edges.append((node_ids[name], store_ids[store], "store"))
            edges.extend((node_ids[name], node_ids[c], "flow") for c in node.children)
        clusters.append((f"sub{sub.id}", title, members))
    topics = [(tid, name, name in topology.internal_topics) for name, tid in topic_ids.items()]
    return TopologyGraph(clusters, topics, edges)


# -- Mermaid -------------------------------------------------------------------------------

_MERMAID_SHAPES = {"source": ('["', '"]'), "sink": ('["', '"]'), "processor": ('["', '"]'),
                   "store": ('[("', '")]')}
_MERMAID_EDGES = {"flow": "-->", "repartition": "==>", "store": "-.-"}


def _mermaid_text(text: str) -> str:
    # Inside a quoted label only '"' ends the string; entity codes keep it and line breaks out.
    return (text.replace("#", "#35;").replace('"', "#quot;")
            .replace("\n", " ").replace("\r", " "))


def to_mermaid(topology: Topology) -> str:
    """A Mermaid ``flowchart TD``: a subgraph per sub-topology, topics as stadiums, stores as
    cylinders, repartition edges thick, processor-store links dotted."""
    g = topology_graph(topology)
    lines = ["flowchart TD"]
    for cid, title, members in g.clusters:
        lines.append(f'    subgraph {cid}["{_mermaid_text(title)}"]')
        lines.append("        direction TB")
        for nid, label, kind in members:
            left, right = _MERMAID_SHAPES[kind]
            lines.append(f"        {nid}{left}{_mermaid_text(label)}{right}")
        lines.append("    end")
    for tid, name, repartition in g.topics:
        label = f"{name} (repartition)" if repartition else name
        lines.append(f'    {tid}(["{_mermaid_text(label)}"])')
    lines.extend(f"    {a} {_MERMAID_EDGES[kind]} {b}" for a, b, kind in g.edges)
    classes = {"topic": [t for t, _, rep in g.topics if not rep],
               "repartition": [t for t, _, rep in g.topics if rep],
               "store": [n for _, _, m in g.clusters for n, _, k in m if k == "store"]}
    lines += ["    classDef topic fill:#fff5d6,stroke:#b08800",
              "    classDef repartition fill:#ffe1d6,stroke:#b04000",
              "    classDef store fill:#e1ecff,stroke:#2255aa"]
    lines.extend(f"    class {','.join(ids)} {cls}" for cls, ids in classes.items() if ids)
    return "\n".join(lines) + "\n"


# -- Graphviz dot --------------------------------------------------------------------------

_DOT_SHAPES = {"source": "box", "sink": "box", "processor": "box", "store": "cylinder"}
_DOT_EDGES = {"flow": "", "repartition": " [style=bold, color=\"#b04000\"]",
              "store": " [style=dashed, dir=none]"}


def _dot_text(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def to_dot(topology: Topology) -> str:
    """A Graphviz ``digraph``: a cluster per sub-topology, topics as ellipses, stores as
    cylinders, repartition edges bold, processor-store links dashed."""
    g = topology_graph(topology)
    lines = ["digraph topology {", "    rankdir=TB;",
             '    node [fontname="Helvetica", fontsize=10];']
    for cid, title, members in g.clusters:
        lines.append(f"    subgraph cluster_{cid} {{")
        lines.append(f"        label={_dot_text(title)};")
        for nid, label, kind in members:
            lines.append(f"        {nid} [label={_dot_text(label)}, shape={_DOT_SHAPES[kind]}];")
        lines.append("    }")
    for tid, name, repartition in g.topics:
        label = f"{name}\n(repartition)" if repartition else name
        fill = "#ffe1d6" if repartition else "#fff5d6"
        lines.append(f'    {tid} [label={_dot_text(label)}, shape=ellipse, style=filled, '
                     f'fillcolor="{fill}"];')
    lines.extend(f"    {a} -> {b}{_DOT_EDGES[kind]};" for a, b, kind in g.edges)
    lines.append("}")
    return "\n".join(lines) + "\n"


def _text(topology: Topology) -> str:
    return str(topology.describe())


FORMATS: dict[str, Callable[[Topology], str]] = {
    "text": _text, "mermaid": to_mermaid, "dot": to_dot,
}


def render(topology: Topology, fmt: str = "text") -> str:
    """The topology in ``fmt``: ``text`` (Kafka's TopologyDescription), ``mermaid`` or ``dot``."""
    try:
        return FORMATS[fmt](topology)
    except KeyError:
        raise ValueError(f"unknown format {fmt!r}; one of {', '.join(FORMATS)}") from None
