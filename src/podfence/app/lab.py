"""The lab use cases: NetworkPolicies enforced on real packets, in network namespaces.

Each opens one :class:`~podfence.lab.control.LabSession` (root, nftables and the
name checked, the lab's lock held for the whole use case) and reads manifests with
the same options, configuration and settings as every other use case, so that
``lab matrix`` answers exactly what ``matrix`` answers. Lab errors stop the run
(exit 2) in one line.
"""

from __future__ import annotations

import time
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Mapping, Sequence

from podfence.app.errors import Stop, stop_on_errors
from podfence.app.focus import focus
from podfence.app.loading import load_cluster
from podfence.app.options import Listener, Options, Run, prepare, protocol_of
from podfence.engine import Matrix
from podfence.lab import control
from podfence.lab import state as lab_state
from podfence.lab.lock import DEFAULT_WAIT
from podfence.lab.naming import DEFAULT_LAB_NAME
from podfence.lab.plan import DEFAULT_POD_CIDR, LabPod, Unhostable, unhostable
from podfence.lab.probe import MIN_TIMEOUT, Outcome
from podfence.loader import LineDict, locate
from podfence.model.endpoints import ServiceName, parse_endpoint
from podfence.model import Cluster, Diagnostic, Labels, Origin, Pod, Settings
from podfence.sets import Protocol, parse_ip

Progress = Callable[[str], AbstractContextManager[tuple[Callable[[int], None], Callable[[int], None]]]]


def _no_progress(label: str) -> AbstractContextManager[tuple[Callable[[int], None], Callable[[int], None]]]:
    return nullcontext(((lambda total: None), (lambda n: None)))


@dataclass(frozen=True, slots=True)
class LabRun:
    """How to reach a lab: its name, how long to wait for it, and how to show progress."""

    name: str = DEFAULT_LAB_NAME
    wait: float = DEFAULT_WAIT
    progress: Progress = field(default=_no_progress)


@contextmanager
def session(lab: LabRun, listener: Listener, one_shot: bool = False) -> Iterator[control.LabSession]:
    """The lab held for the rest of the use case; lab errors stop the run in one line.

    A ``one_shot`` lab is removed again at the end (see :class:`~podfence.lab.control.LabSession`).
    """

    def waiting(pid: int | None) -> None:
        listener.say(f"waiting up to {lab.wait:g} s for lab {lab.name!r}: in use by "
                     f"{f'pid {pid}' if pid else 'another process'}")

    try:
        with control.LabSession(lab.name, wait=lab.wait, on_wait=waiting, one_shot=one_shot) as held:
            yield held
    except control.LabError as exc:
        raise Stop(str(exc)) from None
    except PermissionError as exc:
        raise Stop(f"podfence lab: {exc.strerror or exc} (run as root)") from None


def check_addresses(cluster: Cluster, settings: Settings, documents: Mapping[Origin, Any]) -> None:
    """Stop with one line per pod address the lab cannot host, before anything is made."""
    stop_on_errors(_placed(problem, documents) for problem in unhostable(cluster, settings))


def _placed(problem: Unhostable, documents: Mapping[Origin, Any]) -> Diagnostic:
    """The problem at its field (``status.podIP`` or ``status.podIPs[i].ip``) and that field's line."""
    source = problem.pod.source
    if source is None or source.file == "-":  # standard input keeps the pod's own line, as it always has
        return problem.diagnostic()
    obj = documents.get(source)
    if isinstance(obj, LineDict):
        for path in _address_fields(obj):
            if _address_at(obj, path) == problem.address:
                return problem.diagnostic(path, locate(obj, path))
    return problem.diagnostic()


def _address_fields(obj: LineDict) -> Iterator[tuple[str | int, ...]]:
    yield ("status", "podIP")
    status = obj.get("status")
    listed = status.get("podIPs") if isinstance(status, dict) else None
    for i in range(len(listed) if isinstance(listed, list) else 0):
        yield ("status", "podIPs", i, "ip")


