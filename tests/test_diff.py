"""podfence diff, library level: pairs of scenarios with the expected change cell by cell.

Every scenario starts from tests/fixtures/diff/base.yaml (read its header) and
changes one thing. The expected changes are worked out by hand from the
NetworkPolicy semantics: who could reach whom before, who can after.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from podfence.config import Config, DnsTarget, Sensitivity
from podfence.diff import ChangeGroup, Risk, Status, diff, group_changes, range_changes
from podfence.loader import load_texts
from podfence.model import Cluster, Direction, Labels, Settings
from podfence.sets import ConnSet, IPSet, Protocol, parse_cidr

FIXTURES = Path(__file__).parent / "fixtures" / "diff"
BASE = (FIXTURES / "base.yaml").read_text()
NONE = ConnSet.none()
ALL = ConnSet.all()


def tcp(lo: int, hi: int | None = None) -> ConnSet:
    return ConnSet.ports(Protocol.TCP, lo, hi)


def cluster(text: str) -> Cluster:
    result = load_texts([("manifests.yaml", text)])
    assert result.ok, [d.one_line() for d in result.diagnostics]
    return result.cluster


def edit(old: str, new: str, text: str = BASE) -> str:
    assert text.count(old) == 1, f"{old!r} must occur once"
    return text.replace(old, new)


def without(doc_start: str, text: str = BASE) -> str:
    """The manifests without the document that starts with ``doc_start``."""
    docs = text.split("\n---\n")
    kept = [d for d in docs if not d.startswith(doc_start)]
    assert len(kept) == len(docs) - 1
    return "\n---\n".join(kept)


def changes(old_text: str, new_text: str) -> dict[tuple[str, str], tuple[ConnSet, ConnSet]]:
    report = diff(cluster(old_text), cluster(new_text), Settings())
    return {(c.src, c.dst): (c.added, c.removed) for c in report.diff.changes}


ALLOW_WORKER = """
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: allow-worker, namespace: billing}
spec:
  podSelector: {matchLabels: {app: db}}
  ingress:
    - from: [{namespaceSelector: {matchLabels: {team: core}}, podSelector: {matchLabels: {app: worker}}}]
      ports: [{port: 5432}, {port: 5433}]
"""
REPORTS = """
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: reports, namespace: api}
spec:
  selector: {matchLabels: {app: reports}}
  template:
    metadata: {labels: {app: reports}}
    spec: {containers: [{name: main, image: api/reports}]}
"""
OFFICE = "\n" + (FIXTURES / "allow-outside.yaml").read_text()
DENY_EGRESS = "\n" + (FIXTURES / "deny-egress.yaml").read_text()


def worker_https(except_: str) -> str:
    return f"""
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {{name: worker-out, namespace: api}}
spec:
  podSelector: {{matchLabels: {{app: worker}}}}
  policyTypes: [Egress]
  egress:
    - to: [{{ipBlock: {{cidr: 0.0.0.0/0, except: [{except_}]}}}}]
      ports: [{{port: 443}}]
