"""One concept, one meaning: commands that share a concept agree on it, through the console script.

Each test puts the same input through the commands that read one concept (the
internet, sensitivity, cluster DNS, ports, the words for connections, ...) and
checks that they answer alike, with the exact lines users see.
"""

from __future__ import annotations

from pathlib import Path

from cli_support import podfence

# A sensitive namespace (by its label) with one pod behind a default deny.
VAULT = """\
apiVersion: v1
kind: Namespace
metadata: {name: vault, labels: {podfence.io/sensitive: "true"}}
---
apiVersion: v1
kind: Pod
metadata: {name: store, namespace: vault, labels: {app: store}}
spec:
  containers: [{name: main, image: store, ports: [{containerPort: 8200}]}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: default-deny, namespace: vault}
spec:
  podSelector: {}
  policyTypes: [Ingress, Egress]
"""


def _open_to(cidr: str) -> str:
    """A policy letting ``cidr`` reach vault/store on TCP 8200 (line 4 is its ingress rule)."""
    return f"""\
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {{name: from-outside, namespace: vault}}
spec:
  podSelector: {{matchLabels: {{app: store}}}}
  ingress:
    - from: [{{ipBlock: {{cidr: "{cidr}"}}}}]
      ports: [{{port: 8200}}]
"""


def _write(folder: Path, name: str, text: str) -> str:
    path = folder / name
    path.write_text(text)
    return str(path)


def _lines(text: str, word: str) -> list[str]:
    return [line for line in text.splitlines() if word in line]


# -- the public internet ------------------------------------------------------------------


NOT_INTERNET = ("198.18.0.0/15", "203.0.113.0/24", "2001:db8::/32", "4000::/2", "fd00::/8")
INTERNET = ("8.0.0.0/8", "2a00::/12")


def test_lint_and_diff_agree_on_what_the_internet_is(tmp_path: Path) -> None:
    old = _write(tmp_path, "old.yaml", VAULT)
    for n, cidr in enumerate(NOT_INTERNET + INTERNET):
        new = _write(tmp_path, f"new-{n}.yaml", VAULT + _open_to(cidr))
        lint = podfence("lint", "-f", new, "--select", "NP501")
        diff = podfence("diff", old, new)
        assert diff.returncode == 1, diff.stderr
        assert f"{cidr} -> vault/store: TCP 8200 added" in diff.stdout.splitlines()
        if cidr in NOT_INTERNET:
            assert (cidr, lint.returncode, _lines(lint.stdout, "NP501")) == (cidr, 0, [])
            assert (cidr, _lines(diff.stdout, "internet")) == (cidr, [])
        else:
            assert _lines(lint.stdout, "NP501") == [
                f"{new}:5: error NP501 sensitive-reachable-from-internet: Pod vault/store: sensitive, and accepts "
                f"connections from internet addresses ({cidr}) on TCP 8200"]
            assert _lines(diff.stdout, "internet") == ["  review: reachable from the internet"]


INTENT_CLUSTER = """\
apiVersion: v1
kind: Pod
metadata: {name: site, namespace: web, labels: {app: site}}
spec:
  containers: [{name: main, image: site, ports: [{containerPort: 443}]}]
"""


def test_generate_writes_the_internet_lint_means(tmp_path: Path) -> None:
    cluster = _write(tmp_path, "cluster.yaml", INTENT_CLUSTER)
    intents = _write(tmp_path, "intents.yaml", "defaults: {deny: [ingress], dns: deny}\n"
                                               "services: {web/site: {ingress_from: ['internet:443']}}\n")
    out = tmp_path / "out"
    r = podfence("generate", "-f", cluster, "--intents", intents, "--out", str(out))
    assert r.returncode == 0, r.stderr
    text = (out / "web.yaml").read_text()
    # The public internet: every non-global range left out, and lint calls it every internet address.
    assert "cidr: 0.0.0.0/0\n            except:\n" + "".join(
        f"              - {c}\n" for c in ("0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8",
                                           "169.254.0.0/16", "172.16.0.0/12", "192.0.0.0/24", "192.0.2.0/24",
                                           "192.168.0.0/16", "198.18.0.0/15", "198.51.100.0/24",
                                           "203.0.113.0/24", "224.0.0.0/3")) in text
    assert 'podfence.io/ignore: "NP402: the intent asks for it (services.web/site.ingress_from[0])"' in text
    # Without the suppression, lint reports exactly that rule as every internet address.
    bare = _write(tmp_path, "bare.yaml", "\n".join(
        line for line in text.splitlines() if "podfence.io/ignore" not in line and line.strip() != "annotations:"))
    lint = podfence("lint", "-f", cluster, "-f", bare, "--select", "NP402")
    assert lint.returncode == 1, lint.stderr
    assert [line.split(": ", 1)[1] for line in _lines(lint.stdout, "NP402")] == [
        "warning NP402 ingress-from-internet: NetworkPolicy web/site-ingress: spec.ingress[0]: admits every internet "
        "address to web/site on TCP 443"]