def _address_at(obj: LineDict, path: tuple[str | int, ...]) -> object:
    node: object = obj
    for segment in path:
        if isinstance(segment, int):
            node = node[segment] if isinstance(node, list) and segment < len(node) else None
        else:
            node = node.get(segment) if isinstance(node, dict) else None
    return parse_ip(node) if isinstance(node, str) else None


def _up(run: Run, lab: LabRun, held: control.LabSession, cluster: Cluster, pod_cidr: str, ports: tuple[int, ...],
        manifests: tuple[str, ...]) -> control.UpResult:
    with lab.progress("lab up") as (total, advance):
        started = time.monotonic()
        result = held.up(cluster, run.settings, pod_cidr=pod_cidr, extra_ports=ports, manifests=manifests,
                         progress=advance, on_plan=total)
    for line in result.notes:
        run.say(f"note: {line}")
    if result.cleaned:
        run.say(f"cleaned a stale lab {held.name!r} ({len(result.cleaned)} network namespaces)")
    run.say(f"lab {held.name!r} is up: {len(result.state.pods)} pods in {time.monotonic() - started:.1f} s")
    return result


def _apply(run: Run, lab: LabRun, held: control.LabSession, cluster: Cluster) -> control.ApplyResult:
    with lab.progress("lab apply") as (total, advance):
        started = time.monotonic()
        result = held.apply(cluster, run.settings, progress=advance, on_plan=total)
    run.say(f"applied {len(cluster.policies)} NetworkPolicies: {result.isolated} of {result.pods} pods isolated, "
            f"{len(result.changed)} updated in {time.monotonic() - started:.1f} s")
    return result


# What each probe outcome means, for the legend under the counts.
OUTCOME_WORDS = {
    Outcome.CONNECTED: "the connection was answered",
    Outcome.REFUSED: "delivered, but nothing listens there (still counted as allowed)",
    Outcome.DROPPED: "no answer, twice: a policy dropped it",
    Outcome.BLOCKED: "the source's own egress rules refused to send it",
    Outcome.ERROR: "the probe failed for another reason (see the notes)",
}


def _probe(listener: Listener, lab: LabRun, held: control.LabSession, cells: list[tuple[Protocol, int]],
           timeout: float, sources: tuple[str, ...] = (), targets: tuple[str, ...] = (),
           protocols: tuple[Protocol, ...] = ()) -> control.ProbeRun:
    with lab.progress("lab probe") as (total, advance):
        started = time.monotonic()
        result = held.probe(cells, timeout=timeout, sources=sources, targets=targets, progress=advance,
                            on_plan=total, protocols=protocols)
    for line in result.notes:
        listener.say(f"note: {line}")
    counts = {o: 0 for o in Outcome}
    for r in result.results:
        counts[r.outcome] += 1
    summary = ", ".join(f"{n} {o.value}" for o, n in counts.items() if n)
    listener.say(f"{len(result.results)} probes in {time.monotonic() - started:.1f} s: {summary or 'none'}")
    for o, n in counts.items():
        if n:
            listener.say(f"  {o.value}: {OUTCOME_WORDS[o]}")
    return result


def up(options: Options, lab: LabRun, listener: Listener | None = None, *, pod_cidr: str = DEFAULT_POD_CIDR,
       ports: Sequence[int] = ()) -> Cluster:
    """Make a lab for the manifests: one network namespace per pod, echo servers on every port.

    Returns the cluster it hosts (its policies are not enforced until :func:`apply`).
    """
    run = prepare(options, listener)
    with session(lab, run.listener) as held:
        result = load_cluster(run, keep_documents=True)
        check_addresses(result.cluster, run.settings, result.documents)
        _up(run, lab, held, result.cluster, pod_cidr, tuple(ports), options.files)
    return result.cluster


def apply(options: Options, lab: LabRun, listener: Listener | None = None) -> control.ApplyResult:
    """Enforce the manifests' policies (default: the ones ``up`` read); pods of ``up`` when they give none."""
    run = prepare(options, listener)
    with session(lab, run.listener) as held:
        current = control.require_state(lab.name)
        cluster = _apply_cluster(run, current)
        return _apply(run, lab, held, cluster)


