"""Fuzzing podfence with mutated manifests: every input ends in exit 0, 1 or 2, never a traceback.

``python benchmarks/fuzz.py --inputs 100000 --seed 1`` mutates manifests taken
from the bundled example, the test fixtures and synthetic clusters
(``generate.py``), runs a podfence command on each, in process, and checks:

* the exit code is 0, 1 or 2 (3 is an internal error: a bug);
* nothing on stdout or stderr is a Python traceback;
* every error line on stderr names the input file;
* no input runs longer than ``--timeout`` seconds.

Each mutation picks one node of a manifest and deletes it, confuses its type
(a string for a list, a map for a number, null, a bool, a float), makes it
oversized (100,000-character strings, 5,000-item lists, deep nesting), or puts a
hostile string in it (newlines, control characters, quotes, nft and shell
syntax, Markdown and HTML). Some inputs are mutated as text instead: truncated,
with random bytes, duplicated keys, YAML tags and aliases. The same seed gives
the same inputs.

Importable: :func:`mutants` yields ``(name, text, argv)`` and :func:`run_one`
runs one of them; the test suite runs a few thousand with a fixed seed.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import io
import json
import signal
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from random import Random
from typing import Any, Iterator, Sequence

import yaml

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from generate import generate as generate_cluster  # noqa: E402

Manifest = Any
Path_ = tuple[Any, ...]

HOSTILE_STRINGS = (
    "a\nb", "x\r\ny", "name\n  include \"/dev/zero\"", "ok; flush ruleset", "}\n}", "\x1b[31mred", "\u202eevil",
    "`<img src=x onerror=alert(1)>`", "[x](javascript:alert(1))", "=HYPERLINK(\"http://x\")", "@org/team",
    "\"];evil[label=\"", "../../etc/passwd", "/", "%", ".", "..", "", " ", "\t", "\x00", "\x7f", "\u2028",
    "a" * 300, "é" * 70, "-leading", "UPPER", "kube-system", "0.0.0.0/0", "::/0", "999.1.1.1/33", "fe80::1/64",
    "*", "null", "~", "yes", "0x1F", "1e3", "-1", "65536", "TCP", "udp", "SCTP", "http",
)
CONFUSIONS: tuple[Any, ...] = (
    None, True, False, 0, -1, 1.5, 65536, 2**70, "", "x", [], [1], ["a", "b"], {}, {"a": 1}, {"": None},
)
PLAUSIBLE: tuple[Any, ...] = (
    "web", "api", "db", "prod", 80, 443, 53, 8080, "TCP", "UDP", "SCTP", "dns", "http", {}, [], "10.0.0.0/8",
    "0.0.0.0/0", "2001:db8::/32", {"matchLabels": {"app": "web"}}, {"matchExpressions": [{"key": "app",
    "operator": "NotIn", "values": ["db"]}]}, ["Ingress"], ["Egress"], ["Ingress", "Egress"], [{}],
)
ARGV_CHOICES: tuple[tuple[str, ...], ...] = (
    ("check",),
    ("check", "-o", "json"),
    ("connectivity", "-o", "json"),
    ("connectivity",),
    ("matrix", "--port", "80"),
    ("matrix", "-o", "json", "--port", "53", "--protocol", "UDP"),
    ("lint", "-o", "json"),
    ("audit",),
)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one input did: exit code, and what broke the rules (empty when nothing did)."""

    name: str
    argv: tuple[str, ...]
    code: int
    seconds: float
    problems: tuple[str, ...]


def seed_documents() -> list[list[Manifest]]:
    """Groups of manifests to mutate: each example file, each test fixture file, small synthetic clusters."""
    groups: list[list[Manifest]] = []
    paths = sorted((ROOT / "examples" / "baa").glob("*.yaml"))
    for folder in ("cli", "diff", "generate", "assertions", "scenarios", "tiers"):
        paths += sorted((ROOT / "tests" / "fixtures" / folder).rglob("*.yaml"))
    for path in paths:
        try:
            docs = [d for d in yaml.safe_load_all(path.read_text()) if isinstance(d, dict) and "kind" in d]
        except yaml.YAMLError:
            continue
        if docs:
            groups.append(docs)
    for seed in range(3):
        groups.append(generate_cluster(pods=30, policies=12, seed=seed, cluster_policies=4 * seed))
    return groups