def test_generate_marks_only_what_lint_reports_as_internet(tmp_path: Path) -> None:
    cluster = _write(tmp_path, "cluster.yaml", INTENT_CLUSTER)
    intents = _write(tmp_path, "intents.yaml", "defaults: {deny: [ingress], dns: deny}\nservices:\n"
                                               "  web/site: {ingress_from: [{from: internet, except: [8.0.0.0/8],"
                                               " ports: [443]}]}\n")
    r = podfence("generate", "-f", cluster, "--intents", intents)
    assert r.returncode == 0, r.stderr
    # Not every internet address: lint's NP402 does not report it, so no suppression is written.
    assert "podfence.io/ignore" not in r.stdout
    policies = _write(tmp_path, "policies.yaml", r.stdout)
    lint = podfence("lint", "-f", cluster, "-f", policies, "--select", "NP402")
    assert lint.returncode == 0 and _lines(lint.stdout, "NP402") == []


# -- sensitivity ---------------------------------------------------------------------------


def _sensitive_cluster(namespace_meta: str, pod_meta: str) -> str:
    return f"""\
apiVersion: v1
kind: Namespace
metadata: {{name: api}}
---
apiVersion: v1
kind: Pod
metadata: {{name: client, namespace: api, labels: {{app: client}}}}
spec:
  containers: [{{name: main, image: client}}]
---
apiVersion: v1
kind: Namespace
metadata: {{name: vault{namespace_meta}}}
---
apiVersion: v1
kind: Pod
metadata: {{name: store, namespace: vault, {pod_meta}}}
spec:
  containers: [{{name: main, image: store, ports: [{{containerPort: 8200}}]}}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {{name: default-deny, namespace: vault}}
spec:
  podSelector: {{}}
  policyTypes: [Ingress]
"""


FROM_API = """\
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: from-api, namespace: vault}
spec:
  podSelector: {}
  ingress:
    - from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: api}}}]
      ports: [{port: 8200}]
"""
PLAIN_POD = "labels: {app: store}"
MARKS = {
    "namespace label": (', labels: {podfence.io/sensitive: "true"}', PLAIN_POD),
    "namespace annotation": (', annotations: {podfence.io/sensitive: "true"}', PLAIN_POD),
    "pod label": ("", 'labels: {app: store, podfence.io/sensitive: "true"}'),
    "pod annotation": ("", PLAIN_POD + ', annotations: {podfence.io/sensitive: "true"}'),
}


def test_lint_and_diff_agree_on_what_is_sensitive(tmp_path: Path) -> None:
    config = _write(tmp_path, "podfence.yaml", "sensitive: {allowed_from: [billing]}\n")
    for n, (how, (ns_meta, pod_meta)) in enumerate(MARKS.items()):
        text = _sensitive_cluster(ns_meta, pod_meta)
        old = _write(tmp_path, f"old-{n}.yaml", text)
        new = _write(tmp_path, f"new-{n}.yaml", text + FROM_API)
        lint = podfence("lint", "-f", new, "--config", config, "--select", "NP502")
        assert (how, _lines(lint.stdout, "NP502")) == (how, [
            f"{new}:15: warning NP502 sensitive-reachable-from-unallowed-namespace: Pod vault/store: sensitive, "
            "and reachable from a namespace outside sensitive.allowed_from [billing]: api (api/client)"])
        diff = podfence("diff", old, new, "--config", config)
        assert (how, diff.returncode, _lines(diff.stdout, "review")) == (
            how, 1, ["  review: into sensitive namespace vault"])


# -- cluster DNS ---------------------------------------------------------------------------

