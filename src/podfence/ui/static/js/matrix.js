// Matrix: who may connect to whom on one port, as a heatmap and an accessible table.
import { h, replace, link, go } from "./dom.js";
import { get } from "./api.js";

function grouped(m, level) {
  if (level !== "namespace") return { rows: m.pods, cell: (s, d) => (m.allowed[s] || []).includes(d) ? 1 : 0, pick: (s, d) => [s, d] };
  const ns = [...new Set(m.pods.map((p) => p.split("/")[0]))].sort();
  const members = Object.fromEntries(ns.map((n) => [n, m.pods.filter((p) => p.startsWith(n + "/"))]));
  const allowed = Object.fromEntries(m.pods.map((p) => [p, new Set(m.allowed[p] || [])]));
  return {
    rows: ns,
    cell: (s, d) => {
      let yes = 0, all = 0;
      for (const a of members[s]) for (const b of members[d]) { all++; if (allowed[a].has(b)) yes++; }
      return all ? yes / all : 0;
    },
    pick: (s, d) => {
      for (const a of members[s]) for (const b of members[d]) if (allowed[a].has(b)) return [a, b];
      return [members[s][0], members[d][0]];
    },
  };
}

export async function matrixView(main, params) {
  const port = params.get("port") || "", protocol = params.get("protocol") || "TCP";
  const level = params.get("level") || "workload";
  const form = h("form", { class: "bar" },
    h("label", {}, "port", h("input", { name: "port", size: 6, value: port, required: true })),
    h("label", {}, "protocol", h("select", { name: "protocol" },
      ["TCP", "UDP", "SCTP"].map((p) => h("option", { value: p, selected: protocol === p }, p)))),
    h("label", {}, "level", h("select", { name: "level" },
      ["workload", "namespace"].map((l) => h("option", { value: l, selected: level === l }, l)))),
    h("button", { type: "submit" }, "Show"));
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const d = new FormData(form);
    go("matrix", { port: d.get("port"), protocol: d.get("protocol"), level: d.get("level") });
  });
  if (!port) { replace(main, form, h("p", { class: "muted" }, "Choose a port.")); return; }
  let m;
  try { m = await get("/api/matrix", { port, protocol }); }
  catch (err) { replace(main, form, h("p", { class: "error-box" }, err.message)); return; }
  const g = grouped(m, level);
  const head = h("tr", {}, h("th", { scope: "col" }, "from \\ to"),
    g.rows.map((d) => h("th", { scope: "col", class: "col" }, d)));
  const body = g.rows.map((s) => h("tr", {}, h("th", { scope: "row" }, s), g.rows.map((d) => {
    const v = g.cell(s, d);
    const word = v === 1 ? "allowed" : v === 0 ? "denied" : `allowed for ${Math.round(v * 100)}% of pod pairs`;
    const [a, b] = g.pick(s, d);
    return h("td", { class: `cell ${v === 1 ? "allow" : v === 0 ? "deny" : "partial"}`, "data-src": s, "data-dst": d,
      "data-allowed": String(v > 0), title: `${s} → ${d}: ${word}` },
      h("a", { href: link("explain", { from: a, to: b, port: String(m.port), protocol: m.protocol }) },
        h("span", { class: "sr-only" }, `${s} to ${d}: ${word}`), v === 1 ? "✓" : v === 0 ? "" : "◐"));
  })));
  replace(main, form,
    h("p", {}, `${m.protocol} ${m.port}: ${m.pods.length} workloads. Rows connect to columns; a cell opens its explanation.`),
    h("table", { class: "heat", id: "matrix-table" },
      h("caption", { class: "sr-only" }, `Who may connect to whom on ${m.protocol} ${m.port}`),
      h("thead", {}, head), h("tbody", {}, body)));
}
