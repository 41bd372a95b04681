// Editor: a policy's YAML (CodeMirror 6, bundled into static/vendor/codemirror.js), checked as it is typed (errors at their line), its impact listed and drawn,
// filled by the building-block forms, saved back into its file, downloaded, or applied to a live cluster (apply.js).
import { h, replace, go } from "./dom.js";
import { once, get, post, forget } from "./api.js";
import { changeList, changeGraph, clearGraph } from "./changes.js";
import { applyControls } from "./apply.js";

const readOnly = document.querySelector('meta[name="podfence-read-only"]').content === "true";
const DEBOUNCE_MS = 150;

function field(label, name, attrs = {}) {
  return h("label", {}, label, h("input", { name, ...attrs }));
}

function blockForms(fill) {
  const forms = [
    ["default-deny", "Default deny", [field("namespace", "namespace", { required: true, size: 12 }),
      h("label", {}, "direction", h("select", { name: "direction" }, h("option", { value: "" }, "both"),
        h("option", { value: "ingress" }, "ingress"), h("option", { value: "egress" }, "egress"))),
      h("label", {}, "allow DNS", h("input", { type: "checkbox", name: "allow_dns", value: "true" }))]],
    ["allow", "Allow pod to pod", [field("from", "from", { required: true, placeholder: "ns/workload", size: 18 }),
      field("to", "to", { required: true, placeholder: "ns/workload", size: 18 }),
      field("ports", "port", { placeholder: "8080,53/UDP", size: 10 })]],
    ["egress", "Egress to a CIDR", [field("from", "from", { required: true, placeholder: "ns/workload", size: 18 }),
      field("CIDR", "to_cidr", { required: true, placeholder: "203.0.113.0/24", size: 16 }),
      field("except", "except", { placeholder: "CIDR,CIDR", size: 12 }),
      field("ports", "port", { placeholder: "443", size: 8 })]],
  ];
  return forms.map(([block, title, fields]) => {
    const form = h("form", { class: "bar block-form", "data-block": block }, h("strong", {}, title), fields,
      h("button", { type: "submit" }, "Fill in"));
    form.addEventListener("submit", (ev) => { ev.preventDefault(); fill(block, new FormData(form)); });
    return form;
  });
}

