"""One grammar for endpoints and ports: the same words work in every command."""

from __future__ import annotations

from cli_support import podfence

from podfence.model.endpoints import AddressName, PodName, ServiceName, close_names, parse_endpoint

EXAMPLE = "examples/baa"


def test_parse_endpoint_forms() -> None:
    assert parse_endpoint("shop/web") == PodName("shop", "web")
    assert parse_endpoint("svc/shop/web") == parse_endpoint("service/shop/web") == ServiceName("shop", "web")
    assert parse_endpoint("web", "shop") == PodName("shop", "web")
    assert isinstance(parse_endpoint("web"), str)
    cidr = parse_endpoint("10.1.2.3/8")
    assert isinstance(cidr, AddressName) and cidr.text == "10.0.0.0/8" and not cidr.single
    assert isinstance(parse_endpoint("shop/Web"), str)


def test_close_names() -> None:
    keys = ["api/api-server", "api/api-worker", "data/postgres", "data/redis"]
    assert close_names("api", keys) == ["api/api-server", "api/api-worker"]
    assert close_names("data/postgress", keys) == ["data/postgres"]
    assert close_names("zzz/qqq", keys) == []


def test_explain_reports_both_unknown_ends_with_suggestions() -> None:
    r = podfence("explain", "-f", EXAMPLE, "--from", "api", "--to", "data/postgress", "--port", "5432")
    assert r.returncode == 2
    assert r.stderr.count("\n") == 1, r.stderr
    assert "--from: no pod, workload or service named default/api; did you mean api/api-server or " \
           "api/api-worker?" in r.stderr
    assert "--to: no pod, workload or service named data/postgress; did you mean data/postgres?" in r.stderr


def test_explain_and_matrix_take_the_port_grammar() -> None:
    r = podfence("explain", "-f", EXAMPLE, "--from", "api/api-server", "--to", "billing/billing-api", "--port", "http")
    assert r.returncode == 0 and r.stdout.startswith("ALLOWED: api/api-server -> billing/billing-api TCP 8080")
    r = podfence("explain", "-f", EXAMPLE, "--from", "api/api-server", "--to", "kube-system/kube-dns",
                 "--port", "53/UDP")
    assert r.returncode == 0 and "UDP 53" in r.stdout.splitlines()[0]
    r = podfence("matrix", "-f", EXAMPLE, "--port", "53/udp", "-o", "csv")
    assert r.returncode == 0 and r.stdout == podfence("matrix", "-f", EXAMPLE, "--port", "53", "--protocol", "UDP",
                                                      "-o", "csv").stdout
    r = podfence("matrix", "-f", EXAMPLE, "--port", "http")
    assert r.returncode == 2 and "--port http: the name stands for several numbers (3000 on monitoring/grafana" \
        in r.stderr


def test_a_second_protocol_is_refused_not_dropped() -> None:
    for command in (["explain", "--from", "api/api-server", "--to", "data/postgres"], ["matrix"]):
        r = podfence(*command, "-f", EXAMPLE, "--port", "80", "--protocol", "TCP", "--protocol", "UDP")
        assert r.returncode == 2 and "--protocol given as TCP, UDP" in r.stderr, r.stderr


def test_explain_says_why_a_range_is_not_one_connection() -> None:
    r = podfence("explain", "-f", EXAMPLE, "--from", "api/api-server", "--to", "10.0.0.0/8", "--port", "80")
    assert r.returncode == 2 and "10.0.0.0/8 is a range of addresses" in r.stderr and "such as 10.0.0.0" in r.stderr
