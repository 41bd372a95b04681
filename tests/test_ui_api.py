"""podfence ui's JSON API: its answers are the commands' JSON, byte for byte, and its guards hold."""

from __future__ import annotations

import httpx
import pytest

from cli_support import podfence
from ui_support import namespaces_cluster, ui_server

EXAMPLE = "examples/baa"


@pytest.fixture(scope="module")
def url() -> str:
    with ui_server("-f", EXAMPLE) as url:
        yield url


def cli_json(*args: str, stdin: str | None = None) -> str:
    done = podfence(*args, "-f", "-" if stdin is not None else EXAMPLE, "-o", "json", stdin=stdin)
    assert done.stdout, done.stderr
    return done.stdout


@pytest.mark.parametrize("path, params, command", [
    ("matrix", {"port": "8080"}, ["matrix", "--port", "8080"]),
    ("matrix", {"port": "53", "protocol": "UDP"}, ["matrix", "--port", "53", "--protocol", "UDP"]),
    ("matrix", {"port": "53/UDP"}, ["matrix", "--port", "53/UDP"]),
    ("matrix", {"port": "redis"}, ["matrix", "--port", "redis"]),
    ("explain", {"from": "gateway/edge-proxy", "to": "svc/api/api-server", "port": "http"},
     ["explain", "--from", "gateway/edge-proxy", "--to", "svc/api/api-server", "--port", "http"]),
    ("connectivity", {}, ["connectivity"]),
    ("explain", {"from": "gateway/edge-proxy", "to": "api/api-server", "port": "8080"},
     ["explain", "--from", "gateway/edge-proxy", "--to", "api/api-server", "--port", "8080"]),
    ("explain", {"from": "api/api-server", "to": "data/postgres", "port": "5432", "protocol": "TCP"},
     ["explain", "--from", "api/api-server", "--to", "data/postgres", "--port", "5432", "--protocol", "TCP"]),
    ("lint", {}, ["lint"]),
    ("audit", {}, ["audit"]),
])
def test_answers_are_the_commands_json(url: str, path: str, params: dict[str, str], command: list[str]) -> None:
    got = httpx.get(f"{url}api/{path}", params=params)
    assert got.status_code == 200, got.text
    assert got.headers["content-type"] == "application/json"
    assert got.content == cli_json(*command).encode("utf-8")


BAD_POLICY = """apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web}
spec:
  podSelector: {}
  ingress:
  - ports: [{port: 99999}]
"""
GOOD_POD = "apiVersion: v1\nkind: Pod\nmetadata: {name: web, labels: {app: web}}\n"


def same_origin_post(url: str, body: str, **headers: str) -> httpx.Response:
    page = httpx.get(url)
    csrf = page.text.split('name="podfence-csrf" content="', 1)[1].split('"', 1)[0]
    base = {"Origin": url.rstrip("/"), "X-Podfence-CSRF": csrf, "Content-Type": "application/yaml"}
    return httpx.post(f"{url}api/validate", content=body.encode(), headers={**base, **headers})


@pytest.mark.parametrize("body", [BAD_POLICY, GOOD_POD, "a: [unclosed\n"])
def test_validate_answers_like_check(url: str, body: str) -> None:
    got = same_origin_post(url, body)
    assert got.status_code == 200
    assert got.text == cli_json("check", stdin=body)
    if body is BAD_POLICY:
        assert got.json()["errors"][0]["field"] == "spec.ingress[0].ports[0].port"


def test_a_refused_question_is_400_with_the_reason(url: str) -> None:
    got = httpx.get(f"{url}api/explain", params={"from": "gateway/nope", "to": "api/api-server", "port": "80"})
    assert got.status_code == 400
    assert "gateway/nope" in got.json()["error"]
    got = httpx.get(f"{url}api/matrix", params={"port": "99999"})
    assert got.status_code == 400 and "port" in got.json()["error"]


@pytest.mark.parametrize("path, params, command", [
    ("explain", {"from": "gateway/nope", "to": "api/api-servr", "port": "80"},
     ["explain", "--from", "gateway/nope", "--to", "api/api-servr", "--port", "80"]),
    ("matrix", {"port": "http"}, ["matrix", "--port", "http"]),
    ("matrix", {"port": "80-90"}, ["matrix", "--port", "80-90"]),
    ("explain", {"from": "gateway/edge-proxy", "to": "svc/api/api-server", "port": "81"},
     ["explain", "--from", "gateway/edge-proxy", "--to", "svc/api/api-server", "--port", "81"]),
])
def test_a_refusal_says_what_the_command_says(url: str, path: str, params: dict[str, str], command: list[str]) -> None:
    """The same use case refuses both: the page's reason is the command's, its fields named without dashes."""
    got = httpx.get(f"{url}api/{path}", params=params)
    said = podfence(*command, "-f", EXAMPLE).stderr.strip()
    assert got.status_code == 400 and said.startswith(f"podfence {path}: error: --"), said
    assert got.json()["error"] == said.removeprefix(f"podfence {path}: error: ").replace("--", ""), said


