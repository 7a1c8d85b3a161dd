// The dashboard page: plain DOM and SVG. Store contents are shown with textContent only:
// keys and values are data, never markup.
"use strict";

const SVG = "http://www.w3.org/2000/svg";
const HISTORY = 120; // points per chart line (~2 minutes at one snapshot a second)
const COLORS = ["#2255aa", "#b04000", "#2a8a3e", "#8a2a8a", "#b08800", "#0a7f8a", "#aa2255",
  "#555555"];
const $ = (id) => document.getElementById(id);
const history = {}; // task id -> [{lag, rate}]
const state = { stores: {}, after: null };

function el(tag, attrs = {}, text = null, ns = null) {
  const node = ns ? document.createElementNS(ns, tag) : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== null) node.textContent = text;
  return node;
}
const svg = (tag, attrs, text = null) => el(tag, attrs, text, SVG);
const show = (v) => (typeof v === "string" ? v : JSON.stringify(v));
const fmt = (n) => (n === null || n === undefined ? "–" : Number(n).toLocaleString("en"));

function row(tbody, cells) {
  const tr = el("tr");
  for (const c of cells) tr.appendChild(el("td", {}, show(c)));
  tbody.appendChild(tr);
}

// -- topology ----------------------------------------------------------------------------

function drawTopology(g) {
  const root = $("topology");
  root.replaceChildren();
  root.setAttribute("viewBox", `0 0 ${g.width} ${g.height}`);
  root.setAttribute("width", g.width);
  root.setAttribute("height", g.height);
  const defs = svg("defs");
  const marker = svg("marker", { id: "arrow", viewBox: "0 0 10 10", refX: "10", refY: "5",
    markerWidth: "8", markerHeight: "8", markerUnits: "userSpaceOnUse",
    orient: "auto-start-reverse" });
  marker.appendChild(svg("path", { d: "M 0 0 L 10 5 L 0 10 z", fill: "#7b8794" }));
  defs.appendChild(marker);
  root.appendChild(defs);
  for (const c of g.clusters) {
    const grp = svg("g", { class: "cluster" });
    grp.appendChild(svg("rect", { x: c.x, y: c.y, width: c.w, height: c.h, rx: 6 }));
    grp.appendChild(svg("text", { x: c.x + 6, y: c.y + 12, class: "cluster-title" }, c.title));
    root.appendChild(grp);
  }
  const byId = Object.fromEntries(g.nodes.map((n) => [n.id, n]));
  for (const e of g.edges) {
    const a = byId[e.from], b = byId[e.to];
    if (!a || !b) continue;
    const x1 = a.x + a.w / 2, x2 = b.x + b.w / 2;
    const down = b.y > a.y;
    const y1 = down ? a.y + a.h : a.y + a.h / 2, y2 = down ? b.y : b.y + b.h / 2;
    const mid = (y1 + y2) / 2;
    const attrs = { d: `M ${x1} ${y1} C ${x1} ${mid}, ${x2} ${mid}, ${x2} ${y2}`,
      class: `edge ${e.kind}` };
    if (e.kind !== "store") attrs["marker-end"] = "url(#arrow)";
    root.appendChild(svg("path", attrs));
  }
  for (const n of g.nodes) {
    const grp = svg("g", { class: `node ${n.kind}`, "data-name": n.name });
    grp.appendChild(svg("title", {}, `${n.kind}: ${n.name}`));
    grp.appendChild(svg("rect", { x: n.x, y: n.y, width: n.w, height: n.h }));
    grp.appendChild(svg("text", { x: n.x + n.w / 2, y: n.y + n.h / 2 + 4,
      "text-anchor": "middle" }, n.label));
    root.appendChild(grp);
  }
}

// -- live status -------------------------------------------------------------------------

