"""Flow files (Hubble, Calico, the lab's denial stream): JSON lines to parsed records, each with its line.

A line that is not JSON is a record to skip and report, not the end of the
reading; a file that cannot be read (or that passes the run's byte limit) stops
it, and comes back as the problem.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TextIO

from podfence.flows import FlowEnd, FlowRecord, RecordParser, Skip, parse_record
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
    parse = RecordParser()
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
            out.append((FileOrigin(path, n), parse(obj)))
    return FlowFiles(tuple(out))


# Fields no reader reads that make every line of a flow log unique: the time, the
# flow's id and the client's ephemeral port. Each, with its value (a plain string or
# a short number), is written as ``"":0`` in a line's key: lines with equal keys
# differ only in members no reader reads, and are valid JSON or not alike.
_UNREAD = re.compile(r'"(?:time|uuid|source_port)"\s*:\s*(?:"[^"\\]*"|[0-9]{1,18}(?![0-9]))')
_UNREAD_KEY = '"":0'


@dataclass(frozen=True, slots=True)
class CountedFlows:
    """The records of flow files, each distinct record once: (first line, record, how many lines read it).

    ``lines`` counts every non-blank line; ``problem`` is as in :class:`FlowFiles`.
    """

    records: tuple[tuple[FileOrigin, FlowRecord | Skip, int], ...] = ()
    lines: int = 0
    problem: Diagnostic | None = None


def count_flows(paths: Sequence[str], budget: Budget | None = None, stdin: TextIO | None = None) -> CountedFlows:
    """Like :func:`read_flows`, for many lines: a line equal to an earlier one but for its time, flow id and
    source port is not parsed again but counted, so a million lines of flows cost little more than reading them."""
    budget = Budget() if budget is None else budget
    ends: dict[Any, FlowEnd] = {}  # flows repeat their ends: each is read once
    by_line: dict[str, int] = {}  # a line without its unread fields -> its entry
    entries: list[list[object]] = []  # [first origin, record, times]
    lines = 0
    for path in paths:
        source = read_stdin(stdin, budget) if path == STDIN_NAME else read_file(path, budget)
        if isinstance(source, Diagnostic):
            return CountedFlows(_frozen(entries), lines, source)
        for n, line in enumerate(_lines(source.text), 1):
            text = line.strip()
            if not text:
                continue
            lines += 1
            key = _UNREAD.sub(_UNREAD_KEY, text)
            entry = by_line.get(key)
            if entry is not None:
                entries[entry][2] += 1  # type: ignore[operator]
                continue
            by_line[key] = len(entries)
            entries.append([FileOrigin(path, n), _parse_line(text, ends), 1])
    return CountedFlows(_frozen(entries), lines)


def _lines(text: str) -> Iterator[str]:
    """``text.split("\\n")``, one line at a time (a million lines need not be held at once)."""
    start, size = 0, len(text)
    while True:
        end = text.find("\n", start)
        if end < 0:
            yield text[start:size]
            return
        yield text[start:end]
        start = end + 1


def _parse_line(text: str, ends: dict[Any, FlowEnd]) -> FlowRecord | Skip:
    try:
        obj = json.loads(text)
    except RecursionError:
        return Skip("not JSON (nested too deeply)", problem=True)
    except ValueError as exc:  # bad JSON, or a number too long for int()
        why = exc.msg if isinstance(exc, json.JSONDecodeError) else "a number with too many digits"
        return Skip(f"not JSON ({why})", problem=True)
    return parse_record(obj, ends)


def _frozen(entries: list[list[object]]) -> tuple[tuple[FileOrigin, FlowRecord | Skip, int], ...]:
    return tuple((e[0], e[1], e[2]) for e in entries)  # type: ignore[misc]