def test_writes_need_same_origin_and_the_csrf_token(url: str) -> None:
    assert same_origin_post(url, GOOD_POD, Origin="http://evil.example").status_code == 403
    assert same_origin_post(url, GOOD_POD, **{"X-Podfence-CSRF": "guess"}).status_code == 403
    no_origin = httpx.post(f"{url}api/validate", content=GOOD_POD.encode())
    assert no_origin.status_code == 403
    assert same_origin_post(url, GOOD_POD).status_code == 200


def test_every_answer_carries_a_policy_without_inline_code(url: str) -> None:
    for path in ("", "api/view", "static/js/main.js", "api/lint"):
        csp = httpx.get(url + path).headers["content-security-policy"]
        assert "script-src 'self'" in csp and "style-src 'self'" in csp
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp


def test_only_its_own_host_name_is_answered(url: str) -> None:
    """A DNS name pointed at the port (rebinding) reads nothing."""
    assert httpx.get(url + "api/lint", headers={"Host": "attacker.example"}).status_code == 403


@pytest.mark.parametrize("path", ["static/../server.py", "static/%2e%2e/server.py", "static/..%2fserver.py",
                                  "static/%2e%2e/%2e%2e/cli/ui.py", "static//etc/passwd"])
def test_no_file_outside_the_static_folder(url: str, path: str) -> None:
    got = httpx.get(url + path)
    assert got.status_code in (403, 404)
    assert "import" not in got.text and "root:" not in got.text


def test_read_only_refuses_every_write() -> None:
    with ui_server("-f", EXAMPLE, "--read-only") as url:
        got = same_origin_post(url, GOOD_POD)
        assert got.status_code == 403 and "read-only" in got.text
        assert httpx.get(f"{url}api/contexts").json()["read_only"] is True


def test_another_host_needs_the_token_of_the_printed_url() -> None:
    with ui_server("-f", EXAMPLE, "--host", "0.0.0.0") as url:
        base, _, query = url.partition("?")
        assert query.startswith("token=") and len(query) > 30
        port = base.rsplit(":", 1)[1].rstrip("/")
        local = f"http://127.0.0.1:{port}/"
        host = {"Host": f"0.0.0.0:{port}"}
        assert httpx.get(local + "api/lint", headers=host).status_code == 403
        assert httpx.get(local + "api/lint?token=wrong", headers=host).status_code == 403
        first = httpx.get(local + "?" + query, headers=host)
        assert first.status_code == 200
        cookie = first.cookies.get("podfence_token")
        assert cookie and httpx.get(local + "api/lint", headers=host,
                                    cookies={"podfence_token": cookie}).status_code == 200


def test_bad_flags_are_one_line_and_exit_2() -> None:
    done = podfence("ui", "-f", "no/such/dir", "--no-browser")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_the_namespace_map_folds_the_connectivity(url: str) -> None:
    """Pod pairs of ``podfence connectivity`` and pod/address edges of the workload map, counted per namespace."""
    import json

    folded = httpx.get(f"{url}api/namespace-map").json()
    view = httpx.get(f"{url}api/view").json()
    pods = {p["key"] for p in view["pods"]}

    def end(name: str) -> str:
        return "ns:" + name.split("/")[0] if name in pods else name

    want: dict[tuple[str, str], int] = {}
    for c in json.loads(podfence("connectivity", "-f", EXAMPLE, "-o", "json").stdout)["connections"]:
        if c["src"] != c["dst"] and c["src"] in pods and c["dst"] in pods:
            want[(end(c["src"]), end(c["dst"]))] = want.get((end(c["src"]), end(c["dst"])), 0) + 1
    for e in view["edges"]:
        if e["src"].startswith("out:") or e["dst"].startswith("out:"):
            want[(end(e["src"]), end(e["dst"]))] = want.get((end(e["src"]), end(e["dst"])), 0) + 1
    assert {(e["src"], e["dst"]): e["count"] for e in folded["edges"]} == want
    assert any(e["src"].startswith("out:") or e["dst"].startswith("out:") for e in folded["edges"])
    assert folded["workloads"] == len(pods)
    assert folded["namespaces"] == view["namespaces"] and folded["outside"] == view["outside"]


# --- a cluster large enough for the namespace level, whose namespace pairs are known (ui_support) ------------

NAMESPACES = {"web", "db", "open", "quiet", "batch"}


@pytest.fixture(scope="module")
def large(tmp_path_factory: pytest.TempPathFactory) -> str:
    return str(namespaces_cluster(tmp_path_factory.mktemp("namespaces")))


@pytest.fixture(scope="module")
def large_url(large: str) -> str:
    with ui_server("-f", large) as url:
        yield url