function chart(root, series, key) {
  root.replaceChildren();
  const W = 480, H = 160, L = 44, B = 16;
  let max = 1;
  for (const points of Object.values(series))
    for (const p of points) if (p[key] !== null && p[key] > max) max = p[key];
  root.appendChild(svg("line", { x1: L, y1: H - B, x2: W, y2: H - B, stroke: "#c5cfdb" }));
  root.appendChild(svg("text", { x: 2, y: 12 }, fmt(Math.ceil(max))));
  root.appendChild(svg("text", { x: 2, y: H - B }, "0"));
  Object.keys(series).sort().forEach((task, i) => {
    const points = series[task];
    const color = COLORS[i % COLORS.length];
    const xy = points.map((p, j) => {
      const x = L + ((W - L) * (HISTORY - points.length + j)) / (HISTORY - 1);
      const y = H - B - ((H - B - 6) * (p[key] || 0)) / max;
      return `${x.toFixed(1)},${y.toFixed(1)}`;
    });
    root.appendChild(svg("polyline", { points: xy.join(" "), fill: "none", stroke: color,
      "stroke-width": 1.6, "data-task": task }));
    root.appendChild(svg("text", { x: W - 4, y: 12 + i * 13, fill: color,
      "text-anchor": "end" }, `task ${task}`));
  });
}

function update(s) {
  $("app-id").textContent = s.app_id;
  $("ready").textContent = s.ready ? "ready" : "not ready";
  $("lag-total").textContent = fmt(s.lag);
  $("rate-total").textContent = fmt(s.process_rate);
  $("processed-total").textContent = fmt(s.processed);
  const tbody = $("tasks").tBodies[0];
  tbody.replaceChildren();
  for (const t of s.tasks) {
    row(tbody, [t.id, fmt(t.lag), fmt(t.rate), fmt(t.processed)]);
    const h = (history[t.id] = history[t.id] || []);
    h.push({ lag: t.lag, rate: t.rate });
    if (h.length > HISTORY) h.shift();
  }
  chart($("lag-chart"), history, "lag");
  chart($("rate-chart"), history, "rate");
  const restore = $("restore");
  restore.replaceChildren();
  for (const r of s.restore) {
    const line = el("div", { class: "restore", "data-store": r.store });
    const pct = Math.round(r.ratio * 100);
    line.appendChild(el("div", {}, `${r.store}: ${pct}% (${fmt(r.restored)} restored, ` +
      `${fmt(r.remaining)} left${r.done ? ", done" : ""})`));
    const bar = el("div", { class: "bar" });
    bar.appendChild(el("div", { style: `width:${pct}%` }));
    line.appendChild(bar);
    restore.appendChild(line);
  }
  if (!s.restore.length) restore.appendChild(el("p", { class: "muted" }, "no restore yet"));
  const dead = s.dropped.dead_letter || {};
  const total = Object.values(dead).reduce((a, b) => a + b, 0);
  const skipped = Object.values(s.dropped.skipped || {}).reduce((a, b) => a + b, 0);
  $("dead-count").textContent = `${total} to ${s.dead_letter_topic}, ${skipped} skipped`;
  const dl = $("dead-letters").tBodies[0];
  dl.replaceChildren();
  for (const d of s.dead_letters)
    row(dl, [new Date(d.at * 1000).toISOString().slice(11, 19), d.kind, d.where,
      `${d.error}: ${d.message}`]);
}

function listen() {
  const source = new EventSource("/api/events");
  source.onopen = () => { $("conn").textContent = "live"; };
  source.onmessage = (event) => update(JSON.parse(event.data));
  source.onerror = () => { $("conn").textContent = "reconnecting"; };
}

// -- tables ------------------------------------------------------------------------------

async function getJSON(url) {
  const response = await fetch(url);
  let body = {};
  try { body = await response.json(); } catch (_) { /* not JSON */ }
  return { status: response.status, body };
}
const storeUrl = (store) => `/stores/${encodeURIComponent(store)}`;

function selectStore() {
  const store = state.stores[$("store").value] || {};
  const parts = [store.kind || ""];
  if (store.window_size_ms) parts.push(`windows of ${store.window_size_ms / 1000} s`);
  if (store.partitions) parts.push(`partitions here: ${store.partitions.join(", ") || "none"}`);
  $("store-info").textContent = parts.filter(Boolean).join(" · ");
  $("windows-panel").hidden = store.kind !== "window";
}

async function loadStores(fromTopology) {
  for (const s of fromTopology) state.stores[s.name] = s;
  try {
    const { status, body } = await getJSON("/stores");
    if (status === 200) for (const s of body.stores) state.stores[s.name] = s;
  } catch (_) { /* the query API is not served: the topology's list stays */ }
  const select = $("store");
  select.replaceChildren();
  for (const name of Object.keys(state.stores).sort())
    select.appendChild(el("option", { value: name }, name));
  selectStore();
}

