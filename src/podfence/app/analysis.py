"""The reading use cases: check, matrix, connectivity and explain.

Each takes the shared :class:`~podfence.app.options.Options`, a listener and its
own question, and returns values for a renderer; none prints or exits. The
source is the run's (manifests, a live cluster, or both); ``--staged`` evaluates
the promoted view, and explain shows both views when they differ.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable

from podfence.app.errors import Stop, in_file_order, stop_on_errors
from podfence.app.focus import focus
from podfence.app.loading import NO_MANIFESTS, evaluated, load_cluster, load_input, require_objects, tell_loaded
from podfence.app.options import Listener, Options, prepare
from podfence.engine import Connectivity, Endpoint, EndpointError, Engine, Matrix
from podfence.loader import codes
from podfence.model import Cluster, Diagnostic, Settings
from podfence.model.endpoints import Focus
from podfence.model.ports import PortSpec
from podfence.model.words import shortened
from podfence.render.explain import render_comparison, render_service_comparisons
from podfence.rollout import Comparison, StagedViews


@dataclass(frozen=True, slots=True)
class Checked:
    """What ``check`` found: every diagnostic, and how many objects it read."""

    diagnostics: tuple[Diagnostic, ...]
    objects: int
    ok: bool


def check(options: Options, listener: Listener | None = None) -> Checked:
    """Validate the source as the API server would; errors are the answer, not a stop."""
    if not options.files and options.live is None:
        raise Stop(NO_MANIFESTS)
    run = prepare(options, listener)
    result, names = load_input(run, options.files, options.namespace, options.live)
    tell_loaded(run, result, show_warnings=False)
    stop_on_errors(d for d in result.diagnostics if d.code == codes.LIMIT)
    if result.ok:
        require_objects([result], names, options.allow_empty)
    c = result.cluster
    objects = len([n for n in c.namespaces if n.declared]) + len(c.pods) + len(c.services) + len(c.policies)
    shown = options.shown_namespace
    ordered = in_file_order(result.diagnostics)
    if shown is None:
        return Checked(tuple(ordered), objects, result.ok)
    kept = tuple(d for d in ordered if _about(d, shown))
    return Checked(kept, objects, not any(d.is_error for d in kept))


def _about(d: Diagnostic, namespace: str) -> bool:
    """True when ``d`` is about an object of ``namespace`` or the namespace itself (``object`` reads
    ``Kind ns/name``, ``Namespace name``); a problem of no object is always shown."""
    if not d.object:
        return True
    kind, _, name = d.object.partition(" ")
    return name.split("/", 1)[0] == namespace if "/" in name else kind == "Namespace" and name == namespace


@dataclass(frozen=True, slots=True)
class Reach:
    """Every allowed connection, the one namespace to show (None: all), and the
    sources and destinations asked for (None: every one)."""

    connectivity: Connectivity
    namespace: str | None = None
    focus: Focus | None = None


def connectivity(options: Options, listener: Listener | None = None, sources: tuple[str, ...] = (),
                 destinations: tuple[str, ...] = ()) -> Reach:
    """Every allowed connection of the source's cluster (its promoted view under ``--staged``), narrowed
    to ``sources`` and ``destinations`` when given (:mod:`podfence.app.focus`)."""
    run = prepare(options, listener)
    result = load_cluster(run)
    cluster = evaluated(run, result)
    with run.busy("computing connectivity"):
        conn = Engine(cluster, run.settings).connectivity()
    chosen = focus(cluster, conn.pods, options.namespace, sources, destinations, addresses=True)
    return Reach(conn, options.shown_namespace, chosen)


def matrix(options: Options, port: PortSpec, listener: Listener | None = None, sources: tuple[str, ...] = (),
           destinations: tuple[str, ...] = ()) -> Matrix:
    """Which pod may open a connection to which, on one protocol and port (a name: the one number it stands
    for); only the rows of ``sources`` and the columns of ``destinations`` when given."""
    run = prepare(options, listener)
    result = load_cluster(run)
    number = port.port if isinstance(port.port, int) else named_number(result.cluster, run.settings, port, run.say)
    cluster = evaluated(run, result)
    with run.busy("computing connectivity"):
        conn = Engine(cluster, run.settings).connectivity()
    return matrix_of(conn, replace(port, port=number), options.namespace, options.shown_namespace, sources,
                     destinations)


def matrix_of(conn: Connectivity, port: PortSpec, namespace: str = "default", shown: str | None = None,
              sources: tuple[str, ...] = (), destinations: tuple[str, ...] = ()) -> Matrix:
    """The matrix of a computed connectivity on one port (a name: the one number it stands for), as
    ``matrix`` answers it: between the pods of ``shown`` (None: all), narrowed to ``sources`` and
    ``destinations`` (bare names in ``namespace``). The web face asks here on the cluster it keeps."""
    number = port.port if isinstance(port.port, int) else named_number(conn.cluster, conn.settings, port)
    chosen = focus(conn.cluster, conn.pods, namespace, sources, destinations, addresses=False)
    m = conn.matrix(port.protocol, number)
    m = m if shown is None else in_namespace(m, shown)
    return m if chosen is None else narrowed(m, chosen)


def narrowed(m: Matrix, chosen: Focus) -> Matrix:
    """The rows of the chosen sources and the columns of the chosen destinations."""
    rows = m.pods if chosen.src is None else tuple(p for p in m.pods if p in chosen.src.pods)
    columns = m.pods if chosen.dst is None else tuple(p for p in m.pods if p in chosen.dst.pods)
    keep = set(columns)
    return Matrix(m.protocol, m.port, rows, {p: tuple(d for d in m.allowed.get(p, ()) if d in keep) for p in rows},
                  m.kinds, columns=None if columns == rows else columns)


def named_number(cluster: Cluster, settings: Settings, spec: PortSpec, say: Callable[[str], None] | None = None) -> int:
    """The one number a port name stands for across the pods that declare it (a matrix is on one port)."""
    name = str(spec.port)
    numbers: dict[int, list[str]] = {}
    for pod in cluster.pods:
        for n in pod.named_port_numbers(name, spec.protocol, settings):
            numbers.setdefault(n, []).append(pod.key)
    if len(numbers) != 1:
        found = "; ".join(f"{n} on {shortened(keys, 3)}" for n, keys in sorted(numbers.items()))
        raise Stop(f"--port {name}: " + (f"no pod declares a {spec.protocol} port named {name}" if not numbers else
                                         f"the name stands for several numbers ({found}); give one number"))
    (number, keys), = numbers.items()
    if say is not None:
        say(f"note: --port {name} is {spec.protocol} {number} (declared by {shortened(sorted(keys), 3)})")
    return number


def in_namespace(m: Matrix, namespace: str) -> Matrix:
    """The matrix between the pods of one namespace (``-n`` on a live cluster)."""
    pods = tuple(p for p in m.pods if p.startswith(namespace + "/"))
    keep = set(pods)
    return Matrix(m.protocol, m.port, pods, {p: tuple(d for d in m.allowed.get(p, ()) if d in keep) for p in pods},
                  {p: k for p, k in m.kinds.items() if p in keep})


@dataclass(frozen=True, slots=True)
class Explanation:
    """The verdict on one connection in both views (now, and with the staged policies enforced).

    To a Service: one comparison per backend pod and target port, under ``service``.
    ``deletions`` names the staged deletions among the policies that change a verdict.
    """

    port: int
    protocol: str
    comparison: Comparison | None = None
    service: str | None = None
    comparisons: tuple[Comparison, ...] = ()
    deletions: frozenset[str] = frozenset()


def explain(options: Options, src: str, dst: str, port: PortSpec, listener: Listener | None = None) -> Explanation:
    """Explain whether ``src`` may reach ``dst``: the policies and rules behind the verdict, in both views."""
    run = prepare(options, listener)
    result = load_cluster(run)
    return explain_in(StagedViews(result.cluster, run.settings), src, dst, port, options.namespace)


def explain_in(views: StagedViews, src: str, dst: str, port: PortSpec, namespace: str = "default") -> Explanation:
    """``explain`` on a loaded cluster's two views (bare names in ``namespace``); the web face asks here."""
    engine = views.now
    ends: dict[str, Endpoint] = {}
    problems = []
    for flag, text in (("--from", src), ("--to", dst)):
        try:
            ends[flag] = engine.endpoint(text, namespace)
        except EndpointError as e:
            problems.append(f"{flag}: {e}")
    if problems:  # both unknown ends at once
        raise Stop("; ".join(problems))
    source, target = ends["--from"], ends["--to"]
    number = port_number(port, target, engine.settings)
    proto = port.protocol
    try:
        if target.service is not None:
            return Explanation(number, str(proto), service=target.service.key,
                               comparisons=views.compare_service(source, target, proto, number),
                               deletions=views.deletions)
        return Explanation(number, str(proto), comparison=views.compare(source, target, proto, number),
                           deletions=views.deletions)
    except EndpointError as e:  # a service as the source, or a port the service does not offer
        raise Stop(f"{'--from' if source.service is not None else '--to'}: {e}") from None


