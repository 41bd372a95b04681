"""What every podfence command shares: options, loading, errors, exit codes.

Exit codes: 0 ok, 1 findings, 2 invalid input or usage, 3 internal error.
Results go to stdout; notes, warnings and errors go to stderr, one line each.
"""

from __future__ import annotations

import os
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Iterable, Iterator, NoReturn, Sequence

import typer

from podfence.config import CONFIG_FILE, DEFAULT_CONFIG, Config, config_from_dict
from podfence.loader import LoadResult, load, read_own_file
from podfence.model import Diagnostic, Settings
from podfence.sets import Protocol

EXIT_OK, EXIT_FINDINGS, EXIT_INVALID, EXIT_INTERNAL = 0, 1, 2, 3

Filenames = Annotated[
    list[str],
    typer.Option("-f", "--filename", metavar="PATH",
                 help="Manifest file or directory (recursive; .yaml/.yml/.json), or - for stdin. Repeatable."),
]
Namespace = Annotated[
    str, typer.Option("-n", "--namespace", help="Namespace for objects that name none.")
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
StrictCidr = Annotated[
    bool, typer.Option("--strict-cidr", help="Reject CIDRs the API server accepts only leniently.")
]
DEFAULT_MAX_OUTPUT_BYTES = 1 << 30
MaxOutputBytes = Annotated[
    int,
    typer.Option("--max-output-bytes", metavar="BYTES", min=1,
                 help=f"Largest output to write, in bytes (default {DEFAULT_MAX_OUTPUT_BYTES}, 1 GiB). "
                      "Larger output is refused before writing when its size is known, else stopped there."),
]

_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0"}


def fail(message: str, code: int = EXIT_INVALID) -> NoReturn:
    """Print one line on stderr and exit."""
    sys.stderr.write(f"podfence: error: {message}\n")
    raise typer.Exit(code)


def find_config(start: Path | None = None) -> Path | None:
    """The nearest .podfence.yaml in the current directory or one of its parents."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        candidate = folder / CONFIG_FILE
        if candidate.is_file():
            return candidate
    return None


def load_config(path: str | None) -> Config:
    """The configuration from ``--config`` or the nearest file; problems end the command (exit 2)."""
    if path is None:
        found = find_config()
        if found is None:
            return DEFAULT_CONFIG
        path = str(found)
    own = read_own_file(path)
    problems = list(own.problems)
    config = DEFAULT_CONFIG
    if not problems:
        config, found_problems = config_from_dict(own.data)
        problems += own.place(found_problems, "podfence config")
    exit_on_errors(problems)
    return config


def exit_on_errors(diagnostics: Iterable[Diagnostic], prefix: str = "") -> None:
    """Print every error diagnostic on its own line (after ``prefix``) and exit 2 if there was one."""
    errors = [d for d in diagnostics if d.is_error]
    for d in errors:
        sys.stderr.write(f"{prefix}{d.one_line()}\n")
    if errors:
        raise typer.Exit(EXIT_INVALID)


def settings_from(values: Sequence[str], strict_cidr: bool = False, base: Settings | None = None) -> Settings:
    """Build Settings from ``--set knob=value`` flags, on top of ``base`` (the config's)."""
    changes: dict[str, bool] = {}
    for item in values:
        knob, sep, raw = item.partition("=")
        knob = knob.strip().replace("-", "_")
        if not sep or knob not in Settings.names():
            fail(f"--set {item!r}: expected KNOB=true|false with KNOB one of {', '.join(Settings.names())}")
        word = raw.strip().lower()
        if word not in _TRUE | _FALSE:
            fail(f"--set {item!r}: value must be true or false")
        changes[knob] = word in _TRUE
    if strict_cidr:
        changes["strict_cidr_validation"] = True
    return (base or Settings()).with_values(**changes)


def choose(value: str, choices: Sequence[str], flag: str) -> str:
    if value not in choices:
        fail(f"{flag} {value!r}: choose one of {', '.join(choices)}")
    return value


def protocol_from(value: str) -> Protocol:
    try:
        return Protocol(value.upper())
    except ValueError:
        fail(f"--protocol {value!r}: choose one of TCP, UDP, SCTP")


def report(result: LoadResult, *, show_warnings: bool = True) -> None:
    for note in result.notes:
        sys.stderr.write(f"note: {note}\n")
    if show_warnings:
        for d in result.diagnostics:
            if not d.is_error:
                sys.stderr.write(f"warning: {d.one_line()}\n")


def load_cluster(files: Sequence[str], namespace: str, settings: Settings) -> LoadResult:
    """Load manifests for an analysis command; any error ends the command with exit 2."""
    if not files:
        fail("no manifests given: use -f PATH (a file, a directory, or - for stdin)")
    with busy("reading manifests"):
        result = load(list(files), default_namespace=namespace, settings=settings)
    report(result)
    exit_on_errors(result.diagnostics)
    return result


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
    """Write every file or none: refuse to overwrite without --force; temp files, then renames.

    Problems are one line naming ``flag`` (the option that chose the place) and the path.
    """
    if directory.exists() and not directory.is_dir():
        fail(f"{flag} {directory}: not a directory")
    existing = sorted(name for name in files if (directory / name).exists())
    if existing and not force:
        fail(f"{flag} {directory}: {', '.join(existing)} exist{'s' if len(existing) == 1 else ''} "
             "(pass --force to overwrite)")
    try:
        directory.mkdir(parents=True, exist_ok=True)
        staged: list[tuple[str, Path]] = []
        try:
            for name, text in files.items():
                fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=directory)
                staged.append((tmp, directory / name))
                with os.fdopen(fd, "w", encoding="utf-8") as handle:
                    handle.write(text)
            for tmp, target in staged:
                os.replace(tmp, target)
        finally:
            for tmp, _ in staged:
                if os.path.exists(tmp):
                    os.unlink(tmp)
    except OSError as exc:
        fail(f"{flag} {directory}: {exc.strerror or exc}")


def write_file(path: Path, text: str, force: bool, flag: str) -> None:
    """One file, atomically; refused if it exists and ``force`` is off."""
    if path.exists() and not force:
        fail(f"{flag} {path}: exists (pass --force to overwrite)")
    if path.is_dir():
        fail(f"{flag} {path}: is a directory")
    write_files(path.parent, {path.name: text}, force=True, flag=f"{flag} {path.name} in")


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
