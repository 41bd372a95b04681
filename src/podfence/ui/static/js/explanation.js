// An explain answer (podfence explain -o json) as a sentence and a table of the policies involved.
import { h } from "./dom.js";

function endName(end) {
  if (!end) return "?";
  return end.pod || end.ip || end.address || end.name || JSON.stringify(end);
}

function sideSentence(name, side, who) {
  if (!side) return null;
  if (!side.isolated) return `${name}: ${who} is not isolated for ${name}, so everything is allowed there.`;
  const by = (side.policies || []).join(", ");
  if (side.allowed) {
    const rules = (side.allowed_by || []).map((r) => `${r.policy} ${r.field}`).join(", ");
    return `${name}: isolated by ${by}; allowed by ${rules || "a rule"}.`;
  }
  return `${name}: isolated by ${by}; no rule admits it.`;
}

export function explanation(data) {
  if (!data || !("egress" in data)) {
    return h("pre", { class: "explain-raw" }, JSON.stringify(data, null, 2));
  }
  const src = endName(data.src), dst = endName(data.dst);
  const verdict = data.allowed ? "allowed" : "denied";
  const head = h("p", { class: "sentence" },
    h("strong", {}, src), " → ", h("strong", {}, dst), ` on ${data.protocol} ${data.port}: `,
    h("span", { class: `verdict verdict-${verdict}`, "data-verdict": verdict }, verdict));
  const lines = [
    sideSentence("egress", data.egress, src),
    sideSentence("ingress", data.ingress, dst),
  ].filter(Boolean).map((t) => h("p", {}, t));
  const rows = [];
  for (const [sideName, side] of [["egress", data.egress], ["ingress", data.ingress]]) {
    if (!side) continue;
    const allowing = new Map((side.allowed_by || []).map((r) => [r.policy, r]));
    for (const p of side.policies || []) {
      const rule = allowing.get(p);
      rows.push(h("tr", { "data-policy": p, "data-side": sideName },
        h("td", {}, sideName), h("td", {}, p), h("td", {}, rule ? rule.field : "—"),
        h("td", {}, rule ? "allows" : "isolates")));
    }
    for (const m of side.near_misses || []) {
      rows.push(h("tr", { class: "near-miss", "data-policy": m.policy, "data-side": sideName },
        h("td", {}, sideName), h("td", {}, m.policy), h("td", {}, m.field),
        h("td", {}, `near miss: ${m.detail || ""}`)));
    }
  }
  const table = rows.length ? h("table", { class: "policies-involved" },
    h("thead", {}, h("tr", {}, h("th", {}, "side"), h("th", {}, "policy"), h("th", {}, "rule"),
      h("th", {}, "effect"))),
    h("tbody", {}, rows)) : h("p", { class: "muted" }, "No policy is involved.");
  const notes = (data.notes || []).map((n) => h("p", { class: "muted" }, typeof n === "string" ? n : JSON.stringify(n)));
  return h("div", { class: "explanation" }, head, lines, table, notes);
}
