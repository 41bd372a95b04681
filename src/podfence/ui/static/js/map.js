// Map: namespaces as groups, workloads as nodes, allowed connections as edges.
import { h, replace, link, go } from "./dom.js";
import { once, get } from "./api.js";
import { explanation } from "./explanation.js";
import { drawDenials } from "./denials.js";
import { namespaceElements, namespaceNote, showNamespace } from "./nsmap.js";

let cy = null;

function podMatches(pod, q) {
  if (!q) return true;
  const needle = q.toLowerCase();
  if (pod.key.toLowerCase().includes(needle)) return true;
  return Object.entries(pod.labels).some(([k, v]) => `${k}=${v}`.toLowerCase().includes(needle));
}

async function allowedPairs(params) {
  const port = params.get("port");
  if (!port) return null;
  const m = await once("/api/matrix", { port, protocol: params.get("protocol") });
  const pairs = new Set();
  for (const [src, dsts] of Object.entries(m.allowed || {})) for (const d of dsts) pairs.add(`${src}\u0000${d}`);
  return pairs;
}

function elements(view, params, pairs) {
  const ns = params.get("ns"), q = params.get("q");
  const policy = params.get("policy");
  const selected = new Set(policy ? (view.policies.find((p) => p.key === policy) || { selects: [] }).selects : []);
  const shownPods = new Set(view.pods.filter((p) => podMatches(p, q)).map((p) => p.key));
  let edges = view.edges.filter((e) => {
    const pp = pairs ? (e.src.startsWith("out:") || e.dst.startsWith("out:") ? false
      : pairs.has(`${e.src}\u0000${e.dst}`)) : true;
    return pp && (shownPods.has(e.src) || shownPods.has(e.dst) || !q);
  });
  if (ns) edges = edges.filter((e) => e.src.startsWith(ns + "/") || e.dst.startsWith(ns + "/"));
  if (view.peers) edges = foldPeers(edges, "ns:" + ns, params.get("node"));
  const keep = new Set();
  for (const p of view.pods) if ((!ns || p.namespace === ns) && shownPods.has(p.key)) keep.add(p.key);
  for (const e of edges) { keep.add(e.src); keep.add(e.dst); }
  const out = [];
  const namespaces = new Set();
  for (const p of view.pods) {
    if (!keep.has(p.key)) continue;
    namespaces.add(p.namespace);
    const classes = ["pod"];
    if (!p.isolated.ingress) classes.push("open-in");
    if (!p.isolated.egress) classes.push("open-out");
    if (p.internet) classes.push("internet");
    if (selected.has(p.key)) classes.push("selected");
    const marks = (!p.isolated.ingress ? " ⇤" : "") + (!p.isolated.egress ? " ⇥" : "") + (p.internet ? " (internet)" : "");
    out.push({ group: "nodes", data: { id: p.key, parent: "ns:" + p.namespace, label: p.name + marks },
      classes: classes.join(" ") });
  }
  for (const n of [...namespaces].sort()) out.push({ group: "nodes", data: { id: "ns:" + n, label: n }, classes: "ns" });
  for (const o of view.outside) {
    if (keep.has(o.id)) out.push({ group: "nodes", data: { id: o.id, label: o.internet ? `internet: ${o.name}` : o.name },
      classes: o.internet ? "outside internet-node" : "outside" });
  }
  // one namespace of a large cluster (GET /api/namespace-view): the other namespaces as single nodes
  for (const o of view.peers || []) {
    if (keep.has(o.id)) out.push({ group: "nodes", data: { id: o.id, label: o.name }, classes: "ns-node peer" });
  }
  for (const e of edges) {
    out.push({ group: "edges", data: { id: `${e.src}\u0000${e.dst}`, source: e.src, target: e.dst, label: e.label,
      count: e.count }, classes: e.count ? "folded" : "" });
  }
  out.sort((a, b) => (a.group === b.group ? 0 : a.group === "nodes" ? -1 : 1)
    || (a.data.id < b.data.id ? -1 : a.data.id > b.data.id ? 1 : 0));
  return out;
}

// Edges between one workload and another namespace drawn one by one up to this many; above, they are drawn
// per namespace pair (the opened namespace's box to the other namespace), but the chosen workload's.
const PEER_EDGES_UP_TO = 400;

