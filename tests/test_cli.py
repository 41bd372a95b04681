"""The podfence command, run through its real console script.

Every output format has a golden file under tests/fixtures/golden/cli/, regenerated
with ``pytest --update-goldens`` and reviewed as a diff.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from cli_support import PODFENCE, podfence as run, golden_checker

HERE = Path(__file__).parent
SHOP = HERE / "fixtures" / "cli" / "shop.yaml"
BAD = HERE / "fixtures" / "cli" / "bad-policy.yaml"
GOLDEN = HERE / "fixtures" / "golden" / "cli"
check_golden = golden_checker(GOLDEN)






def rel(path: Path) -> str:
    return str(path.relative_to(HERE.parent))


@pytest.mark.parametrize("fmt", ["text", "json", "csv", "md"])
def test_matrix_formats(fmt: str, update_goldens: bool) -> None:
    r = run("matrix", "-f", rel(SHOP), "--port", "8443", "-o", fmt)
    assert r.returncode == 0, r.stderr
    check_golden(f"matrix-8443.{fmt}", r.stdout, update_goldens)


def test_matrix_json_shape() -> None:
    r = run("matrix", "-f", rel(SHOP), "--port", "8443", "-o", "json")
    data = json.loads(r.stdout)
    assert list(data) == ["port", "protocol", "pods", "allowed"]
    assert data["port"] == 8443 and data["protocol"] == "TCP"
    assert data["pods"] == sorted(data["pods"]) == ["payments/debug", "payments/gateway", "shop/checkout", "shop/frontend"]
    assert set(data["allowed"]) == set(data["pods"])
    # Only the frontend may reach the gateway's https port; debug reaches itself (self traffic).
    assert data["allowed"]["shop/frontend"] == ["payments/gateway", "shop/checkout", "shop/frontend"]
    assert data["allowed"]["shop/checkout"] == ["shop/checkout", "shop/frontend"]
    assert data["allowed"]["payments/debug"] == ["payments/debug"]
    assert data["allowed"]["payments/gateway"] == []


@pytest.mark.parametrize("fmt", ["text", "json", "csv", "md", "dot"])
def test_connectivity_formats(fmt: str, update_goldens: bool) -> None:
    r = run("connectivity", "-f", rel(SHOP), "-o", fmt)
    assert r.returncode == 0, r.stderr
    check_golden(f"connectivity.{fmt}", r.stdout, update_goldens)


def test_connectivity_json_entries() -> None:
    data = json.loads(run("connectivity", "-f", rel(SHOP), "-o", "json").stdout)
    entries = {(e["src"], e["dst"]): e["allowed"] for e in data["connections"]}
    assert entries[("shop/frontend", "payments/gateway")] == {"TCP": [[8443, 8443]]}
    assert ("shop/checkout", "payments/gateway") not in entries
    # The gateway may send TCP 443 and UDP 53 outside 10.0.0.0/8 only.
    assert entries[("payments/gateway", "11.0.0.0/8")] == {"TCP": [[443, 443]], "UDP": [[53, 53]]}
    assert not any(src == "payments/gateway" and dst.startswith("10.") for src, dst in entries)
    assert entries[("shop/frontend", "0.0.0.0/0")] == "All"
    keys = [(e["src"], e["dst"]) for e in data["connections"]]
    assert len(keys) == len(set(keys))


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_explain_formats(fmt: str, update_goldens: bool) -> None:
    r = run("explain", "-f", rel(SHOP), "--from", "shop/checkout", "--to", "payments/gateway", "--port", "8443",
            "-o", fmt)
    assert r.returncode == 0, r.stderr
    check_golden(f"explain-denied.{fmt}", r.stdout, update_goldens)


def test_explain_json_names_policies_and_rules() -> None:
    denied = json.loads(run("explain", "-f", rel(SHOP), "--from", "shop/checkout", "--to", "payments/gateway",
                            "--port", "8443", "-o", "json").stdout)
    assert denied["allowed"] is False
    assert denied["egress"]["isolated"] is False and denied["egress"]["allowed"] is True
    assert denied["ingress"]["isolated"] is True
    assert denied["ingress"]["policies"] == ["payments/allow-from-frontend", "payments/default-deny"]
    assert denied["ingress"]["allowed_by"] == []
    assert denied["ingress"]["near_misses"][0]["policy"] == "payments/allow-from-frontend"
    assert "app=frontend" in denied["ingress"]["near_misses"][0]["detail"]
    allowed = json.loads(run("explain", "-f", rel(SHOP), "--from", "shop/frontend", "--to", "payments/gateway",
                             "--port", "8443", "-o", "json").stdout)
    assert allowed["allowed"] is True
    assert allowed["ingress"]["allowed_by"] == [
        {"policy": "payments/allow-from-frontend", "rule": 0, "field": "spec.ingress[0]"}]


def test_explain_text_reads_like_a_sentence() -> None:
    out = run("explain", "-f", rel(SHOP), "--from", "shop/checkout", "--to", "payments/gateway",
              "--port", "8443").stdout
    first, second = out.splitlines()[:2]
    assert first == "DENIED: shop/checkout -> payments/gateway TCP 8443"
    assert second.startswith("shop/checkout cannot reach payments/gateway on TCP 8443: denied at the ingress")
    assert "payments/default-deny" in out and "app=frontend" in out and "app=checkout-v2" in out


def test_explain_from_an_external_address() -> None:
    data = json.loads(run("explain", "-f", rel(SHOP), "--from", "payments/gateway", "--to", "8.8.8.8",
                          "--port", "53", "--protocol", "udp", "-o", "json").stdout)
    assert data["allowed"] is True and data["dst"] == {"ip": "8.8.8.8"}
    assert data["egress"]["allowed_by"] == [{"policy": "payments/allow-from-frontend", "rule": 0,
                                             "field": "spec.egress[0]"}]
    inside = json.loads(run("explain", "-f", rel(SHOP), "--from", "payments/gateway", "--to", "10.2.3.4",
                            "--port", "443", "-o", "json").stdout)
    assert inside["allowed"] is False


def test_explain_resolves_a_pod_ip() -> None:
    data = json.loads(run("explain", "-f", rel(SHOP), "--from", "shop/frontend", "--to", "10.1.0.9",
                          "--port", "80", "-o", "json").stdout)
    assert data["dst"] == {"pod": "payments/debug", "kind": "Pod", "ip": "10.1.0.9"}
    assert data["allowed"] is False and data["ingress"]["policies"] == ["payments/default-deny"]


def test_check_ok_and_json() -> None:
    r = run("check", "-f", rel(SHOP))
    assert r.returncode == 0 and r.stdout.startswith("ok: ")
    data = json.loads(run("check", "-f", rel(SHOP), "-o", "json").stdout)
    assert data == {"errors": [], "warnings": []}


def test_check_reports_each_error_on_one_line(update_goldens: bool) -> None:
    r = run("check", "-f", rel(BAD))
    assert r.returncode == 2
    check_golden("check-bad.text", r.stdout, update_goldens)
    data = json.loads(run("check", "-f", rel(BAD), "-o", "json").stdout)
    fields = [(e["line"], e["field"]) for e in data["errors"]]
    assert (15, "spec.ingress[0].ports[0].protocol") in fields
    assert (13, "spec.ingress[0].from[0].ipBlock.except[0]") in fields
    for e in data["errors"]:
        assert e["file"] == rel(BAD) and e["object"] == "NetworkPolicy shop/broken"


@pytest.mark.parametrize("command", [["matrix", "--port", "80"], ["connectivity"],
                                     ["explain", "--from", "a/b", "--to", "c/d", "--port", "80"]])
def test_invalid_manifest_stops_analysis_with_exit_2(command: list[str]) -> None:
    r = run(command[0], "-f", rel(BAD), *command[1:])
    assert r.returncode == 2
    assert r.stdout == ""
    lines = r.stderr.strip().splitlines()
    assert lines and all(line.startswith(f"{rel(BAD)}:") for line in lines)
    assert "Traceback" not in r.stderr


@pytest.mark.parametrize("args, phrase", [
    (["matrix", "-f", "tests/fixtures/cli/shop.yaml"], "Missing option '--port'"),
    (["matrix", "-f", "tests/fixtures/cli/shop.yaml", "--port", "0"], "--port"),
    (["matrix", "-f", "tests/fixtures/cli/shop.yaml", "--port", "80", "-o", "xml"], "-o 'xml'"),
    (["matrix", "-f", "tests/fixtures/cli/shop.yaml", "--port", "80", "--protocol", "ICMP"], "--protocol"),
    (["connectivity", "-f", "does/not/exist.yaml"], "does/not/exist.yaml"),
    (["connectivity"], "no manifests given"),
    (["connectivity", "-f", "tests/fixtures/cli/shop.yaml", "--set", "nonsense=true"], "--set"),
    (["explain", "-f", "tests/fixtures/cli/shop.yaml", "--from", "shop/nope", "--to", "shop/frontend",
      "--port", "80"], "--from: no pod, workload or service named shop/nope"),
    (["explain", "-f", "tests/fixtures/cli/shop.yaml", "--from", "shop/frontend", "--to", "shop/frontend-x",
      "--port", "80"], "--to: no pod, workload or service named shop/frontend-x"),
    (["check", "--bogus"], "No such option"),
])
def test_usage_errors_are_one_line_with_exit_2(args: list[str], phrase: str) -> None:
    r = run(*args)
    assert r.returncode == 2, r.stdout + r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert phrase in lines[0]
    assert "Traceback" not in r.stderr


def test_stdin_and_namespace_default() -> None:
    text = SHOP.read_text().replace("namespace: shop", "namespace: storefront")
    r = run("matrix", "-f", "-", "--port", "8443", "-o", "json", stdin=text)
    assert r.returncode == 0, r.stderr
    pods = json.loads(r.stdout)["pods"]
    assert "storefront/frontend" in pods
    bare = "apiVersion: v1\nkind: Pod\nmetadata: {name: lonely}\nspec: {containers: [{name: c, image: x}]}\n"
    r = run("matrix", "-f", "-", "-n", "team-a", "--port", "80", "-o", "json", stdin=bare)
    assert json.loads(r.stdout)["pods"] == ["team-a/lonely"]


def test_settings_change_the_answer() -> None:
    r = run("matrix", "-f", rel(SHOP), "--port", "8443", "-o", "json", "--set", "allow_self_traffic=false")
    data = json.loads(r.stdout)
    assert data["allowed"]["payments/debug"] == []  # isolated both ways, and no longer allowed to itself


def test_version() -> None:
    r = run("--version")
    assert r.returncode == 0 and r.stdout.startswith("podfence ")


def test_config_file_is_found_upward_and_changes_settings(tmp_path: Path) -> None:
    (tmp_path / ".podfence.yaml").write_text("settings:\n  allow_self_traffic: false\n")
    deep = tmp_path / "a" / "b"
    deep.mkdir(parents=True)
    r = subprocess.run([str(PODFENCE), "matrix", "-f", str(SHOP), "--port", "8443", "-o", "json"],
                       capture_output=True, text=True, cwd=deep, timeout=120)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["allowed"]["payments/debug"] == []
    # An explicit --config wins, and --set wins over the file.
    other = tmp_path / "other.yaml"
    other.write_text("settings: {allow_self_traffic: true}\n")
    r = subprocess.run([str(PODFENCE), "matrix", "-f", str(SHOP), "--port", "8443", "-o", "json", "--config",
                        str(other)], capture_output=True, text=True, cwd=deep, timeout=120)
    assert json.loads(r.stdout)["allowed"]["payments/debug"] == ["payments/debug"]
    r = subprocess.run([str(PODFENCE), "matrix", "-f", str(SHOP), "--port", "8443", "-o", "json", "--config",
                        str(other), "--set", "allow_self_traffic=false"], capture_output=True, text=True, cwd=deep,
                       timeout=120)
    assert json.loads(r.stdout)["allowed"]["payments/debug"] == []


def test_bad_config_is_one_line_per_problem_with_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("settings:\n  allow_self_traffic: maybe\n")
    r = run("matrix", "-f", rel(SHOP), "--port", "80", "--config", str(bad))
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr.strip() == f"{bad}:2: podfence config: settings.allow_self_traffic: must be true or false"
    r = run("matrix", "-f", rel(SHOP), "--port", "80", "--config", str(tmp_path / "missing.yaml"))
    assert r.returncode == 2 and "missing.yaml" in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_no_spinner_or_escape_codes_when_stderr_is_not_a_terminal() -> None:
    r = run("connectivity", "-f", rel(SHOP), "-o", "json")
    assert r.returncode == 0 and r.stderr == ""
