"""The one place podfence ui calls into podfence: each answer is the CLI's JSON, from the same code.

A :class:`Workspace` holds one loaded source (manifests, or a live context with
``-f`` over it) and answers the API: ``matrix``, ``connectivity``, ``explain``,
``lint`` and ``audit`` give exactly what ``podfence <command> -o json`` prints on
that source; ``validate`` what ``podfence check -f - -o json`` prints for a
manifest on standard input. A question podfence refuses (an unknown pod, a bad
port) raises :class:`Refused` with the CLI's message, without the ``--flag``
wording the browser does not have.

``view`` is the page's own model (pods, namespaces, policies, the map's edges):
not a CLI contract, built from the same values.
"""

from __future__ import annotations

import io
import json
import re
import threading
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Mapping, Sequence, TypeVar

import yaml

from podfence.app import Live, Options, Stop, analysis
from podfence.app import one_port as app_one_port
from podfence.app.applying import ClusterApply, apply_policy, policy_manifest
from podfence.app.editing import Saved, Target, impact as policy_impact, read_document, save as save_text
from podfence.config import Config
from podfence.engine import (
    AddressPeer, Connectivity, Engine, IRPolicy, SelectorPeer, Session, Tier, ir_of,
    selects,
)
from podfence.lint import Finding, lint
from podfence.lint.audit import audit as run_audit
from podfence.lint.selection import plan_rules
from podfence.loader import LineDict, LoadResult, load, locate
from podfence.model import ClusterOrigin, Direction, Origin, Pod, Settings
from podfence.model.internet import PUBLIC_V4, PUBLIC_V6
from podfence.model.ports import PortSpec
from podfence.model.text import quoted
from podfence.model.words import plural
from podfence.render.audit import audit_json
from podfence.render.conns import block_text, conns_json, conns_text
from podfence.render.connectivity import connectivity_chunks
from podfence.render.diagnostics import check_json
from podfence.render.diff import diff_json, render_diff
from podfence.render.lint import finding_data, lint_json
from podfence.render.matrix import matrix_chunks
from podfence.rollout import StagedViews


def rule_doc(rule: str) -> str | None:
    """The documentation page of a lint rule (Markdown text; None for an unknown rule)."""
    from podfence.lint import REGISTRY
    from podfence.lint.docs import pages

    return pages(REGISTRY).get(f"{rule}.md")


LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"


class Refused(ValueError):
    """A question podfence cannot answer as asked (the CLI would exit 2); the message says why."""


@dataclass(frozen=True, slots=True)
class Source:
    """What a workspace was loaded from, for the page's title bar."""

    name: str  # the paths, or "context NAME"
    namespace: str = "default"