HOST_DNS = """\
apiVersion: v1
kind: Pod
metadata: {name: coredns, namespace: kube-system, labels: {k8s-app: kube-dns}}
spec:
  hostNetwork: true
  nodeName: node-1
  containers: [{name: dns, image: coredns, ports: [{containerPort: 53, protocol: UDP}]}]
status: {podIP: 10.1.0.10, hostIP: 10.1.0.10}
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: shop, labels: {app: web}}
spec:
  nodeName: node-2
  containers: [{name: main, image: web}]
status: {podIP: 10.0.0.5, hostIP: 10.1.0.11}
"""
LOOKUP = ('{"flow":{"verdict":"FORWARDED","IP":{"source":"10.0.0.5","destination":"10.1.0.10","ipVersion":"IPv4"},'
          '"l4":{"UDP":{"source_port":40000,"destination_port":53}},'
          '"source":{"namespace":"shop","pod_name":"web","labels":["k8s:app=web"]},'
          '"destination":{"namespace":"kube-system","pod_name":"coredns","labels":["k8s:k8s-app=kube-dns"]},'
          '"is_reply":false}}\n')


def test_flows_to_a_host_network_dns_server_are_kept_as_generate_cannot_select_it(tmp_path: Path) -> None:
    # allow-dns selects DNS pods by label, which never matches a hostNetwork pod: generate's
    # policies and proof do not count it as cluster DNS, so reading flows must not either.
    cluster = _write(tmp_path, "cluster.yaml", HOST_DNS)
    flows = _write(tmp_path, "flows.jsonl", LOOKUP)
    intents = tmp_path / "intents.yaml"
    r = podfence("generate", "-f", cluster, "--from-flows", flows, "--write-intents", str(intents))
    assert r.returncode == 0, r.stderr
    assert "DNS lookup" not in r.stderr
    assert ("  addresses: shop/web egress to 1 address on UDP 53 -> 10.1.0.10/32 (one /32 each: 4 or fewer "
            "addresses)") in r.stderr.splitlines()
    assert intents.read_text().endswith("services:\n  shop/web:\n    egress:\n      # seen 1 time\n"
                                        "      - 10.1.0.10/32:53/UDP\n")
    policies = _write(tmp_path, "policies.yaml", r.stdout)
    explain = podfence("explain", "-f", cluster, "-f", policies, "--from", "shop/web", "--to", "10.1.0.10",
                       "--port", "53", "--protocol", "UDP")
    assert explain.stdout.splitlines()[0] == "ALLOWED: shop/web -> kube-system/coredns UDP 53"

    # The same lookup to a DNS pod that policies can select is left to defaults.dns.
    cluster = _write(tmp_path, "cluster.yaml", HOST_DNS.replace("  hostNetwork: true\n", "").replace(
        "status: {podIP: 10.1.0.10, hostIP: 10.1.0.10}", "status: {podIP: 10.0.0.10, hostIP: 10.1.0.10}"))
    flows = _write(tmp_path, "flows.jsonl", LOOKUP.replace('"destination":"10.1.0.10"', '"destination":"10.0.0.10"'))
    r = podfence("generate", "-f", cluster, "--from-flows", flows)
    assert r.returncode == 1
    assert "  1 DNS lookup to the cluster DNS: allowed by defaults.dns: allow" in r.stderr.splitlines()
    assert r.stderr.endswith("podfence generate: error: the flows imply no connection of a workload in the manifests: "
                             "nothing to generate\n")


# -- one port syntax -----------------------------------------------------------------------

PORTS_CLUSTER = """\
apiVersion: v1
kind: Pod
metadata: {name: client, namespace: a, labels: {app: client}}
spec:
  containers: [{name: main, image: client}]
---
apiVersion: v1
kind: Pod
metadata: {name: server, namespace: a, labels: {app: server}}
spec:
  containers:
    - name: main
      image: server
      ports: [{name: dns, containerPort: 53, protocol: UDP}, {containerPort: 8000}, {containerPort: 8080}]
"""


