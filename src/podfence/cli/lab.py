"""podfence lab: NetworkPolicies enforced on real packets, in network namespaces.

Every command needs root and nftables; without them it says so in one line
(exit 2). A lab is named by ``--name`` (default ``podfence`` for every command,
``lab matrix`` included); everything it creates carries that prefix, so
``lab down`` removes exactly that lab. One command at a time works on a lab: the
others wait for it (``--wait`` seconds), then give up with "lab NAME is in use by
pid N" (exit 2).
"""

from __future__ import annotations

import json
import os
import stat
import sys
import time
from contextlib import contextmanager
from typing import Annotated, Callable, Iterator, Optional

import typer

from podfence.cli.common import (
    DEFAULT_MAX_INPUT_BYTES, DEFAULT_MAX_OBJECTS, DEFAULT_MAX_OUTPUT_BYTES, EXIT_FINDINGS, AllowEmpty, ConfigPath,
    Filenames, MaxInputBytes, MaxObjects, MaxOutputBytes, Namespace, SettingValues, choose, exit_on_errors, fail,
    input_budget, load_cluster, load_config, protocol_from, refuse_output, settings_from, write, write_bounded,
)
from podfence.loader.limits import Budget
from podfence.lab import control
from podfence.lab import state as lab_state
from podfence.lab.lock import DEFAULT_WAIT
from podfence.lab.naming import DEFAULT_LAB_NAME
from podfence.lab.plan import DEFAULT_POD_CIDR, Unhostable, unhostable
from podfence.lab.probe import MIN_TIMEOUT, Outcome
from podfence.loader import LineDict, LineList, iter_documents, locate
from podfence.model import Cluster, Diagnostic, Settings
from podfence.render.lab import render_compare
from podfence.render.matrix import FORMATS, matrix_chunks, matrix_size, render_matrix
from podfence.sets import Protocol, parse_ip

app = typer.Typer(
    help="A real dataplane on this machine: pods as network namespaces, policies as nftables, "
         "real TCP/UDP probes and a stream of denied connections. Needs root and nftables.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
)

LabName = Annotated[str, typer.Option("--name", help="The lab's name: the prefix of everything it creates.")]
LabWait = Annotated[float, typer.Option("--wait", min=0.0, metavar="SECONDS",
                                        help="How long to wait while another command works on the same lab "
                                             "(then exit 2 naming its pid); 0 gives up at once.")]
PodCidr = Annotated[str, typer.Option("--pod-cidr", help="Addresses for pods whose manifests give none.")]
Ports = Annotated[list[int], typer.Option("--port", min=1, max=65535, help="Destination port. Repeatable.")]
Protocols = Annotated[list[str], typer.Option("--protocol", help="TCP or UDP (SCTP: see below). Repeatable.")]
Timeout = Annotated[float, typer.Option("--timeout", min=MIN_TIMEOUT,
                                        help="Seconds a probe waits for an answer (then once more).")]


@contextmanager
def lab_errors() -> Iterator[None]:
    """Turn the lab's errors into one line on stderr and exit 2."""
    try:
        yield
    except control.LabError as exc:
        fail(str(exc))
    except PermissionError as exc:
        fail(f"podfence lab: {exc.strerror or exc} (run as root)")


@contextmanager
def lab_session(name: str, wait: float, one_shot: bool = False) -> Iterator[control.LabSession]:
    """Check root, nftables and the name, then hold the lab's lock for the rest of the command
    (a ``one_shot`` lab is removed again at the end: see :class:`~podfence.lab.control.LabSession`)."""

    def waiting(pid: int | None) -> None:
        note(f"waiting up to {wait:g} s for lab {name!r}: in use by {f'pid {pid}' if pid else 'another process'}")

    with control.LabSession(name, wait=wait, on_wait=waiting, one_shot=one_shot) as session:
        yield session