@dataclass
class Workspace:
    """One loaded cluster and every answer about it; answers are computed once and kept."""

    result: LoadResult
    config: Config
    settings: Settings
    source: Source
    options: Options | None = None  # what was loaded, to load it again after a save and to generate on it
    context: str | None = None  # the kubeconfig context, when several were loaded
    _lock: threading.RLock = field(default_factory=threading.RLock, repr=False)
    _cache: dict[Any, Any] = field(default_factory=dict, repr=False)
    _making: dict[Any, threading.Lock] = field(default_factory=dict, repr=False)

    def _once(self, key: Any, make: Any) -> Any:
        # One lock per answer: a request waits only for the answer it needs (the map warming up
        # does not hold back a validation), and an answer being made is made once.
        with self._lock:
            if key in self._cache:
                return self._cache[key]
            making = self._making.setdefault(key, threading.Lock())
        with making:
            with self._lock:
                if key in self._cache:
                    return self._cache[key]
            value = make()
            with self._lock:
                self._cache[key] = value
            return value

    def warm(self) -> threading.Thread:
        """Start computing the connectivity and the namespace map in the background, so the page's
        first request finds them made or in the making (a failure is left for that request to meet)."""
        def run() -> None:
            try:
                self.namespace_map_json()
            except Exception:  # noqa: BLE001 - the request that needs the map computes it again and answers
                pass
        thread = threading.Thread(target=run, name="podfence-ui-warm", daemon=True)
        thread.start()
        return thread

    @property
    def engine(self) -> Engine:
        return self._once("engine", lambda: Engine(self.result.cluster, self.settings))

    @property
    def connectivity_view(self) -> Connectivity:
        return self._once("connectivity", lambda: self.engine.connectivity())

    # --- the CLI's JSON contracts ---------------------------------------------------------------

    def matrix(self, port: str, protocol: str | None) -> str:
        """``podfence matrix --port PORT [--protocol P] -o json``."""
        spec = one_port(port, protocol)

        def make() -> str:
            return "".join(matrix_chunks(answered(lambda: analysis.matrix_of(
                self.connectivity_view, spec, self.source.namespace)), "json"))
        return self._once(("matrix", spec.protocol, spec.port), make)

    def connectivity(self) -> str:
        """``podfence connectivity -o json``."""
        return self._once("connectivity-json", lambda: "".join(
            connectivity_chunks(self.connectivity_view, "json", None)))

    def explain(self, src: str, dst: str, port: str, protocol: str | None) -> str:
        """``podfence explain --from SRC --to DST --port PORT [--protocol P] -o json``."""
        spec = one_port(port, protocol)
        views = StagedViews(self.result.cluster, self.settings)
        return analysis.rendered(answered(lambda: analysis.explain_in(views, src, dst, spec, self.source.namespace)),
                                 "json")

    def findings(self) -> list[Finding]:
        """The lint findings, placed at their field's line (as ``podfence lint`` places them)."""
        def make() -> list[Finding]:
            plan, _ = plan_rules(self.config, select=None, ignore=(), preview=None)
            found = lint(self.result.cluster, self.config, self.settings, plan=plan)
            return narrow_lines(found, self.result.documents)
        return self._once("findings", make)

    def lint(self) -> str:
        """``podfence lint -o json``."""
        return lint_json(self.findings())

    def audit(self) -> str:
        """``podfence audit -o json``."""
        return self._once("audit", lambda: audit_json(
            run_audit(self.result.cluster, self.config, self.settings, self.findings())))

    def validate(self, body: bytes) -> tuple[str, bool]:
        """``podfence check -f - -o json`` with ``body`` on standard input, and whether it is valid."""
        stdin = io.TextIOWrapper(io.BytesIO(body), encoding="utf-8")
        result = load(["-"], default_namespace=self.source.namespace, settings=self.settings, stdin=stdin)
        return check_json(result.diagnostics), result.ok

    @property
    def session(self) -> Session:
        """The loaded cluster under edit: every impact starts from a copy of it, so it stays as loaded."""
        return self._once("session", lambda: Session(self.result.cluster, self.settings))

    def impact(self, body: bytes, replaces: str | None) -> str:
        """What the NetworkPolicies of ``body`` open and close, replacing the loaded policy ``replaces``
        (``namespace/name``; None: they are new): ``podfence diff OLD NEW -o json`` for that edit.

        Evaluated incrementally: the edits go to a copy of the workspace's :class:`Session`.
        """
        stdin = io.TextIOWrapper(io.BytesIO(body), encoding="utf-8")
        result = load(["-"], default_namespace=self.source.namespace, settings=self.settings, stdin=stdin)
        if not result.ok:
            raise Refused(next(d for d in result.diagnostics if d.is_error).one_line())
        edited = result.cluster
        if edited.pods or edited.services or edited.cluster_policies or edited.nodes or edited.staged:
            raise Refused("the impact is computed for NetworkPolicy edits; post NetworkPolicy documents only")
        return diff_json(answered(lambda: policy_impact(self.session, edited.policies, replaces)))

    # --- generating, saving, comparing: the app's use cases on the loaded source -------------------

    def _loaded(self) -> Options:
        """The options this workspace was loaded with, its own context chosen when several were loaded."""
        if self.options is None:
            raise Refused("this workspace was not loaded from options")
        if self.context is None:
            return self.options
        return replace(self.options, live=replace(self.options.live or Live(), context=self.context))

    def generate(self, block: str, params: Mapping[str, str]) -> str:
        """The YAML ``podfence generate default-deny|allow|egress`` prints for the same flags."""
        from podfence.app import generate as generating

        options = self._loaded()
        ports = [p for p in params.get("port", "").split(",") if p.strip()]
        try:
            match block:
                case "default-deny":
                    made = generating.default_deny(
                        options, params.get("namespace") or self.source.namespace,
                        ingress=params.get("direction") == "ingress", egress=params.get("direction") == "egress",
                        allow_dns=params.get("allow_dns") == "true")
                case "allow":
                    made = generating.allow(options, params.get("from", ""), params.get("to", ""), ports)
                case "egress":
                    excepts = [e for e in params.get("except", "").split(",") if e.strip()]
                    made = generating.egress(options, params.get("from", ""), params.get("to_cidr", ""), excepts,
                                             ports)
                case _:
                    raise Refused(f"block {block!r}: one of default-deny, allow, egress")
        except Stop as e:
            raise Refused(_said(e)) from None
        return made.printed or ""

    def save(self, file: str, text: bytes, kind: str | None, key: str | None) -> Saved:
        """Write ``text`` into ``file`` (replacing the document ``kind key``, or as a new file) once it is valid."""
        options = self._loaded()
        _, valid = self.validate(text)
        if not valid:
            raise Refused("the manifest has errors; fix them before saving")
        target = None
        if kind and key:
            namespace, _, name = key.rpartition("/")
            target = Target(kind, name, namespace or None)
        return answered(lambda: save_text(options.files, file, text.decode("utf-8"), target, self.source.namespace))

    @property
    def live_context(self) -> str | None:
        """The kubeconfig context this workspace reads a live cluster from (None: manifests alone)."""
        return self.context or self.result.cluster.name or None

    def apply(self, text: bytes) -> dict[str, Any]:
        """Apply the NetworkPolicies of ``text`` to this workspace's live cluster, every object's server-side dry
        run before any real write: ``{"dry_run": "ok"|"refused", "applied": [...], "message": ...}``.

        A refusal by the cluster is an answer (``refused`` names the object and its line in ``text``); text that
        is not valid NetworkPolicy documents, or a workspace without a live cluster, is :class:`Refused`.
        """
        context = self.live_context
        if context is None:
            raise Refused("apply: the page shows manifests, not a live cluster; start podfence ui with "
                          "--context NAME to apply to a cluster")
        options = self._loaded()
        try:
            body = text.decode("utf-8")
        except UnicodeDecodeError:
            raise Refused("the manifest is not UTF-8 text") from None
        return apply_answer(answered(lambda: apply_policy(options, context, body)))

    def policies_in(self, text: bytes) -> list[dict[str, str]]:
        """The policies a manifest holds (kind and key), as the page names them."""
        stdin = io.TextIOWrapper(io.BytesIO(text), encoding="utf-8")
        result = load(["-"], default_namespace=self.source.namespace, settings=self.settings, stdin=stdin)
        return [{"kind": p.ref.kind, "key": p.ref.key} for p in ir_of(result.cluster).policies]

    def document(self, kind: str, key: str) -> dict[str, Any]:
        """The text of a loaded policy's document, and its file; for a NetworkPolicy read from the cluster, the
        manifest Apply would send (file None)."""
        found = next((p for p in ir_of(self.result.cluster).policies if p.ref.kind == kind and p.ref.key == key), None)
        source = getattr(self._model_policy(found), "source", None) if found is not None else None
        if isinstance(source, ClusterOrigin) and kind == "NetworkPolicy":
            return {"file": None, "kind": kind, "key": key, "text": self._cluster_text(source, key)}
        if source is None or not source.file or source.file == "-":
            raise Refused(f"{kind} {key}: not loaded from a file")
        namespace, _, name = key.rpartition("/")
        text = answered(lambda: read_document(self._loaded().files, source.file,
                                              Target(kind, name, namespace or None), self.source.namespace))
        return {"file": source.file, "kind": kind, "key": key, "text": text}

    def _cluster_text(self, source: ClusterOrigin, key: str) -> str:
        """A NetworkPolicy as the cluster holds it, without what the server keeps for itself or kubectl's copy
        of its last applied text (an apply leaves both as they are)."""
        namespace, _, name = key.rpartition("/")
        manifest = policy_manifest(self.result.documents.get(source), namespace, name)
        annotations = manifest["metadata"].get("annotations") or {}
        annotations.pop(LAST_APPLIED, None)
        if not annotations:
            manifest["metadata"].pop("annotations", None)
        return yaml.safe_dump(manifest, sort_keys=False)

    def reloaded(self) -> Workspace:
        """The workspace loaded afresh from its source (after a save or an apply), its map warming up."""
        from podfence.app.browse import load_clusters

        options = self._loaded()
        b = answered(lambda: load_clusters(options, [self.context] if self.context else ())[0])
        fresh = Workspace(b.result, b.run.config, b.run.settings, self.source, options, self.context)
        fresh.warm()
        return fresh

    def diff(self, base: str) -> str:
        """``podfence diff --base BASE -f PATHS -o json`` on the loaded paths."""
        from podfence.app.diff import diff as diffing

        if not base:
            raise Refused("base: give a git revision")
        report = answered(lambda: diffing(self._loaded(), base=base, explain=False))
        return render_diff(report, "json")

    # --- the page's own model -------------------------------------------------------------------

    def view(self) -> dict[str, Any]:
        """Pods, namespaces, policies and the map's edges, for drawing (not a CLI contract)."""
        return self._once("view", self._view)

    def namespace_map(self) -> dict[str, Any]:
        """The map folded to namespaces: allowed pod pairs counted per namespace pair (and per namespace and
        address block), without expanding pod pairs, so it stays quick on any cluster (not a CLI contract)."""
        return self._once("namespace-map", self._namespace_map)

    def namespace_map_json(self) -> str:
        """:meth:`namespace_map` as JSON text, written once (it runs to megabytes on a large cluster)."""
        return self._once("namespace-map-json", lambda: json.dumps(
            self.namespace_map(), ensure_ascii=False, allow_nan=False, separators=(",", ":")))

    def _namespace_map(self) -> dict[str, Any]:
        conn = self.connectivity_view
        counts = {("ns:" + a, "ns:" + b): n for (a, b), n in conn.pair_counts(lambda p: p.namespace).items()}
        outside: dict[str, dict[str, Any]] = {}
        nodes: dict[Any, dict[str, Any]] = {}  # thousands of groups share a few dozen blocks: each worded once
        for group, direction, blocks in conn.group_address_blocks():
            spread: dict[str, int] = {}
            for pod in group:
                spread["ns:" + pod.namespace] = spread.get("ns:" + pod.namespace, 0) + 1
            for block, _ in blocks:
                node = nodes.get(block)
                if node is None:
                    node = nodes[block] = _outside_node(outside, block)
                for ns, n in spread.items():
                    key = (ns, node["id"]) if direction is Direction.EGRESS else (node["id"], ns)
                    counts[key] = counts.get(key, 0) + n
        reached_by_all, reaching_all = _open_to_all(counts, {p.namespace for p in conn.pods})
        return {
            "source": self.source.name,
            "workloads": len(conn.pods),
            "namespaces": sorted({p.namespace for p in conn.pods} | {n.name for n in self.result.cluster.namespaces}),
            "outside": sorted(outside.values(), key=lambda o: o["name"]),
            "edges": [{"src": a, "dst": b, "count": n} for (a, b), n in sorted(counts.items())],
            "reached_by_all": reached_by_all,
            "reaching_all": reaching_all,
        }

    def namespace_view(self, namespace: str) -> dict[str, Any]:
        """One namespace opened, for a cluster too large for :meth:`view`: its workloads (as in the view),
        the edges among them and to address ranges, and their edges to and from other namespaces folded per
        namespace (a count of workloads), with the policies that select its workloads (not a CLI contract).
        Lint findings are left out: they need the whole cluster linted."""
        if not namespace:
            raise Refused("namespace: give the namespace to open")
        if namespace not in self.namespace_map()["namespaces"]:
            raise Refused(f"namespace {quoted(namespace)}: not in the loaded cluster")
        return self._once(("namespace-view", namespace), lambda: self._namespace_view(namespace))

    def _namespace_view(self, namespace: str) -> dict[str, Any]:
        cluster = self.result.cluster
        conn = self.connectivity_view
        mine = tuple(p for p in conn.pods if p.namespace == namespace)
        keys = {p.key for p in mine}
        edges: list[dict[str, Any]] = []
        for a in mine:  # pod by pod inside the namespace, in the order of the whole view
            for b in mine:
                conns = conn.between(a.key, b.key) if a is not b else None
                if conns:
                    edges.append({"src": a.key, "dst": b.key, "label": conns_text(conns), "probe": _probe(conns)})
        peers: set[str] = set()
        folded = conn.pair_counts(lambda p: p.key if p.namespace == namespace else "ns:" + p.namespace)
        for (a, b), n in sorted(folded.items()):
            if (a in keys) == (b in keys):
                continue  # inside the namespace (drawn pod by pod above) or between two others
            peers.add(b if a in keys else a)
            edges.append({"src": a, "dst": b, "count": n, "label": plural(n, "workload")})
        outside: dict[str, dict[str, Any]] = {}
        internet_in: set[str] = set()
        for pod in mine:
            for direction in (Direction.EGRESS, Direction.INGRESS):
                for block, conns in conn.address_blocks(pod.key, direction):
                    node = _outside_node(outside, block)
                    edges.append(_address_edge(pod.key, node["id"], direction, conns))
                    if node["internet"] and direction is Direction.INGRESS:
                        internet_in.add(pod.key)
        pods, selects_of = self._pods(mine, internet_in, None)
        policies = []
        for i, p in enumerate(ir_of(cluster).policies):
            if p.ref.namespace not in (None, namespace):
                continue  # a namespaced policy selects pods of its own namespace only
            if p.ref.namespace == namespace or selects_of.get(i):
                shown = self._policy(p, selects_of.get(i, []), {})
                del shown["findings"]
                policies.append(shown)
        return {
            "source": self.source.name,
            "namespace": namespace,
            "namespaces": self.namespace_map()["namespaces"],
            "pods": pods,
            "peers": [{"id": n, "name": n.removeprefix("ns:")} for n in sorted(peers)],
            "outside": sorted(outside.values(), key=lambda o: o["name"]),
            "edges": edges,
            "policies": policies,
        }

    def catalog(self) -> dict[str, Any]:
        """The view without its edges: pods, namespaces, outside ranges and policies, for the views that
        list or name them (policies, explain, editor, changes), quick on any cluster (not a CLI contract)."""
        return self._once("catalog", self._catalog)

    def _view(self) -> dict[str, Any]:
        conn = self.connectivity_view
        edges: list[dict[str, Any]] = []
        pod_keys = {p.key for p in conn.pods}
        for src, dst, conns in conn.rows():
            if src == dst or src not in pod_keys or dst not in pod_keys:
                continue
            edges.append({"src": src, "dst": dst, "label": conns_text(conns), "probe": _probe(conns)})
        for group, direction, blocks in conn.group_address_blocks():
            for block, conns in blocks:
                node = "out:" + block_text(block)
                edges += (_address_edge(pod.key, node, direction, conns) for pod in group)
        return {**self.catalog(), "edges": edges}

    def _catalog(self) -> dict[str, Any]:
        cluster = self.result.cluster
        conn = self.connectivity_view
        by_policy: dict[str, list[dict[str, Any]]] = {}
        for f in self.findings():
            by_policy.setdefault(str(f.ref), []).append(finding_data(f))
        internet_in: set[str] = set()
        outside: dict[str, dict[str, Any]] = {}
        for group, direction, blocks in conn.group_address_blocks():
            for block, _ in blocks:
                if _outside_node(outside, block)["internet"] and direction is Direction.INGRESS:
                    internet_in.update(pod.key for pod in group)
        policies = ir_of(cluster).policies
        pods, selects_of = self._pods(conn.pods, internet_in, by_policy)
        return {
            "source": self.source.name,
            "namespaces": sorted({p.namespace for p in conn.pods} | {n.name for n in cluster.namespaces}),
            "pods": pods,
            "outside": sorted(outside.values(), key=lambda o: o["name"]),
            "policies": [self._policy(p, selects_of.get(i, []), by_policy) for i, p in enumerate(policies)],
        }

    def _pods(self, pods: Sequence[Pod], internet_in: set[str], findings: Mapping[str, list[dict[str, Any]]] | None
              ) -> tuple[list[dict[str, Any]], dict[int, list[str]]]:
        """The page's entries for ``pods`` (with their lint findings unless ``findings`` is None), and which of
        them each policy selects (by its index in the cluster's policies)."""
        policies = ir_of(self.result.cluster).policies
        chosen = self._selected(pods)  # pods alike share one tuple
        isolated_of: dict[int, dict[str, list[str]]] = {}
        selects_of: dict[int, list[str]] = {}
        out = []
        for pod in pods:
            picked = chosen[pod.key]
            isolated = isolated_of.get(id(picked))
            if isolated is None:
                isolating = [policies[i] for i in picked if policies[i].tier is Tier.NETWORK_POLICY]
                isolated = isolated_of[id(picked)] = {d.value: [p.ref.key for p in isolating if p.guarded(d)]
                                                      for d in (Direction.INGRESS, Direction.EGRESS)}
            for i in picked:
                selects_of.setdefault(i, []).append(pod.key)
            entry = {
                "key": pod.key, "namespace": pod.namespace, "name": pod.name, "kind": pod.kind,
                "labels": dict(pod.labels.items()), "annotations": dict(pod.annotations.items()),
                "file": _file(pod.source), "line": _line(pod.source),
                "isolated": {d: bool(keys) for d, keys in isolated.items()},
                "policies": isolated, "internet": pod.key in internet_in,
            }
            if findings is not None:
                entry["findings"] = findings.get(f"{pod.kind} {pod.key}", [])
            out.append(entry)
        return out, selects_of

    def _selected(self, pods: Sequence[Pod]) -> dict[str, tuple[int, ...]]:
        """Which policies (every tier; indices in the cluster's order) pick each pod as a subject. Pods alike
        in namespace, labels and whether policies can select them are picked alike: each such group is matched
        once (replicas share), and its pods share one tuple."""
        cluster, settings = self.result.cluster, self.settings
        policies = ir_of(cluster).policies
        groups: dict[Any, list[Pod]] = {}
        for pod in pods:
            key = (pod.namespace, tuple(sorted(pod.labels.items())), pod.is_pod_endpoint(settings))
            groups.setdefault(key, []).append(pod)
        candidates: dict[str | None, list[int]] = {}  # a namespaced policy selects pods of its namespace only
        for i, p in enumerate(policies):
            candidates.setdefault(p.ref.namespace, []).append(i)
        everywhere = candidates.get(None, [])
        out: dict[str, tuple[int, ...]] = {}
        for (namespace, _, _), members in groups.items():
            mine = sorted(candidates.get(namespace, []) + everywhere) if everywhere else candidates.get(namespace, [])
            picked = tuple(i for i in mine if selects(policies[i], members[0], cluster, settings))
            for pod in members:
                out[pod.key] = picked
        return out

    def _policy(self, p: IRPolicy, selected: list[str], findings: Mapping[str, list[dict[str, Any]]]
                ) -> dict[str, Any]:
        model = self._model_policy(p)
        source = getattr(model, "source", None)
        return {
            "key": p.ref.key, "kind": p.ref.kind, "namespace": p.ref.namespace, "name": p.ref.name,
            "tier": p.tier.name.lower(), "file": _file(source), "line": _line(source),
            "types": sorted(d.value for d in p.guards),
            "selects": selected,
            "rules": [_rule_words(r) for r in (*p.ingress, *p.egress)],
            "findings": findings.get(f"{p.ref.kind} {p.ref.key}", []),
        }

    def _model_policy(self, p: IRPolicy) -> Any:
        """The policy object ``p`` was made from (its source), found by kind, namespace and name."""
        def index() -> dict[tuple[str, str | None, str], Any]:
            cluster = self.result.cluster
            found: dict[tuple[str, str | None, str], Any] = {}
            for q in (*cluster.policies, *cluster.cluster_policies):
                found.setdefault((getattr(q, "kind", "NetworkPolicy"), getattr(q, "namespace", None), q.name), q)
            return found
        return self._once("model-policies", index).get((p.ref.kind, p.ref.namespace, p.ref.name))