def _apply_cluster(run: Run, current: lab_state.LabState) -> Cluster:
    # The manifests 'lab up' read were accepted then, empty or not.
    files = list(run.options.files)
    if not files:
        if not current.manifests or "-" in current.manifests:
            raise Stop("say which manifests to apply with -f PATH ('lab up' read standard input)")
        return load_cluster(run, list(current.manifests), allow_empty=True).cluster
    cluster = load_cluster(run).cluster
    if cluster.pods or not current.manifests or "-" in current.manifests:
        return cluster
    base = load_cluster(run, list(current.manifests), allow_empty=True).cluster
    namespaces = {n.name: n for n in base.namespaces}
    namespaces.update((n.name, n) for n in cluster.namespaces if n.declared or n.name not in namespaces)
    return Cluster.of(namespaces=namespaces.values(), pods=base.pods, services=base.services,
                      policies=cluster.policies)


def cells_of(ports: Sequence[int], protocols: Sequence[str], *, declared: bool = False) -> list[tuple[Protocol, int]]:
    """Every (protocol, port) asked for, in order, once each; TCP when no protocol is given.

    No port is an error, unless ``declared`` (``lab probe``: each destination's declared ports).
    """
    if not ports:
        if declared:
            return []
        raise Stop("give at least one --port")
    protos = list(dict.fromkeys(protocol_of(p) for p in (protocols or ["TCP"])))
    return [(proto, port) for proto in protos for port in dict.fromkeys(ports)]


def pod_key(pod: str, namespace: str) -> str:
    return pod if "/" in pod else f"{namespace}/{pod}"


def probe(lab: LabRun, cells: list[tuple[Protocol, int]], listener: Listener | None = None, *,
          timeout: float = MIN_TIMEOUT, sources: Sequence[str] = (), targets: Sequence[str] = (),
          namespace: str = "default", protocols: Sequence[str] = ()) -> list[Matrix]:
    """Probe from every pod (or ``sources``) to every pod (or ``targets``): one measured matrix per cell,
    holding the probed pairs only. No ``cells``: each destination on the ports it declares (of ``protocols``)."""
    listener = listener or Listener()
    with session(lab, listener) as held:
        src, dst = _endpoints(lab, listener, namespace, tuple(sources), tuple(targets))
        run = _probe(listener, lab, held, cells, timeout, src, dst,
                     tuple(dict.fromkeys(protocol_of(p) for p in protocols)))
    return list(run.matrices.values())


