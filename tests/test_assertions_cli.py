"""podfence test through its console script: exit codes, output, JUnit XML, --snapshot."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from cli_support import podfence as run, golden_checker

HERE = Path(__file__).parent
CLUSTER = HERE / "fixtures" / "assertions" / "cluster.yaml"
SPECS = HERE / "fixtures" / "assertions"
GOLDEN = HERE / "fixtures" / "golden" / "assertions"
check_golden = golden_checker(GOLDEN)




def rel(path: Path) -> str:
    return str(path.relative_to(HERE.parent))




def test_all_pass_exits_0() -> None:
    r = run("test", "-f", rel(CLUSTER), rel(SPECS / "passing.yaml"))
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.endswith("7 passed, 0 failed.\n")


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_failures_exit_1(fmt: str, update_goldens: bool) -> None:
    r = run("test", "-f", rel(CLUSTER), rel(SPECS / "platform.yaml"), "-o", fmt)
    assert r.returncode == 1, r.stderr
    check_golden(f"platform.{fmt}", r.stdout, update_goldens)


def test_json_names_the_pods_that_break_it() -> None:
    data = json.loads(run("test", "-f", rel(CLUSTER), rel(SPECS / "platform.yaml"), "-o", "json").stdout)
    by_name = {t["name"]: t for t in data["tests"]}
    internet = by_name["no pod reaches the internet except the mailer"]
    assert not internet["passed"]
    assert sorted(f["src"] for f in internet["failures"]) == ["api/server", "api/worker", "gateway/envoy"]
    assert by_name["gateway reaches the API"]["passed"]
    assert data["summary"] == {"passed": sum(t["passed"] for t in data["tests"]),
                               "failed": sum(not t["passed"] for t in data["tests"])}


def test_junit_is_written_and_parses_back(tmp_path: Path) -> None:
    report = tmp_path / "junit.xml"
    r = run("test", "-f", rel(CLUSTER), rel(SPECS / "platform.yaml"), rel(SPECS / "passing.yaml"),
            "--junit", str(report))
    assert r.returncode == 1
    root = ET.parse(report).getroot()
    assert root.tag == "testsuites"
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == [rel(SPECS / "platform.yaml"), rel(SPECS / "passing.yaml")]
    platform, passing = suites
    cases = platform.findall("testcase")
    failed = [c for c in cases if c.find("failure") is not None]
    assert platform.get("tests") == str(len(cases)) and platform.get("failures") == str(len(failed))
    assert {c.get("name") for c in failed} == {"no pod reaches the internet except the mailer",
                                              "nothing outside billing reaches the ledger database"}
    failure = next(c for c in failed if c.get("name").startswith("no pod")).find("failure")
    assert failure is not None and "gateway/envoy -> 0.0.0.0/0" in (failure.text or "")
    assert failure.get("message", "").startswith("broken by 3 sources")
    assert all(c.find("failure") is None for c in passing.findall("testcase"))
    assert root.get("tests") == str(len(cases) + 7) and root.get("failures") == str(len(failed))
    # A report podfence wrote is replaced by the next run; any other file only with --force.
    r = run("test", "-f", rel(CLUSTER), rel(SPECS / "passing.yaml"), "--junit", str(report))
    assert r.returncode == 0 and ET.parse(report).getroot().get("failures") == "0"
    report.write_text("<testsuites name=\"another tool\"/>\n")
    r = run("test", "-f", rel(CLUSTER), rel(SPECS / "passing.yaml"), "--junit", str(report))
    assert r.returncode == 2 and "--force" in r.stderr
    r = run("test", "-f", rel(CLUSTER), rel(SPECS / "passing.yaml"), "--junit", str(report), "--force")
    assert r.returncode == 0 and ET.parse(report).getroot().get("failures") == "0"


def test_invalid_spec_exits_2_with_file_line_and_field(tmp_path: Path) -> None:
    spec = tmp_path / "bad.yaml"
    spec.write_text("tests:\n  - name: ok\n    from: a/b\n    to: c/d\n    expect: deny\n"
                    "  - name: bad\n    from:\n      namespaceSelector:\n        matchExpressions:\n"
                    "          - {key: team, operator: Gt, values: ['1']}\n    to: c/d\n    port: 70000\n"
                    "    expect: deny\n")
    r = run("test", "-f", rel(CLUSTER), str(spec))
    assert r.returncode == 2 and r.stdout == ""
    lines = r.stderr.splitlines()
    assert f"{spec}:10: podfence test: tests[1].from.namespaceSelector.matchExpressions[0].operator: " \
           "Invalid value: \"Gt\": not a valid selector operator" in lines
    assert f"{spec}:12: podfence test: tests[1].port: port 70000: must be 1-65535" in lines
    r = run("test", "-f", rel(CLUSTER), str(tmp_path / "missing.yaml"))
    assert r.returncode == 2 and "missing.yaml" in r.stderr


def test_snapshot_round_trip(tmp_path: Path) -> None:
    r = run("test", "--snapshot", "-f", rel(CLUSTER))
    assert r.returncode == 0, r.stderr
    pinned = tmp_path / "pinned.yaml"
    pinned.write_text(r.stdout)
    assert run("test", "-f", rel(CLUSTER), str(pinned)).returncode == 0
    changed = tmp_path / "changed.yaml"
    changed.write_text(CLUSTER.read_text().replace("ports: [{port: 443}, {port: 587}]", "ports: [{port: 443}]"))
    r = run("test", "-f", str(changed), str(pinned))
    assert r.returncode == 1
    assert "FAIL" in r.stdout and "notify/mailer" in r.stdout


def test_usage_errors_exit_2() -> None:
    for args in (["test", "-f", rel(CLUSTER)], ["test", "--snapshot", "-f", rel(CLUSTER), "x.yaml"],
                 ["test", "-f", rel(CLUSTER), rel(SPECS / "passing.yaml"), "-o", "md"]):
        r = run(*args)
        assert r.returncode == 2 and r.stderr.strip() and "Traceback" not in r.stderr, args


def test_an_unknown_endpoint_is_invalid_input_with_a_suggestion(tmp_path: Path) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text("tests:\n  - from: api/api-servr\n    to: data/postgres\n    port: 5432\n    expect: deny\n"
                    "  - from: svc/notify/mailer\n    to: data/postgres\n    expect: deny\n")
    r = run("test", "-f", "examples/baa", str(spec))
    assert r.returncode == 2, r.stdout + r.stderr
    assert r.stderr.splitlines() == [
        f"{spec}:6: podfence test: tests[1].from: 'svc/notify/mailer': a Service cannot be a source: name its pods "
        "(ns/name or a selector); a Service goes under 'to'"]
    spec.write_text("tests:\n  - from: api/api-servr\n    to: 10.0.0.0/8\n    port: 53/udp\n    expect: deny\n")
    r = run("test", "-f", "examples/baa", str(spec))
    assert r.returncode == 2 and r.stderr == (
        f"{spec}:2: podfence test: tests[0].from: no pod or workload named api/api-servr; "
        "did you mean api/api-server?\n"), r.stderr


def test_a_service_destination_is_its_pods_on_its_ports(tmp_path: Path) -> None:
    """``to: svc/ns/name``: the backends, through the Service's ports mapped to their target ports."""
    spec = tmp_path / "spec.yaml"
    spec.write_text("tests:\n"
                    "  - {name: web, from: gateway/envoy, to: svc/api/server, port: 80, expect: allow}\n"
                    "  - {name: all, from: gateway/envoy, to: svc/api/server, expect: allow}\n"
                    "  - {name: admin, from: gateway/envoy, to: svc/api/server, port: 9090, expect: deny}\n")
    r = run("test", "-f", rel(CLUSTER), str(spec))
    assert r.returncode == 1, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].startswith("PASS  web") and lines[-1] == "2 passed, 1 failed."
    # every Service port is asked for; 80 lands on 8080, which the policy admits; 9090 does not pass
    assert "FAIL  all  (allow All)" in lines
    assert "      gateway/envoy -> api/server (through svc/api/server): TCP 9090 denied" in lines
    # the target port is not a Service port: invalid input naming what the Service offers
    spec.write_text("tests:\n  - {from: gateway/envoy, to: svc/api/server, port: 8080, expect: allow}\n"
                    "  - {from: gateway/envoy, to: svc/api/sever, port: 80, expect: allow}\n"
                    "  - {from: gateway/envoy, to: svc/api/server, ports: [80, 81], expect: allow}\n")
    r = run("test", "-f", rel(CLUSTER), str(spec))
    assert r.returncode == 2 and r.stdout == "", r.stdout
    assert r.stderr.splitlines() == [
        f"{spec}:2: podfence test: tests[0].to: service api/server offers none of the ports asked for "
        "(it offers TCP 80 (to http), TCP 9090)",
        f"{spec}:3: podfence test: tests[1].to: no service named api/sever; did you mean api/server?",
        f"{spec}:4: podfence test: tests[2].to: service api/server does not offer TCP 81 (it offers TCP 80 (to "
        "http), TCP 9090); a test through a Service names its ports"]