def _said(stop: Stop) -> str:
    """A stopped use case's lines, without the command line's lead, its fields named as the page names
    them (``port``, not ``--port``)."""
    return "; ".join(_FLAG.sub(r"\1", line.removeprefix("podfence: error: ")) for line in stop.lines())


def apply_answer(done: ClusterApply) -> dict[str, Any]:
    """``POST /api/apply``'s answer: the dry run's outcome, what was written, one line for a person, the refusal."""
    applied = [{"kind": a.kind, "key": a.key, "action": a.action} for a in done.applied]
    written = ", ".join(f"{a.kind} {a.key} {a.action}" for a in done.applied)
    refused = done.refused
    if refused is None:
        message = f"dry-run passed, applied to context {done.context}: {written}"
    elif not done.dry_run_passed:
        message = f"dry-run refused, nothing applied: {refused.message}"
    else:
        message = (f"dry-run passed, but the apply failed: {refused.message}"
                   + (f"; applied before it: {written}" if written else "; nothing applied"))
    return {
        "context": done.context,
        "dry_run": "ok" if done.dry_run_passed else "refused",
        "applied": applied,
        "message": message,
        "refused": None if refused is None else {"kind": refused.kind, "key": refused.key, "line": refused.line,
                                                 "message": refused.message},
    }


