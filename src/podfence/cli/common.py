"""What every podfence command shares on the command line: its options, how it talks, how it writes.

The commands are a thin face over :mod:`podfence.app`: each parses its flags into
the one :class:`~podfence.app.Options`, calls one use case with a
:class:`~podfence.app.Listener` that says lines on stderr (and shows a spinner
while something slow runs, only on a terminal), renders the answer and chooses
the exit code. A use case's :class:`~podfence.app.Stop` becomes its lines on
stderr and its exit code in :func:`podfence.cli.main.main`.

Exit codes: 0 ok, 1 findings, 2 invalid input or usage, 3 internal error.
Results go to stdout; notes, warnings and errors go to stderr, one line each.

Every command that reads input takes ``--max-input-bytes`` and ``--max-objects``
(one budget per run, shared by the manifests, the config, specs, intents and
flows), and every command that reads manifests takes ``--allow-empty``: without
it, input with no Kubernetes object is an error, so that a wrong ``-f`` path
cannot pass. Each command's ``-o`` choices and their help come from the format
list of its renderer (:func:`output_option`).
"""

from __future__ import annotations

import sys
from contextlib import contextmanager
from typing import Annotated, Any, Iterable, Iterator, NoReturn, Sequence

import typer

from podfence.app import (
    CONFIG_FILE, DEFAULT_MAX_INPUT_BYTES, DEFAULT_MAX_OBJECTS, DEFAULT_MAX_OUTPUT_BYTES, EXIT_FINDINGS,
    EXIT_INTERNAL, EXIT_INVALID, EXIT_OK, TIMEOUT, Listener, Live, Options, Stop, check_namespace, choose, one_port,
    protocol_of,
)
from podfence.render.escape import one_line

Filenames = Annotated[
    list[str],
    typer.Option("-f", "--filename", metavar="PATH",
                 help="Manifest file or directory (recursive; .yaml/.yml/.json), or - for stdin. Repeatable."),
]


_namespace_given = [False]  # whether this run's -n came from the command line (not its default)


def namespace_flag(ctx: typer.Context, param: typer.CallbackParam, value: str) -> str:
    check_namespace(value)
    source = ctx.get_parameter_source(param.name) if param.name else None
    _namespace_given[0] = source is not None and source.name == "COMMANDLINE"
    return value


def namespace_given() -> bool:
    """True when ``-n`` was given on the command line (not its default)."""
    return _namespace_given[0]


Namespace = Annotated[
    str, typer.Option("-n", "--namespace", help="Namespace for objects that name none.", callback=namespace_flag)
]
FromEndpoints = Annotated[
    list[str],
    typer.Option("--from", metavar="ENDPOINT",
                 help="Only these sources: ns/name, name (in -n), svc/ns/name, ns/*, an IP or a CIDR. Repeatable."),
]
ToEndpoints = Annotated[
    list[str],
    typer.Option("--to", metavar="ENDPOINT",
                 help="Only these destinations: ns/name, name (in -n), svc/ns/name, ns/*, an IP or a CIDR. Repeatable."),
]
SettingValues = Annotated[
    list[str],
    typer.Option("--set", metavar="KNOB=VALUE",
                 help="Change an evaluation setting, e.g. --set allow_self_traffic=false. Repeatable."),
]
ConfigPath = Annotated[
    str | None,
    typer.Option("--config", metavar="FILE",
                 help=f"podfence configuration (default: the nearest {CONFIG_FILE} upward from here)."),
]
Staged = Annotated[
    bool, typer.Option("--staged", help="Evaluate the promoted view: every staged policy "
                                        "(StagedKubernetesNetworkPolicy) enforced, replacing or removing the "
                                        "NetworkPolicy of the same namespace and name.")
]
StrictCidr = Annotated[
    bool, typer.Option("--strict-cidr", help="Reject CIDRs the API server accepts only leniently.")
]
AllowEmpty = Annotated[
    bool, typer.Option("--allow-empty", help="Accept manifests with no Kubernetes object (by default an error, "
                                             "so that a wrong -f path cannot pass).")
]
MaxInputBytes = Annotated[
    int, typer.Option("--max-input-bytes", metavar="N", min=1,
                      help="Stop with exit 2 once all inputs together pass N bytes (256 MiB by default).")
]
MaxObjects = Annotated[
    int, typer.Option("--max-objects", metavar="N", min=1,
                      help="Stop with exit 2 past N Kubernetes objects.")
]
MaxOutputBytes = Annotated[
    int,
    typer.Option("--max-output-bytes", metavar="BYTES", min=1,
                 help=f"Largest output to write, in bytes (default {DEFAULT_MAX_OUTPUT_BYTES}, 1 GiB). "
                      "Larger output is refused before writing when its size is known, else stopped there."),
]

Kubeconfig = Annotated[
    str | None,
    typer.Option("--kubeconfig", metavar="FILE",
                 help="kubeconfig of the live cluster (default: $KUBECONFIG, merged as kubectl does, "
                      "then ~/.kube/config)."),
]
ContextName = Annotated[
    str | None,
    typer.Option("--context", metavar="NAME",
                 help="kubeconfig context to read (default: the current context). Repeat it, or give "
                      "--all-contexts, to run on several clusters: JSON becomes {\"clusters\": {CONTEXT: ...}}, "
                      "text one section per cluster."),
]
AllNamespaces = Annotated[
    bool, typer.Option("-A", "--all-namespaces",
                       help="On a live cluster: show every namespace (the default; -n NS shows one).")
]
RequestTimeout = Annotated[
    float, typer.Option("--request-timeout", metavar="SECONDS", min=0.1,
                        help=f"Seconds to wait for the API server to connect and to answer (default {TIMEOUT:g}).")
]
PortOption = Annotated[str, typer.Option(
    "--port", metavar="PORT", help="Destination port: a number, a port name or N/PROTO such as 53/UDP.")]
