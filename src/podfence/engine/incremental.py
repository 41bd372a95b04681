"""Incremental evaluation: edit one policy or one object's labels, re-evaluate only what it touches.

A :class:`Session` holds a cluster and its connectivity. Each edit (add, replace or
remove a NetworkPolicy; relabel a pod or a namespace) returns a :class:`Change`: the
new :class:`~podfence.engine.connectivity.Connectivity` (the same view
``Engine(cluster, settings).connectivity()`` gives, so every renderer takes it) and
which pods' traffic the edit can have changed.

Why it is cheap. A policy only judges traffic leaving (egress) or entering (ingress)
the pods it selects, and a pod's labels only matter to the policies that select it
or name it as a peer, that is to traffic from or to that pod. So the edit keeps:

* the IR translation of every other policy, what each ports list admits, the label
  tables, the subject vector of every other policy and every selector's matches
  (:class:`~podfence.engine.compiled.CompiledCluster` with a ``previous``);
* the port atoms, unless the edit brings a port boundary they do not have;
* per address family, the row of every profile (set of isolating policies) made of
  untouched policies, at every class holding an untouched pod, and the result of
  every class pair whose source and destination rows are both kept.

What is computed again: the classes (one numpy refinement), the rows of new
profiles, the columns of classes that only hold relabelled pods, and the class pairs
with a new source or destination row. When the edit brings new port atoms or
changes which named ports matter, the compiled rules are still reused but every
row is computed again.

The session is pure: no files, no clock. Each :class:`Change` keeps the views before
and after the edit; earlier views stay valid (nothing is changed in place).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Mapping

import numpy as np

from podfence.engine.connectivity import Connectivity
from podfence.model import (
    DEFAULT_SETTINGS, NAMESPACE_NAME_LABEL, Cluster, Direction, Labels, Namespace, NetworkPolicy, Pod, Settings,
)


class EditError(ValueError):
    """An edit that does not fit the cluster (an unknown key, a policy that already exists)."""


@dataclass(frozen=True, slots=True)
class Change:
    """The result of one edit.

    ``sources`` are the pods whose outgoing traffic (to pods and to address ranges)
    the edit may have changed, ``destinations`` those whose incoming traffic it may
    have changed; every other pod pair is the same before and after, by construction.
    :meth:`changed_pairs` says which pairs really changed.
    """

    connectivity: Connectivity
    previous: Connectivity
    sources: tuple[str, ...]
    destinations: tuple[str, ...]

    def changed_pairs(self) -> tuple[tuple[str, str], ...]:
        """The (source, destination) pod pairs whose allowed connections differ, sorted."""
        before, after = self.previous, self.connectivity
        pods = after._cc.pods
        index = after._index
        rows = np.array(sorted(index[k] for k in self.sources), dtype=np.int64)
        cols = np.array(sorted(index[k] for k in self.destinations), dtype=np.int64)
        every = np.arange(len(pods), dtype=np.int64)
        src = np.concatenate([np.repeat(rows, len(pods)), np.tile(every, len(cols))])
        dst = np.concatenate([np.tile(every, len(rows)), np.repeat(cols, len(pods))])
        old, new = _pair_masks(before, src, dst), _pair_masks(after, src, dst)
        if before.atoms is after.atoms:
            differ = (old != new).any(axis=1)
        else:
            old_sets, new_sets = _decoded(before, old), _decoded(after, new)
            differ = np.fromiter((a != b for a, b in zip(old_sets, new_sets)), dtype=bool, count=len(src))
        # Pairs decided one by one (self traffic, a pod and its own node) are compared as such.
        forced = set(before._overrides) | set(after._overrides)
        out = {(pods[a].key, pods[b].key) for a, b in zip(src[differ].tolist(), dst[differ].tolist())
               if (a, b) not in forced}
        out |= {(pods[a].key, pods[b].key) for a, b in forced
                if before.between(pods[a].key, pods[b].key) != after.between(pods[a].key, pods[b].key)}
        return tuple(sorted(out))


class Session:
    """A cluster under edit, with its connectivity kept up to date edit by edit.

    >>> from podfence.model import Cluster, NetworkPolicy, Pod
    >>> session = Session(Cluster.of(pods=[Pod("a", "x"), Pod("a", "y")]))
    >>> deny = NetworkPolicy.from_dict({"metadata": {"name": "deny", "namespace": "a"},
    ...                                 "spec": {"podSelector": {}, "policyTypes": ["Ingress"]}})
    >>> change = session.add_policy(deny)
    >>> change.changed_pairs()
    (('a/x', 'a/y'), ('a/y', 'a/x'))
    >>> change.connectivity.between("a/x", "a/y").is_empty()
    True
    """

    def __init__(self, cluster: Cluster, settings: Settings = DEFAULT_SETTINGS,
                 families: tuple[int, ...] | None = None) -> None:
        self._connectivity = Connectivity(cluster, settings, families, editable=True)

    @property
    def cluster(self) -> Cluster:
        """The cluster as edited so far."""
        return self._connectivity.cluster

    @property
    def settings(self) -> Settings:
        return self._connectivity.settings

    @property
    def connectivity(self) -> Connectivity:
        """The connectivity of :attr:`cluster`."""
        return self._connectivity

    def add_policy(self, policy: NetworkPolicy) -> Change:
        """Add a policy; one of the same ``namespace/name`` must not exist yet."""
        if self.cluster.policy(policy.key) is not None:
            raise EditError(f"policy {policy.key} already exists; replace it instead")
        return self._policy_edit(None, policy)

    def replace_policy(self, policy: NetworkPolicy) -> Change:
        """Replace the policy of the same ``namespace/name``."""
        old = self.cluster.policy(policy.key)
        if old is None:
            raise EditError(f"no policy named {policy.key}")
        return self._policy_edit(old, policy)

    def remove_policy(self, key: str) -> Change:
        """Remove the policy ``namespace/name``."""
        old = self.cluster.policy(key)
        if old is None:
            raise EditError(f"no policy named {key}")
        return self._policy_edit(old, None)

    def relabel(self, kind: str, key: str, labels: Mapping[str, str]) -> Change:
        """Give a pod (``kind`` "Pod", ``key`` ``namespace/name``; a workload's pods too) or a
        namespace (``kind`` "Namespace", ``key`` its name) new labels, replacing all of its
        labels. A namespace keeps its automatic ``kubernetes.io/metadata.name`` label."""
        cluster = self.cluster
        match kind.lower():
            case "pod":
                pod = cluster.pod(key)
                if pod is None:
                    raise EditError(f"no pod or workload named {key}")
                pods = tuple(replace(p, labels=Labels(labels)) if p is pod else p for p in cluster.pods)
                edited = _same_rest(cluster, cluster.namespaces, pods, cluster.policies)
                moved = lambda p: p.key == key  # noqa: E731
            case "namespace":
                ns = cluster.namespace(key)
                if ns is None:
                    raise EditError(f"no namespace named {key}")
                new_ns = replace(ns, labels=Labels(labels).with_label(NAMESPACE_NAME_LABEL, key))
                namespaces = tuple(new_ns if n is ns else n for n in cluster.namespaces)
                edited = _same_rest(cluster, namespaces, cluster.pods, cluster.policies)
                moved = lambda p: p.namespace == key  # noqa: E731
            case _:
                raise EditError(f"cannot relabel a {kind}: only a Pod or a Namespace")
        before = self._connectivity
        pods_taking_part = before._cc.pods
        touched = np.fromiter((moved(p) for p in pods_taking_part), dtype=bool, count=len(pods_taking_part))
        after = Connectivity.following(before, edited, touched)
        keys = tuple(sorted(p.key for p, t in zip(pods_taking_part, touched.tolist()) if t))
        return self._commit(before, after, keys, keys)

    def _policy_edit(self, old: NetworkPolicy | None, new: NetworkPolicy | None) -> Change:
        cluster = self.cluster
        policies = [p for p in cluster.policies if p is not old]
        namespaces = cluster.namespaces
        if new is not None:
            policies.append(new)
            policies.sort(key=lambda p: (p.namespace, p.name))
            if cluster.namespace(new.namespace) is None:
                namespaces = tuple(sorted((*namespaces, Namespace.of(new.namespace, declared=False)),
                                          key=lambda n: n.name))
        edited = _same_rest(cluster, namespaces, cluster.pods, tuple(policies))
        before = self._connectivity
        after = Connectivity.following(before, edited)
        sources, destinations = set(), set()
        for conn, policy in ((before, old), (after, new)):
            if policy is not None:
                s, d = _judged(conn, policy)
                sources |= s
                destinations |= d
        return self._commit(before, after, tuple(sorted(sources)), tuple(sorted(destinations)))

    def _commit(self, before: Connectivity, after: Connectivity, sources: tuple[str, ...],
                destinations: tuple[str, ...]) -> Change:
        self._connectivity = after
        return Change(after, before, sources, destinations)


def _judged(conn: Connectivity, policy: NetworkPolicy) -> tuple[set[str], set[str]]:
    """(pods whose egress, pods whose ingress) ``policy`` judges in ``conn``'s cluster."""
    cc = conn._cc
    pi = next(i for i, p in enumerate(conn.cluster.policies) if p is policy)
    selected = [cc.pods[i].key for i in np.flatnonzero(cc.subject[pi]).tolist()]
    out: tuple[set[str], set[str]] = (set(), set())
    for side, direction in zip(out, (Direction.EGRESS, Direction.INGRESS)):
        if (pi, direction) in cc.policy_rules:
            side.update(selected)
    return out


def _pair_masks(conn: Connectivity, src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """The allowed bit masks of pod pairs (indexes into the compiled pods), every pass ORed."""
    out = np.zeros((len(src), conn.atoms.words), dtype=np.uint64)
    for ps in conn._passes:
        s, d = ps.pod_class[src], ps.pod_class[dst]
        ok = (s >= 0) & (d >= 0)
        codes = s * max(ps.classes, 1) + d
        at = np.searchsorted(ps.codes, codes)
        at_ok = np.minimum(at, max(len(ps.codes) - 1, 0))
        hit = ok & (at < len(ps.codes))
        if len(ps.codes):
            hit &= ps.codes[at_ok] == codes
        out[hit] |= ps.masks[at_ok[hit]]
    return out


def _decoded(conn: Connectivity, masks: np.ndarray) -> list[object]:
    decode = conn.atoms.decode
    if not len(masks):
        return []
    uniq, inverse = np.unique(masks, axis=0, return_inverse=True)
    sets = [decode(m) for m in uniq]
    return [sets[i] for i in inverse.ravel().tolist()]


def _same_rest(cluster: Cluster, namespaces: tuple[Namespace, ...], pods: tuple[Pod, ...],
               policies: tuple[NetworkPolicy, ...]) -> Cluster:
    """``cluster`` with new namespaces, pods or NetworkPolicies; everything else kept."""
    return Cluster(namespaces, pods, cluster.services, policies, cluster.name, cluster.cluster_policies, cluster.nodes)
