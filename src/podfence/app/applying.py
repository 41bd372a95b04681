"""Applying edited NetworkPolicies to a live cluster: every object's server-side dry run first, then the writes.

:func:`apply_policy` is what the web UI's Apply does. The text must be valid
NetworkPolicy documents (checked as Save checks them; any other kind is refused).
Each object is sent to the API server as a server-side apply with ``dryRun=All``,
all of them before any real write: the server validates and admits each (its
admission webhooks included) and stores nothing. When one dry run is refused,
nothing is written and the answer names that object and the server's message.
Only when every dry run passed are the objects applied for real, in the text's
order; each is reported created or configured.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import yaml

from podfence.app.editing import document_spans
from podfence.app.errors import Stop, stop_on_errors
from podfence.app.options import Listener, Live, Options, prepare
from podfence.loader import load_texts
from podfence.model.words import plural
from podfence.sources.writes import ClusterWriter, WriteRefused

POSTED = "-"  # the name the text's problems are reported under, as for a manifest on standard input


@dataclass(frozen=True, slots=True)
class AppliedObject:
    """One object written for real: created (it did not exist) or configured (it was changed)."""

    kind: str
    namespace: str
    name: str
    created: bool

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"

    @property
    def action(self) -> str:
        return "created" if self.created else "configured"


@dataclass(frozen=True, slots=True)
class Refusal:
    """The write the API server refused: the object, its line in the text, the server's answer (one line)."""

    kind: str
    namespace: str
    name: str
    line: int | None
    message: str

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"


@dataclass(frozen=True, slots=True)
class ClusterApply:
    """How an apply went in ``context``: whether every dry run passed, what was written, and any refusal.

    ``dry_run_passed`` False: ``refused`` is the dry run that failed and nothing was written. True with a
    refusal: a real write failed after every dry run had passed; ``applied`` holds the writes before it.
    """

    context: str
    dry_run_passed: bool
    applied: tuple[AppliedObject, ...] = ()
    refused: Refusal | None = None

    @property
    def complete(self) -> bool:
        return self.refused is None


def policy_manifest(doc: Any, namespace: str, name: str) -> dict[str, Any]:
    """The NetworkPolicy as written, with its namespace filled in and nothing the server keeps for itself
    (no status, resourceVersion, uid or managed fields: a server-side apply sends only what its manager owns)."""
    plain = json.loads(json.dumps(doc)) if isinstance(doc, dict) else {}
    meta = {"name": name, "namespace": namespace}
    given = plain.get("metadata") or {}
    for key in ("labels", "annotations"):
        if given.get(key):
            meta[key] = given[key]
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": meta,
            "spec": plain.get("spec") or {}}


def apply_policy(options: Options, context: str, text: str, listener: Listener | None = None) -> ClusterApply:
    """Apply the NetworkPolicies of ``text`` to the live cluster of ``context``: dry-run each, then write each.

    Objects that name no namespace go to ``options.namespace``, as the editor validated them; a policy given
    twice is applied as its later document (the loader's rule, and the state ``kubectl apply`` would leave).
    Invalid text, or a kind other than NetworkPolicy, stops (exit 2) before anything is sent.
    """
    run = prepare(options, listener)
    result = load_texts([(POSTED, text)], default_namespace=options.namespace, settings=run.settings,
                        budget=run.budget, keep_documents=True)
    stop_on_errors(result.diagnostics)
    _only_network_policies(text)
    policies = result.cluster.policies
    if not policies:
        raise Stop("no NetworkPolicy to apply: the text holds no document")
    manifests = [(p, policy_manifest(result.documents.get(p.source) if p.source is not None else None,
                                     p.namespace, p.name)) for p in policies]
    live = options.live or Live()
    try:
        writer = ClusterWriter(live.kubeconfig, context, live.timeout)
    except WriteRefused as e:
        raise Stop(str(e)) from None
    count = plural(len(manifests), "NetworkPolicy", "NetworkPolicies")
    try:
        with run.busy(f"context {context}: server-side dry run of {count}"):
            for p, manifest in manifests:
                try:
                    writer.dry_run_apply(manifest)
                except WriteRefused as e:
                    return ClusterApply(context, False, (),
                                        Refusal("NetworkPolicy", p.namespace, p.name, _line(p), str(e)))
        applied: list[AppliedObject] = []
        with run.busy(f"context {context}: applying {count}"):
            for p, manifest in manifests:
                try:
                    created = writer.apply_checked(manifest)
                except WriteRefused as e:
                    return ClusterApply(context, True, tuple(applied),
                                        Refusal("NetworkPolicy", p.namespace, p.name, _line(p), str(e)))
                applied.append(AppliedObject("NetworkPolicy", p.namespace, p.name, created))
        return ClusterApply(context, True, tuple(applied))
    finally:
        writer.close()


def _only_network_policies(text: str) -> None:
    """Stop at the first document that is not a NetworkPolicy (its line and kind named)."""
    for _, _, node in document_spans(text):
        kind = None
        if isinstance(node, yaml.MappingNode):
            kind = next((v.value for k, v in node.value
                         if isinstance(k, yaml.ScalarNode) and k.value == "kind" and isinstance(v, yaml.ScalarNode)),
                        None)
        if kind != "NetworkPolicy":
            raise Stop(f"{POSTED}:{node.start_mark.line + 1}: {kind or 'a document without a kind'}: only "
                       "NetworkPolicy documents are applied to the cluster")


def _line(policy: Any) -> int | None:
    source = getattr(policy, "source", None)
    return getattr(source, "line", None)


__all__ = ["AppliedObject", "ClusterApply", "Refusal", "apply_policy", "policy_manifest"]
