// The namespace level of the map: the server's fold (GET /api/namespace-map) drawn without a hairball.
//
// Facts are never dropped, only drawn once: a namespace that every other namespace reaches gets one edge
// from the "every namespace" node (and one that reaches every other, one edge to it); the rest of the
// namespace pairs are drawn while they are few, else those of the chosen namespace only. Every namespace
// node carries what it reaches and what reaches it (data "reaches" and "reachedBy": id -> pod pairs), and
// its label counts them.
import { h, replace, link } from "./dom.js";

export const EVERY = "every:namespace";
// Namespace pairs drawn at rest; above this, only the chosen namespace's (Chromium draws ~10,000 a second).
export const DRAW_ALL_UP_TO = 1500;

const plural = (n, word) => `${n.toLocaleString("en")} ${word}${n === 1 ? "" : "s"}`;
const bare = (id) => id.replace(/^ns:|^out:/, "");

// Per end: the other ends it has edges with, and their pod pairs.
function sides(folded) {
  const reaches = new Map(), reachedBy = new Map();
  const add = (map, a, b, n) => { if (!map.has(a)) map.set(a, {}); map.get(a)[b] = n; };
  for (const e of folded.edges) {
    if (e.src === e.dst) continue;
    add(reaches, e.src, e.dst, e.count);
    add(reachedBy, e.dst, e.src, e.count);
  }
  return { reaches, reachedBy };
}

function edge(src, dst, count, classes = "folded") {
  return { group: "edges", classes, data: { id: `${src}\u0000${dst}`, source: src, target: dst, count,
    label: `${bare(src)} → ${bare(dst)}: ${plural(count, "connection")}` } };
}

export function namespaceElements(folded, chosen) {
  const { reaches, reachedBy } = sides(folded);
  const intoAll = new Set(folded.reached_by_all.map((n) => "ns:" + n));
  const fromAll = new Set(folded.reaching_all.map((n) => "ns:" + n));
  // a namespace pair the "every namespace" node already stands for
  const byEvery = (e) => e.src.startsWith("ns:") && e.dst.startsWith("ns:") && (intoAll.has(e.dst) || fromAll.has(e.src));
  const pairs = folded.edges.filter((e) => e.src !== e.dst && !byEvery(e));
  const drawAll = pairs.length <= DRAW_ALL_UP_TO;
  const out = folded.namespaces.map((n) => {
    const id = "ns:" + n, to = reaches.get(id) || {}, from = reachedBy.get(id) || {};
    const marks = (intoAll.has(id) ? " ⇤ open to all namespaces" : "") + (fromAll.has(id) ? " ⇥ reaches all" : "");
    return { group: "nodes", classes: "ns-node" + (id === chosen ? " chosen" : "") + (intoAll.has(id) ? " open-to-all" : ""),
      data: { id, label: `${n} →${Object.keys(to).length} ←${Object.keys(from).length}${marks}`, reaches: to,
        reachedBy: from } };
  });
  const used = new Set(folded.edges.flatMap((e) => [e.src, e.dst]));
  for (const o of folded.outside) if (used.has(o.id)) {  // every one used, chosen or not: the layout stays put
    out.push({ group: "nodes", data: { id: o.id, label: o.internet ? `internet: ${o.name}` : o.name,
      reaches: reaches.get(o.id) || {}, reachedBy: reachedBy.get(o.id) || {} },
    classes: o.internet ? "outside internet-node" : "outside" });
  }
  if (intoAll.size || fromAll.size) {
    out.push({ group: "nodes", data: { id: EVERY, label: "every namespace" }, classes: "every-node" });
    const total = (m) => Object.entries(m || {}).reduce((s, [k, n]) => s + (k.startsWith("ns:") ? n : 0), 0);
    for (const id of [...intoAll].sort()) out.push(edge(EVERY, id, total(reachedBy.get(id)), "folded every"));
    for (const id of [...fromAll].sort()) out.push(edge(id, EVERY, total(reaches.get(id)), "folded every"));
  }
  for (const e of folded.edges) {
    if (e.src === e.dst) continue;
    const mine = chosen && (e.src === chosen || e.dst === chosen);
    if (mine || (drawAll && !byEvery(e))) out.push(edge(e.src, e.dst, e.count, mine ? "folded mine" : "folded"));
  }
  return { elements: out, drawAll, pairs: pairs.length };
}

// The side panel of a chosen namespace: what it reaches, what reaches it, and the way into its workloads.
export function showNamespace(side, cy, id) {
  const node = cy.getElementById(id);
  if (!node.length) return;
  const list = (m) => {
    const items = Object.entries(m || {}).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
    return items.length ? h("ul", { class: "ns-list" }, items.map(([k, n]) => h("li", {}, `${bare(k)}: ${plural(n, "connection")}`)))
      : h("p", { class: "muted" }, "nothing");
  };
  replace(side, h("h3", {}, id.startsWith("ns:") ? `namespace ${bare(id)}` : bare(id)),
    id.startsWith("ns:") ? h("p", {}, h("a", { class: "open-namespace", href: link("map", { ns: bare(id), level: "workload" }) },
      "Open its workloads")) : null,
    h("h4", {}, "Reaches"), list(node.data("reaches")),
    h("h4", {}, "Reached by"), list(node.data("reachedBy")));
}

export function namespaceNote(drawAll, pairs) {
  return drawAll ? null : h("p", { class: "muted", id: "ns-note" },
    `${plural(pairs, "namespace pair")} connect: click a namespace to draw its own (double-click opens it).`);
}
