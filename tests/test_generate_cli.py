"""podfence generate through its real console script.

Golden files under tests/fixtures/golden/generate/ hold the printed policies, the
proof reports and the flow summaries (``pytest --update-goldens`` rewrites them).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import yaml
from cli_support import PODFENCE, podfence as run, golden_checker

HERE = Path(__file__).parent
ROOT = HERE.parent
CLUSTER = "tests/fixtures/generate/cluster.yaml"
FLOWS = "tests/fixtures/flows"
GOLDEN = HERE / "fixtures" / "golden" / "generate"
check_golden = golden_checker(GOLDEN)
INTENT = """\
defaults: {deny: [ingress, egress], dns: allow}
services:
  shop/frontend:
    talks_to: ["svc/shop/checkout:80", "svc/pay/payapi:80"]
  pay/gateway:
    ingress_from: ["internet:8443"]
    egress: [{cidr: 10.0.0.0/8, except: [10.1.0.0/16], ports: [514/UDP]}]
"""






@pytest.fixture
def intents(tmp_path: Path) -> Path:
    path = tmp_path / "intents.yaml"
    path.write_text(INTENT)
    return path


def test_prints_policies_and_proves_them(intents: Path, update_goldens: bool) -> None:
    r = run("generate", "-f", CLUSTER, "--intents", str(intents))
    assert r.returncode == 0, r.stderr
    check_golden("intents.yaml.out", r.stdout.replace(str(intents), "intents.yaml"), update_goldens)
    assert r.stderr.endswith("proof: exactly the intended connectivity\n"
                             "  7 workloads governed in 2 namespaces (pay, shop), 12 intended connections "
                             "(DNS included)\n")
    docs = list(yaml.safe_load_all(r.stdout))
    assert len(docs) == 10 and all(d["kind"] == "NetworkPolicy" for d in docs)


def test_the_generated_set_passes_check(intents: Path, tmp_path: Path) -> None:
    out = tmp_path / "policies"
    r = run("generate", "-f", CLUSTER, "--intents", str(intents), "--out", str(out))
    assert r.returncode == 0, r.stderr
    assert sorted(p.name for p in out.iterdir()) == ["pay.yaml", "shop.yaml"]
    assert r.stdout.startswith("proof: exactly the intended connectivity")
    assert run("check", "-f", str(out)).returncode == 0
    again = run("generate", "-f", CLUSTER, "-f", str(out), "--intents", str(intents), "--check")
    assert again.returncode == 0 and again.stdout.startswith("proof: exactly"), again.stderr


def test_never_overwrites_without_force_and_writes_all_or_nothing(intents: Path, tmp_path: Path) -> None:
    out = tmp_path / "policies"
    out.mkdir()
    (out / "shop.yaml").write_text("# mine\n")
    r = run("generate", "-f", CLUSTER, "--intents", str(intents), "--out", str(out))
    assert r.returncode == 2 and "shop.yaml exists (pass --force to overwrite)" in r.stderr
    # Nothing was written: not pay.yaml either, and no temporary file is left.
    assert sorted(p.name for p in out.iterdir()) == ["shop.yaml"] and (out / "shop.yaml").read_text() == "# mine\n"
    r = run("generate", "-f", CLUSTER, "--intents", str(intents), "--out", str(out), "--force")
    assert r.returncode == 0 and sorted(p.name for p in out.iterdir()) == ["pay.yaml", "shop.yaml"]
    (out / "old.yaml").write_text("# left over\n")
    r = run("generate", "-f", CLUSTER, "--intents", str(intents), "--out", str(out), "--force")
    assert "also holds old.yaml" in r.stderr
    blocked = tmp_path / "file"
    blocked.write_text("x")
    r = run("generate", "-f", CLUSTER, "--intents", str(intents), "--out", str(blocked))
    assert r.returncode == 2 and "not a directory" in r.stderr


def test_check_reports_extra_and_missing_with_exit_1(intents: Path, tmp_path: Path, update_goldens: bool) -> None:
    out = tmp_path / "policies"
    assert run("generate", "-f", CLUSTER, "--intents", str(intents), "--out", str(out)).returncode == 0
    # Hand edits: shop's DNS rule loses its ports, and pay/api-v2's ingress policy is deleted.
    shop = (out / "shop.yaml").read_text()
    dns_ports = ("      ports:\n        - protocol: UDP\n          port: 53\n"
                 "        - protocol: TCP\n          port: 53\n")
    assert shop.count(dns_ports) == 1
    (out / "shop.yaml").write_text(shop.replace(dns_ports, ""))
    pay = "---".join(d for d in (out / "pay.yaml").read_text().split("---") if "api-v2-ingress" not in d)
    (out / "pay.yaml").write_text(pay)
    r = run("generate", "-f", CLUSTER, "-f", str(out), "--intents", str(intents), "--check")
    assert r.returncode == 1, r.stderr
    check_golden("check-differences.txt", r.stdout, update_goldens)
    data = json.loads(run("generate", "-f", CLUSTER, "-f", str(out), "--intents", str(intents), "--check",
                          "-o", "json").stdout)
    assert data["exact"] is False
    assert [(d["src"], d["dst"], d["allowed"]) for d in data["missing"]] == [
        ("shop/frontend", "pay/api-v2", {"TCP": [[8081, 8081]]})]
    # Every shop pod may now reach the DNS pods on everything, not only on 53.
    assert [(d["src"], d["dst"]) for d in data["extra"]] == [
        (f"shop/{name}", "kube-system/coredns") for name in ("cart", "checkout", "frontend")]
    assert data["extra"][0]["because"] == ["shop/allow-dns spec.egress[0]"]


def test_the_bundled_example_against_its_intent(update_goldens: bool) -> None:
    r = run("generate", "-f", "examples/baa", "--intents", "examples/baa-intents.yaml", "--check")
    assert r.returncode == 1
    check_golden("baa-check.txt", r.stdout, update_goldens)
    # The two mistakes the example's README describes that cost connections.
    assert "  billing/invoicer -> notify/mailer: TCP 8080" in r.stdout
    assert "  monitoring/grafana -> monitoring/prometheus: TCP 9090" in r.stdout


@pytest.mark.parametrize("content, message", [
    ("services:\n  shop/frontend:\n    talks_to: ['shop/cart:8080']\n",
     "intents.yaml:3: intents: services.shop/frontend.talks_to[0]: shop/cart does not listen on TCP 8080"),
    ("services:\n  shop/frontend:\n    talks_to:\n      - shop/cart:8080\n",
     "intents.yaml:4: intents: services.shop/frontend.talks_to[0]: shop/cart does not listen on TCP 8080"),
    ("services:\n  shop/frontned: {}\n", "intents.yaml:2: intents: services.shop/frontned: no workload named"),
    ("defaults: {deny: [egress]}\nservices:\n  shop/cart:\n    ingress_from: ['shop/frontend:7000']\n",
     "intents.yaml:4: intents: services.shop/cart.ingress_from: ingress is not denied"),
    ("services: [1]\n", "intents.yaml:1: intents: services: must be a mapping"),
    ("services: {a: 1\n", "intents.yaml:2: invalid YAML"),
])
def test_intent_errors_name_file_line_and_field(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "intents.yaml"
    path.write_text(content)
    r = run("generate", "-f", str(ROOT / CLUSTER), "--intents", "intents.yaml", cwd=tmp_path)
    assert r.returncode == 2 and r.stdout == ""
    assert message in r.stderr, r.stderr
    assert "Traceback" not in r.stderr


def test_from_flows_writes_the_intent_and_regenerating_from_it_gives_the_same_policies(
        tmp_path: Path, update_goldens: bool) -> None:
    written = tmp_path / "implied.yaml"
    r = run("generate", "-f", CLUSTER, "--from-flows", f"{FLOWS}/hubble.jsonl", "--write-intents", str(written))
    assert r.returncode == 0, r.stderr
    check_golden("hubble-summary.txt", r.stderr.replace(str(written), "implied.yaml"), update_goldens)
    check_golden("hubble-intents.yaml", written.read_text(), update_goldens)
    again = run("generate", "-f", CLUSTER, "--intents", str(written))
    assert again.returncode == 0

    def body(text: str) -> str:
        return "\n".join(line for line in text.splitlines() if not line.startswith("# Generated by"))
    assert body(again.stdout) == body(r.stdout)
    exists = run("generate", "-f", CLUSTER, "--from-flows", f"{FLOWS}/hubble.jsonl", "--write-intents", str(written))
    assert exists.returncode == 2 and "exists (pass --force" in exists.stderr


def test_calico_and_lab_flows_from_stdin_and_options(tmp_path: Path) -> None:
    flows = (ROOT / FLOWS / "calico.jsonl").read_text() + (ROOT / FLOWS / "lab-denials.jsonl").read_text()
    r = subprocess.run([str(PODFENCE), "generate", "-f", CLUSTER, "--from-flows", "-", "--cidr-prefix", "24",
                        "--only-allowed"], input=flows, capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "flows: 10 records from - (calico 8, hubble 2)" in r.stderr
    assert "203.0.113.0/24" in r.stdout
    assert "denied when observed (--only-allowed)" in r.stderr
    bad = run("generate", "-f", CLUSTER, "--from-flows", f"{FLOWS}/hubble.jsonl", "--cidr-prefix", "40")
    assert bad.returncode == 2 and "--cidr-prefix '40'" in bad.stderr
    missing = run("generate", "-f", CLUSTER, "--from-flows", str(tmp_path / "none.jsonl"))
    assert missing.returncode == 2 and "--from-flows" in missing.stderr


@pytest.mark.parametrize("args, words", [
    (["generate"], "say what to generate from"),
    (["generate", "-f", CLUSTER, "--intents", "x", "--from-flows", "y"], "exclude each other"),
    (["generate", "-f", CLUSTER, "--intents", "x", "--check", "--out", "d"], "--check writes nothing"),
    (["generate", "-f", CLUSTER, "--intents", "x", "--write-intents", "y"], "needs --from-flows"),
    (["generate", "-f", CLUSTER, "allow", "--from", "a/b", "--to", "c/d"], "options go after the building block"),
    (["generate", "allow", "--from", "shop/frontend", "--to", "pay/gateway", "--port", "80/ICMP"], "--port"),
    (["generate", "default-deny"], "Missing option"),
])
def test_usage_errors(args: list[str], words: str) -> None:
    r = run(*args)
    assert r.returncode == 2 and words in r.stderr, r.stderr


def test_default_deny_block(update_goldens: bool, tmp_path: Path) -> None:
    r = run("generate", "default-deny", "-n", "shop", "--allow-dns")
    assert r.returncode == 0, r.stderr
    check_golden("default-deny.yaml", r.stdout, update_goldens)
    assert "proven on a stand-in cluster" in r.stderr and "proof: exactly the intended connectivity" in r.stderr
    r = run("generate", "default-deny", "-n", "shop", "--ingress", "-f", CLUSTER, "--out", str(tmp_path))
    assert r.returncode == 0 and r.stdout.startswith("wrote") is False
    assert yaml.safe_load((tmp_path / "shop.yaml").read_text())["spec"]["policyTypes"] == ["Ingress"]


def test_allow_and_egress_blocks(update_goldens: bool) -> None:
    r = run("generate", "allow", "-f", CLUSTER, "--from", "shop/frontend", "--to", "svc/pay/payapi", "--port", "80")
    # The ingress policies isolate pay/api-v1 and pay/api-v2: every other pod loses them, unasked.
    assert r.returncode == 1, r.stderr
    check_golden("allow.yaml", r.stdout, update_goldens)
    check_golden("allow-proof.txt", r.stderr, update_goldens)
    r = run("generate", "allow", "-f", CLUSTER, "--from", "shop/frontend", "--to", "svc/pay/payapi", "--port", "80",
            "--isolate")
    assert r.returncode == 0 and r.stderr.startswith("proof: exactly the intended connectivity; 20 connections"), \
        r.stderr
    r = run("generate", "egress", "-f", CLUSTER, "--from", "pay/gateway", "--to-cidr", "203.0.113.0/24",
            "--except", "203.0.113.128/25", "--port", "443", "-o", "json")
    # The egress policy isolates pay/gateway's egress: what it loses was not asked for...
    assert r.returncode == 1 and json.loads(r.stderr)["exact"] is False, r.stderr
    r = run("generate", "egress", "-f", CLUSTER, "--from", "pay/gateway", "--to-cidr", "203.0.113.0/24",
            "--except", "203.0.113.128/25", "--port", "443", "-o", "json", "--isolate")
    # ... until it is.
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stderr)["exact"] is True and json.loads(r.stderr)["isolated"]
    assert yaml.safe_load(r.stdout)["metadata"]["name"] == "gateway-to-203.0.113.0-24"
    r = run("generate", "allow", "-f", CLUSTER, "--from", "shop/nobody", "--to", "pay/gateway", "--port", "8443")
    assert r.returncode == 2 and "--from: no workload named shop/nobody" in r.stderr


def test_default_deny_in_a_namespace_with_allows_is_proven_by_before_and_after() -> None:
    # examples/baa's api namespace already has allow rules: a default-deny there
    # changes nothing but what it asks for, so its proof holds.
    r = run("generate", "default-deny", "-f", "examples/baa", "-n", "billing")
    assert r.returncode == 0, r.stderr
    assert r.stderr.startswith("proof: exactly the intended connectivity"), r.stderr
    assert "extra" not in r.stderr


def test_allow_to_the_cluster_dns_fails_for_cutting_everyone_elses_dns() -> None:
    r = run("generate", "allow", "-f", "examples/baa", "--from", "api/api-server", "--to", "kube-system/kube-dns",
            "--port", "53")
    assert r.returncode == 1, r.stderr
    head = r.stderr.splitlines()[0]
    assert head.startswith("proof: NOT the intended connectivity") and "of others removed" in head, head
    assert "  billing/invoicer -> kube-system/kube-dns: TCP 53, UDP 53" in r.stderr


def test_address_lists_in_proofs_sort_by_address_and_fold() -> None:
    r = run("generate", "allow", "-f", CLUSTER, "--from", "shop/frontend", "--to", "svc/pay/payapi", "--port", "80",
            "-o", "json")
    removed = [d["src"] for d in json.loads(r.stderr)["removed"]]
    assert "0.0.0.0/0" in removed
    r = run("generate", "egress", "-f", CLUSTER, "--from", "shop/frontend", "--to-cidr", "0.0.0.0/0",
            "--except", "10.0.0.0/8", "--except", "172.16.0.0/12", "--except", "192.168.0.0/16", "--port", "443")
    lines = r.stderr.splitlines()
    folded = [line for line in lines if "0.0.0.0/0 except 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16" in line]
    assert folded, r.stderr
    addresses = [line.split(" -> ")[1].split(":")[0] for line in lines if line.startswith("  shop/frontend -> ")
                 and line.split(" -> ")[1][0].isdigit()]
    assert addresses == sorted(addresses, key=lambda a: tuple(int(x) for x in a.split()[0].split("/")[0].split("."))), \
        addresses
