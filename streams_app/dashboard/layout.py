"""The topology as the dashboard draws it: ``describe``'s graph with a layered layout.

Layers by longest path from the input topics (so data flows top to bottom), order within a
layer by sub-topology then by the mean position of the nodes above (a barycenter pass, which
removes most crossings of these small graphs), widths from the label lengths. Computed once per
worker: the page only draws rectangles and text at the given coordinates.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from streams_app.dsl.describe import topology_graph
from streams_app.dsl.topology import Topology
from streams_app.state.spec import KEY_VALUE, SESSION, WINDOW

__all__ = ["layout"]

_KINDS = {KEY_VALUE: "key_value", WINDOW: "window", SESSION: "session"}
ROW_H, NODE_H, GAP_X, CHAR_W, MIN_W, MARGIN = 70, 34, 24, 6.6, 90, 20


def _layers(ids: list[str], edges: list[tuple[str, str, str]]) -> dict[str, int]:
    preds: dict[str, list[str]] = defaultdict(list)
    for a, b, _kind in edges:
        preds[b].append(a)
    layer: dict[str, int] = {}

    def depth(node: str, seen: frozenset[str]) -> int:
        if node not in layer:
            # A cycle (not expected in a topology) is cut where it closes.
            above = [depth(p, seen | {node}) for p in preds[node] if p not in seen]
            layer[node] = 1 + max(above, default=-1)
        return layer[node]

    for node in ids:
        depth(node, frozenset())
    return layer


def layout(topology: Topology) -> dict[str, Any]:
    """``{"nodes": [...], "edges": [...], "clusters": [...], "width", "height"}`` with
    pixel coordinates; node kinds: source, processor, sink, store, topic, repartition."""
    g = topology_graph(topology)
    nodes: dict[str, dict[str, Any]] = {}
    for index, (cid, _title, members) in enumerate(g.clusters):
        for nid, label, kind in members:
            name = label.split(": ", 1)[1]
            nodes[nid] = {"id": nid, "label": label, "name": name, "kind": kind,
                          "cluster": cid, "group": index}
    for tid, name, repartition in g.topics:
        nodes[tid] = {"id": tid, "label": name, "name": name,
                      "kind": "repartition" if repartition else "topic", "cluster": None}
    # A topic sits with the first sub-topology it touches (keeps clusters contiguous).
    for a, b, _kind in g.edges:
        for topic, other in ((a, b), (b, a)):
            if nodes[topic]["cluster"] is None and "group" in nodes[other]:
                nodes[topic].setdefault("group", nodes[other]["group"])
    layer = _layers(list(nodes), g.edges)
    rows: dict[int, list[str]] = defaultdict(list)
    for nid in nodes:  # insertion order: describe's order, a stable start
        rows[layer[nid]].append(nid)
    preds: dict[str, list[str]] = defaultdict(list)
    for a, b, _kind in g.edges:
        preds[b].append(a)
    position: dict[str, float] = {}
    for depth in sorted(rows):
        row = rows[depth]
        for i, nid in enumerate(row):
            above = [position[p] for p in preds[nid] if p in position]
            nodes[nid]["_bary"] = sum(above) / len(above) if above else float(i)
        row.sort(key=lambda n: (nodes[n].get("group", 0), nodes[n]["_bary"]))
        for i, nid in enumerate(row):
            position[nid] = float(i)
    widths = {nid: max(MIN_W, int(len(n["label"]) * CHAR_W) + 16) for nid, n in nodes.items()}
    row_w = {d: sum(widths[n] for n in row) + GAP_X * (len(row) - 1) for d, row in rows.items()}
    width = max(row_w.values(), default=0) + 2 * MARGIN
    for depth, row in rows.items():
        x = (width - row_w[depth]) / 2
        for nid in row:
            n = nodes[nid]
            n.pop("_bary", None)
            n.update(x=round(x), y=MARGIN + depth * ROW_H, w=widths[nid], h=NODE_H)
            x += widths[nid] + GAP_X
    clusters = []
    for cid, title, members in g.clusters:
        boxes = [nodes[m[0]] for m in members]
        if not boxes:
            continue
        x0, y0 = min(b["x"] for b in boxes) - 10, min(b["y"] for b in boxes) - 18
        x1 = max(b["x"] + b["w"] for b in boxes) + 10
        y1 = max(b["y"] + b["h"] for b in boxes) + 8
        clusters.append({"id": cid, "title": title, "x": x0, "y": y0, "w": x1 - x0,
                         "h": y1 - y0})
    height = MARGIN * 2 + (max(rows, default=0) + 1) * ROW_H
    edges = [{"from": a, "to": b, "kind": kind} for a, b, kind in g.edges]
    return {"nodes": list(nodes.values()), "edges": edges, "clusters": clusters,
            "width": width, "height": height, "stores": _stores(topology)}


def _stores(topology: Topology) -> list[dict[str, Any]]:
    """The stores by name and kind, as the store query API lists them."""
    return [{"name": spec.name, "kind": _KINDS.get(spec.kind, spec.kind),
             "window_size_ms": spec.window_size}
            for spec in topology.stores.values()]