def _nodes(value: Any) -> list[Path_]:
    """Paths of every node, the root first (iterative: mutated documents can be deep)."""
    found: list[Path_] = []
    stack: list[tuple[Path_, Any]] = [((), value)]
    while stack:
        path, node = stack.pop()
        found.append(path)
        if isinstance(node, dict):
            stack.extend(((*path, key), item) for key, item in node.items())
        elif isinstance(node, list):
            stack.extend(((*path, index), item) for index, item in enumerate(node))
    return found


def _get(value: Any, path: Path_) -> Any:
    for step in path:
        value = value[step]
    return value


def _set(root: Any, path: Path_, new: Any) -> Any:
    if not path:
        return new
    _get(root, path[:-1])[path[-1]] = new
    return root


def _delete(root: Any, path: Path_) -> Any:
    if not path:
        return {}
    del _get(root, path[:-1])[path[-1]]
    return root


DEEP = "__podfence_fuzz_deep_{}__"


def _deep_text(depth: int) -> str:
    """Flow-style nesting ``depth`` levels deep, spliced into the text after dumping (the dumper recurses)."""
    return "[{a: " * (depth // 2) + "x" + "}]" * (depth // 2)


def _mutate_tree(rng: Random, doc: Manifest) -> Manifest:
    doc = json.loads(json.dumps(doc, default=str))  # a private copy
    for _ in range(rng.choice((1, 1, 1, 2, 3))):
        paths = _nodes(doc)
        path = rng.choice(paths[1:] or paths)
        old = _get(doc, path)
        how = rng.randrange(10)
        if how >= 8:
            doc = _set(doc, path, copy.deepcopy(rng.choice(PLAUSIBLE)))  # still likely valid: exercises the engine
        elif how == 0:
            doc = _delete(doc, path)
        elif how in (1, 2):
            doc = _set(doc, path, copy.deepcopy(rng.choice(CONFUSIONS)))
        elif how == 3:
            doc = _set(doc, path, rng.choice(HOSTILE_STRINGS))
        elif how == 4:
            big: Any = rng.choice(("a" * 100_000, ["x"] * 5_000, [old] * (2_000 if not isinstance(old, (dict, list)) else 20), DEEP.format(rng.choice((50, 500, 3000)))))
            doc = _set(doc, path, big)
        elif how == 5 and isinstance(old, dict):
            old[rng.choice(HOSTILE_STRINGS)] = copy.deepcopy(rng.choice((*CONFUSIONS, *HOSTILE_STRINGS)))
        elif how == 6 and isinstance(old, list):
            old.extend(copy.deepcopy(rng.choice((old, [None], [{}], ["\n"]))))
        else:
            doc = _set(doc, path, [old] if not isinstance(old, list) else {"items": old})
        if not isinstance(doc, dict):
            break
    return doc


def _mutate_text(rng: Random, text: str) -> str:
    how = rng.randrange(7)
    lines = text.splitlines(keepends=True) or [""]
    if how == 0:
        return text[: rng.randrange(len(text) + 1)]
    if how == 1:
        at = rng.randrange(len(text) + 1)
        noise = "".join(chr(rng.choice((0, 7, 9, 10, 13, 27, 0x7F, 0x85, 0xFEFF, 0x202E, rng.randrange(32, 0x3000))))
                        for _ in range(rng.randrange(1, 20)))
        return text[:at] + noise + text[at:]
    if how == 2:
        at = rng.randrange(len(lines))
        return "".join(lines[: at + 1] + [lines[at]] + lines[at + 1:])  # a duplicated line: often a duplicate key
    if how == 3:
        tag = rng.choice(("!!int", "!!float", "!!seq", "!!map", "!!bool", "!!binary", "!!python/object:os.system",
                          "!custom", "!!str", "!!null", "!!timestamp", "!!set"))
        at = rng.randrange(len(lines))
        line = lines[at]
        if ": " in line:
            key, _, value = line.partition(": ")
            lines[at] = f"{key}: {tag} {value}"
        return "".join(lines)
    if how == 4:
        bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
            f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, "
            f"*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n"
            for i in range(rng.randrange(2, 9)))
        return bomb + "---\n" + text
    if how == 5:
        return "[" * rng.choice((100, 1000, 3000)) + "]" * rng.choice((0, 100, 3000))
    return text.replace(": ", ":  ", 1).replace("\n", "\n\t", 1)