def _endpoints(lab: LabRun, listener: Listener, namespace: str, sources: tuple[str, ...],
               targets: tuple[str, ...]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """``--from`` / ``--to`` in podfence's endpoint grammar (``ns/name``, ``ns/*``, ``svc/ns/name``), as lab pod keys.

    Services and workloads are read from the manifests ``lab up`` read; a lab made from
    standard input knows its pods only (names, labels and addresses: ``ns/name``, ``ns/*``
    and IPs, no Services). An unknown name stops the run with the close names.
    """
    if not sources and not targets:
        return (), ()
    current = control.require_state(lab.name)
    in_lab = {p.key for p in current.pods}
    if not current.manifests or "-" in current.manifests:
        services = [f"{flag} {text}" for flag, texts in (("--from", sources), ("--to", targets)) for text in texts
                    if isinstance(parse_endpoint(text, namespace), ServiceName)]
        if services:
            raise Stop(f"{', '.join(services)}: lab {lab.name!r} was made from standard input and knows its pods, "
                       "not their Services; name pods (ns/name, ns/*)")
        cluster = Cluster.of(pods=[_lab_pod(p) for p in current.pods])
    else:
        run = prepare(Options(files=tuple(current.manifests), namespace=namespace), listener)
        cluster = load_cluster(run, allow_empty=True).cluster
    pods = [p for p in cluster.pods if p.key in in_lab]
    chosen = focus(cluster, pods, namespace, sources, targets, addresses=False)
    src = tuple(sorted(chosen.src.pods)) if chosen and chosen.src else ()
    dst = tuple(sorted(chosen.dst.pods)) if chosen and chosen.dst else ()
    return src, dst


def _lab_pod(pod: LabPod) -> Pod:
    """A pod of a lab's state as the model has it (what the lab keeps: name, labels, addresses)."""
    namespace, _, name = pod.key.partition("/")
    ips = tuple(ip for ip in (parse_ip(text) for text in pod.ips) if ip is not None)
    return Pod(namespace, name, Labels(dict(pod.labels)), ips=ips, kind=pod.kind)


def show(lab: LabRun, pod: str, namespace: str = "default", live: bool = False,
         listener: Listener | None = None) -> str:
    """The nftables rules enforcing one pod's policies, as compiled and commented (or as the kernel holds them)."""
    with session(lab, listener or Listener()):
        return control.show(lab.name, pod_key(pod, namespace), live)


def denials(lab: LabRun, listener: Listener | None = None, *, window: float = 10.0, duration: float | None = None,
            count: int | None = None) -> Iterator[dict[str, Any]]:
    """Denied connections as Hubble-shaped records, as they happen (the lab is held only while subscribing)."""
    from podfence.lab.denials import open_reader, stream

    listener = listener or Listener()
    with session(lab, listener):
        reader = open_reader(control.require_state(lab.name), window)

    def ready(n: int) -> None:
        listener.say(f"listening for denied connections in {n} pod network namespaces of lab {lab.name!r}")

    try:
        yield from stream(reader, duration=duration, count=count, ready=ready)
    except control.LabError as exc:
        raise Stop(str(exc)) from None


def watch_denials(lab: LabRun, listener: Listener | None = None) -> Callable[[], Iterator[dict[str, Any]]]:
    """How to subscribe to a running lab's denials later (each call: :func:`denials` afresh); Stop when
    the lab is not up now."""
    listener = listener or Listener()
    if not status(lab, listener).up:
        raise Stop(f"--lab {lab.name}: no lab {lab.name!r} is up (start it with podfence lab up --name {lab.name})")
    return lambda: denials(lab, listener)


def down(lab: LabRun, listener: Listener | None = None) -> list[str]:
    """Remove the lab (namespaces, links, tables, server, state); the namespaces removed."""
    with session(lab, listener or Listener()):
        return list(control.down(lab.name))


def status(lab: LabRun, listener: Listener | None = None) -> control.Status:
    """Whether the lab is up, its pods and the policies it enforces."""
    with session(lab, listener or Listener()):
        return control.status(lab.name)


@dataclass(frozen=True, slots=True)
class Measured:
    """A one-shot lab's matrix, and with ``compare`` the engine's on the lab's addresses."""

    measured: Matrix
    engine: Matrix | None = None


def matrix(options: Options, lab: LabRun, protocol: Protocol, port: int, listener: Listener | None = None, *,
           timeout: float = MIN_TIMEOUT, pod_cidr: str = DEFAULT_POD_CIDR, compare: bool = False) -> Measured:
    """One shot: up, apply, probe every pod pair, down, holding the lab throughout."""
    run = prepare(options, listener)
    with session(lab, run.listener, one_shot=True) as held:  # the lab is down again after the block
        control.probe_cells([(protocol, port)])
        loaded = load_cluster(run, keep_documents=True)
        check_addresses(loaded.cluster, run.settings, loaded.documents)
        _up(run, lab, held, loaded.cluster, pod_cidr, (port,), ())
        _apply(run, lab, held, loaded.cluster)
        probed = _probe(run.listener, lab, held, [(protocol, port)], timeout)
    measured = probed.matrices[(protocol, port)]
    if not compare:
        return Measured(measured)
    return Measured(measured, held.connectivity(loaded.cluster, run.settings).matrix(protocol, port))


__all__ = ["DEFAULT_LAB_NAME", "DEFAULT_POD_CIDR", "DEFAULT_WAIT", "MIN_TIMEOUT", "LabRun", "Measured", "apply",
           "cells_of", "denials", "down", "matrix", "pod_key", "probe", "show", "status", "up", "watch_denials"]
