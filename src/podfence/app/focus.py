"""Narrowing an answer to some sources and destinations: ``--from`` / ``--to``.

``matrix`` and ``connectivity`` take any number of each, in podfence's one
endpoint grammar (:mod:`podfence.model.endpoints`), plus ``ns/*``:

* ``ns/name``: that pod, else the pods of that workload, else the backends of
  that Service; ``name`` alone is in ``-n``'s namespace;
* ``svc/ns/name``: the Service's backend pods;
* ``ns/*``: every pod of the namespace;
* an IP address: the pod that owns it, else (connectivity) that outside address;
* a CIDR: the pods whose addresses lie in it and (connectivity) the outside
  address ranges that meet it.

Several values on one side add up. A name that denotes nothing stops the run
(exit 2) with the close names.
"""

from __future__ import annotations

from typing import Iterable, Sequence

from podfence.app.errors import Stop
from podfence.model import Cluster, Pod
from podfence.model.endpoints import (
    AddressName, Chosen, Focus, NamespaceName, PodName, ServiceName, did_you_mean, parse_endpoint,
)
from podfence.sets import IPSet


def focus(cluster: Cluster, pods: Sequence[Pod], namespace: str, sources: Iterable[str],
          destinations: Iterable[str], *, addresses: bool) -> Focus | None:
    """The :class:`Focus` of ``--from`` (``sources``) and ``--to`` (``destinations``); None when neither is given.

    ``pods`` are those the answer is about (those that take part in traffic);
    ``addresses``: whether outside addresses may be chosen (a matrix has pods only).
    Every unknown name of both flags is reported at once.
    """
    sources, destinations = tuple(sources), tuple(destinations)
    if not sources and not destinations:
        return None
    problems: list[str] = []
    src = _side(cluster, pods, namespace, "--from", sources, addresses, problems) if sources else None
    dst = _side(cluster, pods, namespace, "--to", destinations, addresses, problems) if destinations else None
    if problems:
        raise Stop("; ".join(problems))
    return Focus(src, dst)


def _side(cluster: Cluster, pods: Sequence[Pod], namespace: str, flag: str, texts: tuple[str, ...],
          addresses: bool, problems: list[str]) -> Chosen:
    keys: set[str] = set()
    outside = IPSet()
    known = [p.key for p in pods]
    for text in texts:
        parsed = parse_endpoint(text, namespace, wildcard=True)
        found: set[str] = set()
        match parsed:
            case str():
                problems.append(f"{flag}: {parsed}")
                continue
            case NamespaceName(namespace=ns):
                found = {p.key for p in pods if p.namespace == ns}
                if not found:
                    namespaces = sorted({p.namespace for p in pods})
                    problems.append(f"{flag} {text}: no pod in namespace {ns}{did_you_mean(ns, namespaces)}")
                    continue
            case ServiceName(key=key):
                svc = cluster.service(key)
                if svc is None:
                    services = [s.key for s in cluster.services]
                    problems.append(f"{flag} {text}: no service named {key}{did_you_mean(key, services)}")
                    continue
                found = {p.key for p in pods if svc.selects(p)}
                if not found:
                    problems.append(f"{flag} {text}: service {key} selects no running pod")
                    continue
            case PodName(key=key, namespace=ns, name=name):
                found = _named(cluster, pods, key, ns, name)
                if not found:
                    gone = cluster.pod(key)
                    if gone is not None:
                        problems.append(f"{flag} {text}: pod {key} is in phase {gone.phase}: "
                                        "finished pods take no part in traffic")
                    else:
                        services = [s.key for s in cluster.services]
                        problems.append(f"{flag} {text}: no pod, workload or service named {key}"
                                        f"{did_you_mean(text, known + services)}")
                    continue
            case AddressName(text=shown, addresses=block, single=single):
                found = {p.key for p in pods if any(ip in block for ip in p.ips)}
                if not addresses and not found:
                    what = "no pod has the address" if single else "no pod has an address in"
                    problems.append(f"{flag} {text}: {what} {shown}; a matrix is between pods")
                    continue
                if addresses and not (single and found):  # an IP owned by a pod names that pod
                    outside = outside | block
        keys |= found
    return Chosen(frozenset(keys), outside)


def _named(cluster: Cluster, pods: Sequence[Pod], key: str, namespace: str, name: str) -> set[str]:
    """``ns/name``: the pod, else the pods of that workload, else the Service's backends."""
    if any(p.key == key for p in pods):
        return {key}
    found = {p.key for p in pods if p.namespace == namespace and p.workload is not None and p.workload[1] == name}
    if found:
        return found
    svc = cluster.service(key)
    return {p.key for p in pods if svc.selects(p)} if svc is not None else set()


__all__ = ["focus"]