def _open_to_all(counts: Mapping[tuple[str, str], int], populated: set[str]) -> tuple[list[str], list[str]]:
    """Namespaces that every other namespace with workloads reaches, and those that reach every other one
    (with three namespaces or more: below that, "every other" is one pair)."""
    if len(populated) < 3:
        return [], []
    into: dict[str, int] = {}
    out: dict[str, int] = {}
    for a, b in counts:
        if a != b and a.startswith("ns:") and b.startswith("ns:"):
            into[b] = into.get(b, 0) + 1
            out[a] = out.get(a, 0) + 1
    others = len(populated) - 1
    return (sorted(n.removeprefix("ns:") for n, k in into.items() if k == others),
            sorted(n.removeprefix("ns:") for n, k in out.items() if k == others))


def _outside_node(outside: dict[str, dict[str, Any]], block: Any) -> dict[str, Any]:
    """The map's node for an address range outside the pods (kept in ``outside`` by its words): its id,
    name, whether it holds public addresses (the internet), and an address in it to ask about."""
    name = block_text(block)
    node = outside.get(name)
    if node is None:
        node = outside[name] = {"id": "out:" + name, "name": name,
                                "internet": bool(block & PUBLIC_V4) or bool(block & PUBLIC_V6),
                                "address": _first_address(block)}
    return node


