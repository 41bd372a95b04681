"""``test --snapshot`` writes tests a person can edit: every endpoint by its full name."""

from __future__ import annotations

from cli_support import podfence

BAA = "examples/baa"


def test_snapshot_names_every_endpoint_in_full() -> None:
    r = podfence("test", "--snapshot", "-f", BAA)
    assert r.returncode == 0, r.stderr
    names = [line for line in r.stdout.splitlines() if line.startswith("- name:")]
    assert names and not any(" more" in line for line in names)
    assert ("- name: namespaces api, auth, billing, data, gateway, monitoring/grafana, monitoring/prometheus, "
            "notify/mailer -> kube-system/kube-dns") in names
    assert any("all pods except auth/auth-server, billing/billing-api, kube-system/kube-dns, notify/mailer" in line
               for line in names)
