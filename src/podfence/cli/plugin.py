"""``kubectl podfence``: the kubectl plugin (the ``kubectl-podfence`` console script).

kubectl runs ``kubectl-podfence`` with every argument after ``podfence``, as typed.
kubectl users put its global flags anywhere (``kubectl podfence --context prod
connectivity``), so this moves ``--context``, ``--kubeconfig``, ``-n``/``--namespace``,
``-A``/``--all-namespaces`` and ``--request-timeout`` given before the command to
after it, and reads kubectl's durations (``30s``, ``1m``, ``500ms``) as seconds.
The rest is ``podfence`` itself.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Sequence

from podfence.cli.main import main

_VALUED = ("--context", "--kubeconfig", "-n", "--namespace", "--request-timeout")
_FLAGS = ("-A", "--all-namespaces")
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)(ms|s|m|h)?$")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}
_GROUPS = ("generate", "rollout", "lab")  # commands with subcommands: flags go after the subcommand


def seconds(value: str) -> str:
    """kubectl's ``--request-timeout`` value as podfence's seconds (``30s`` -> ``30``; ``0`` stays ``0``)."""
    found = _DURATION.match(value.strip())
    if found is None:
        return value  # podfence says what is wrong with it
    number = float(found.group(1)) * _UNITS[found.group(2)]
    return f"{number:g}"


def podfence_args(argv: Sequence[str]) -> list[str]:
    """kubectl's way of writing a podfence command line, as podfence takes it."""
    moved: list[str] = []
    rest: list[str] = []
    i = 0
    args = list(argv)
    while i < len(args):
        arg = args[i]
        name, eq, value = arg.partition("=")
        if arg == "--":
            rest.extend(args[i:])
            break
        if name in _VALUED and name.startswith("--") and eq:
            moved.append(f"{name}={seconds(value) if name == '--request-timeout' else value}")
        elif arg in _VALUED and i + 1 < len(args):
            value = args[i + 1]
            moved.extend([arg, seconds(value) if arg == "--request-timeout" else value])
            i += 1
        elif arg in _FLAGS:
            moved.append(arg)
        else:
            rest.extend(args[i:])
            break
        i += 1
    # the flags given after the command keep their place; kubectl's durations are read there too
    out = []
    j = 0
    while j < len(rest):
        arg = rest[j]
        if arg == "--request-timeout" and j + 1 < len(rest):
            out.extend([arg, seconds(rest[j + 1])])
            j += 2
            continue
        if arg.startswith("--request-timeout="):
            arg = "--request-timeout=" + seconds(arg.partition("=")[2])
        out.append(arg)
        j += 1
    if not moved or not out:
        return [*out, *moved]
    at = 1
    if out[0] in _GROUPS and len(out) > 1 and not out[1].startswith("-"):
        at = 2
    return [*out[:at], *moved, *out[at:]]


def run() -> None:
    sys.exit(main(podfence_args(sys.argv[1:])))
