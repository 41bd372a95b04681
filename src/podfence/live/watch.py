"""What each change of a live cluster does to connectivity: the use case behind ``podfence watch``.

:class:`LiveCluster` holds every object read (as the API gave it) and an
:class:`~podfence.engine.Session` on the cluster they make. :meth:`LiveCluster.apply`
takes a batch of what the watch saw and returns an :class:`Update`: the objects
that changed (the causes) and the changed pairs, in ``diff``'s change model.

Only what podfence reads counts. An object is compared on its plain manifest
(:func:`~podfence.sources.cluster.plain_manifest`) with the status cut to what the
analysis uses (a pod's phase and addresses, a node's addresses); a change outside
that (a pod's conditions, a node's heartbeat, a Deployment's status) is no cause and
yields no update.

How the batch is evaluated. When every cause is a NetworkPolicy added, replaced or
deleted, a Namespace relabelled, or a Pod of no controller relabelled, the session
edits the connectivity incrementally; otherwise (pods coming and going, services,
nodes, workloads, cluster policies, an object the loader refuses) the cluster is
built again from every object and evaluated afresh; when every cause is a Pod of
no controller, only those pods are loaded again, into the cluster as it stands. Either way the changes are the
difference between the connectivity before the batch and after it.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from podfence.diff import Change, ConnectivityDiff, diff_connectivity, range_changes
from podfence.engine import Change as Edit
from podfence.engine import Connectivity, EditError, Session, endpoint_sort_key
from podfence.loader import LoadResult, load_objects
from podfence.model import DEFAULT_SETTINGS, Cluster, ClusterOrigin, Diagnostic, Direction, NetworkPolicy, Settings
from podfence.sources.cluster import READ, ClusterObjects, plain_manifest
from podfence.sources.watch import Event, Notice, Relisted, Stopped, Watching

Key = tuple[str, str, str]  # kind, namespace ("" when cluster-scoped), name
_ORDER = {listed.kind: i for i, listed in enumerate(READ)}
_KEPT_STATUS = {"Pod": ("phase", "podIP", "podIPs", "hostIP", "hostIPs"), "Node": ("addresses",)}
_EVENT_WORDS = {"ADDED": "added", "MODIFIED": "modified", "DELETED": "deleted"}


@dataclass(frozen=True, slots=True)
class Cause:
    """One object whose change podfence reads: ``event`` is ``added``, ``modified`` or ``deleted``."""

    kind: str
    namespace: str
    name: str
    event: str


@dataclass(frozen=True, slots=True)
class Update:
    """What one batch of changes did: its causes, the changed pairs, and whether the session was edited."""

    cluster: str
    causes: tuple[Cause, ...]
    diff: ConnectivityDiff
    incremental: bool


def what_podfence_reads(doc: dict[str, Any]) -> dict[str, Any]:
    """``doc`` cut to what the analysis reads: its plain manifest, the status only where it matters."""
    out = plain_manifest(doc)
    status = out.pop("status", None)
    kept = _KEPT_STATUS.get(str(out.get("kind")))
    if kept and isinstance(status, dict):
        out["status"] = {k: status[k] for k in kept if k in status}
    return out


def _key(doc: dict[str, Any]) -> Key:
    meta = doc.get("metadata") if isinstance(doc.get("metadata"), dict) else {}
    return (str(doc.get("kind", "")), str(meta.get("namespace") or ""), str(meta.get("name") or ""))


def _labels(doc: dict[str, Any]) -> dict[str, str]:
    labels = (doc.get("metadata") or {}).get("labels")
    return {str(k): str(v) for k, v in labels.items()} if isinstance(labels, dict) else {}


def _without_labels(doc: dict[str, Any] | None) -> Any:
    if doc is None:
        return None
    meta = {k: v for k, v in (doc.get("metadata") or {}).items() if k != "labels"}
    return {**doc, "metadata": meta}


class LiveCluster:
    """Every object of a live cluster, and the session evaluating them; edited batch by batch."""

    def __init__(self, objects: ClusterObjects, settings: Settings = DEFAULT_SETTINGS) -> None:
        self.context = objects.context
        self.settings = settings
        self._docs: dict[Key, dict[str, Any]] = {}
        self._read: dict[Key, dict[str, Any]] = {}
        for doc in objects.documents:
            key = _key(doc)
            self._docs[key], self._read[key] = doc, what_podfence_reads(doc)
        self.loaded = self._load()
        self.session = Session(self.loaded.cluster, settings)

    @property
    def connectivity(self) -> Connectivity:
        return self.session.connectivity

    def _load(self) -> LoadResult:
        documents = [self._docs[k] for k in sorted(self._docs, key=lambda k: (_ORDER.get(k[0], len(_ORDER)), k))]
        return load_objects(ClusterOrigin(self.context), documents, settings=self.settings, name=self.context)

    def apply(self, batch: Iterable[Event | Relisted]) -> Update | None:
        """Take in what the watch saw; None when nothing podfence reads changed."""
        causes: list[Cause] = []
        edits: list[tuple[str, str, dict[str, Any] | None, dict[str, Any] | None]] = []
        for kind, event, obj in self._events(batch):
            key = _key(obj)
            before = self._read.get(key)
            after = None if event == "DELETED" else what_podfence_reads(obj)
            if after is None:
                self._docs.pop(key, None)
                self._read.pop(key, None)
            else:
                self._docs[key], self._read[key] = obj, after
            if before == after:
                continue
            word = "added" if before is None else "deleted" if after is None else "modified"
            causes.append(Cause(kind, key[1], key[2], word))
            edits.append((kind, word, before, after))
        if not causes:
            return None
        before_conn = self.session.connectivity
        done = self._edit(edits)
        if done is None:
            self.loaded = self._reloaded(edits) or self._load()
            self.session = Session(self.loaded.cluster, self.settings, before_conn.range_families or None)
        after_conn = self.session.connectivity
        if before_conn.range_families != after_conn.range_families:
            families = tuple(sorted({*before_conn.range_families, *after_conn.range_families}))
            before_conn = Connectivity(before_conn.cluster, self.settings, families)
            after_conn = Connectivity(after_conn.cluster, self.settings, families)
            done = None
        found = diff_connectivity(before_conn, after_conn) if done is None else _edited(before_conn, after_conn, done)
        return Update(self.context, tuple(causes), found, done is not None)

    def _reloaded(self, edits: Sequence[tuple[str, str, dict[str, Any] | None, dict[str, Any] | None]],
                  ) -> LoadResult | None:
        """The load after a batch of bare Pods added, changed or deleted, without reading every object again:
        the loaded cluster with those pods loaded on their own. None when the batch needs the whole loader
        (another kind, a pod with an owner, which folds into its workload, a name a workload's representative
        shares, a pod the loader has something to say about)."""
        if not edits or any(kind != "Pod" for kind, *_ in edits):
            return None
        cluster = self.session.cluster  # the loaded cluster as the incremental edits since left it
        pods = {p.key: p for p in cluster.pods}
        for _, _, before, after in edits:
            for doc in (before, after):
                if doc is not None and (doc.get("metadata") or {}).get("ownerReferences"):
                    return None
            key = _key(after or before or {})
            if any(p.namespace == key[1] and p.kind != "Pod" and (p.name == key[2] or p.name.startswith(f"{key[2]}-"))
                   for p in cluster.pods):
                return None
            pods.pop(f"{key[1] or 'default'}/{key[2]}", None)
            if after is not None:
                alone = load_objects(ClusterOrigin(self.context), [after], settings=self.settings, name=self.context)
                if alone.diagnostics or alone.notes:
                    return None
                pods.update((p.key, p) for p in alone.cluster.pods)
        rebuilt = Cluster.of([n for n in cluster.namespaces if n.declared], pods.values(), cluster.services,
                             cluster.policies, name=cluster.name, cluster_policies=cluster.cluster_policies,
                             nodes=cluster.nodes, staged=cluster.staged)
        return replace(self.loaded, cluster=rebuilt)

    def _events(self, batch: Iterable[Event | Relisted]) -> Iterable[tuple[str, str, dict[str, Any]]]:
        """(kind, ADDED/MODIFIED/DELETED, object) of each change; a re-list as the changes it implies."""
        for happening in batch:
            if isinstance(happening, Event):
                yield happening.listed.kind, happening.type, happening.object
                continue
            kind = happening.listed.kind
            now = {_key(doc): doc for doc in happening.objects}
            for key in sorted(k for k in self._docs if k[0] == kind and k not in now):
                yield kind, "DELETED", self._docs[key]
            for key, doc in now.items():
                yield kind, "MODIFIED" if key in self._docs else "ADDED", doc

    def _edit(self, edits: Sequence[tuple[str, str, dict[str, Any] | None, dict[str, Any] | None]],
              ) -> list[Edit] | None:
        """Apply the batch to the session when every edit allows it: the session's changes (None: evaluate afresh)."""
        plan: list[Callable[[], Edit]] = []
        cluster = self.session.cluster
        for kind, word, before, after in edits:
            if kind == "NetworkPolicy":
                if after is None:
                    key = f"{before['metadata'].get('namespace') or 'default'}/{before['metadata']['name']}" \
                        if before else ""
                    plan.append(lambda key=key: self.session.remove_policy(key))
                    continue
                policy = self._policy(after)
                if policy is None:
                    return None
                plan.append(lambda p=policy: self.session.replace_policy(p) if self.session.cluster.policy(p.key)
                            else self.session.add_policy(p))
            elif kind in ("Namespace", "Pod") and word == "modified" and \
                    _without_labels(before) == _without_labels(after) and after is not None:
                name = after["metadata"]["name"]
                if kind == "Namespace":
                    if cluster.namespace(name) is None:
                        return None
                    plan.append(lambda name=name, labels=_labels(after): self.session.relabel("Namespace", name,
                                                                                               labels))
                else:
                    key = f"{after['metadata'].get('namespace') or 'default'}/{name}"
                    pod = cluster.pod(key)
                    if pod is None or pod.owner is not None or after["metadata"].get("ownerReferences"):
                        return None
                    plan.append(lambda key=key, labels=_labels(after): self.session.relabel("Pod", key, labels))
            else:
                return None
        start = self.session
        try:
            return [step() for step in plan]  # type: ignore[misc]
        except EditError:
            self.session = start
            return None

    def _policy(self, doc: dict[str, Any]) -> NetworkPolicy | None:
        """The policy ``doc`` holds, as the loader reads it; None when the loader refuses it."""
        result = load_objects(ClusterOrigin(self.context), [doc], settings=self.settings, name=self.context)
        if not result.ok or len(result.cluster.policies) != 1:
            return None
        return result.cluster.policies[0]


