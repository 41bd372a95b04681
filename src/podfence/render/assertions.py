"""``podfence test`` output: results as text or JSON, and the snapshot as YAML."""

from __future__ import annotations

from typing import Any

import yaml

from podfence.assertions import Expect, Failure, Result
from podfence.assertions.probes import LabReport
from podfence.render.conns import conns_json, conns_text, shortened
from podfence.render.escape import printable, text_lines
from podfence.sets import ConnSet
from podfence.render.json_text import json_document

FORMATS = ("text", "json")
SHOWN = 10  # failing pairs listed per expectation; the rest are counted


def wanted_text(conns: ConnSet) -> str:
    return conns_text(conns)


def failure_text(f: Failure, expect: Expect, want: ConnSet) -> str:
    """One broken pair, in the words of the expectation it breaks."""
    want = want if f.asked is None else f.asked
    match expect:
        case Expect.DENY:
            return f"{f.src} -> {f.dst}: allows {conns_text(f.allowed & want)}"
        case Expect.ALLOW:
            return f"{f.src} -> {f.dst}: {wanted_text(want - f.allowed)} denied"
        case Expect.EXACTLY:
            return f"{f.src} -> {f.dst}: allows {conns_text(f.allowed)}"


def _culprits(failures: tuple[Failure, ...]) -> str:
    """Who breaks it: the pods on the side that varies most."""
    srcs = dict.fromkeys(f.src for f in failures)
    dsts = dict.fromkeys(f.dst for f in failures)
    side, names = ("sources", srcs) if len(srcs) >= len(dsts) else ("destinations", dsts)
    shown = shortened(list(names), 5)
    return f"{len(names)} {side[:-1] if len(names) == 1 else side}: {shown}"


def result_lines(r: Result) -> list[str]:
    e = r.expectation
    head = f"{'PASS' if r.passed else 'FAIL'}  {e.name}  ({e.expect} {wanted_text(e.conns)})"
    lines = [head]
    for p in r.problems:
        lines.append(f"      {p}")
    if r.failures:
        lines.append(f"      broken by {_culprits(r.failures)}")
        for f in r.failures[:SHOWN]:
            lines.append(f"      {failure_text(f, e.expect, e.conns)}")
        if len(r.failures) > SHOWN:
            lines.append(f"      ... and {len(r.failures) - SHOWN} more pairs")
    return [printable(line) for line in lines]


def lab_lines(lab: LabReport) -> list[str]:
    lines = []
    if lab.agree:
        lines.append(f"lab: {lab.probes} probes; packets and engine agree.")
    else:
        lines.append(f"lab: {lab.probes} probes; packets and engine disagree on {len(lab.disagreements)}:")
        for d in lab.disagreements:
            lines.append(f"  {d.expectation}: {d.src} -> {d.dst} {d.protocol} {d.port}: packets "
                         f"{'allowed' if d.packets else 'denied'}, engine {'allowed' if d.engine else 'denied'}")
    lines += [f"  {name}: {note}" for name, note in lab.notes]
    return [printable(line) for line in lines]


def results_text(results: list[Result], lab: LabReport | None = None) -> str:
    lines = [line for r in results for line in result_lines(r)]
    failed = sum(1 for r in results if not r.passed)
    lines.append("")
    lines.append(f"{len(results) - failed} passed, {failed} failed.")
    if lab is not None:
        lines += lab_lines(lab)
    return text_lines(lines)


def result_json(r: Result) -> dict[str, Any]:
    e = r.expectation
    return {
        "name": e.name, "expect": str(e.expect), "connections": conns_json(e.conns), "passed": r.passed,
        "pairs": r.pairs, "problems": list(r.problems),
        "failures": [{"src": f.src, "dst": f.dst, "allowed": conns_json(f.allowed)} for f in r.failures],
    }


def results_json(results: list[Result], lab: LabReport | None = None) -> str:
    return json_document(results_data(results, lab))


def results_data(results: list[Result], lab: LabReport | None = None) -> dict[str, Any]:
    """``{"tests": [...], "summary": {"passed", "failed"}, "lab"?: {...}}``."""
    failed = sum(1 for r in results if not r.passed)
    body: dict[str, Any] = {"tests": [result_json(r) for r in results],
                            "summary": {"passed": len(results) - failed, "failed": failed}}
    if lab is not None:
        body["lab"] = {
            "probes": lab.probes, "agree": lab.agree,
            "disagreements": [{"test": d.expectation, "src": d.src, "dst": d.dst, "protocol": str(d.protocol),
                               "port": d.port, "packets": d.packets, "engine": d.engine} for d in lab.disagreements],
            "notes": [{"test": name, "note": note} for name, note in lab.notes],
        }
    return body


def render_results(results: list[Result], output: str, lab: LabReport | None = None) -> str:
    match output:
        case "text":
            return results_text(results, lab)
        case "json":
            return results_json(results, lab)
    raise ValueError(f"unknown output format {output!r}; choose from {', '.join(FORMATS)}")


SNAPSHOT_HEADER = """\
# Connectivity pinned by `podfence test --snapshot`: every expectation below holds
# today. Run `podfence test -f ... THIS-FILE` on every change; any change in who can
# reach whom fails a test. Edit freely: this is an ordinary assertion file.
"""


class _Dumper(yaml.SafeDumper):
    """Block style for the file's structure, flow style for endpoints and port lists."""


class _FlowMap(dict):  # type: ignore[type-arg]
    pass


class _FlowSeq(list):  # type: ignore[type-arg]
    pass


_Dumper.add_representer(_FlowMap, lambda d, v: d.represent_mapping("tag:yaml.org,2002:map", v, flow_style=True))
_Dumper.add_representer(_FlowSeq, lambda d, v: d.represent_sequence("tag:yaml.org,2002:seq", v, flow_style=True))


def _flow(value: Any) -> Any:
    if isinstance(value, dict):
        return _FlowMap((k, _flow(v)) for k, v in value.items())
    if isinstance(value, list):
        return _FlowSeq(_flow(v) for v in value)
    return value


def _endpoint(value: Any) -> Any:
    """One flow-style item, or a block list of them when the list is long."""
    if isinstance(value, list) and len(yaml.dump(value, default_flow_style=True, width=10**6)) > 80:
        return [_flow(v) for v in value]
    return _flow(value)


def snapshot_yaml(data: dict[str, Any]) -> str:
    """The snapshot as an assertion file, with a header saying what it is."""
    tests = []
    for test in data["tests"]:
        tests.append({k: _endpoint(v) if k in ("from", "to") else _flow(v) for k, v in test.items()})
    body = yaml.dump({"tests": tests}, Dumper=_Dumper, sort_keys=False, width=10**6, allow_unicode=True)
    return SNAPSHOT_HEADER + body