def test_a_test_spec_reads_ports_as_an_intent_file_writes_them(tmp_path: Path) -> None:
    cluster = _write(tmp_path, "cluster.yaml", PORTS_CLUSTER)
    intents = _write(tmp_path, "intents.yaml", "defaults: {deny: [ingress], dns: deny}\nservices:\n"
                                               "  a/server: {ingress_from: ['a/client:53/udp,8000-8080']}\n")
    out = tmp_path / "out"
    r = podfence("generate", "-f", cluster, "--intents", intents, "--out", str(out))
    assert r.returncode == 0, r.stderr
    spec = _write(tmp_path, "spec.yaml", """\
tests:
  - {name: as written, from: a/client, to: a/server, ports: ["53/udp,8000-8080"], expect: exactly}
  - {name: one port, from: a/client, to: a/server, port: 53/UDP, expect: allow}
  - {name: default protocol, from: a/client, to: a/server, port: "8000-8080", protocol: udp, expect: deny}
""")
    t = podfence("test", "-f", cluster, "-f", str(out), spec)
    assert t.returncode == 0, t.stdout + t.stderr
    assert [line.split("  (")[0] for line in t.stdout.splitlines() if line.startswith(("PASS", "FAIL"))] == [
        "PASS  as written", "PASS  one port", "PASS  default protocol"]


def test_a_bad_port_reads_the_same_in_an_intent_file_and_a_test_spec(tmp_path: Path) -> None:
    cluster = _write(tmp_path, "cluster.yaml", PORTS_CLUSTER)
    (tmp_path / "i.yaml").write_text("services:\n  a/server: {ingress_from: ['a/client:53/XYZ']}\n")
    (tmp_path / "s.yaml").write_text("tests:\n  - {from: a/client, to: a/server, port: 53/XYZ, expect: allow}\n"
                                     "  - {from: a/client, to: a/server, port: dns, expect: allow}\n")
    intent = podfence("generate", "-f", cluster, "--intents", "i.yaml", cwd=tmp_path)
    assert (intent.returncode, intent.stderr) == (
        2, "i.yaml:2: intents: services.a/server.ingress_from[0]: port '53/XYZ': protocol must be TCP, UDP or SCTP\n")
    spec = podfence("test", "-f", cluster, "s.yaml", cwd=tmp_path)
    assert (spec.returncode, spec.stderr) == (2, (
        "s.yaml:2: podfence test: tests[0].port: port '53/XYZ': protocol must be TCP, UDP or SCTP\n"
        "s.yaml:3: podfence test: tests[1].port: port 'dns': a port name is not allowed here; give the number\n"))
    flag = podfence("explain", "-f", cluster, "--from", "a/client", "--to", "a/server", "--port", "53",
                    "--protocol", "XYZ")
    assert (flag.returncode, flag.stderr) == (2, "podfence explain: error: --protocol 'XYZ': must be TCP, UDP or SCTP\n")


# -- connections and long lists in words ----------------------------------------------------

WEB = "\n---\n".join([
    "apiVersion: v1\nkind: Namespace\nmetadata: {name: other}",
    "apiVersion: v1\nkind: Namespace\nmetadata: {name: web}",
    "apiVersion: v1\nkind: Pod\nmetadata: {name: x, namespace: other, labels: {app: x}}\n"
    "spec:\n  containers: [{name: c, image: x}]",
    "apiVersion: v1\nkind: Pod\nmetadata: {name: db, namespace: web, labels: {app: db}}\n"
    "spec:\n  containers: [{name: c, image: db}]",
    *(f"apiVersion: v1\nkind: Pod\nmetadata: {{name: w{i}, namespace: web, labels: {{app: web}}}}\n"
      "spec:\n  containers: [{name: c, image: web}]" for i in range(1, 8)),
    """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: open, namespace: web}
spec:
  podSelector: {matchLabels: {app: web}}
  ingress:
    - from:
        - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: other}}
        - ipBlock: {cidr: 0.0.0.0/0}
""",
])


def test_every_command_calls_all_traffic_all(tmp_path: Path) -> None:
    cluster = _write(tmp_path, "web.yaml", WEB)
    spec = _write(tmp_path, "spec.yaml", "tests:\n  - {name: open, from: other/x, to: {namespace: web}, expect: allow}\n")
    lint = podfence("lint", "-f", cluster, "--select", "NP402")
    assert _lines(lint.stdout, "NP402")[0].endswith(" and 2 more on All")
    audit = podfence("audit", "-f", cluster)
    assert _lines(audit.stdout, "reaches: ") == ["reaches:    every internet address (0.0.0.0/0) on All"] * 2
    connectivity = podfence("connectivity", "-f", cluster)
    assert "other/x -> 0.0.0.0/0: All" in connectivity.stdout.splitlines()
    test = podfence("test", "-f", cluster, spec)
    assert test.stdout.splitlines()[0] == "PASS  open  (allow All)"