def _address_edge(pod: str, node: str, direction: Direction, conns: Any) -> dict[str, Any]:
    """An edge between a pod and an outside range: from the pod on egress, to it on ingress."""
    ends = {"src": pod, "dst": node} if direction is Direction.EGRESS else {"src": node, "dst": pod}
    return {**ends, "label": conns_text(conns), "probe": _probe(conns)}


def _probe(conns: Any) -> dict[str, Any] | None:
    """One connection of an edge to explain: its first protocol and port (None: every protocol and port)."""
    data = conns_json(conns)
    if not isinstance(data, dict) or not data:
        return None
    protocol, ranges = next(iter(data.items()))
    return {"protocol": protocol, "port": ranges[0][0]} if ranges else None


def _first_address(block: Any) -> str | None:
    """An address inside ``block``, to ask the engine about (None when it holds none)."""
    cidrs = block.cidrs()
    return cidrs[0].split("/")[0] if cidrs else None


def _rule_words(rule: Any) -> dict[str, Any]:
    side = "from" if rule.direction is Direction.INGRESS else "to"
    peers = "; ".join(_peer_words(peer) for peer in rule.peers) if rule.peers else "everyone"
    ports = ", ".join(str(e) for e in rule.ports.entries) if rule.ports.entries else "every port"
    return {"direction": rule.direction.value, "index": rule.index, "action": rule.action.name.lower(),
            "field": f"spec.{rule.direction.value}[{rule.index}]",
            "text": f"{rule.action.name.lower()} {side} {peers} on {ports}"}


