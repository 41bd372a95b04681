// Apply: the editor's NetworkPolicies to the live cluster the page shows, every server-side dry run before any write.
// Offered only on a live cluster and without --read-only; the server refuses it otherwise all the same.
import { h, replace, link } from "./dom.js";
import { once, post, forget, contextName } from "./api.js";

export async function applyControls(editor) {
  const info = await once("/api/contexts");
  const name = contextName() ?? info.contexts[0];
  if (info.read_only || !info.live.includes(name)) return null;
  const button = h("button", { id: "editor-apply", type: "button",
    title: "server-side dry run of every object first; nothing is written when the cluster refuses one" },
  `Apply to cluster (context ${name})`);
  const result = h("div", { id: "editor-apply-result", "aria-live": "polite" });
  button.addEventListener("click", async () => {
    button.disabled = true;
    replace(result, h("p", { class: "muted" }, `dry-run on context ${name}…`));
    try {
      shown(result, editor, await post("/api/apply", editor.text()));
    } catch (err) {
      replace(result, h("p", { class: "error-box", "data-outcome": "invalid" }, `not applied: ${err.message}`));
    } finally {
      button.disabled = false;
    }
  });
  return { button, result };
}

function shown(result, editor, answer) {
  if (answer.applied.length) forget();  // the workspace was loaded again from the cluster
  const refused = answer.refused;
  const outcome = refused ? (answer.dry_run === "ok" ? "failed" : "refused") : "applied";
  const where = refused?.line ? h("a", { href: "#", class: "refused-line" }, `Line ${refused.line}`) : null;
  where?.addEventListener("click", (ev) => { ev.preventDefault(); editor.select(refused.line); });
  if (refused?.line) editor.mark([{ line: refused.line, message: refused.message, severity: "error" }]);
  replace(result, h("div", { class: refused ? "error-box" : "applied", "data-outcome": outcome },
    where ? [where, ": "] : null, answer.message,
    answer.applied.length ? h("ul", {}, answer.applied.map((a) => h("li", { "data-key": a.key },
      `${a.kind} ${a.key} ${a.action} · `, h("a", { href: link("policies", { policy: a.key }) }, "show in Policies"))))
      : null));
}
