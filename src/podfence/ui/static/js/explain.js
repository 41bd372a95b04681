// Explain: may this connection happen, and why.
import { h, replace, go } from "./dom.js";
import { get, once } from "./api.js";
import { explanation } from "./explanation.js";

export async function explainView(main, params) {
  const view = await once("/api/catalog");
  const names = [...view.pods.map((p) => p.key), ...view.outside.map((o) => o.address).filter(Boolean)];
  const list = h("datalist", { id: "endpoints" }, names.map((n) => h("option", { value: n })));
  const field = (name, label, value, extra = {}) =>
    h("label", {}, label, h("input", { name, id: `explain-${name}`, value: value || "", ...extra }));
  const form = h("form", { class: "bar", id: "explain-form" },
    field("from", "from", params.get("from"), { list: "endpoints", size: 28, required: true }),
    field("to", "to", params.get("to"), { list: "endpoints", size: 28, required: true }),
    field("port", "port", params.get("port"), { size: 6, required: true }),
    h("label", {}, "protocol", h("select", { name: "protocol" },
      ["TCP", "UDP", "SCTP"].map((p) => h("option", { value: p, selected: params.get("protocol") === p }, p)))),
    h("button", { type: "submit" }, "Explain"), list);
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const d = new FormData(form);
    go("explain", { from: d.get("from"), to: d.get("to"), port: d.get("port"), protocol: d.get("protocol") });
  });
  const out = h("div", { id: "explain-result", "aria-live": "polite" });
  replace(main, form, out);
  if (!params.get("from") || !params.get("to") || !params.get("port")) return;
  try {
    const data = await get("/api/explain", { from: params.get("from"), to: params.get("to"),
      port: params.get("port"), protocol: params.get("protocol") || "TCP" });
    replace(out, explanation(data));
  } catch (err) {
    replace(out, h("p", { class: "error-box" }, err.message));
  }
}