def rendered(found: Explanation, output: str) -> str:
    """An explanation in ``output`` (a format of :mod:`podfence.render.explain`): one face for the
    command and the web page, so the two print the same bytes."""
    if found.service is not None:
        return render_service_comparisons(found.service, found.protocol, found.port, found.comparisons, output,
                                          found.deletions)
    assert found.comparison is not None
    return render_comparison(found.comparison, output, found.deletions)


def port_number(spec: PortSpec, target: Endpoint, settings: Settings) -> int:
    """The port number of ``--port``: a name is resolved on the destination pod, or the Service's port names."""
    if isinstance(spec.port, int):
        return spec.port
    name = str(spec.port)
    if target.service is not None:
        found = sorted({p.port for p in target.service.ports if p.name == name and p.protocol is spec.protocol})
        what = f"service {target.service.key}"
    elif target.pod is not None:
        found = sorted(target.pod.named_port_numbers(name, spec.protocol, settings))
        what = f"{target.pod.key}"
    else:
        raise Stop(f"--port {name}: a port name is resolved on the destination pod; {target.name} is an address, "
                   "give the number")
    if len(found) != 1:
        how = "declares no" if not found else f"declares {len(found)} ({', '.join(map(str, found))}) for the"
        raise Stop(f"--port {name}: {what} {how} {spec.protocol} port named {name}; give the number")
    return found[0]


__all__ = ["Checked", "Explanation", "Reach", "check", "connectivity", "explain", "explain_in", "in_namespace",
           "matrix", "matrix_of", "named_number", "narrowed", "port_number", "rendered"]