async function findKey(event) {
  event.preventDefault();
  const out = $("key-result");
  const { status, body } = await getJSON(
    `${storeUrl($("store").value)}/keys/${encodeURIComponent($("key").value)}`);
  out.className = "result" + (status === 200 ? "" : " error");
  if (status === 200) {
    const via = body.forwarded ? `, forwarded to ${body.served_by}` : "";
    out.textContent = `${show(body.value)}  (partition ${body.partition}, worker ` +
      `${body.worker}${via})`;
    out.dataset.value = show(body.value);
  } else {
    out.textContent = status === 404 ? "not found" : status === 503 ? "store restoring, retry"
      : `error ${status}: ${body.error || ""}`;
    delete out.dataset.value;
  }
}

async function listRange(after) {
  const q = new URLSearchParams();
  if ($("range-from").value) q.set("from", $("range-from").value);
  if ($("range-to").value) q.set("to", $("range-to").value);
  q.set("limit", $("range-limit").value || "20");
  if (after !== null) q.set("after", after);
  const { status, body } = await getJSON(`${storeUrl($("store").value)}?${q}`);
  const tbody = $("range").tBodies[0];
  tbody.replaceChildren();
  if (status !== 200) {
    row(tbody, [`error ${status}: ${body.error || ""}`, "", "", ""]);
    state.after = null;
  } else {
    for (const item of body.items) row(tbody, [item.key, item.value, item.partition, item.worker]);
    state.after = body.next ?? null;
  }
  $("range-next").disabled = state.after === null;
}

function drawTimeline(windows) {
  const root = $("timeline");
  root.replaceChildren();
  const W = 960, H = 170, L = 40, B = 30;
  if (!windows.length) {
    root.appendChild(svg("text", { x: L, y: H / 2 }, "no windows for this key"));
    return;
  }
  const t0 = Math.min(...windows.map((w) => w.start));
  const t1 = Math.max(...windows.map((w) => w.end));
  const max = Math.max(1, ...windows.map((w) => Number(w.value) || 0));
  const x = (t) => L + ((W - L - 10) * (t - t0)) / Math.max(1, t1 - t0);
  root.appendChild(svg("line", { x1: L, y1: H - B, x2: W - 10, y2: H - B, stroke: "#7b8794" }));
  for (const w of windows) {
    const h = ((H - B - 24) * (Number(w.value) || 0)) / max;
    const g = svg("g", { class: "window", "data-start": w.start, "data-value": show(w.value) });
    g.appendChild(svg("title", {}, `${new Date(w.start).toISOString()} – ` +
      `${new Date(w.end).toISOString()}: ${show(w.value)}`));
    g.appendChild(svg("rect", { x: x(w.start) + 1, y: H - B - h,
      width: Math.max(2, x(w.end) - x(w.start) - 2), height: h, fill: "#2255aa" }));
    g.appendChild(svg("text", { x: (x(w.start) + x(w.end)) / 2, y: H - B - h - 4,
      "text-anchor": "middle" }, show(w.value)));
    root.appendChild(g);
  }
  const iso = (t) => new Date(t).toISOString().replace("T", " ").slice(0, 16);
  root.appendChild(svg("text", { x: L, y: H - 10 }, iso(t0)));
  root.appendChild(svg("text", { x: W - 10, y: H - 10, "text-anchor": "end" }, iso(t1)));
}

async function showWindows(event) {
  event.preventDefault();
  const q = new URLSearchParams();
  if ($("window-from").value) q.set("from", $("window-from").value);
  if ($("window-to").value) q.set("to", $("window-to").value);
  const url = `${storeUrl($("store").value)}/keys/${encodeURIComponent($("window-key").value)}` +
    `/windows?${q}`;
  const { status, body } = await getJSON(url);
  const info = $("windows-info");
  if (status !== 200) {
    info.textContent = `error ${status}: ${body.error || ""}`;
    drawTimeline([]);
    return;
  }
  info.textContent = `${body.windows.length} windows, served by ${body.served_by}`;
  drawTimeline(body.windows);
}

async function main() {
  const { body } = await getJSON("/api/topology");
  drawTopology(body);
  listen();
  $("store").addEventListener("change", selectStore);
  $("key-form").addEventListener("submit", findKey);
  $("range-form").addEventListener("submit", (e) => { e.preventDefault(); listRange(null); });
  $("range-next").addEventListener("click", () => listRange(state.after));
  $("windows-form").addEventListener("submit", showWindows);
  await loadStores(body.stores || []);
}

main();
