// Denials: the lab's denied connections as they happen (GET /api/denials, server-sent events), in a
// table and as red edges on the map while they are recent.
import { h, replace } from "./dom.js";

export const RECENT_MS = 60_000;  // a denied pair stays red on the map this long after its last record
const KEEP = 1000;  // the table's rows; older records drop off

let live = false;
let stream = null;
let ended = null;  // why the lab's stream ended, once it has
const seen = [];  // { record, at }, newest last
const watchers = new Set();

function notify(item) { for (const w of [...watchers]) w(item); }

function connect() {
  if (stream) return;
  stream = new EventSource("/api/denials");
  stream.onmessage = (ev) => {
    const item = { record: JSON.parse(ev.data), at: Date.now() };
    seen.push(item);
    if (seen.length > KEEP) seen.shift();
    notify(item);
  };
  stream.addEventListener("end", (ev) => {
    ended = JSON.parse(ev.data).error;
    stream.close();
    notify(null);
  });
}

export function setLive(on) {
  live = Boolean(on);
  if (live) connect();
}

export function watch(fn) { watchers.add(fn); return () => watchers.delete(fn); }

function endpointName(ep, address) {
  if (ep && ep.namespace && ep.pod_name) return `${ep.namespace}/${ep.pod_name}`;
  if (ep && (ep.labels || []).includes("reserved:host")) return `host ${address}`;
  return address;  // reserved:world: an address that is no lab pod
}

// What the table and the map show of one record.
export function summary(record) {
  const flow = record.flow;
  const [protocol, l4] = Object.entries(flow.l4 || {})[0] || ["?", {}];
  const port = l4.destination_port !== undefined ? `${protocol}/${l4.destination_port}`
    : l4.type !== undefined ? `${protocol} type ${l4.type}` : protocol;
  const by = flow.ingress_denied_by || flow.egress_denied_by || [];
  const policies = by.map((p) => `${p.kind && p.kind !== "NetworkPolicy" ? p.kind + " " : ""}`
    + `${p.namespace ? p.namespace + "/" : ""}${p.name}${p.rule_name ? ` (rule ${p.rule_name})` : ""}`);
  return {
    time: flow.time, verdict: flow.verdict, direction: flow.traffic_direction,
    source: endpointName(flow.source, flow.IP.source), destination: endpointName(flow.destination, flow.IP.destination),
    sourceNs: flow.source && flow.source.namespace, destinationNs: flow.destination && flow.destination.namespace,
    address: { source: flow.IP.source, destination: flow.IP.destination }, port, policies,
  };
}

function row(item) {
  const s = summary(item.record);
  return h("tr", { class: `denial ${s.verdict === "AUDIT" ? "audit" : "dropped"}` },
    h("td", {}, s.time), h("td", {}, s.verdict), h("td", {}, s.source), h("td", {}, s.destination),
    h("td", {}, s.port), h("td", {}, s.direction), h("td", {}, s.policies.join(", ")));
}

export async function denialsView(main) {
  if (!live) {
    replace(main, h("section", { id: "denials-off" }, h("h2", {}, "Denials"),
      h("p", {}, "No lab is attached. Bring one up and start the page with it to watch its denied connections live:"),
      h("pre", {}, "podfence lab up -f MANIFESTS --name NAME\npodfence ui -f MANIFESTS --lab NAME")));
    return;
  }
  const body = h("tbody", {}, [...seen].reverse().map(row));
  const status = h("p", { class: "muted", id: "denials-status", "aria-live": "polite" });
  const table = h("table", { id: "denials" },
    h("thead", {}, h("tr", {}, ["time", "verdict", "source", "destination", "protocol/port", "direction",
      "denied by"].map((t) => h("th", { scope: "col" }, t)))), body);
  const say = () => {
    status.textContent = ended ? `The lab's stream ended: ${ended}`
      : `${seen.length} denied connection${seen.length === 1 ? "" : "s"} since the page opened; new ones appear on top.`;
  };
  say();
  replace(main, h("h2", {}, "Denials"), status, table);
  const stop = watch((item) => {
    if (!table.isConnected) { stop(); return; }
    if (item) {
      body.prepend(row(item));
      while (body.rows.length > KEEP) body.lastElementChild.remove();
    }
    say();
  });
}

// On the map: each pair denied in the last RECENT_MS as a red edge (workload or namespace level).
export function drawDenials(cy, view) {
  const outside = new Map((view.outside || []).map((o) => [o.address, o.id]));
  const nodeOf = (name, ns, address) => {
    for (const id of [name, ns ? "ns:" + ns : null, outside.get(address)]) {
      if (id && cy.getElementById(id).nonempty()) return id;
    }
    return null;
  };
  const add = (item) => {
    const s = summary(item.record);
    const src = nodeOf(s.source, s.sourceNs, s.address.source);
    const dst = nodeOf(s.destination, s.destinationNs, s.address.destination);
    if (!src || !dst) return;
    const id = `denied:${src}\u0000${dst}`;
    const label = `${s.verdict === "AUDIT" ? "audit" : "denied"}: ${s.port}`;
    const existing = cy.getElementById(id);
    if (existing.nonempty()) existing.data({ label, until: item.at + RECENT_MS });
    else cy.add({ group: "edges", data: { id, source: src, target: dst, label, until: item.at + RECENT_MS },
      classes: s.verdict === "AUDIT" ? "denied audit" : "denied" });
  };
  const expire = () => cy.edges(".denied").filter((e) => e.data("until") <= Date.now()).remove();
  const now = Date.now();
  for (const item of seen) if (item.at + RECENT_MS > now) add(item);
  const stop = watch((item) => {
    if (cy.destroyed()) { stop(); return; }
    if (item) add(item);
  });
  const timer = setInterval(() => {
    if (cy.destroyed()) { clearInterval(timer); return; }
    expire();
  }, 2000);
}
