// Changes: connections a version opens and closes, listed and drawn (opened green, closed red).
import { h, replace, go } from "./dom.js";
import { once, get } from "./api.js";

let graphs = new Map();

function words(conns) {
  if (typeof conns === "string") return conns === "All" ? "every connection" : conns;
  if (!conns || typeof conns !== "object") return String(conns);
  return Object.entries(conns).map(([proto, ranges]) => ranges === true ? "other protocols"
    : `${proto} ${ranges.map(([a, b]) => (a === b ? `${a}` : `${a}-${b}`)).join(", ")}`).join("; ");
}

// The list of changed pairs: one line for what a pair gains, one for what it loses.
export function changeList(changes, id) {
  const items = [];
  for (const c of changes) {
    if (c.added) items.push(h("li", { class: "opened", "data-src": c.src, "data-dst": c.dst },
      h("strong", {}, "opens "), `${c.src} → ${c.dst}: ${words(c.added)}`));
    if (c.removed) items.push(h("li", { class: "closed", "data-src": c.src, "data-dst": c.dst },
      h("strong", {}, "closes "), `${c.src} → ${c.dst}: ${words(c.removed)}`));
  }
  return items.length ? h("ul", { id, class: "changes" }, items)
    : h("p", { id, class: "muted" }, "no connection opens or closes");
}

export function clearGraph(container) {
  const old = graphs.get(container.id);
  if (old) old.destroy();
  graphs.delete(container.id);
  replace(container);
}

// The pods and addresses of the changes on a map: opened edges green, closed ones red.
export function changeGraph(container, view, changes) {
  if (!window.cytoscape) { replace(container, h("p", { class: "error-box" }, "The graph library did not load.")); return null; }
  const pods = new Map(view.pods.map((p) => [p.key, p]));
  const nodes = new Map();
  const edges = [];
  const node = (id) => {
    if (nodes.has(id)) return;
    const pod = pods.get(id);
    if (pod) {
      nodes.set("ns:" + pod.namespace, { group: "nodes", data: { id: "ns:" + pod.namespace, label: pod.namespace }, classes: "ns" });
      nodes.set(id, { group: "nodes", data: { id, parent: "ns:" + pod.namespace, label: pod.name }, classes: "pod" });
    } else nodes.set(id, { group: "nodes", data: { id, label: id }, classes: "outside" });
  };
  for (const c of changes) {
    node(c.src); node(c.dst);
    if (c.added) edges.push({ group: "edges", data: { id: `${c.src}\u0000${c.dst}\u0000opened`, source: c.src, target: c.dst, label: words(c.added) }, classes: "opened" });
    if (c.removed) edges.push({ group: "edges", data: { id: `${c.src}\u0000${c.dst}\u0000closed`, source: c.src, target: c.dst, label: words(c.removed) }, classes: "closed" });
  }
  const old = graphs.get(container.id);
  if (old) old.destroy();
  const cy = window.cytoscape({ container, elements: [...nodes.values(), ...edges], style: STYLE,
    layout: typeof window.dagre !== "undefined" ? { name: "dagre", rankDir: "LR", nodeSep: 18, rankSep: 70, animate: false, fit: true }
      : { name: "grid", animate: false, fit: true } });
  graphs.set(container.id, cy);
  return cy;
}

const STYLE = [
  { selector: "node.pod", style: { label: "data(label)", "font-size": 10, "background-color": "#3c6fd8",
    "text-valign": "bottom", "text-margin-y": 3, width: 18, height: 18 } },
  { selector: "node.ns", style: { label: "data(label)", "text-valign": "top", "font-size": 12, "font-weight": "bold",
    "background-color": "#eef1f6", "border-color": "#aab3c5", "border-width": 1, shape: "round-rectangle" } },
  { selector: "node.outside", style: { label: "data(label)", shape: "round-rectangle", "font-size": 10,
    "background-color": "#7f8c8d", width: 22, height: 16, "text-valign": "bottom" } },
  { selector: "edge", style: { label: "data(label)", "font-size": 8, "curve-style": "bezier", width: 2.5,
    "target-arrow-shape": "triangle", "text-background-color": "#fff", "text-background-opacity": 0.8,
    "text-rotation": "autorotate" } },
  { selector: "edge.opened", style: { "line-color": "#1e8e4e", "target-arrow-color": "#1e8e4e" } },
  { selector: "edge.closed", style: { "line-color": "#c0392b", "target-arrow-color": "#c0392b", "line-style": "dashed" } },
];

export async function changesView(main, params) {
  const view = await once("/api/catalog");
  const base = params.get("base") || "";
  const form = h("form", { class: "bar", id: "changes-form" },
    h("label", {}, "compare with the git revision", h("input", { name: "base", value: base || "HEAD", size: 24 })),
    h("button", { type: "submit" }, "Compare"),
    h("span", { class: "muted" }, "green: opened by the working tree · red: closed"));
  form.addEventListener("submit", (ev) => { ev.preventDefault(); go("changes", { base: new FormData(form).get("base") }); });
  const graph = h("div", { id: "changes-graph", class: "graph", role: "img", "aria-label": "map of changed connections" });
  const side = h("aside", { class: "side", id: "changes-side" });
  replace(main, form, h("div", { class: "split" }, graph, side));
  if (!base) { replace(side, h("p", { class: "muted" }, "Name a revision (a commit, a branch, HEAD) to compare the loaded files with.")); return; }
  const diff = await get("/api/diff", { base });
  replace(side, h("h3", {}, `Since ${base}: ${diff.summary.added} opened, ${diff.summary.removed} closed`),
    changeList(diff.changes, "changes-list"));
  window.podfenceChanges = changeGraph(graph, view, diff.changes);
}