def mutants(count: int, seed: int) -> Iterator[tuple[str, str, tuple[str, ...]]]:
    """``count`` inputs as ``(file name, text, argv without -f)``; the same seed gives the same inputs."""
    rng = Random(seed)
    groups = seed_documents()
    for index in range(count):
        group = rng.choice(groups)
        docs = [d for d in group]
        target = rng.randrange(len(docs))
        as_json = rng.random() < 0.2
        docs[target] = _mutate_tree(rng, docs[target])
        if as_json:
            text = json.dumps({"apiVersion": "v1", "kind": "List", "items": docs}, indent=1)
            name = f"fuzz-{index:06d}.json"
        else:
            text = yaml.dump_all(docs, Dumper=_NoAliases, sort_keys=False, allow_unicode=rng.random() < 0.5)
            name = f"fuzz-{index:06d}.yaml"
        for depth in (50, 500, 3000):
            text = text.replace(DEEP.format(depth), _deep_text(depth) if not as_json else
                                "[" * depth + "]" * depth)
        if rng.random() < 0.2:
            text = _mutate_text(rng, text)
        yield name, text, rng.choice(ARGV_CHOICES)


class _NoAliases(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):  # type: ignore[misc]
    def ignore_aliases(self, data: Any) -> bool:
        return True


class _Hang(BaseException):
    """Raised by the alarm: an input that took too long (not an Exception, so podfence cannot catch it)."""


def _alarm(signum: int, frame: Any) -> None:
    raise _Hang()


def run_one(folder: Path, name: str, text: str, argv: Sequence[str], timeout: int = 20) -> Outcome:
    """Write the input to ``folder/name``, run ``podfence ARGV -f FILE`` in process and judge the outcome."""
    from podfence.cli.main import main

    path = folder / name
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    full = (*argv, "-f", str(path))
    out, err = io.StringIO(), io.StringIO()
    problems: list[str] = []
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(timeout)
    started = time.perf_counter()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(list(full))
    except _Hang:
        code = -1
        problems.append(f"still running after {timeout} s")
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
        path.unlink(missing_ok=True)
    seconds = time.perf_counter() - started
    stderr = err.getvalue()
    if code not in (0, 1, 2, -1):
        problems.append(f"exit {code}: {stderr.strip()[:300]}")
    for stream, label in ((out.getvalue(), "stdout"), (stderr, "stderr")):
        if "Traceback (most recent call last)" in stream:
            problems.append(f"traceback on {label}")
    if code == 2:
        for line in stderr.splitlines():
            if line and not line.startswith("note:") and name not in line:
                problems.append(f"error line without the file name: {line[:200]!r}")
                break
    return Outcome(name, tuple(full), code, seconds, tuple(problems))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--inputs", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--timeout", type=int, default=20, help="seconds one input may take")
    parser.add_argument("--keep", type=Path, help="copy every input that broke a rule into this directory")
    args = parser.parse_args(argv)
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 1000))
    codes: Counter[int] = Counter()
    failures: list[Outcome] = []
    slowest: list[Outcome] = []
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="podfence-fuzz-") as tmp:
        for i, (name, text, command) in enumerate(mutants(args.inputs, args.seed), 1):
            outcome = run_one(Path(tmp), name, text, command, args.timeout)
            codes[outcome.code] += 1
            slowest = sorted([*slowest, outcome], key=lambda o: -o.seconds)[:5]
            if outcome.problems:
                failures.append(outcome)
                if args.keep:
                    args.keep.mkdir(parents=True, exist_ok=True)
                    (args.keep / name).write_text(text, encoding="utf-8", errors="surrogatepass")
                print(f"FAIL {name} {' '.join(outcome.argv[:-2])}: {'; '.join(outcome.problems)}", file=sys.stderr)
            if i % 5000 == 0:
                print(f"{i} inputs, {len(failures)} failures, {time.perf_counter() - started:.0f} s", file=sys.stderr)
    total = time.perf_counter() - started
    print(f"inputs: {args.inputs} (seed {args.seed})")
    print(f"exit codes: {', '.join(f'{c}: {n}' for c, n in sorted(codes.items()))}")
    print(f"failures: {len(failures)}")
    print(f"time: {total:.1f} s ({args.inputs / total:.0f} inputs/s)")
    print("slowest: " + ", ".join(f"{o.name} {o.seconds:.2f} s" for o in slowest))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