function foldPeers(edges, box, chosen) {
  if (edges.filter((e) => e.count).length <= PEER_EDGES_UP_TO) return edges;
  const sums = new Map();
  const kept = edges.filter((e) => {
    if (!e.count || e.src === chosen || e.dst === chosen) return true;
    const key = e.src.startsWith("ns:") ? `${e.src}\u0000${box}` : `${box}\u0000${e.dst}`;
    sums.set(key, (sums.get(key) || 0) + e.count);
    return false;
  });
  for (const [key, count] of [...sums].sort()) {
    const [src, dst] = key.split("\u0000");
    kept.push({ src, dst, count, label: `${count} workload pair${count === 1 ? "" : "s"}` });
  }
  return kept;
}

// From this many workloads the map starts at namespace level; a namespace opens its workloads.
const NAMESPACE_LEVEL_FROM = 600;

const STYLE = [
  { selector: "node.ns-node", style: { label: "data(label)", shape: "round-rectangle", width: 60, height: 30,
    "background-color": "#c9d3e6", "text-valign": "center", "font-size": 11 } },
  { selector: "node.pod", style: { label: "data(label)", "font-size": 10, "background-color": "#3c6fd8",
    "text-valign": "bottom", "text-margin-y": 3, width: 18, height: 18 } },
  { selector: "node.open-in", style: { "border-width": 3, "border-color": "#e09b00" } },
  { selector: "node.internet", style: { "background-color": "#c0392b" } },
  { selector: "node.selected", style: { "background-color": "#f1c40f", "border-width": 3, "border-color": "#7a5c00" } },
  { selector: "node.ns", style: { label: "data(label)", "text-valign": "top", "font-size": 12, "font-weight": "bold",
    "background-color": "#eef1f6", "border-color": "#aab3c5", "border-width": 1, shape: "round-rectangle" } },
  { selector: "node.outside", style: { label: "data(label)", shape: "round-rectangle", "font-size": 10,
    "background-color": "#7f8c8d", width: 22, height: 16, "text-valign": "bottom" } },
  { selector: "node.internet-node", style: { "background-color": "#c0392b" } },
  { selector: "edge", style: { label: "data(label)", "font-size": 8, "curve-style": "bezier", width: 1.5,
    "line-color": "#8895ad", "target-arrow-color": "#8895ad", "target-arrow-shape": "triangle",
    "text-background-color": "#fff", "text-background-opacity": 0.8, "text-rotation": "autorotate" } },
  // hundreds of folded edges: their counts show on hover and selection, not as hundreds of drawn labels
  // haystack edges are straight and drawn without per-edge geometry: tens of thousands stay quick
  { selector: "edge.folded", style: { label: "", width: 1, "curve-style": "haystack", "haystack-radius": 0,
    opacity: 0.5 } },
  { selector: "edge.folded:selected, edge.folded.hover", style: { label: "data(label)" } },
  { selector: "edge.dense", style: { label: "", width: 1, "curve-style": "haystack", "haystack-radius": 0,
    opacity: 0.5 } },
  { selector: "edge.dense:selected, edge.dense.hover", style: { label: "data(label)" } },
  { selector: "edge.folded.mine", style: { opacity: 0.9, "line-color": "#d35400", "target-arrow-color": "#d35400" } },
  { selector: "node.every-node", style: { label: "data(label)", shape: "star", width: 34, height: 34,
    "background-color": "#e09b00", "font-size": 11, "text-valign": "bottom" } },
  { selector: "node.open-to-all", style: { "border-width": 3, "border-color": "#e09b00" } },
  { selector: "node.peer", style: { "background-color": "#dfe4ee" } },
  { selector: "edge:selected, edge.chosen", style: { "line-color": "#d35400", "target-arrow-color": "#d35400", width: 3 } },
  { selector: "edge.denied", style: { "line-color": "#c0392b", "target-arrow-color": "#c0392b", width: 2.5,
    "line-style": "dashed", "curve-style": "bezier", color: "#c0392b" } },
  { selector: "edge.denied.audit", style: { "line-color": "#e67e22", "target-arrow-color": "#e67e22" } },
  { selector: "node:selected, node.chosen", style: { "border-width": 3, "border-color": "#d35400" } },
];

// Above this many edges a workload map is drawn as rings (its workloads inside, other namespaces and
// address ranges around them) with straight edges: dagre takes seconds on thousands of edges.
const DENSE_FROM = 300;

function layout(level, dense) {
  // dagre's ranking costs seconds on hundreds of namespace edges; a circle is instant and reads as well
  if (level === "namespace") return { name: "circle", animate: false, fit: true };
  if (dense) {
    return { name: "concentric", animate: false, fit: true, minNodeSpacing: 4, levelWidth: () => 1,
      concentric: (n) => (n.hasClass("pod") ? 2 : 1) };
  }
  return window.cytoscape && window.cytoscape.prototype && typeof window.dagre !== "undefined"
    ? { name: "dagre", rankDir: "LR", nodeSep: 18, rankSep: 70, animate: false, fit: true }
    : { name: "grid", animate: false, fit: true };
}