export async function editorView(main, params) {
  const view = await once("/api/catalog");
  const kind = params.get("kind") || "NetworkPolicy";
  const key = params.get("key");
  let file = params.get("file") || "";
  let text = "";
  let fromCluster = false;  // a policy read from the cluster: no file to save into, Apply changes it
  if (key) {
    const doc = await get("/api/document", { kind, key });
    text = doc.text;
    file = doc.file;
    fromCluster = doc.file === null;
  }
  const holder = h("div", { id: "editor-text", class: "code", "aria-label": "policy YAML" });
  const errors = h("div", { id: "editor-errors", "aria-live": "polite" });
  const impact = h("div", { id: "editor-impact", "aria-live": "polite" });
  const status = h("span", { id: "editor-status", class: "muted" });
  const saveStatus = h("span", { id: "editor-save-status", "aria-live": "polite" });
  const graph = h("div", { id: "impact-graph", class: "graph small", role: "img", "aria-label": "map of the edit's impact" });
  const fileInput = h("input", { id: "editor-file", value: fromCluster ? "" : file || newFileName(view), size: 48,
    readonly: key ? true : null });
  const saveButton = h("button", { id: "editor-save", type: "button", disabled: readOnly || fromCluster || null,
    title: readOnly ? "podfence ui runs with --read-only"
      : fromCluster ? "read from the cluster, not from a file: apply it, or download it" : null },
  key ? "Save" : "Save as new file");
  const download = h("button", { id: "editor-download", type: "button" }, "Download YAML");
  let ticket = 0;
  let timer = null;
  if (!window.PodfenceEditor) { replace(main, h("p", { class: "error-box" }, "The editor library did not load.")); return; }
  if (window.podfenceEditor) window.podfenceEditor.destroy();
  const editor = window.PodfenceEditor.create(holder, text, () => later());
  window.podfenceEditor = editor;  // for tests and screenshots: the editor on the page

  async function check() {
    const mine = ++ticket;
    const body = editor.text();
    if (!body.trim()) { editor.mark([]); replace(errors); replace(impact); clearGraph(graph); return; }
    if (!status.textContent.startsWith("filled")) status.textContent = "checking…";
    const result = await post("/api/validate", body).catch((e) => ({ errors: [{ line: null, message: e.message }], warnings: [] }));
    if (mine !== ticket) return;
    editor.mark([...result.errors.map((e) => ({ line: e.line, message: e.message, severity: "error" })),
      ...result.warnings.map((e) => ({ line: e.line, message: e.message, severity: "warning" }))]);
    replace(errors, [...result.errors, ...result.warnings].map((e, i) => h("div", {
      class: `diagnostic ${i < result.errors.length ? "error" : "warning"}`, "data-line": e.line || "" },
      h("strong", {}, e.line ? `line ${e.line}` : "file"), e.field ? [" ", h("code", {}, e.field)] : null, `: ${e.message}`)));
    if (result.errors.length) {
      status.textContent = `${result.errors.length} error${result.errors.length > 1 ? "s" : ""}`;
      replace(impact, h("p", { class: "muted" }, "Fix the errors to see the impact."));
      clearGraph(graph);
      return;
    }
    try {
      const diff = await post("/api/impact", body, { replaces: kind === "NetworkPolicy" ? key : null });
      if (mine !== ticket) return;
      replace(impact, h("h3", {}, `Impact: ${diff.summary.added} opened, ${diff.summary.removed} closed`),
        changeList(diff.changes, "impact-list"));
      window.podfenceImpact = changeGraph(graph, view, diff.changes);
      if (!status.textContent.startsWith("filled")) status.textContent = "valid";
    } catch (err) {
      if (mine !== ticket) return;
      replace(impact, h("p", { class: "error-box" }, err.message));
      clearGraph(graph);
      status.textContent = "valid";
    }
  }

  function later() { clearTimeout(timer); timer = setTimeout(check, DEBOUNCE_MS); }
  errors.addEventListener("click", (ev) => {
    const line = Number(ev.target.closest("[data-line]")?.dataset.line);
    if (line) editor.select(line);
  });

  async function fill(block, data) {
    const q = Object.fromEntries([...data.entries()].filter(([, v]) => v !== ""));
    try {
      const made = await get(`/api/generate/${block}`, q);
      editor.set(made.yaml);
      status.textContent = `filled in from ${block}`;
    } catch (err) {
      status.textContent = err.message;
    }
  }

  saveButton.addEventListener("click", async () => {
    saveStatus.textContent = "saving…";
    try {
      const saved = await post("/api/save", editor.text(), { file: fileInput.value, kind: key ? kind : null, key });
      forget();
      saveStatus.textContent = `saved ${saved.file}`;
      // A new file's policy is a loaded one now: edit it in place from here on.
      if (!key && saved.policies.length === 1) go("editor", saved.policies[0]);
    } catch (err) {
      saveStatus.textContent = `not saved: ${err.message}`;
    }
  });
  download.addEventListener("click", () => {
    const url = URL.createObjectURL(new Blob([editor.text()], { type: "application/yaml" }));
    const a = h("a", { href: url, download: (fileInput.value.split("/").pop() || "policy.yaml") });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  });

  const apply = await applyControls(editor);
  replace(main,
    h("div", { class: "bar" }, h("strong", {}, key ? `${kind} ${key}` : "New policy"),
      h("label", {}, "file", fileInput), saveButton, download, apply?.button, saveStatus, status,
      h("a", { href: "#/editor?new=1" }, "New policy")),
    apply?.result,
    h("details", { id: "block-forms", open: key ? null : true }, h("summary", {}, "Building blocks"), blockForms(fill)),
    h("div", { class: "split" },
      h("div", { class: "editor" }, holder, errors),
      h("aside", { class: "side" }, impact, graph)));
  if (text.trim()) await check();
}

function newFileName(view) {
  const files = view.policies.filter((p) => p.file && p.line).map((p) => p.file);  // a cluster's objects have no line
  const dir = files.length ? files[0].replace(/[^/]*$/, "") : "";
  return `${dir}new-policy.yaml`;
}