@contextmanager
def progress_bar(label: str) -> Iterator[tuple[Callable[[int], None], Callable[[int], None]]]:
    """(set_total, advance) callbacks drawing a transient bar on stderr when it is a terminal."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    console = Console(stderr=True)
    if not console.is_terminal:
        yield (lambda total: None), (lambda n: None)
        return
    with Progress(TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console, transient=True) as bar:
        task = bar.add_task(label, total=None)
        yield (lambda total: bar.update(task, total=total)), (lambda n: bar.advance(task, n))


def note(message: str) -> None:
    sys.stderr.write(f"{message}\n")


def pod_key(pod: str, namespace: str) -> str:
    return pod if "/" in pod else f"{namespace}/{pod}"


def _cells(ports: list[int], protocols: list[str]) -> list[tuple[Protocol, int]]:
    if not ports:
        fail("give at least one --port")
    protos = list(dict.fromkeys(protocol_from(p) for p in (protocols or ["TCP"])))
    return [(proto, port) for proto in protos for port in dict.fromkeys(ports)]


_REREAD_LIMIT = 256 << 20


def check_addresses(cluster: Cluster, settings: Settings) -> None:
    """Exit 2 with one line per pod address the lab cannot host, before anything is made."""
    exit_on_errors(_placed(problem) for problem in unhostable(cluster, settings))


def _placed(problem: Unhostable) -> Diagnostic:
    """The problem at its field (``status.podIP`` or ``status.podIPs[i].ip``) and that field's line.

    The model keeps a pod's addresses, not where each was written, so the pod's
    manifest is read again (a regular file only, and no more of it than
    :data:`_REREAD_LIMIT`); from standard input, or if the file changed meanwhile,
    the diagnostic keeps the pod's own line.
    """
    source = problem.pod.source
    if source is None or source.file == "-":
        return problem.diagnostic()
    try:
        fd = os.open(source.file, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        with os.fdopen(fd, "rb") as handle:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                return problem.diagnostic()
            text = handle.read(_REREAD_LIMIT + 1).decode("utf-8")
    except (OSError, ValueError):
        return problem.diagnostic()
    if len(text) > _REREAD_LIMIT:
        return problem.diagnostic()
    for document in iter_documents(text, json_fallback=source.file.endswith(".json")):
        for obj, line in _objects(document):
            if line != source.line:
                continue
            for field in _address_fields(obj):
                if _address_at(obj, field) == problem.address:
                    return problem.diagnostic(field, locate(obj, field))
    return problem.diagnostic()


def _objects(document: object) -> Iterator[tuple[LineDict, int]]:
    """The objects of a document, each with the line the loader gives it (a List's items: their own)."""
    data = getattr(document, "data", None)
    if not isinstance(data, LineDict):
        return
    yield data, int(getattr(document, "line", 0))
    items = data.get("items")
    if isinstance(items, LineList):
        yield from ((item, line) for item, line in zip(items, items.item_lines) if isinstance(item, LineDict))


def _address_fields(obj: LineDict) -> Iterator[tuple[str | int, ...]]:
    yield ("status", "podIP")
    status = obj.get("status")
    listed = status.get("podIPs") if isinstance(status, dict) else None
    for i in range(len(listed) if isinstance(listed, list) else 0):
        yield ("status", "podIPs", i, "ip")


def _address_at(obj: LineDict, field: tuple[str | int, ...]) -> object:
    node: object = obj
    for segment in field:
        if isinstance(segment, int):
            node = node[segment] if isinstance(node, list) and segment < len(node) else None
        else:
            node = node.get(segment) if isinstance(node, dict) else None
    return parse_ip(node) if isinstance(node, str) else None


def _up(lab: control.LabSession, cluster: Cluster, settings: Settings, pod_cidr: str, ports: tuple[int, ...],
        manifests: tuple[str, ...]) -> control.UpResult:
    name = lab.name
    with progress_bar("lab up") as (total, advance):
        started = time.monotonic()
        result = lab.up(cluster, settings, pod_cidr=pod_cidr, extra_ports=ports, manifests=manifests,
                        progress=advance, on_plan=total)
    for line in result.notes:
        note(f"note: {line}")
    if result.cleaned:
        note(f"cleaned a stale lab {name!r} ({len(result.cleaned)} namespaces)")
    note(f"lab {name!r} is up: {len(result.state.pods)} pods in {time.monotonic() - started:.1f} s")
    return result


def _apply(lab: control.LabSession, cluster: Cluster, settings: Settings) -> control.ApplyResult:
    with progress_bar("lab apply") as (total, advance):
        started = time.monotonic()
        result = lab.apply(cluster, settings, progress=advance, on_plan=total)
    note(f"applied {len(cluster.policies)} NetworkPolicies: {result.isolated} of {result.pods} pods isolated, "
         f"{len(result.changed)} updated in {time.monotonic() - started:.1f} s")
    return result


def _probe(lab: control.LabSession, cells: list[tuple[Protocol, int]], timeout: float,
           sources: tuple[str, ...] = (), targets: tuple[str, ...] = ()) -> control.ProbeRun:
    with progress_bar("lab probe") as (total, advance):
        started = time.monotonic()
        run = lab.probe(cells, timeout=timeout, sources=sources, targets=targets, progress=advance, on_plan=total)
    for line in run.notes:
        note(f"note: {line}")
    counts = {o: 0 for o in Outcome}
    for result in run.results:
        counts[result.outcome] += 1
    summary = ", ".join(f"{n} {o.value}" for o, n in counts.items() if n)
    note(f"{len(run.results)} probes in {time.monotonic() - started:.1f} s: {summary or 'none'}")
    return run


@app.command()
def up(
    filename: Filenames = [],  # noqa: B006
    namespace: Namespace = "default",
    name: LabName = DEFAULT_LAB_NAME,
    pod_cidr: PodCidr = DEFAULT_POD_CIDR,
    port: Annotated[list[int], typer.Option(
        "--port", min=1, max=65535, help="Also listen on this port (TCP and UDP) in every pod. Repeatable.")] = [],  # noqa: B006
    config: ConfigPath = None,
    setting: SettingValues = [],  # noqa: B006
    allow_empty: AllowEmpty = False,
    max_input_bytes: MaxInputBytes = DEFAULT_MAX_INPUT_BYTES,
    max_objects: MaxObjects = DEFAULT_MAX_OBJECTS,
    wait: LabWait = DEFAULT_WAIT,
) -> None:
    """Create a lab: one network namespace per pod, routed through a node namespace, echo servers
    on every container port. Pods keep the addresses their manifests give; the others get one
    from --pod-cidr. hostNetwork pods live in the node namespace. A stale lab of the same name is
    cleaned first. Policies are not enforced until 'podfence lab apply'."""
    budget = input_budget(max_input_bytes, max_objects)
    settings = settings_from(setting, base=load_config(config, budget).settings)
    with lab_errors(), lab_session(name, wait) as lab:
        result = load_cluster(filename, namespace, settings, budget, allow_empty)
        check_addresses(result.cluster, settings)
        _up(lab, result.cluster, settings, pod_cidr, tuple(port), tuple(filename))
    if result.cluster.policies:
        note(f"next: podfence lab apply{'' if name == DEFAULT_LAB_NAME else ' --name ' + name} "
             f"(enforces the {len(result.cluster.policies)} NetworkPolicies of these manifests)")


@app.command()
def apply(
    filename: Filenames = [],  # noqa: B006
    namespace: Namespace = "default",
    name: LabName = DEFAULT_LAB_NAME,
    config: ConfigPath = None,
    setting: SettingValues = [],  # noqa: B006
    allow_empty: AllowEmpty = False,
    max_input_bytes: MaxInputBytes = DEFAULT_MAX_INPUT_BYTES,
    max_objects: MaxObjects = DEFAULT_MAX_OBJECTS,
    wait: LabWait = DEFAULT_WAIT,
) -> None:
    """Enforce the NetworkPolicies of the manifests (default: the ones 'lab up' read). Only pods
    whose rules change are updated, each in one nftables transaction, side by side. Manifests
    without pods are combined with the pods of 'lab up'."""
    budget = input_budget(max_input_bytes, max_objects)
    settings = settings_from(setting, base=load_config(config, budget).settings)
    with lab_errors(), lab_session(name, wait) as lab:
        current = control.require_state(name)
        cluster = _apply_cluster(filename, namespace, settings, current, budget, allow_empty)
        _apply(lab, cluster, settings)


def _apply_cluster(files: list[str], namespace: str, settings: Settings, current: lab_state.LabState,
                   budget: Budget, allow_empty: bool) -> Cluster:
    # The manifests 'lab up' read were accepted then, empty or not.
    if not files:
        if not current.manifests or "-" in current.manifests:
            fail("say which manifests to apply with -f PATH ('lab up' read standard input)")
        return load_cluster(list(current.manifests), namespace, settings, budget, allow_empty=True).cluster
    cluster = load_cluster(files, namespace, settings, budget, allow_empty).cluster
    if cluster.pods or not current.manifests or "-" in current.manifests:
        return cluster
    base = load_cluster(list(current.manifests), namespace, settings, budget, allow_empty=True).cluster
    namespaces = {n.name: n for n in base.namespaces}
    namespaces.update((n.name, n) for n in cluster.namespaces if n.declared or n.name not in namespaces)
    return Cluster.of(namespaces=namespaces.values(), pods=base.pods, services=base.services,
                      policies=cluster.policies)


@app.command()
def probe(
    port: Ports = [],  # noqa: B006
    protocol: Protocols = [],  # noqa: B006
    source: Annotated[list[str], typer.Option("--from", help="Only from this pod (ns/name). Repeatable.")] = [],  # noqa: B006
    target: Annotated[list[str], typer.Option("--to", help="Only to this pod (ns/name). Repeatable.")] = [],  # noqa: B006
    namespace: Namespace = "default",
    output: Annotated[str, typer.Option("-o", "--output", help="text, json, csv or md")] = "text",
    timeout: Timeout = MIN_TIMEOUT,
    name: LabName = DEFAULT_LAB_NAME,
    wait: LabWait = DEFAULT_WAIT,
    max_output_bytes: MaxOutputBytes = DEFAULT_MAX_OUTPUT_BYTES,
) -> None:
    """Connect from every pod to every pod on the given ports and protocols (TCP connect, UDP
    echo) and print the matrix. An answer, even 'nothing listens here', means the packets got
    through; silence twice means dropped. SCTP is reported as unsupported."""
    choose(output, FORMATS, "-o")
    cells = _cells(port, protocol)
    with lab_errors(), lab_session(name, wait) as lab:
        run = _probe(lab, cells, timeout, tuple(pod_key(s, namespace) for s in source),
                     tuple(pod_key(t, namespace) for t in target))
    text = _render_all([run.matrices[c] for c in cells], output)
    size = len(text.encode("utf-8"))
    refuse_output(f"{len(cells)} measured matrices", size, max_output_bytes, f"they take {size} bytes as {output}")
    write(text)


def _render_all(matrices: list, output: str) -> str:  # type: ignore[type-arg]
    if len(matrices) == 1:
        return render_matrix(matrices[0], output)
    if output == "json":
        return json.dumps([json.loads(render_matrix(m, "json")) for m in matrices], indent=2) + "\n"
    return "\n".join(render_matrix(m, output) for m in matrices)


@app.command()
def show(
    pod: Annotated[str, typer.Argument(help="The pod, as ns/name or name (with -n).")],
    namespace: Namespace = "default",
    live: Annotated[bool, typer.Option("--live", help="Print what the kernel holds instead.")] = False,
    name: LabName = DEFAULT_LAB_NAME,
    wait: LabWait = DEFAULT_WAIT,
) -> None:
    """Print the nftables rules enforcing the policies of one pod, as compiled and commented."""
    with lab_errors(), lab_session(name, wait):
        write(control.show(name, pod_key(pod, namespace), live))


@app.command()
def denials(
    name: LabName = DEFAULT_LAB_NAME,
    window: Annotated[float, typer.Option("--window", min=0.0,
                                          help="Report one connection (5-tuple) once per this many seconds.")] = 10.0,
    duration: Annotated[Optional[float], typer.Option("--duration", min=0.0,
                                                      help="Stop after this many seconds.")] = None,
    count: Annotated[Optional[int], typer.Option("--count", min=1, help="Stop after this many records.")] = None,
    wait: LabWait = DEFAULT_WAIT,
) -> None:
    """Stream denied connections as JSON lines shaped like Hubble flows (verdict DROPPED,
    drop_reason_desc POLICY_DENIED), naming the policies that isolate the dropping pod, or the
    Admin or Baseline policy and rule that dropped it. Connections that staged policies would deny
    pass and are reported with verdict AUDIT, naming the staged policies. Holds the lab only while
    subscribing, so that probes and applies can run beside the stream."""
    from podfence.lab.denials import open_reader, stream

    with lab_errors():
        with lab_session(name, wait):
            reader = open_reader(control.require_state(name), window)
        try:
            ready = lambda n: note(f"listening for denied connections in {n} pod namespaces of lab {name!r}")  # noqa: E731
            for record in stream(reader, duration=duration, count=count, ready=ready):
                sys.stdout.write(json.dumps(record, separators=(",", ":")) + "\n")
                sys.stdout.flush()
        except KeyboardInterrupt:
            pass


@app.command()
def down(name: LabName = DEFAULT_LAB_NAME, wait: LabWait = DEFAULT_WAIT) -> None:
    """Remove the lab: its namespaces (with their links and tables), its server, its state."""
    with lab_errors(), lab_session(name, wait):
        removed = control.down(name)
    note(f"lab {name!r} is down ({len(removed)} namespaces removed)" if removed else f"no lab {name!r} was up")


@app.command()
def status(
    name: LabName = DEFAULT_LAB_NAME,
    output: Annotated[str, typer.Option("-o", "--output", help="text or json")] = "text",
    wait: LabWait = DEFAULT_WAIT,
) -> None:
    """Say whether the lab is up, how many pods it runs and which policies it enforces."""
    choose(output, ("text", "json"), "-o")
    with lab_errors(), lab_session(name, wait):
        st = control.status(name)
    if output == "json":
        write(json.dumps(st.to_json(), indent=2) + "\n")
        return
    if not st.up:
        write(f"lab {name!r} is down" + (f" ({st.namespaces} stale namespaces: lab down removes them)"
                                          if st.namespaces else "") + "\n")
        return
    write(f"lab {name!r} is up: {st.pods} pods, {st.namespaces} namespaces, echo server "
          f"{'running' if st.server_running else 'NOT running'}, {st.isolated_pods} pods isolated by "
          f"{len(st.policies)} NetworkPolicies\n")


@app.command()
def matrix(
    filename: Filenames = [],  # noqa: B006
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="Destination port.")] = ...,  # type: ignore[assignment]
    protocol: Annotated[str, typer.Option("--protocol", help="TCP or UDP.")] = "TCP",
    namespace: Namespace = "default",
    output: Annotated[str, typer.Option("-o", "--output", help="text, json, csv or md")] = "text",
    compare: Annotated[bool, typer.Option("--compare", help="Also ask the engine; print the cells where "
                                          "packets and engine disagree (exit 1 if any).")] = False,
    timeout: Timeout = MIN_TIMEOUT,
    name: LabName = DEFAULT_LAB_NAME,
    pod_cidr: PodCidr = DEFAULT_POD_CIDR,
    config: ConfigPath = None,
    setting: SettingValues = [],  # noqa: B006
    allow_empty: AllowEmpty = False,
    max_input_bytes: MaxInputBytes = DEFAULT_MAX_INPUT_BYTES,
    max_objects: MaxObjects = DEFAULT_MAX_OBJECTS,
    wait: LabWait = DEFAULT_WAIT,
    max_output_bytes: MaxOutputBytes = DEFAULT_MAX_OUTPUT_BYTES,
) -> None:
    """One shot: lab up, apply, probe every pod pair, lab down, holding the lab throughout (a
    second run with the same --name waits for the first). Prints exactly what 'podfence matrix'
    prints for the same manifests and settings, measured with packets. Refuses to replace a lab of the same
    name that 'lab up' made."""
    choose(output, FORMATS, "-o")
    proto = protocol_from(protocol)
    budget = input_budget(max_input_bytes, max_objects)
    settings = settings_from(setting, base=load_config(config, budget).settings)
    with lab_errors(), lab_session(name, wait, one_shot=True) as lab:  # the lab is down again after the block
        control.probe_cells([(proto, port)])
        loaded = load_cluster(filename, namespace, settings, budget, allow_empty)
        check_addresses(loaded.cluster, settings)
        _up(lab, loaded.cluster, settings, pod_cidr, (port,), ())
        _apply(lab, loaded.cluster, settings)
        run = _probe(lab, [(proto, port)], timeout)
    measured = run.matrices[(proto, port)]
    if not compare:
        size, n = matrix_size(measured, output), len(measured.pods)
        refuse_output(f"matrix of {n} x {n} pods", size, max_output_bytes, f"it takes {size} bytes as {output}")
        write_bounded(matrix_chunks(measured, output), max_output_bytes, "matrix output")
        return
    differences = measured.differences(lab.connectivity(loaded.cluster, settings).matrix(proto, port))
    write(render_compare(measured, differences, output))
    if differences:
        raise typer.Exit(EXIT_FINDINGS)


__all__ = ["app"]