def _edited(before: Connectivity, after: Connectivity, edits: Sequence[Edit]) -> ConnectivityDiff:
    """``diff_connectivity(before, after)``, looking only where the session's edits can have changed anything:
    the pod pairs they changed, and the address ranges of the pods whose egress or ingress they touched."""
    pairs = {pair for edit in edits for pair in edit.changed_pairs()}
    changes = []
    for src, dst in pairs:
        old, new = before.between(src, dst), after.between(src, dst)
        if old != new:
            changes.append(Change(src, dst, new - old, old - new))
    for direction, pods in ((Direction.EGRESS, {p for e in edits for p in e.sources}),
                            (Direction.INGRESS, {p for e in edits for p in e.destinations})):
        for pod in pods:
            for cidr, added, removed in range_changes(before.address_ranges(pod, direction),
                                                      after.address_ranges(pod, direction)):
                ends = (pod, cidr) if direction is Direction.EGRESS else (cidr, pod)
                changes.append(Change(*ends, added, removed))
    changes.sort(key=lambda c: (endpoint_sort_key(c.src), endpoint_sort_key(c.dst)))
    return ConnectivityDiff(tuple(changes))


def follow(watching: Watching, live: LiveCluster, emit: Callable[[Update], None], say: Callable[[str], None], *,
           debounce: float = 0.2, stopping: threading.Event | None = None) -> Diagnostic | None:
    """Turn what ``watching`` sees into updates until ``stopping`` is set (None) or the watch fails (its problem).

    Changes are gathered for ``debounce`` seconds after the first one, then evaluated
    together: a ``kubectl apply`` of several objects is one update.
    """
    stopping = stopping or threading.Event()
    said = ""
    while not stopping.is_set():
        try:
            first = watching.events.get(timeout=0.25)
        except queue.Empty:
            continue
        batch = [first]
        deadline = time.monotonic() + debounce
        while (left := deadline - time.monotonic()) > 0:
            try:
                batch.append(watching.events.get(timeout=left))
            except queue.Empty:
                break
        changes: list[Event | Relisted] = []
        for happening in batch:
            if isinstance(happening, Stopped):
                return happening.problem
            if isinstance(happening, Notice):
                if happening.message != said:
                    say(happening.message)
                    said = happening.message
            else:
                changes.append(happening)
        update = live.apply(changes) if changes else None
        if update is not None:
            emit(update)
    return None
