"""What every podfence command shares: options, loading, errors, exit codes.

Exit codes: 0 ok, 1 findings, 2 invalid input or usage, 3 internal error.
Results go to stdout; notes, warnings and errors go to stderr, one line each.

Every command that reads input takes ``--max-input-bytes`` and ``--max-objects``
(one :class:`~podfence.loader.limits.Budget` per run, shared by the manifests, the
config, specs, intents and flows), and every command that reads manifests takes
``--allow-empty``: without it, input with no Kubernetes object is an error, so that
a wrong ``-f`` path cannot pass.
"""

from __future__ import annotations

import sys
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Callable, Iterable, Iterator, NoReturn, Sequence

import typer

from podfence.cli import files as files_
from podfence.config import CONFIG_FILE, DEFAULT_CONFIG, Config, config_from_dict
from podfence.loader import LoadResult, load, load_objects, read_own_file
from podfence.loader import codes as load_codes
from podfence.loader.limits import DEFAULT_MAX_INPUT_BYTES, DEFAULT_MAX_OBJECTS, Budget
from podfence.model import ClusterOrigin, Diagnostic, Settings
from podfence.model.own_fields import NAMESPACE_RULE
from podfence.model.ports import PROTOCOL_WORDS, PortSpec, parse_port, parse_protocol
from podfence.model.text import one_line, quoted
from podfence.sets import Protocol
from podfence.sources.cluster import TIMEOUT, ClusterObjects, read_cluster
from podfence.sources.kubeconfig import NO_KUBECONFIG, Context
from podfence.validate import is_dns1123_label

EXIT_OK, EXIT_FINDINGS, EXIT_INVALID, EXIT_INTERNAL = 0, 1, 2, 3

Filenames = Annotated[
    list[str],
    typer.Option("-f", "--filename", metavar="PATH",
                 help="Manifest file or directory (recursive; .yaml/.yml/.json), or - for stdin. Repeatable."),
]
def check_namespace(value: str, flag: str = "-n") -> None:
    """A namespace flag must name a namespace Kubernetes would accept (exit 2 otherwise)."""
    if not is_dns1123_label(value):
        fail(f"{flag} {quoted(value)}: not a namespace name ({NAMESPACE_RULE})")


_namespace_given = [False]  # whether this run's -n came from the command line (not its default)


def namespace_flag(ctx: typer.Context, param: typer.CallbackParam, value: str) -> str:
    check_namespace(value)
    source = ctx.get_parameter_source(param.name) if param.name else None
    _namespace_given[0] = source is not None and source.name == "COMMANDLINE"
    return value