def _peer_words(peer: Any) -> str:
    if isinstance(peer, SelectorPeer):
        return str(peer)
    if isinstance(peer, AddressPeer):
        return peer.written or block_text(peer.addresses)
    return str(peer)


def _file(origin: Origin | None) -> str | None:
    return None if origin is None else origin.file


def _line(origin: Origin | None) -> int | None:
    return None if origin is None else origin.line


def narrow_lines(findings: list[Finding], documents: Mapping[Origin, Any]) -> list[Finding]:
    """Findings at the line of their field, in the manifests the loader kept (as ``podfence lint``)."""
    out = []
    for f in findings:
        line, origin = f.line, f.ref.origin
        if origin is not None and line is not None and f.field:
            doc = documents.get(origin)
            line = locate(doc, f.field) if isinstance(doc, LineDict) else line
        out.append(f.located(line=line))
    return sorted(out, key=Finding.sort_key)


def one_port(port: str, protocol: str | None) -> PortSpec:
    """``port`` and ``protocol`` of a question about one port, read as the commands read them."""
    if not port:
        raise Refused("port: give a number, a port name or N/PROTO")
    return answered(lambda: app_one_port(port, [protocol] if protocol else []))


T = TypeVar("T")
_FLAG = re.compile(r"(?<![\w-])--(from|to|port|protocol)\b")


def answered(question: Callable[[], T]) -> T:
    """The answer of an app use case; what stops it is :class:`Refused`, in the page's words."""
    try:
        return question()
    except Stop as e:
        raise Refused(_said(e)) from None
