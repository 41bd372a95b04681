// podfence ui: one page, one view at a time; the view and its state are in the URL.
import { h, replace, route } from "./dom.js";
import { get, setContext } from "./api.js";
import { mapView } from "./map.js";
import { matrixView } from "./matrix.js";
import { explainView } from "./explain.js";
import { policiesView } from "./policies.js";
import { editorView } from "./editor.js";
import { changesView } from "./changes.js";
import { denialsView, setLive } from "./denials.js";

const VIEWS = { map: mapView, matrix: matrixView, explain: explainView, policies: policiesView, editor: editorView,
  changes: changesView, denials: denialsView };
const main = document.getElementById("main");
let rendering = 0;

async function render() {
  const { view, params } = route();
  const show = VIEWS[view] || mapView;
  for (const a of document.querySelectorAll("header nav a")) a.classList.toggle("active", a.dataset.view === view);
  const ticket = ++rendering;
  document.body.dataset.ready = "false";
  try {
    await show(main, params);
  } catch (err) {
    if (ticket === rendering) replace(main, h("p", { class: "error-box" }, err.message));
  }
  if (ticket === rendering) document.body.dataset.ready = "true";
}

async function start() {
  const info = await get("/api/contexts");
  const picker = document.getElementById("context");
  const chosen = new URLSearchParams(location.search).get("context");
  replace(picker, info.contexts.map((c) => h("option", { value: c, selected: c === chosen }, c || "manifests")));
  picker.disabled = info.contexts.length < 2;
  setContext(picker.value || null);
  setLive(info.denials);
  picker.addEventListener("change", () => {
    const q = new URLSearchParams(location.search);
    q.set("context", picker.value);
    location.search = q.toString();
  });
  window.addEventListener("hashchange", render);
  await render();
}

start();