def test_every_command_shortens_a_long_list_alike(tmp_path: Path) -> None:
    cluster = _write(tmp_path, "web.yaml", WEB)
    lint = podfence("lint", "-f", cluster, "--select", "NP402")
    assert _lines(lint.stdout, "NP402")[0].endswith(
        "admits every internet address to web/w1, web/w2, web/w3, web/w4, web/w5 and 2 more on All")
    audit = podfence("audit", "-f", cluster)
    assert "reached by: other; the internet (web/db, web/w1, web/w2 and 5 more)" in audit.stdout.splitlines()
    connectivity = podfence("connectivity", "-f", cluster)
    assert "0.0.0.0/0 -> [web/w1, web/w2, web/w3 and 4 more] (7 pods): All" in connectivity.stdout.splitlines()


# -- podfence's own files: one reader ------------------------------------------------------

NAMESPACE_RULE = "at most 63 lowercase letters, digits and '-', starting and ending with a letter or digit"


def test_own_files_read_a_list_field_alike(tmp_path: Path) -> None:
    cluster = _write(tmp_path, "cluster.yaml", PORTS_CLUSTER)
    (tmp_path / "c.yaml").write_text("lint:\n  exclude_namespaces: Bad_NS\n")
    (tmp_path / "i.yaml").write_text("defaults:\n  exclude: Bad_NS\nservices: {a/server: {}}\n")
    lint = podfence("lint", "-f", cluster, "--config", "c.yaml", cwd=tmp_path)
    assert (lint.returncode, lint.stderr) == (
        2, f"c.yaml:2: podfence config: lint.exclude_namespaces: 'Bad_NS' is not a namespace name ({NAMESPACE_RULE})\n")
    intent = podfence("generate", "-f", cluster, "--intents", "i.yaml", cwd=tmp_path)
    assert (intent.returncode, intent.stderr) == (
        2, f"i.yaml:2: intents: defaults.exclude: 'Bad_NS' is not a namespace name ({NAMESPACE_RULE})\n")
    # One namespace may stand for the list in both.
    (tmp_path / "c.yaml").write_text("lint:\n  exclude_namespaces: a\n")
    lint = podfence("lint", "-f", cluster, "--config", "c.yaml", "--select", "NP101", cwd=tmp_path)
    assert lint.returncode == 0 and _lines(lint.stdout, "NP101") == [], lint.stderr
    (tmp_path / "i.yaml").write_text("defaults:\n  exclude: kube-system\n  deny: ingress\nservices: {a/server: {}}\n")
    intent = podfence("generate", "-f", cluster, "--intents", "i.yaml", cwd=tmp_path)
    assert intent.returncode == 0, intent.stderr


def test_own_files_match_words_in_any_case(tmp_path: Path) -> None:
    cluster = _write(tmp_path, "cluster.yaml", PORTS_CLUSTER)
    (tmp_path / "c.yaml").write_text("lint:\n  exclude_namespaces: []\n  rules: {NP101: {severity: Error}}\n")
    (tmp_path / "s.yaml").write_text("tests:\n  - {from: a/client, to: a/server, port: 53/UDP, expect: Allow}\n")
    (tmp_path / "i.yaml").write_text("defaults: {deny: [Ingress], dns: Deny}\nservices: {a/server: {}}\n")
    lint = podfence("lint", "-f", cluster, "--config", "c.yaml", "--select", "NP101", cwd=tmp_path)
    assert lint.returncode == 1, lint.stderr
    assert [line.split(": ", 1)[1].split(" NP101")[0] for line in _lines(lint.stdout, "NP101")] == ["error"]
    test = podfence("test", "-f", cluster, "s.yaml", cwd=tmp_path)
    assert test.returncode == 0 and test.stdout.splitlines()[0].startswith("PASS"), test.stderr
    intent = podfence("generate", "-f", cluster, "--intents", "i.yaml", cwd=tmp_path)
    assert intent.returncode == 0, intent.stderr