export async function mapView(main, params) {
  const folded = await once("/api/namespace-map");
  const large = folded.workloads >= NAMESPACE_LEVEL_FROM;
  const level = params.get("level") || (large && !params.get("ns") ? "namespace" : "workload");
  // a large cluster opens one namespace at a time: its workloads, the other namespaces folded
  const one = level === "workload" && large && params.get("ns");
  const view = level === "namespace" ? folded
    : one ? await once("/api/namespace-view", { namespace: params.get("ns") }) : await once("/api/view");
  const pairs = level === "namespace" || one ? null : await allowedPairs(params);
  const form = h("form", { class: "bar", id: "map-filters" },
    h("label", {}, "namespace", h("select", { name: "ns" }, h("option", { value: "" }, "all"),
      view.namespaces.map((n) => h("option", { value: n, selected: params.get("ns") === n }, n)))),
    h("label", {}, "port", h("input", { name: "port", size: 6, value: params.get("port") || "" })),
    h("label", {}, "protocol", h("select", { name: "protocol" },
      ["TCP", "UDP", "SCTP"].map((p) => h("option", { value: p, selected: params.get("protocol") === p }, p)))),
    h("label", {}, "level", h("select", { name: "level" }, h("option", { value: "" }, "auto"),
      ["workload", "namespace"].map((l) => h("option", { value: l, selected: params.get("level") === l }, l)))),
    h("label", {}, "label search", h("input", { name: "q", value: params.get("q") || "", placeholder: "app=web" })),
    h("button", { type: "submit" }, "Apply"),
    h("span", { class: "muted" }, "⇤ not isolated for ingress · ⇥ not isolated for egress · (internet) reachable from the internet"));
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const data = new FormData(form);
    go("map", { ns: data.get("ns"), port: data.get("port"), protocol: data.get("port") ? data.get("protocol") : "",
      q: data.get("q"), level: data.get("level"), policy: params.get("policy") });
  });
  const graph = h("div", { id: "graph", role: "img", "aria-label": "map of allowed connections" });
  const side = h("aside", { class: "side", id: "side", "aria-live": "polite" },
    h("p", { class: "muted" }, "Click a connection for its explanation, or a workload for its policies."));
  const chosen = params.get("chosen") ? "ns:" + params.get("chosen") : null;
  const nsLevel = level === "namespace" ? namespaceElements(folded, chosen) : null;
  const note = nsLevel ? namespaceNote(nsLevel.drawAll, nsLevel.pairs)
    : one && params.get("port") ? h("p", { class: "muted" }, "The port filter applies to the whole-cluster map; "
      + "one namespace of a large cluster shows every allowed connection.") : null;
  replace(main, form, note, h("div", { class: "split" }, graph, side));
  if (!window.cytoscape) { replace(graph, h("p", { class: "error-box" }, "The graph library did not load.")); return; }
  if (cy) cy.destroy();
  const drawn = nsLevel ? nsLevel.elements : elements(view, params, pairs);
  const dense = !nsLevel && drawn.filter((e) => e.group === "edges").length > DENSE_FROM;
  if (dense) for (const e of drawn) if (e.group === "edges") e.classes = `${e.classes || ""} dense`;
  cy = window.cytoscape({ container: graph, elements: drawn, style: STYLE,
    layout: layout(level, dense) });
  window.podfenceMap = cy;  // for tests and screenshots: the drawn graph
  drawDenials(cy, view);
  const open = (ev) => go("map", { ns: ev.target.id().slice(3), level: "workload" });
  cy.on("mouseover", "edge.folded, edge.dense", (ev) => ev.target.addClass("hover"));
  cy.on("mouseout", "edge.folded, edge.dense", (ev) => ev.target.removeClass("hover"));
  if (level === "namespace") {
    cy.on("tap", "node.ns-node, node.outside", (ev) => go("map", { ...Object.fromEntries(params),
      chosen: ev.target.id().startsWith("ns:") ? ev.target.id().slice(3) : "" }));
    cy.on("dbltap", "node.ns-node", open);
    if (chosen) showNamespace(side, cy, chosen);
    return;
  }
  cy.on("tap", "node.peer", open);
  cy.on("tap", "edge.denied", () => go("denials"));
  cy.on("tap", "edge[!until][!count]", (ev) => go("map", { ...Object.fromEntries(params), node: "",
    edge: `${ev.target.data("source")} ${ev.target.data("target")}` }));
  cy.on("tap", "node.pod, node.outside", (ev) => go("map", { ...Object.fromEntries(params), edge: "",
    node: ev.target.id() }));
  const edge = params.get("edge"), node = params.get("node");
  if (edge) await showEdge(side, view, params, edge);
  else if (node) showNode(side, view, node);
}