ProtocolOption = Annotated[list[str], typer.Option(
    "--protocol", metavar="PROTO", help="TCP, UDP or SCTP (default TCP; or write the port as N/PROTO).")]


def output_option(formats: Sequence[str], what: str = "Output format") -> Any:
    """The ``-o``/``--output`` option of a command whose renderer writes ``formats``."""
    listed = ", ".join(formats[:-1]) + f" or {formats[-1]}" if len(formats) > 1 else formats[0]
    return Annotated[str, typer.Option("-o", "--output", help=f"{what}: {listed}.")]


def options(filename: Sequence[str] = (), namespace: str = "default", config: str | None = None,
            setting: Sequence[str] = (), strict_cidr: bool = False, allow_empty: bool = False,
            max_input_bytes: int = DEFAULT_MAX_INPUT_BYTES, max_objects: int = DEFAULT_MAX_OBJECTS,
            max_output_bytes: int = DEFAULT_MAX_OUTPUT_BYTES, select: Sequence[str] = (),
            ignore: Sequence[str] = (), preview: bool | None = None, *, kubeconfig: str | None = None,
            context: str | None = None, request_timeout: float = TIMEOUT, all_namespaces: bool = False,
            live: bool = True, staged: bool = False) -> Options:
    """The shared options from a command's flags (``--select`` not given: None, the config decides).

    ``live=False``: the command reads manifests only (no live cluster).
    """
    source = Live(kubeconfig, context, request_timeout, all_namespaces) if live else None
    return Options(files=tuple(filename), namespace=namespace, config=config, set_values=tuple(setting),
                   strict_cidr=strict_cidr, allow_empty=allow_empty, max_input_bytes=max_input_bytes,
                   max_objects=max_objects, max_output_bytes=max_output_bytes,
                   select=tuple(select) if select else None, ignore=tuple(ignore), preview=preview,
                   live=source, namespace_given=namespace_given(), staged=staged)


def note(message: str) -> None:
    """One line on stderr (control characters quoted, length capped)."""
    sys.stderr.write(f"{one_line(message)}\n")


def say(line: str) -> None:
    """One line on stderr."""
    sys.stderr.write(f"{line}\n")


@contextmanager
def busy(message: str) -> Iterator[None]:
    """A spinner on stderr while something slow runs, only when stderr is a terminal."""
    if not sys.stderr.isatty():
        yield
        return
    from rich.console import Console

    with Console(stderr=True).status(message):
        yield


LISTENER = Listener(say=say, busy=busy)


def fail(message: str, code: int = EXIT_INVALID) -> NoReturn:
    """Stop the command with one line on stderr (control characters quoted, length capped)."""
    raise Stop(message, code=code)


def write(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()


_BATCH_BYTES = 1 << 20


def refuse_output(what: str, size: int, limit: int, detail: str = "") -> None:
    """Exit 2 with one line, before writing anything, when ``size`` bytes exceed ``--max-output-bytes``."""
    if size > limit:
        fail(f"{what} would exceed --max-output-bytes={limit} ({detail or f'{size} bytes'}); "
             "give fewer manifests or raise the limit")


def write_bounded(chunks: Iterable[str], limit: int, what: str) -> None:
    """Write ``chunks`` to stdout as they come (in batches of about 1 MiB), never more than ``limit`` bytes.

    A chunk that would cross the limit is not written: the output stops after the
    last whole chunk that fits, and one line on stderr says so (exit 2).
    """
    pending: list[str] = []
    pending_bytes = written = 0
    for chunk in chunks:
        size = len(chunk) if chunk.isascii() else len(chunk.encode("utf-8"))
        if written + pending_bytes + size > limit:
            write("".join(pending))
            fail(f"{what} exceeds --max-output-bytes={limit}: stopped after {written + pending_bytes} bytes; "
                 "give fewer manifests or raise the limit")
        pending.append(chunk)
        pending_bytes += size
        if pending_bytes >= _BATCH_BYTES:
            sys.stdout.write("".join(pending))
            written += pending_bytes
            pending, pending_bytes = [], 0
    write("".join(pending))


def write_sized(text: str, limit: int, what: str, output: str, noun: str = "it takes") -> None:
    """Write ``text`` unless it is larger than ``--max-output-bytes`` (then exit 2 before writing anything)."""
    size = len(text.encode("utf-8"))
    refuse_output(what, size, limit, f"{noun} {size} bytes as {output}")
    write(text)


__all__ = [
    "FromEndpoints", "ToEndpoints",
    "DEFAULT_MAX_INPUT_BYTES", "DEFAULT_MAX_OBJECTS", "DEFAULT_MAX_OUTPUT_BYTES", "choose", "protocol_of",
    "EXIT_FINDINGS", "EXIT_INTERNAL", "EXIT_INVALID", "EXIT_OK", "LISTENER", "AllowEmpty", "ConfigPath",
    "Filenames", "MaxInputBytes", "MaxObjects", "MaxOutputBytes", "Namespace", "SettingValues", "StrictCidr",
    "busy", "fail", "one_line", "options", "output_option", "refuse_output", "say", "write", "write_bounded",
    "write_sized", "TIMEOUT", "AllNamespaces", "ContextName", "Kubeconfig", "PortOption", "ProtocolOption",
    "RequestTimeout", "Staged", "namespace_given", "one_port",
]
