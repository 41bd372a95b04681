"""``connectivity`` text and dot sized to the question: ranges merged, --wide, footers that match."""

from __future__ import annotations

import re

import pytest
import yaml

from cli_support import podfence
from kubeapi import Fleet
from live_support import ROOT, manifests, reader

BAA = str(ROOT / "examples" / "baa")


def test_dot_draws_a_pods_ranges_with_the_same_connections_as_one_box() -> None:
    r = podfence("connectivity", "-f", BAA, "-o", "dot")
    assert r.returncode == 0, r.stderr
    boxes = re.findall(r'^  "([^"]+)" \[shape=box\];$', r.stdout, re.M)
    assert "0.0.0.0/0 except 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16" in boxes
    assert len(boxes) == len(set(boxes)) <= 6
    assert '"0.0.0.0/5"' not in r.stdout and '"192.169.0.0/16"' not in r.stdout
    internet = '"0.0.0.0/0 except 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16"'
    assert f'  {internet} -> "gateway/edge-proxy" [label="TCP 8443"];' in r.stdout.splitlines()


def test_text_wide_names_every_pod_of_a_line() -> None:
    short = podfence("connectivity", "-f", BAA)
    wide = podfence("connectivity", "-f", BAA, "--wide")
    assert short.returncode == wide.returncode == 0
    assert re.search(r"and \d+ more", short.stdout)
    assert not re.search(r"and \d+ more", wide.stdout)
    line = next(x for x in wide.stdout.splitlines() if x.startswith("monitoring/prometheus") and "TCP 9100" in x)
    assert "billing/invoicer, notify/mailer] (8 pods)" in line
    assert len(wide.stdout.splitlines()) == len(short.stdout.splitlines())


@pytest.fixture(scope="module")
def kubeconfig(tmp_path_factory: pytest.TempPathFactory) -> str:
    fleet = Fleet()
    fleet.cluster("prod", {"reader": reader()}).seed(manifests(ROOT / "examples" / "baa"))
    fleet.context("prod", "prod", "reader")
    path = tmp_path_factory.mktemp("live") / "kubeconfig"
    path.write_text(yaml.safe_dump(fleet.kubeconfig(current="prod"), sort_keys=False))
    return str(path)


def test_text_footer_of_one_namespace_says_what_the_lines_show(kubeconfig: str) -> None:
    r = podfence("connectivity", "-n", "data", "--kubeconfig", kubeconfig, "--context", "prod")
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[-1] == ("Only what the 2 pods of namespace data send or receive, "
                                         "of 16 pods in 16 groups of identical behaviour.")
