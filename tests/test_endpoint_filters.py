"""``matrix`` and ``connectivity`` narrowed with ``--from`` / ``--to``, through the console script."""

from __future__ import annotations

import ipaddress
import json

from cli_support import podfence

BAA = "examples/baa"


def test_matrix_from_a_namespace_to_one_workload_has_those_rows_and_that_column() -> None:
    r = podfence("matrix", "-f", BAA, "--port", "5432", "--from", "billing/*", "--to", "data/postgres")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert "  1 data/postgres (StatefulSet)" in lines
    rows = [line for line in lines if line.startswith("billing/")]
    assert len(rows) == 3 and all(line.endswith("✓") for line in rows)
    assert "api/api-server" not in r.stdout
    assert lines[-1] == "3 sources x 1 destination: 3 of 3 pairs allowed"


def test_matrix_json_keeps_its_shape_with_fewer_entries() -> None:
    full = json.loads(podfence("matrix", "-f", BAA, "--port", "5432", "-o", "json").stdout)
    r = podfence("matrix", "-f", BAA, "--port", "5432", "-o", "json", "--from", "billing/invoicer",
                 "--from", "svc/api/api-server", "--to", "data/*")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert set(doc) == set(full)
    assert doc["pods"] == ["api/api-server", "billing/invoicer"]
    assert doc["allowed"] == {p: [d for d in full["allowed"][p] if d.startswith("data/")] for p in doc["pods"]}
    assert doc["allowed"]["billing/invoicer"] == ["data/postgres"]


def test_matrix_csv_columns_are_the_destinations() -> None:
    r = podfence("matrix", "-f", BAA, "--port", "5432", "-o", "csv", "--to", "data/postgres")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == "from\\to,data/postgres"
    assert len(lines) == 17 and "billing/invoicer,1" in lines and "api/api-server,0" in lines


def test_an_unknown_endpoint_is_exit_2_with_close_names() -> None:
    r = podfence("matrix", "-f", BAA, "--port", "5432", "--to", "data/postgrs", "--from", "nope/*")
    assert r.returncode == 2
    assert r.stdout == ""
    assert "--to data/postgrs: no pod, workload or service named data/postgrs; did you mean data/postgres?" in r.stderr
    assert "--from nope/*: no pod in namespace nope" in r.stderr
    assert "Traceback" not in r.stderr


def test_a_matrix_refuses_an_address_no_pod_has() -> None:
    r = podfence("matrix", "-f", BAA, "--port", "80", "--from", "8.8.8.8")
    assert r.returncode == 2
    assert "--from 8.8.8.8: no pod has the address 8.8.8.8; a matrix is between pods" in r.stderr


def test_connectivity_from_one_workload_lists_only_its_connections() -> None:
    r = podfence("connectivity", "-f", BAA, "--from", "billing/billing-api")
    assert r.returncode == 0, r.stderr
    body = [line for line in r.stdout.splitlines() if " -> " in line]
    assert body and all(line.startswith("billing/billing-api ") for line in body)
    assert "billing/billing-api (Deployment) -> data/postgres (StatefulSet): TCP 5432" in body
    assert r.stdout.splitlines()[-1] == "Only from 1 chosen pod to any pod or address, of 16 pods."


def test_connectivity_json_to_an_address_range_keeps_the_ranges_that_meet_it() -> None:
    full = json.loads(podfence("connectivity", "-f", BAA, "-o", "json").stdout)["connections"]
    r = podfence("connectivity", "-f", BAA, "-o", "json", "--from", "billing/billing-api", "--to", "203.0.113.9")
    assert r.returncode == 0, r.stderr
    got = json.loads(r.stdout)["connections"]
    assert got and all(e["src"] == "billing/billing-api" and ipaddress.ip_network(e["dst"]) for e in got)
    assert all(e in full for e in got)
    assert any(e["dst"] == "203.0.113.0/24" for e in got)


def test_connectivity_to_one_pod_names_who_may_reach_it() -> None:
    r = podfence("connectivity", "-f", BAA, "-o", "csv", "--to", "gateway/edge-proxy")
    assert r.returncode == 0, r.stderr
    rows = r.stdout.splitlines()[1:]
    assert rows and all(",gateway/edge-proxy," in row for row in rows)
    assert any(row.startswith("monitoring/prometheus,") for row in rows)

