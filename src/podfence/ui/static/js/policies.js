// Policies: every policy, what it selects, its rules in words, lint findings and audit grades.
import { h, replace, link } from "./dom.js";
import { once } from "./api.js";

export async function policiesView(main, params) {
  const [view, audit] = await Promise.all([once("/api/catalog"), once("/api/audit")]);
  const chosen = params.get("policy");
  const grades = h("table", { id: "audit-grades" },
    h("caption", {}, `Audit: grade ${audit.grade} (${audit.score})`),
    h("thead", {}, h("tr", {}, ["namespace", "grade", "score", "pods", "isolated ingress", "isolated egress",
      "reached from"].map((t) => h("th", { scope: "col" }, t)))),
    h("tbody", {}, audit.namespaces.map((n) => h("tr", {},
      h("th", { scope: "row" }, n.name), h("td", { class: "grade" }, n.grade), h("td", {}, n.score),
      h("td", {}, n.pods), h("td", {}, n.isolated.ingress), h("td", {}, n.isolated.egress),
      h("td", {}, (n.reached_from || []).join(", "))))));
  const cards = view.policies.map((p) => h("section", { class: `policy${p.key === chosen ? " selected" : ""}`,
    id: `policy-${p.key}`, "data-policy": p.key },
    h("h3", {}, `${p.kind} ${p.key}`),
    h("p", { class: "muted" }, `${p.file ? `${p.file}:${p.line} · ` : ""}${p.tier.replace("_", " ")} · ${p.types.join(", ")}`),
    h("p", {}, "Selects: ", p.selects.length ? p.selects.join(", ") : "no pod", " · ",
      h("a", { href: link("map", { policy: p.key }) }, "highlight on the map"),
      p.file ? [" · ", h("a", { class: "edit", href: link("editor", { kind: p.kind, key: p.key }) }, "edit")] : null),
    h("ul", {}, p.rules.map((r) => h("li", {}, h("code", {}, r.field), " ", r.text))),
    p.findings.length ? h("div", {}, p.findings.map((f) => h("div", { class: `finding ${f.severity}` },
      h("strong", {}, `${f.rule} ${f.name}`), ` (${f.severity}) `, f.field ? h("code", {}, f.field) : "", ` ${f.message}`,
      h("br"), h("span", { class: "muted" }, `Fix: ${f.fix}`), " ",
      h("a", { href: link("policies", { policy: p.key, rule: f.rule }) }, "rule doc")))) : null));
  const doc = h("div", { id: "rule-doc" });
  replace(main, h("p", {}, h("a", { href: link("editor", { new: "1" }) }, "New policy")),
    h("div", { class: "split" }, h("div", {}, cards), h("aside", { class: "side" }, doc, grades)));
  if (params.get("rule")) {
    once(`/api/rules/${encodeURIComponent(params.get("rule"))}`).then(
      (d) => replace(doc, h("pre", { class: "rule-doc" }, d.doc)),
      (err) => replace(doc, h("p", { class: "error-box" }, err.message)));
  }
  if (chosen) document.getElementById(`policy-${chosen}`)?.scrollIntoView();
}
