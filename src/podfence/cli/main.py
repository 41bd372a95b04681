"""The ``podfence`` command."""

from __future__ import annotations

import os
import sys

import typer

from podfence import __version__
from podfence.cli import check, connectivity, explain, matrix
from podfence.app import Stop
from podfence.cli.common import EXIT_INTERNAL, EXIT_INVALID
from podfence.cli.multi import run_per_context
from podfence.cli import assert_cmd, diff as diff_cmd
from podfence.cli import compare as compare_cmd
from podfence.cli import generate as generate_cmd
from podfence.cli import audit as audit_cmd
from podfence.cli import convert as convert_cmd
from podfence.cli import lint as lint_cmd
from podfence.cli import monitor as monitor_cmd
from podfence.cli import rollout as rollout_cmd
from podfence.cli import snapshot as snapshot_cmd
from podfence.cli import ui as ui_cmd
from podfence.cli import watch as watch_cmd
from podfence.render.escape import one_line

app = typer.Typer(
    name="podfence",
    help="Exact Kubernetes NetworkPolicy semantics: validate, explain, and prove who can talk to whom.",
    add_completion=True,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
app.command()(check.check)
app.command()(matrix.matrix)
app.command()(connectivity.connectivity)
app.command()(explain.explain)
app.command()(diff_cmd.diff)
app.command(name="compare")(compare_cmd.compare)
app.command(name="test")(assert_cmd.test_command)
app.add_typer(generate_cmd.app, name="generate")
app.command(name="lint")(lint_cmd.lint)
app.command(name="audit")(audit_cmd.audit)
app.command(name="convert")(convert_cmd.convert)
app.add_typer(rollout_cmd.app, name="rollout")
app.command(name="monitor")(monitor_cmd.monitor)
app.command(name="snapshot")(snapshot_cmd.snapshot)
app.command(name="watch")(watch_cmd.watch)
app.command(name="ui")(ui_cmd.ui)

try:  # the lab is optional at import time: it needs Linux-only pieces
    from podfence.cli import lab as _lab

    app.add_typer(_lab.app, name="lab")
except ImportError:  # pragma: no cover - only on platforms without the lab's modules
    pass


@app.callback(invoke_without_command=True)
def _root(version: bool = typer.Option(False, "-V", "--version", help="Print the version and exit.")) -> None:
    if version:
        sys.stdout.write(f"podfence {__version__}\n")
        raise typer.Exit(0)


def _is_usage_error(e: BaseException) -> bool:
    """Typer's parse errors (click's UsageError family), recognised by shape.

    Typer has shipped click both as a dependency and vendored; matching by shape
    keeps podfence working with either.
    """
    return hasattr(e, "format_message") and isinstance(getattr(e, "exit_code", None), int)


# Plain metavars where an option names none: what the value is, never a type name such as <list[int]>.
_METAVARS = {"output": "FORMAT", "namespace": "NS", "port": "PORT", "protocol": "PROTO", "wait": "SECONDS",
             "timeout": "SECONDS", "from": "SRC", "to": "DST", "name": "NAME", "junit": "FILE",
             "context": "CONTEXT", "base": "REV", "select": "RULES", "ignore": "RULES", "extend-select": "RULES",
             "rules-doc": "DIR", "fail-on": "SEVERITY", "pod-cidr": "CIDR", "flows-format": "FORMAT"}


# One example per command, at the end of its help; every one runs as written from the repository.
EXAMPLES = {
    "check": "podfence check -f examples/baa",
    "matrix": "podfence matrix -f examples/baa --port 8080",
    "connectivity": "podfence connectivity -f examples/baa -o json",
    "explain": "podfence explain -f examples/baa --from api/api-server --to data/postgres --port 5432",
    "diff": "podfence diff --base main -f examples/baa",
    "test": "podfence test -f examples/baa expectations.yaml --junit report.xml",
    "lint": "podfence lint -f examples/baa -o sarif",
    "audit": "podfence audit -f examples/baa -o md",
    "convert": "podfence convert -f tests/fixtures/tiers/policies.yaml -f tests/fixtures/tiers/houses.yaml",
    "generate": "podfence generate -f examples/baa --intents examples/baa-intents.yaml --check",
    "generate default-deny": "podfence generate default-deny -n shop --allow-dns",
    "generate allow": "podfence generate allow -f examples/baa --from billing/invoicer --to svc/notify/mailer --port 80",
    "generate egress": "podfence generate egress -f examples/baa --from billing/invoicer --to-cidr 203.0.113.0/24 --port 443",
    "ui": "podfence ui -f examples/baa",
    "compare": "podfence compare staging prod",
    "snapshot": "podfence snapshot --context prod -o prod.yaml",
    "watch": "podfence watch --context prod -o json",
    "monitor": "podfence monitor --hubble examples/baa-staged/flows.jsonl -f examples/baa",
    "rollout check": "podfence rollout check -f examples/baa -f examples/baa-staged "
                     "--flows examples/baa-staged/flows.jsonl",
    "rollout plan": "podfence rollout plan -f examples/baa --to examples/baa-next "
                    "--flows examples/baa-staged/flows.jsonl -o md",
    "rollout apply": "sudo .venv/bin/podfence rollout apply plan.json --lab demo --window 5",
    "lab matrix": "sudo .venv/bin/podfence lab matrix -f examples/baa --port 8080 --compare",
    "lab up": "sudo .venv/bin/podfence lab up -f examples/baa",
    "lab apply": "sudo .venv/bin/podfence lab apply",
    "lab probe": "sudo .venv/bin/podfence lab probe --from api/api-server --to data/postgres",
    "lab show": "sudo .venv/bin/podfence lab show data/postgres",
    "lab denials": "sudo .venv/bin/podfence lab denials",
    "lab down": "sudo .venv/bin/podfence lab down",
    "lab status": "sudo .venv/bin/podfence lab status",
}


def _plain_metavars(command: object, path: str = "") -> None:
    """Give every value option without a metavar a plain one (``--port PORT``, ``--wait SECONDS``)."""
    for param in getattr(command, "params", ()):
        if getattr(param, "param_type_name", "") == "argument" and hasattr(param, "display_type_rich"):
            param.display_type_rich = lambda ctx: None  # the argument's name says it: OLD, SPEC.yaml, POD
            continue
        if getattr(param, "is_flag", True) or getattr(param, "metavar", None) or not getattr(param, "opts", None):
            continue
        long = max(param.opts, key=len).lstrip("-")
        param.metavar = _METAVARS.get(long, long.upper().replace("-", "_"))
    for name, sub in getattr(command, "commands", {}).items():
        full = f"{path} {name}".strip()
        if full in EXAMPLES and not getattr(sub, "epilog", None):
            sub.epilog = f"Example: {EXAMPLES[full]}"
        _plain_metavars(sub, full)


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; usage errors are one line on stderr with exit code 2.

    A run that names several contexts (``--context`` repeated, ``--all-contexts``)
    is one run per context, put together by :mod:`podfence.cli.multi`.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    several = run_per_context(args, _main)
    return _main(args) if several is None else several


_APP_LEAD = "podfence: error: "


def command_path(command: object, argv: list[str]) -> str:
    """The command as typed (``podfence lab up``): the longest known path among the leading non-option words."""
    words = ["podfence"]
    for arg in argv:
        subs = getattr(command, "commands", None)
        if arg.startswith("-") or not subs or arg not in subs:
            break
        words.append(arg)
        command = subs[arg]
    return " ".join(words)


def _main(argv: list[str]) -> int:
    command = typer.main.get_command(app)
    _plain_metavars(command)
    try:
        rv = command.main(args=argv, prog_name="podfence", standalone_mode=False)
        return rv if isinstance(rv, int) else 0
    except typer.Exit as e:
        return int(getattr(e, "exit_code", 0) or 0)
    except Stop as stop:
        sys.stdout.flush()
        lead = f"{command_path(command, argv)}: error: "
        for line in stop.lines():
            sys.stderr.write(f"{lead}{line.removeprefix(_APP_LEAD)}\n" if line.startswith(_APP_LEAD) else f"{line}\n")
        return stop.code
    except typer.Abort:
        sys.stderr.write("podfence: aborted\n")
        return EXIT_INVALID
    except KeyboardInterrupt:
        sys.stderr.write("podfence: interrupted\n")
        return 130
    except BrokenPipeError:
        return 0
    except Exception as e:  # noqa: BLE001 - the last line of defence: never a traceback for users
        if type(e).__name__ == "NoArgsIsHelpError":  # `podfence`, `podfence lab`: the help, as --help prints it
            sys.stdout.write(str(e.format_message()).rstrip("\n") + "\n")  # type: ignore[attr-defined]
            return 0
        if _is_usage_error(e):
            ctx = getattr(e, "ctx", None)
            name = getattr(ctx, "command_path", None) or "podfence"
            message = " ".join(str(e.format_message()).split())  # type: ignore[attr-defined]
            sys.stderr.write(f"{name}: error: {one_line(message)} (see '{name} --help')\n")
            return EXIT_INVALID
        if os.environ.get("PODFENCE_DEBUG"):
            raise
        sys.stderr.write(f"podfence: internal error: {type(e).__name__}: {one_line(str(e))} "
                         "(set PODFENCE_DEBUG=1 for the traceback, and please report it)\n")
        return EXIT_INTERNAL


def run() -> None:
    sys.exit(main())


if __name__ == "__main__":
    run()
