"""podfence lab: NetworkPolicies enforced on real packets, in network namespaces.

Every command needs root and nftables; without them it says so in one line
(exit 2). A lab is named by ``--name`` (default ``podfence`` for every command,
``lab matrix`` included); everything it creates carries that prefix, so
``lab down`` removes exactly that lab. One command at a time works on a lab: the
others wait for it (``--wait`` seconds), then give up with "lab NAME is in use by
pid N" (exit 2).
"""

from __future__ import annotations

import sys
from contextlib import contextmanager
from typing import Annotated, Callable, Iterator, Optional

import typer

from podfence.app import lab as labs
from podfence.app.lab import DEFAULT_LAB_NAME, DEFAULT_POD_CIDR, DEFAULT_WAIT, MIN_TIMEOUT, LabRun
from podfence.cli.common import (
    DEFAULT_MAX_INPUT_BYTES, DEFAULT_MAX_OBJECTS, DEFAULT_MAX_OUTPUT_BYTES, EXIT_FINDINGS, LISTENER, AllowEmpty,
    ConfigPath, Filenames, MaxInputBytes, MaxObjects, MaxOutputBytes, Namespace, SettingValues, choose, options,
    output_option, protocol_of, refuse_output, say, write, write_bounded, write_sized,
)
from podfence.render.json_text import json_line
from podfence.render.lab import FORMATS, STATUS_FORMATS, render_compare, render_matrices, status_json, status_text
from podfence.render.matrix import matrix_chunks, matrix_size

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
Output = output_option(FORMATS)
StatusOutput = output_option(STATUS_FORMATS)


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


def lab_run(name: str, wait: float) -> LabRun:
    return LabRun(name=name, wait=wait, progress=progress_bar)


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
    cluster = labs.up(options(filename, namespace, config, setting, allow_empty=allow_empty,
                              max_input_bytes=max_input_bytes, max_objects=max_objects, live=False),
                      lab_run(name, wait), LISTENER, pod_cidr=pod_cidr, ports=port)
    if cluster.policies:
        say(f"next: podfence lab apply{'' if name == DEFAULT_LAB_NAME else ' --name ' + name} "
            f"(enforces the {len(cluster.policies)} NetworkPolicies of these manifests)")


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
    labs.apply(options(filename, namespace, config, setting, allow_empty=allow_empty,
                       max_input_bytes=max_input_bytes, max_objects=max_objects, live=False), lab_run(name, wait),
               LISTENER)


@app.command()
def probe(
    port: Ports = [],  # noqa: B006
    protocol: Protocols = [],  # noqa: B006
    source: Annotated[list[str], typer.Option("--from", metavar="SRC",
                                              help="Only from these pods: ns/name, ns/* or svc/ns/name. "
                                                   "Repeatable.")] = [],  # noqa: B006
    target: Annotated[list[str], typer.Option("--to", metavar="DST",
                                              help="Only to these pods: ns/name, ns/* or svc/ns/name. "
                                                   "Repeatable.")] = [],  # noqa: B006
    namespace: Namespace = "default",
    output: Output = "text",
    timeout: Timeout = MIN_TIMEOUT,
    name: LabName = DEFAULT_LAB_NAME,
    wait: LabWait = DEFAULT_WAIT,
    max_output_bytes: MaxOutputBytes = DEFAULT_MAX_OUTPUT_BYTES,
) -> None:
    """Connect from every pod (or --from) to every pod (or --to) on the given ports and protocols
    (TCP connect, UDP echo) and print one matrix per port, holding the probed pairs only. Without
    --port, each destination is probed on the ports it declares. Connected or refused ('nothing
    listens here') means the packets got through; dropped (silence twice) or blocked (the source's
    egress rules) means they did not. SCTP is reported as unsupported."""
    choose(output, FORMATS, "-o")
    cells = labs.cells_of(port, protocol, declared=True)
    matrices = labs.probe(lab_run(name, wait), cells, LISTENER, timeout=timeout, sources=source, targets=target,
                          namespace=namespace, protocols=protocol)
    write_sized(render_matrices(matrices, output), max_output_bytes, f"{len(matrices)} measured matrices", output,
                noun="they take")


@app.command()
def show(
    pod: Annotated[str, typer.Argument(help="The pod, as ns/name or name (with -n).")],
    namespace: Namespace = "default",
    live: Annotated[bool, typer.Option("--live", help="Print what the kernel holds instead.")] = False,
    name: LabName = DEFAULT_LAB_NAME,
    wait: LabWait = DEFAULT_WAIT,
) -> None:
    """Print the nftables rules enforcing the policies of one pod, as compiled and commented."""
    write(labs.show(lab_run(name, wait), pod, namespace, live, LISTENER))


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
    try:
        for record in labs.denials(lab_run(name, wait), LISTENER, window=window, duration=duration, count=count):
            sys.stdout.write(json_line(record))
            sys.stdout.flush()
    except KeyboardInterrupt:
        pass


@app.command()
def down(name: LabName = DEFAULT_LAB_NAME, wait: LabWait = DEFAULT_WAIT) -> None:
    """Remove the lab: its namespaces (with their links and tables), its server, its state."""
    removed = labs.down(lab_run(name, wait), LISTENER)
    say(f"lab {name!r} is down ({len(removed)} network namespaces removed)" if removed else f"no lab {name!r} was up")


@app.command()
def status(
    name: LabName = DEFAULT_LAB_NAME,
    output: StatusOutput = "text",
    wait: LabWait = DEFAULT_WAIT,
) -> None:
    """Say whether the lab is up, how many pods it runs and which policies it enforces."""
    choose(output, STATUS_FORMATS, "-o")
    st = labs.status(lab_run(name, wait), LISTENER)
    write(status_json(st) if output == "json" else status_text(name, st))


@app.command()
def matrix(
    filename: Filenames = [],  # noqa: B006
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="Destination port.")] = ...,  # type: ignore[assignment]
    protocol: Annotated[str, typer.Option("--protocol", help="TCP or UDP.")] = "TCP",
    namespace: Namespace = "default",
    output: Output = "text",
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
    proto = protocol_of(protocol)
    found = labs.matrix(options(filename, namespace, config, setting, allow_empty=allow_empty,
                                max_input_bytes=max_input_bytes, max_objects=max_objects, live=False),
                        lab_run(name, wait), proto, port, LISTENER, timeout=timeout, pod_cidr=pod_cidr,
                        compare=compare)
    measured = found.measured
    if found.engine is None:
        size, n = matrix_size(measured, output), len(measured.pods)
        refuse_output(f"matrix of {n} x {n} pods", size, max_output_bytes, f"it takes {size} bytes as {output}")
        write_bounded(matrix_chunks(measured, output), max_output_bytes, "matrix output")
        return
    differences = measured.differences(found.engine)
    write(render_compare(measured, differences, output))
    if differences:
        raise typer.Exit(EXIT_FINDINGS)


__all__ = ["app"]