def engine_pod_pairs(path: str) -> list[tuple[str, str]]:
    """The pod pairs (a pod to itself aside) that ``podfence connectivity -o json`` says allow something."""
    import json

    done = podfence("connectivity", "-f", path, "-o", "json")
    connections = json.loads(done.stdout)["connections"]
    is_pod = lambda end: end.split("/")[0] in NAMESPACES  # noqa: E731 - the other ends are address ranges
    return [(c["src"], c["dst"]) for c in connections if c["src"] != c["dst"] and is_pod(c["src"]) and is_pod(c["dst"])]


def ns_of(key: str) -> str:
    return key.split("/")[0]


def test_the_namespace_map_agrees_with_the_connectivity_folded_by_namespace(large_url: str, large: str) -> None:
    folded = httpx.get(f"{large_url}api/namespace-map").json()
    want: dict[tuple[str, str], int] = {}
    for src, dst in engine_pod_pairs(large):
        key = ("ns:" + ns_of(src), "ns:" + ns_of(dst))
        want[key] = want.get(key, 0) + 1
    got = {(e["src"], e["dst"]): e["count"] for e in folded["edges"]
           if e["src"].startswith("ns:") and e["dst"].startswith("ns:")}
    assert got == want
    assert got[("ns:web", "ns:db")] == 2 * 3 and ("ns:batch", "ns:db") not in got  # the known pairs
    assert folded["workloads"] == 600
    reached_by_all = sorted(b for b in NAMESPACES if all(("ns:" + a, "ns:" + b) in want for a in NAMESPACES - {b}))
    assert folded["reached_by_all"] == reached_by_all == ["open", "web"]
    assert folded["reaching_all"] == []  # web, the widest, does not reach quiet or batch


def test_one_namespace_is_its_workloads_and_their_edges_folded_per_namespace(large_url: str, large: str) -> None:
    opened = httpx.get(f"{large_url}api/namespace-view", params={"namespace": "db"})
    assert opened.status_code == 200, opened.text
    one = opened.json()
    whole = httpx.get(f"{large_url}api/view").json()  # small enough here to hold the whole workload view
    mine = [p for p in whole["pods"] if p["namespace"] == "db"]
    assert one["pods"] == [{k: v for k, v in p.items() if k != "findings"} for p in mine]
    assert [p["key"] for p in one["pods"]] == ["db/db-0", "db/db-1", "db/db-2"]
    want: dict[tuple[str, str], int] = {}
    for src, dst in engine_pod_pairs(large):
        if ns_of(src) == "db" and ns_of(dst) == "db":
            key = (src, dst)
        elif ns_of(src) == "db":
            key = (src, "ns:" + ns_of(dst))
        elif ns_of(dst) == "db":
            key = ("ns:" + ns_of(src), dst)
        else:
            continue
        want[key] = want.get(key, 0) + 1
    got = {(e["src"], e["dst"]): e.get("count", 1) for e in one["edges"]
           if not e["src"].startswith("out:") and not e["dst"].startswith("out:")}
    assert got == want
    assert got[("ns:web", "db/db-0")] == 2 and ("ns:batch", "db/db-0") not in got and ("db/db-0", "db/db-1") not in got
    assert {p["id"] for p in one["peers"]} == {a for a, _ in got if a.startswith("ns:")} | {
        b for _, b in got if b.startswith("ns:")}
    outside = [e for e in one["edges"] if e["src"].startswith("out:") or e["dst"].startswith("out:")]
    keys = {p["key"] for p in mine}
    assert sorted(outside, key=str) == sorted(
        (e for e in whole["edges"] if (e["src"] in keys or e["dst"] in keys)
         and (e["src"].startswith("out:") or e["dst"].startswith("out:"))), key=str)
    assert [p["key"] for p in one["policies"]] == ["db/from-web"]
    assert one["policies"][0]["selects"] == ["db/db-0", "db/db-1", "db/db-2"]


def test_the_catalog_is_the_view_without_its_edges(url: str, large_url: str) -> None:
    """Policies, explain, editor and changes list pods and policies: the same data as the map's view, no edges."""
    for base in (url, large_url):
        whole = httpx.get(f"{base}api/view", timeout=60).json()
        listed = httpx.get(f"{base}api/catalog", timeout=60).json()
        assert whole.pop("edges") and listed == whole
    policies = {p["key"]: p for p in listed["policies"]}
    assert policies["db/from-web"]["selects"] == ["db/db-0", "db/db-1", "db/db-2"]
    pods = {p["key"]: p for p in listed["pods"]}
    assert pods["db/db-0"]["policies"]["ingress"] == ["db/from-web"] and pods["db/db-0"]["isolated"]["ingress"]


@pytest.mark.parametrize("params, said", [({"namespace": "nope"}, "namespace 'nope': not in the loaded cluster"),
                                          ({}, "namespace: give the namespace to open")])
def test_an_unknown_namespace_is_refused_with_the_reason(large_url: str, params: dict[str, str], said: str) -> None:
    got = httpx.get(f"{large_url}api/namespace-view", params=params)
    assert got.status_code == 400 and got.json() == {"error": said}