"""


# ---- the scenarios of the issue, cell by cell --------------------------------------


def test_policy_added_opens_exactly_its_rule() -> None:
    assert changes(BASE, BASE + ALLOW_WORKER) == {("api/worker", "billing/db"): (tcp(5432, 5433), NONE)}


def test_policy_deleted_closes_what_it_allowed() -> None:
    new = without("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: allow-api")
    assert changes(BASE, new) == {("api/server", "billing/db"): (NONE, tcp(5432))}


def test_policy_edited_moves_the_port() -> None:
    new = edit("ports: [{port: 5432}]", "ports: [{port: 5433}]")
    assert changes(BASE, new) == {("api/server", "billing/db"): (tcp(5433), tcp(5432))}


def test_an_edit_that_changes_nothing_is_no_change() -> None:
    new = edit("podSelector: {matchLabels: {app: db}}",
               "podSelector: {matchExpressions: [{key: app, operator: In, values: [db]}]}")
    new = edit("ports: [{port: 5432}]", "ports: [{protocol: TCP, port: 5432, endPort: 5432}]", new)
    report = diff(cluster(BASE), cluster(new), Settings())
    assert not report.diff and report.diff.changes == () and report.groups == ()


def test_pod_relabelled() -> None:
    new = edit("labels: {app: worker}", "labels: {app: server}")
    assert changes(BASE, new) == {("api/worker", "billing/db"): (tcp(5432), NONE)}


def test_namespace_relabelled() -> None:
    new = edit("labels: {team: core}", "labels: {team: platform}")
    assert changes(BASE, new) == {("api/server", "billing/db"): (NONE, tcp(5432))}


def test_workload_added_gains_everything_it_has() -> None:
    got = changes(BASE, BASE + REPORTS)
    # api is not isolated, so the new workload reaches and is reached by every pod
    # but billing/db (isolated; only app=server may enter), replicas reach each
    # other, and it may talk to any outside address both ways.
    expected = {("api/reports", dst): (ALL, NONE) for dst in ("api/reports", "api/server", "api/worker",
                                                                 "kube-system/dns", "0.0.0.0/0")}
    expected |= {(src, "api/reports"): (ALL, NONE) for src in ("api/server", "api/worker", "billing/db",
                                                                "kube-system/dns", "0.0.0.0/0")}
    assert got == expected


def test_pod_deleted_loses_everything_it_had() -> None:
    new = without("apiVersion: v1\nkind: Pod\nmetadata: {name: worker")
    got = changes(BASE, new)
    expected = {("api/worker", dst): (NONE, ALL) for dst in ("api/server", "api/worker", "kube-system/dns",
                                                               "0.0.0.0/0")}
    expected |= {(src, "api/worker"): (NONE, ALL) for src in ("api/server", "billing/db", "kube-system/dns",
                                                               "0.0.0.0/0")}
    assert got == expected


def test_default_deny_egress_removes_all_egress_but_self_traffic() -> None:
    got = changes(BASE, BASE + DENY_EGRESS)
    expected = {
        ("api/server", "api/worker"): (NONE, ALL),
        ("api/server", "billing/db"): (NONE, tcp(5432)),
        ("api/server", "kube-system/dns"): (NONE, ALL),
        ("api/server", "0.0.0.0/0"): (NONE, ALL),
        ("api/worker", "api/server"): (NONE, ALL),
        ("api/worker", "kube-system/dns"): (NONE, ALL),
        ("api/worker", "0.0.0.0/0"): (NONE, ALL),
    }
    assert got == expected


def test_ingress_from_outside_is_compared_by_address() -> None:
    got = changes(BASE, BASE + OFFICE)
    assert all(dst == "billing/db" and conns == (tcp(5432), NONE) for (_, dst), conns in got.items())
    srcs = IPSet()
    for src, _ in got:
        parsed = parse_cidr(src)
        assert parsed is not None, src
        srcs = srcs | IPSet.of_cidr(parsed)
    ten = parse_cidr("10.0.0.0/8")
    assert ten is not None
    assert srcs == IPSet.all_of(4) - IPSet.of_cidr(ten)


def test_a_range_split_differently_is_compared_by_address() -> None:
    old = BASE + worker_https("10.0.0.0/8")
    new = BASE + worker_https("10.0.0.0/16")
    got = changes(old, new)
    # Only 10.1.0.0 - 10.255.255.255 changes: TCP 443 is now allowed there.
    assert set(got.values()) == {(tcp(443), NONE)}
    assert {src for src, _ in got} == {"api/worker"}
    assert [dst for _, dst in got] == ["10.1.0.0/16", "10.2.0.0/15", "10.4.0.0/14", "10.8.0.0/13", "10.16.0.0/12",
                                       "10.32.0.0/11", "10.64.0.0/10", "10.128.0.0/9"]


def test_same_addresses_in_other_cidrs_are_no_change() -> None:
    old = BASE + worker_https("10.0.0.0/8")
    new = edit("except: [10.0.0.0/8]", "except: [10.0.0.0/9, 10.128.0.0/9]", old)
    assert changes(old, new) == {}


# ---- range_changes: the common refinement -----------------------------------------


def test_range_changes_merges_and_splits_by_address() -> None:
    http, dns = tcp(80), ConnSet.ports(Protocol.UDP, 53)
    assert range_changes([("10.0.0.0/8", http)], [("10.0.0.0/9", http), ("10.128.0.0/9", http)]) == []
    got = range_changes([("10.0.0.0/8", http)], [("10.0.0.0/9", http), ("10.128.0.0/9", http | dns)])
    assert got == [("10.128.0.0/9", dns, NONE)]
    got = range_changes([("10.0.0.0/8", http | dns)], [("10.0.0.0/7", http)])
    assert got == [("10.0.0.0/8", NONE, dns), ("11.0.0.0/8", http, NONE)]
    assert range_changes([("::/0", http)], []) == [("::/0", NONE, http)]


# ---- grouping -------------------------------------------------------------------


def test_identical_changes_share_a_group() -> None:
    report = diff(cluster(BASE), cluster(BASE + DENY_EGRESS), Settings())
    groups = {(g.group.srcs, g.group.dsts): (g.group.added, g.group.removed) for g in report.groups}
    assert groups == {
        (("api/server", "api/worker"), ("kube-system/dns", "0.0.0.0/0")): (NONE, ALL),
        (("api/server",), ("api/worker",)): (NONE, ALL),
        (("api/server",), ("billing/db",)): (NONE, tcp(5432)),
        (("api/worker",), ("api/server",)): (NONE, ALL),
    }
    assert sum(g.group.pairs for g in report.groups) == len(report.diff.changes) == 7


def test_group_changes_covers_every_change_once() -> None:
    report = diff(cluster(BASE), cluster(BASE + REPORTS), Settings())
    groups = group_changes(report.diff.changes)
    covered = sorted((s, d) for g in groups for s in g.srcs for d in g.dsts)
    assert covered == sorted((c.src, c.dst) for c in report.diff.changes)
    assert isinstance(groups[0], ChangeGroup)


# ---- causes ----------------------------------------------------------------------


def only_group(old_text: str, new_text: str, config: Config = Config()):  # type: ignore[no-untyped-def]
    report = diff(cluster(old_text), cluster(new_text), Settings(), config)
    assert len(report.groups) == 1, report.groups
    return report.groups[0]


def test_cause_of_an_added_policy_is_its_admitting_rule() -> None:
    g = only_group(BASE, BASE + ALLOW_WORKER)
    assert [(p.policy, p.status, p.admits_new) for p in g.causes.policies] == [
        ("billing/allow-worker", Status.ADDED, ("spec.ingress[0]",))]
    assert g.causes.objects == ()
    assert (g.causes.protocol, g.causes.port) == (Protocol.TCP, 5432)


def test_cause_of_a_deleted_policy() -> None:
    new = without("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: allow-api")
    g = only_group(BASE, new)
    assert [(p.policy, p.status, p.admits_old, p.admits_new) for p in g.causes.policies] == [
        ("billing/allow-api", Status.DELETED, ("spec.ingress[0]",), ())]


def test_cause_of_an_edit_names_the_edited_policy_only() -> None:
    g = only_group(BASE, edit("ports: [{port: 5432}]", "ports: [{port: 5433}]"))
    # default-deny isolates billing/db too, but it did not change.
    assert [(p.policy, p.status) for p in g.causes.policies] == [("billing/allow-api", Status.EDITED)]


def test_cause_of_a_relabel_is_the_object() -> None:
    g = only_group(BASE, edit("labels: {app: worker}", "labels: {app: server}"))
    assert g.causes.policies == ()
    assert [(o.kind, o.name, o.what, o.labels) for o in g.causes.objects] == [
        ("pod", "api/worker", "labels", ("-app=worker", "+app=server"))]
    g = only_group(BASE, edit("labels: {team: core}", "labels: {team: platform}"))
    assert [(o.kind, o.name, o.what, o.labels) for o in g.causes.objects] == [
        ("namespace", "api", "labels", ("-team=core", "+team=platform"))]


def test_cause_of_lost_egress_is_the_new_isolation() -> None:
    report = diff(cluster(BASE), cluster(BASE + DENY_EGRESS), Settings())
    isolation = [("api/deny-egress", Status.ADDED, (Direction.EGRESS,))]
    # Every connection out of api is lost (base.yaml: api is not isolated), and each for that one reason.
    assert [(g.group.srcs, g.group.dsts, g.group.added, g.group.removed) for g in report.groups] == [
        (("api/server",), ("api/worker",), NONE, ALL),
        (("api/server",), ("billing/db",), NONE, tcp(5432)),
        (("api/server", "api/worker"), ("kube-system/dns", "0.0.0.0/0"), NONE, ALL),
        (("api/worker",), ("api/server",), NONE, ALL),
    ]
    assert [[(p.policy, p.status, p.isolates_new) for p in g.causes.policies] for g in report.groups] == \
        [isolation] * 4
    assert all(g.causes.objects == () for g in report.groups)


def test_cause_of_a_new_workload() -> None:
    report = diff(cluster(BASE), cluster(BASE + REPORTS), Settings())
    # The new Deployment gains everything both ways (nothing isolates api), because it was added.
    assert [(g.group.srcs, g.group.dsts, g.group.added, g.group.removed) for g in report.groups] == [
        (("api/reports", "api/server", "api/worker", "billing/db", "kube-system/dns", "0.0.0.0/0"), ("api/reports",),
         ALL, NONE),
        (("api/reports",), ("api/server", "api/worker", "kube-system/dns", "0.0.0.0/0"), ALL, NONE),
    ]
    assert [[(o.kind, o.name, o.what) for o in g.causes.objects] for g in report.groups] == \
        [[("pod", "api/reports", "added")]] * 2
    assert all(g.causes.policies == () for g in report.groups)


# ---- flags: what to review first ----------------------------------------------------


def test_internet_and_sensitive_exposure_are_flagged() -> None:
    g = only_group(BASE, BASE + OFFICE)
    assert [f.risk for f in g.flags] == [Risk.INTERNET, Risk.SENSITIVE]
    assert g.flags[0].detail == "reachable from the internet"
    assert "billing" in g.flags[1].detail


def test_sensitive_by_configured_namespace_list() -> None:
    text = edit('labels: {team: payments, podfence.io/sensitive: "true"}', "labels: {team: payments}")
    g = only_group(text, text + ALLOW_WORKER)
    assert g.flags == ()
    g = only_group(text, text + ALLOW_WORKER, Config(sensitive=Sensitivity(namespaces=("billing",))))
    assert [f.risk for f in g.flags] == [Risk.SENSITIVE]
    allowed = Sensitivity(namespaces=("billing",), allowed_from=("api",))
    assert only_group(text, text + ALLOW_WORKER, Config(sensitive=allowed)).flags == ()


def test_lost_dns_is_flagged_and_read_first() -> None:
    report = diff(cluster(BASE), cluster(BASE + DENY_EGRESS), Settings())
    first = report.by_danger()[0]
    assert first.group.dsts == ("kube-system/dns", "0.0.0.0/0")
    assert [f.risk for f in first.flags] == [Risk.DNS]
    assert all(not g.flags for g in report.by_danger()[1:])
    other_dns = Config(dns=DnsTarget(namespace="kube-system", pod_labels=Labels({"k8s-app": "coredns"})))
    report = diff(cluster(BASE), cluster(BASE + DENY_EGRESS), Settings(), other_dns)
    assert all(not g.flags for g in report.groups)


def test_a_single_public_address_is_not_internet_exposure() -> None:
    text = BASE + OFFICE.replace("{cidr: 0.0.0.0/0, except: [10.0.0.0/8]}", "{cidr: 203.0.113.7/32}")
    g = only_group(BASE, text)
    assert g.group.srcs == ("203.0.113.7/32",)
    assert [f.risk for f in g.flags] == [Risk.SENSITIVE]


@pytest.mark.parametrize("families", [(4,), (4, 6)])
def test_both_sides_report_the_same_families(families: tuple[int, ...]) -> None:
    v6 = "" if families == (4,) else """
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: v6-out, namespace: kube-system}
spec:
  podSelector: {}
  policyTypes: [Egress]
  egress: [{to: [{ipBlock: {cidr: "::/0"}}]}]
"""
    # The new side mentions IPv6 (or not); the old side never does. Pods without IPs
    # may use either family, so IPv6 ranges must be compared, not invented as changes.
    got = changes(BASE, BASE + v6)
    if families == (4,):
        assert got == {}
    else:
        assert got[("kube-system/dns", "0.0.0.0/0")] == (NONE, ALL)
        assert ("kube-system/dns", "::/0") not in got
        assert all(src == "kube-system/dns" for src, _ in got)