Namespace = Annotated[
    str, typer.Option("-n", "--namespace", help="Namespace for objects that name none.", callback=namespace_flag)
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
DEFAULT_MAX_OUTPUT_BYTES = 1 << 30
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

_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0"}


def note(message: str) -> None:
    """One line on stderr (control characters quoted, length capped)."""
    sys.stderr.write(f"{one_line(message)}\n")


def fail(message: str, code: int = EXIT_INVALID) -> NoReturn:
    """Print one line on stderr and exit (control characters quoted, length capped)."""
    sys.stderr.write(f"podfence: error: {one_line(message)}\n")
    raise typer.Exit(code)


def find_config(start: Path | None = None) -> Path | None:
    """The nearest .podfence.yaml in the current directory or one of its parents."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        candidate = folder / CONFIG_FILE
        if candidate.is_file():
            return candidate
    return None


def input_budget(max_input_bytes: int = DEFAULT_MAX_INPUT_BYTES,
                 max_objects: int = DEFAULT_MAX_OBJECTS) -> Budget:
    """The limits of this run, from ``--max-input-bytes`` and ``--max-objects``."""
    return Budget(max_input_bytes=max_input_bytes, max_objects=max_objects)


def load_config(path: str | None, budget: Budget | None = None,
                check: Callable[[Config], Iterable[Diagnostic]] | None = None) -> Config:
    """The configuration from ``--config`` or the nearest file; problems end the command (exit 2).

    ``check`` looks further at a valid configuration (a command's own view of it); its
    diagnostics are placed in the file like the parser's, and warnings and notes are printed.
    """
    if path is None:
        found = find_config()
        if found is None:
            return DEFAULT_CONFIG
        path = str(found)
    own = read_own_file(path, budget=budget)
    problems = list(own.problems)
    config = DEFAULT_CONFIG
    if not problems:
        config, found_problems = config_from_dict(own.data)
        if check is not None and not any(d.is_error for d in found_problems):
            found_problems = [*found_problems, *check(config)]
        problems += own.place(found_problems, "podfence config")
    for d in problems:
        if not d.is_error:
            sys.stderr.write(f"{d.severity.value}: {d.one_line()}\n")
    exit_on_errors(problems)
    return config


def exit_on_errors(diagnostics: Iterable[Diagnostic], prefix: str = "") -> None:
    """Print every error diagnostic on its own line (after ``prefix``) and exit 2 if there was one.

    A limit of the run (``L13``) ends it, so it reads like the run's own errors.
    """
    errors = [d for d in diagnostics if d.is_error]
    for d in errors:
        lead = "podfence: error: " if d.code == load_codes.LIMIT else ""
        sys.stderr.write(f"{lead}{one_line(prefix)}{d.one_line()}\n")
    if errors:
        raise typer.Exit(EXIT_INVALID)


def settings_from(values: Sequence[str], strict_cidr: bool = False, base: Settings | None = None) -> Settings:
    """Build Settings from ``--set knob=value`` flags, on top of ``base`` (the config's)."""
    changes: dict[str, bool | str] = {}
    choices = Settings.choices()
    for item in values:
        knob, sep, raw = item.partition("=")
        knob = knob.strip().replace("-", "_")
        if sep and knob in choices:
            word = raw.strip().lower()
            if word not in choices[knob]:
                fail(f"--set {quoted(item)}: value must be one of {', '.join(choices[knob])}")
            changes[knob] = word
            continue
        if not sep or knob not in Settings.switches():
            fail(f"--set {quoted(item)}: expected KNOB=true|false with KNOB one of {', '.join(Settings.switches())}")
        word = raw.strip().lower()
        if word not in _TRUE | _FALSE:
            fail(f"--set {quoted(item)}: value must be true or false")
        changes[knob] = word in _TRUE
    if strict_cidr:
        changes["strict_cidr_validation"] = True
    return (base or Settings()).with_values(**changes)


def choose(value: str, choices: Sequence[str], flag: str) -> str:
    if value not in choices:
        fail(f"{flag} {quoted(value)}: choose one of {', '.join(choices)}")
    return value


PortOption = Annotated[str, typer.Option(
    "--port", metavar="PORT", help="Destination port: a number, a port name or N/PROTO such as 53/UDP.")]
ProtocolOption = Annotated[list[str], typer.Option(
    "--protocol", metavar="PROTO", help="TCP, UDP or SCTP (default TCP; or write the port as N/PROTO).")]


def one_port(port: str, protocols: Sequence[str]) -> PortSpec:
    """``--port`` and ``--protocol`` of a command that judges one port, in podfence's one port syntax.

    ``--protocol`` given twice, or a protocol that ``--port N/PROTO`` contradicts,
    is a usage error rather than a silent choice.
    """
    chosen = list(dict.fromkeys(protocol_from(p) for p in protocols))
    if len(chosen) > 1:
        fail(f"--protocol given as {', '.join(map(str, chosen))}: this command judges one protocol; "
             "run it once per protocol")
    parsed = parse_port(port, chosen[0] if chosen else Protocol.TCP)
    if isinstance(parsed, str):
        fail(f"--port: {parsed}")
    if parsed.every or parsed.end_port is not None:
        fail(f"--port {quoted(port)}: this command judges one port; give a number, a port name or N/PROTO")
    if chosen and "/" in port and parsed.protocol is not chosen[0]:
        fail(f"--port {quoted(port)} and --protocol {chosen[0]} disagree")
    return parsed


def protocol_from(value: str) -> Protocol:
    """``--protocol``, read as podfence's own files read a protocol (any case)."""
    protocol = parse_protocol(value)
    if protocol is None:
        fail(f"--protocol {quoted(value)}: must be {PROTOCOL_WORDS}")
    return protocol


def report(result: LoadResult, *, show_warnings: bool = True) -> None:
    for text in result.notes:
        sys.stderr.write(f"note: {one_line(text)}\n")
    if show_warnings:
        for d in result.diagnostics:
            if not d.is_error:
                sys.stderr.write(f"warning: {d.one_line()}\n")


def load_cluster(files: Sequence[str], namespace: str, settings: Settings, budget: Budget | None = None,
                 allow_empty: bool = False, live: Live | None = None, keep_documents: bool = False) -> LoadResult:
    """The cluster of an analysis command (:func:`load_input`); any error, or no object at all, ends it (exit 2).

    Without ``live`` the command reads manifests only, and ``-f`` is required.
    """
    if not files and live is None:
        fail(NO_MANIFESTS)
    with busy("reading manifests"):
        result, names = load_input(files, namespace, settings, budget, live=live, keep_documents=keep_documents,
                                   namespace_given=namespace_given())
    report(result)
    exit_on_errors(result.diagnostics)
    require_objects([result], names, allow_empty)
    return result


def namespace_given() -> bool:
    """True when ``-n`` was given on the command line (not its default)."""
    return _namespace_given[0]


NO_MANIFESTS = "no manifests given: use -f PATH (a file, a directory, or - for stdin)"


@dataclass(frozen=True, slots=True)
class Live:
    """``--kubeconfig``, ``--context`` and ``--request-timeout`` of a command that can read a live cluster."""

    kubeconfig: str | None = None
    context: str | None = None
    timeout: float = TIMEOUT
    all_namespaces: bool = False

    @property
    def asked(self) -> bool:
        """True when a flag names the cluster (else only a missing ``-f`` makes the command read one)."""
        return self.kubeconfig is not None or self.context is not None

    def reads(self, files: Sequence[str]) -> bool:
        """True when the command reads the live cluster (a flag names it, or there is no ``-f``)."""
        return self.asked or not files

    def shown(self, files: Sequence[str], namespace: str) -> str | None:
        """The one namespace to show: ``-n`` on a live cluster, as kubectl (``-A``: every one, None)."""
        if self.reads(files) and namespace_given() and not self.all_namespaces:
            return namespace
        return None


def load_input(files: Sequence[str], namespace: str, settings: Settings, budget: Budget | None = None, *,
               live: Live | None = None, namespace_given: bool = False,
               keep_documents: bool = False) -> tuple[LoadResult, list[str]]:
    """The cluster a command analyses, and what to name its input by in messages (the paths, or the context).

    ``-f`` alone: the manifests. Otherwise the live cluster (the current context
    when no flag names one), with the manifests of ``-f`` applied over it as
    ``kubectl apply -f`` would: same kind, namespace and name replace the live
    object. Objects of the files that name no namespace go to ``-n`` when given,
    else to the context's namespace, else to ``default``. Only the live read's
    notes and its problems are printed; the caller reports the result.
    """
    if live is None or not (live.asked or not files):
        result = load(list(files), default_namespace=namespace, settings=settings, budget=budget,
                      keep_documents=keep_documents)
        return result, list(files)
    if not files and not live.asked:
        missing = missing_kubeconfig(budget)
        if missing is not None:
            fail(f"{NO_MANIFESTS}, or name a live cluster with --kubeconfig FILE / --context NAME ({missing})")
    read = read_live(live.kubeconfig, live.context, live.timeout, budget)
    default = namespace if namespace_given else (read.namespace or "default")
    result = load_objects(ClusterOrigin(read.context), read.documents, default_namespace=default,
                          settings=settings, budget=budget, name=read.context, keep_documents=keep_documents,
                          then=list(files))
    return result, [f"context {read.context}", *files]


def missing_kubeconfig(budget: Budget | None) -> str | None:
    """Why no kubeconfig can be found (None when one exists, whatever its state)."""
    from podfence.sources.kubeconfig import read_kubeconfig

    found = read_kubeconfig(None, budget=budget)
    return found.message if isinstance(found, Diagnostic) and found.code == NO_KUBECONFIG else None


def read_live(kubeconfig: str | None, context: str | None, timeout: float = TIMEOUT,
              budget: Budget | None = None) -> ClusterObjects:
    """Every object podfence reads from the context; says which one on stderr, and any problem ends it (exit 2)."""

    def starting(chosen: Context) -> None:
        sys.stderr.write(f"reading cluster {chosen.cluster!r} (context {chosen.name!r}, {chosen.server})\n")

    with busy(f"reading context {context}" if context else "reading the current context"):
        read = read_cluster(kubeconfig, context, timeout=timeout, budget=budget, starting=starting)
    for note in read.notes:
        sys.stderr.write(f"note: {one_line(note)}\n")
    if read.problem is not None:
        sys.stderr.write(f"podfence: error: {read.problem.one_line()}\n")
        raise typer.Exit(EXIT_INVALID)
    return read


def require_objects(results: Sequence[LoadResult], paths: Sequence[str], allow_empty: bool) -> None:
    """Exit 2 when none of ``results`` holds a Kubernetes object, unless ``--allow-empty``."""
    if not allow_empty and not any(r.objects for r in results):
        fail(f"no Kubernetes objects in {', '.join(paths)} (pass --allow-empty to accept empty input)")


@contextmanager
def busy(message: str) -> Iterator[None]:
    """A spinner on stderr while something slow runs, only when stderr is a terminal."""
    if not sys.stderr.isatty():
        yield
        return
    from rich.console import Console

    with Console(stderr=True).status(message):
        yield


def write_files(directory: Path, files: dict[str, str], force: bool, flag: str = "--out") -> None:
    """Write every file or none (:mod:`podfence.cli.files`); a refusal is one line naming ``flag``, exit 2."""
    for name in files:
        if Path(name).name != name or name in (".", ".."):
            raise ValueError(f"not a file name: {name!r}")
    try:
        files_.write_all({directory / name: text for name, text in files.items()}, force=force, flag=flag,
                         shown=directory)
    except files_.Refused as refused:
        fail(str(refused))


def write_file(path: Path, text: str, force: bool, flag: str) -> None:
    """One file, atomically; refused if it exists and ``force`` is off, or if it is not a regular file."""
    try:
        files_.write_all({path: text}, force=force, flag=flag, shown=path)
    except files_.Refused as refused:
        fail(str(refused))


def check_writable(path: Path, force: bool, flag: str) -> None:
    """Refuse at once (exit 2) a file option whose file could not be written at the end."""
    try:
        if files_.check_target(path, flag) is not None and not force:
            fail(f"{flag} {path}: exists (pass --force to overwrite)")
    except files_.Refused as refused:
        fail(str(refused))


def check_folder(path: Path, flag: str) -> None:
    """Refuse at once (exit 2) a folder option podfence could not write files into."""
    try:
        files_.check_folder(path, flag)
    except files_.Refused as refused:
        fail(str(refused))


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
