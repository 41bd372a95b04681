// podfence ui's YAML editor: CodeMirror 6 with YAML highlighting, line numbers and diagnostics at their line.
// Bundled by esbuild into static/vendor/codemirror.js (make's vendor step); the page reads window.PodfenceEditor.
import { EditorView, basicSetup } from "codemirror";
import { yaml } from "@codemirror/lang-yaml";
import { setDiagnostics, lintGutter } from "@codemirror/lint";

// The page's Content-Security-Policy allows no inline <style>, which CodeMirror writes into a document's head.
// Inside a shadow root it uses a constructed style sheet instead, which the policy does not cover.
const THEME = EditorView.theme({
  "&": { height: "100%", fontSize: "13px", backgroundColor: "#fff" },
  ".cm-scroller": { fontFamily: "ui-monospace, monospace" },
});

function create(host, text, onChange) {
  const shadow = host.shadowRoot || host.attachShadow({ mode: "open" });
  const parent = document.createElement("div");
  parent.style.height = "100%";  // set through the CSSOM, which the policy allows
  shadow.replaceChildren(parent);
  const view = new EditorView({
    doc: text,
    parent,
    root: shadow,
    extensions: [basicSetup, yaml(), lintGutter(), THEME,
      EditorView.updateListener.of((u) => { if (u.docChanged) onChange(); })],
  });
  return {
    view,
    text: () => view.state.doc.toString(),
    set(value) { view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: value } }); },
    // problems: [{ line, message, severity: "error" | "warning" }]; a problem without a line goes on line 1
    mark(problems) {
      const doc = view.state.doc;
      const diagnostics = problems.map((p) => {
        const line = doc.line(Math.min(Math.max(p.line || 1, 1), doc.lines));
        return { from: line.from, to: line.to, severity: p.severity, message: p.message };
      });
      view.dispatch(setDiagnostics(view.state, diagnostics));
    },
    select(lineNumber) {
      const line = view.state.doc.line(Math.min(Math.max(lineNumber, 1), view.state.doc.lines));
      view.dispatch({ selection: { anchor: line.from, head: line.to }, scrollIntoView: true });
      view.focus();
    },
    destroy() { view.destroy(); },
  };
}

window.PodfenceEditor = { create };
