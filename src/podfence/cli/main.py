"""The ``podfence`` command."""

from __future__ import annotations

import os
import sys

import typer

from podfence import __version__
from podfence.cli import check, connectivity, explain, matrix
from podfence.app import Stop
from podfence.cli.common import EXIT_INTERNAL, EXIT_INVALID
from podfence.cli import assert_cmd, diff as diff_cmd
from podfence.cli import generate as generate_cmd
from podfence.cli import audit as audit_cmd
from podfence.cli import lint as lint_cmd
from podfence.render.escape import one_line

app = typer.Typer(
    name="podfence",
    help="Exact Kubernetes NetworkPolicy semantics: validate, explain, and prove who can talk to whom.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
app.command()(check.check)
app.command()(matrix.matrix)
app.command()(connectivity.connectivity)
app.command()(explain.explain)
app.command()(diff_cmd.diff)
app.command(name="test")(assert_cmd.test_command)
app.add_typer(generate_cmd.app, name="generate")
app.command(name="lint")(lint_cmd.lint)
app.command(name="audit")(audit_cmd.audit)

try:  # the lab is optional at import time: it needs Linux-only pieces
    from podfence.cli import lab as _lab

    app.add_typer(_lab.app, name="lab")
except ImportError:  # pragma: no cover - only on platforms without the lab's modules
    pass


@app.callback(invoke_without_command=True)
def _root(version: bool = typer.Option(False, "--version", help="Print the version and exit.")) -> None:
    if version:
        sys.stdout.write(f"podfence {__version__}\n")
        raise typer.Exit(0)


def _is_usage_error(e: BaseException) -> bool:
    """Typer's parse errors (click's UsageError family), recognised by shape.

    Typer has shipped click both as a dependency and vendored; matching by shape
    keeps podfence working with either.
    """
    return hasattr(e, "format_message") and isinstance(getattr(e, "exit_code", None), int)


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; usage errors are one line on stderr with exit code 2."""
    command = typer.main.get_command(app)
    try:
        rv = command.main(args=argv, prog_name="podfence", standalone_mode=False)
        return rv if isinstance(rv, int) else 0
    except typer.Exit as e:
        return int(getattr(e, "exit_code", 0) or 0)
    except Stop as stop:
        sys.stdout.flush()
        for line in stop.lines():
            sys.stderr.write(f"{line}\n")
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