async function showEdge(side, view, params, edgeParam) {
  const [src, dst] = edgeParam.split(" ");
  const e = view.edges.find((x) => x.src === src && x.dst === dst);
  cy.getElementById(`${src}\u0000${dst}`).addClass("chosen");
  const outsideOf = (id) => (view.outside.find((o) => o.id === id) || {}).address;
  const from = src.startsWith("out:") ? outsideOf(src) : src;
  const to = dst.startsWith("out:") ? outsideOf(dst) : dst;
  const port = params.get("port") || (e && e.probe ? String(e.probe.port) : "80");
  const protocol = params.get("port") ? (params.get("protocol") || "TCP") : (e && e.probe ? e.probe.protocol : "TCP");
  replace(side, h("h3", {}, `${src} → ${dst}`), h("p", { class: "muted" }, `allowed: ${e ? e.label : "?"}`),
    h("p", {}, "Loading the explanation…"));
  try {
    const data = await get("/api/explain", { from, to, port, protocol });
    replace(side, h("h3", {}, `${src} → ${dst}`), h("p", { class: "muted" }, `allowed: ${e ? e.label : "?"}`),
      explanation(data),
      h("p", {}, h("a", { href: link("explain", { from, to, port, protocol }) }, "Open in Explain")));
  } catch (err) {
    replace(side, h("h3", {}, `${src} → ${dst}`), h("p", { class: "error-box" }, err.message));
  }
}

function showNode(side, view, key) {
  cy.getElementById(key).addClass("chosen");
  const pod = view.pods.find((p) => p.key === key);
  const ins = view.edges.filter((e) => e.dst === key), outs = view.edges.filter((e) => e.src === key);
  const name = (id) => id.startsWith("out:") ? id.slice(4) : id.startsWith("ns:") ? `namespace ${id.slice(3)}` : id;
  const list = (items) => items.length ? h("ul", {}, items) : h("p", { class: "muted" }, "nothing");
  if (!pod) {
    replace(side, h("h3", {}, name(key)), h("h4", {}, "Reaches"), list(outs.map((e) => h("li", {}, `${name(e.dst)}: ${e.label}`))),
      h("h4", {}, "Reached by"), list(ins.map((e) => h("li", {}, `${name(e.src)}: ${e.label}`))));
    return;
  }
  const policyLinks = (keys) => list(keys.map((k) => h("li", {}, h("a", { href: link("policies", { policy: k }) }, k))));
  replace(side,
    h("h3", {}, `${pod.key} (${pod.kind})`),
    h("p", { class: "muted" }, pod.file ? `${pod.file}:${pod.line}` : ""),
    h("p", {}, Object.entries(pod.labels).map(([k, v]) => h("code", {}, `${k}=${v}`)).flatMap((c) => [c, " "])),
    Object.keys(pod.annotations).length ? h("dl", { class: "annotations" }, Object.entries(pod.annotations)
      .map(([k, v]) => [h("dt", {}, k), h("dd", {}, v)])) : null,
    h("h4", {}, "Isolated for ingress by"), pod.isolated.ingress ? policyLinks(pod.policies.ingress)
      : h("p", { class: "verdict-denied" }, "not isolated for ingress: every pod and address may connect"),
    h("h4", {}, "Isolated for egress by"), pod.isolated.egress ? policyLinks(pod.policies.egress)
      : h("p", { class: "verdict-denied" }, "not isolated for egress: it may connect anywhere"),
    h("h4", {}, "Reached by"), list(ins.map((e) => h("li", {}, `${name(e.src)}: ${e.label}`))),
    h("h4", {}, "Reaches"), list(outs.map((e) => h("li", {}, `${name(e.dst)}: ${e.label}`))),
    h("h4", {}, "Lint findings"), pod.findings ? list(pod.findings.map((f) => h("li", { class: `finding ${f.severity}` },
      `${f.rule} ${f.name}: ${f.message}`))) : h("p", { class: "muted" }, "not listed for one namespace of a large "
      + "cluster (that needs the whole cluster linted): podfence lint lists them"));
}
