"""Flow files (Hubble, Calico, the lab's denial stream): JSON lines to parsed records, each with its line.

A line that is not JSON is a record to skip and report, not the end of the
reading; a file that cannot be read (or that passes the run's byte limit) stops
it, and comes back as the problem.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TextIO

from podfence.flows import FlowRecord, Skip, parse_record
from podfence.loader.limits import Budget
from podfence.loader.sources import STDIN_NAME, read_file, read_stdin
from podfence.model import Diagnostic, FileOrigin


@dataclass(frozen=True, slots=True)
class FlowFiles:
    """Every non-blank line of the flow files read, parsed, and the problem that stopped the reading.

    ``problem`` is an ``L1``/``L2`` (unreadable, not UTF-8) or ``L13`` (limit)
    diagnostic with the file it is about.
    """

    records: tuple[tuple[FileOrigin, FlowRecord | Skip], ...] = ()
    problem: Diagnostic | None = None


def read_flows(paths: Sequence[str], budget: Budget | None = None, stdin: TextIO | None = None) -> FlowFiles:
    """Every line of every flow file (``-`` is ``stdin``), parsed, within ``budget``."""
    budget = Budget() if budget is None else budget
    out: list[tuple[FileOrigin, FlowRecord | Skip]] = []
    for path in paths:
        source = read_stdin(stdin, budget) if path == STDIN_NAME else read_file(path, budget)
        if isinstance(source, Diagnostic):
            return FlowFiles(tuple(out), source)
        for n, line in enumerate(source.text.split("\n"), 1):
            text = line.strip()
            if not text:
                continue
            try:
                obj = json.loads(text)
            except RecursionError:
                out.append((FileOrigin(path, n), Skip("not JSON (nested too deeply)", problem=True)))
                continue
            except ValueError as exc:  # bad JSON, or a number too long for int()
                why = exc.msg if isinstance(exc, json.JSONDecodeError) else "a number with too many digits"
                out.append((FileOrigin(path, n), Skip(f"not JSON ({why})", problem=True)))
                continue
            out.append((FileOrigin(path, n), parse_record(obj)))
    return FlowFiles(tuple(out))
