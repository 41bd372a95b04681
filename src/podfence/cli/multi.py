"""Several clusters in one run: ``--context`` given more than once, or ``--all-contexts``.

The command runs once per context, exactly as it would with that one
``--context``; its outputs are put together: JSON as
``{"clusters": {"<context>": <the command's JSON for it>}}``, other formats one
section per cluster under a ``== context NAME ==`` line. Notes and errors go to
stderr as each run says them; the exit code is the worst of the runs.
"""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Callable, Sequence
from contextlib import redirect_stdout

from podfence.app.options import context_names
from podfence.render.escape import one_line
from podfence.render.json_text import json_document

MULTI_COMMANDS = ("check", "matrix", "connectivity", "explain", "lint", "audit", "test")
ALL_CONTEXTS = "--all-contexts"


def contexts_asked(argv: Sequence[str]) -> tuple[list[str], list[str], bool]:
    """(the contexts named, argv without them and without --all-contexts, whether --all-contexts was given)."""
    rest: list[str] = []
    names: list[str] = []
    every = False
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--":
            rest.extend(argv[i:])
            break
        if arg == ALL_CONTEXTS:
            every = True
        elif arg == "--context" and i + 1 < len(argv):
            names.append(argv[i + 1])
            i += 1
        elif arg.startswith("--context="):
            names.append(arg.partition("=")[2])
        else:
            rest.append(arg)
        i += 1
    return names, rest, every


def _option(argv: Sequence[str], *flags: str) -> str | None:
    for i, arg in enumerate(argv):
        if arg in flags and i + 1 < len(argv):
            return argv[i + 1]
        for flag in flags:
            if flag.startswith("--") and arg.startswith(flag + "="):
                return arg.partition("=")[2]
    return None


def run_per_context(argv: list[str], run_one: Callable[[list[str]], int]) -> int | None:
    """Run ``argv`` once per context when it names several (None: not a multi-cluster run)."""
    names, rest, every = contexts_asked(argv)
    if not every and len(names) < 2:
        return None
    command = next((a for a in rest if not a.startswith("-")), "")
    if command == "ui" and not every:
        return None  # the page loads every --context itself and switches between them
    if command not in MULTI_COMMANDS or (command == "test" and _option(rest, "--junit") is not None):
        return _fail(f"several clusters at once (--context repeated, {ALL_CONTEXTS}) work with "
                     f"{', '.join(MULTI_COMMANDS)} (test without --junit), not with {command or 'no command'}",
                     command if command in MULTI_COMMANDS else "")
    if every:
        if names:
            return _fail(f"{ALL_CONTEXTS} reads every context: leave out --context", command)
        found = context_names(_option(rest, "--kubeconfig"))
        if isinstance(found, str):
            return _fail(found, command)
        names = found
        if not names:
            return _fail("the kubeconfig has no context", command)
    names = list(dict.fromkeys(names))
    json_output = _option(rest, "-o", "--output") == "json"
    outputs: dict[str, str] = {}
    worst = 0
    for name in names:
        buffer = io.StringIO()
        with redirect_stdout(buffer):
            code = run_one([*rest, "--context", name])
        worst = max(worst, code)
        if code in (0, 1):
            outputs[name] = buffer.getvalue()
    if json_output:
        clusters = {name: json.loads(text) for name, text in outputs.items()}
        sys.stdout.write(json_document({"clusters": clusters}))
    else:
        for n, (name, text) in enumerate(outputs.items()):
            sys.stdout.write(("\n" if n else "") + f"== context {one_line(name)} ==\n" + text)
    return worst


def _fail(message: str, command: str = "") -> int:
    """One error line, led by the command as typed (``podfence matrix: error: ...``)."""
    lead = f"podfence {command}" if command else "podfence"
    sys.stderr.write(f"{lead}: error: {one_line(message)}\n")
    return 2
