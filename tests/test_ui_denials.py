"""podfence ui --lab: GET /api/denials streams the lab's denial records as server-sent events.

These tests feed records through the server without a lab, at the one seam the
server has: the record source a DenialFeed reads (on a lab, podfence.app.lab's
denials). The real lab's stream through podfence ui is in test_ui_denials_lab.py.
"""

from __future__ import annotations

import json
import threading
from typing import Any, Iterator

import pytest
from fastapi.testclient import TestClient

from podfence.app import Stop
from podfence.app.browse import load_clusters
from podfence.app.options import Options
from podfence.render.json_text import json_line
from podfence.ui.api import Source, Workspace
from podfence.ui.denials import DenialFeed
from podfence.ui.server import Guard, create_app

EXAMPLE = "examples/baa"


def flow(src: str, dst: str, port: int, verdict: str = "DROPPED", direction: str = "INGRESS") -> dict[str, Any]:
    """A record shaped as podfence lab denials prints one."""
    (sns, spod), (dns, dpod) = src.split("/"), dst.split("/")
    body = {
        "time": "2026-01-02T03:04:05.123456789Z", "verdict": verdict, "drop_reason": 133,
        "IP": {"source": "10.0.0.1", "destination": "10.0.0.2", "ipVersion": "IPv4"},
        "l4": {"TCP": {"source_port": 40000, "destination_port": port, "flags": {"SYN": True}}},
        "source": {"ID": 0, "namespace": sns, "pod_name": spod, "labels": [f"k8s:app={spod}"]},
        "destination": {"ID": 1, "namespace": dns, "pod_name": dpod, "labels": [f"k8s:app={dpod}"]},
        "Type": "L3_L4", "node_name": "pfnode", "traffic_direction": direction, "drop_reason_desc": "POLICY_DENIED",
        "is_reply": False, "Summary": "TCP Flags: SYN",
        f"{direction.lower()}_denied_by": [{"name": "deny-all", "namespace": dns, "kind": "NetworkPolicy"}],
    }
    return {"flow": body, "node_name": "pfnode", "time": body["time"]}


RECORDS = [flow("gateway/edge-proxy", "data/postgres", 5432),
           flow("api/api-server", "gateway/edge-proxy", 80, verdict="AUDIT", direction="EGRESS"),
           flow("data/postgres", "api/api-server", 8080)]


@pytest.fixture(scope="module")
def workspaces() -> dict[str, Workspace]:
    given = Options(files=(EXAMPLE,))
    (b,) = load_clusters(given)
    return {b.result.cluster.name: Workspace(b.result, b.run.config, b.run.settings, Source(b.label), given)}


def client(workspaces: dict[str, Workspace], feed: DenialFeed | None, host: str = "127.0.0.1") -> TestClient:
    guard = Guard.for_host(host, 8765)
    return TestClient(create_app(workspaces, guard, feed), base_url=f"http://{guard.netloc}")


def events(lines: Iterator[str]) -> Iterator[tuple[str, list[str]]]:
    """(event name, its data lines) per event, and ("comment", [text]) per comment."""
    name, data = "message", []
    for line in lines:
        if line.startswith(":"):
            yield "comment", [line[1:].strip()]
        elif line.startswith("event: "):
            name = line[len("event: "):]
        elif line.startswith("data: "):
            data.append(line[len("data: "):])
        elif line == "" and data:
            yield name, data
            name, data = "message", []


def test_the_events_are_the_records_podfence_lab_denials_prints(workspaces: dict[str, Workspace]) -> None:
    feed = DenialFeed(lambda: iter(RECORDS))
    with client(workspaces, feed).stream("GET", "/api/denials") as got:
        assert got.status_code == 200
        assert got.headers["content-type"].startswith("text/event-stream")
        text = got.read().decode()
    seen = list(events(iter(text.split("\n"))))
    assert seen[0][0] == "comment"  # the stream opens at once, before any denial
    messages = [data for name, data in seen if name == "message"]
    assert [json.loads(d[0]) for d in messages] == RECORDS
    assert [d[0] + "\n" for d in messages] == [json_line(r) for r in RECORDS]  # byte for byte
    assert seen[-1] == ("end", [json.dumps({"error": "the lab's denial stream ended (is the lab down?)"})])


def test_a_lab_that_cannot_be_read_ends_the_stream_with_its_reason(workspaces: dict[str, Workspace]) -> None:
    def source() -> Iterator[dict[str, Any]]:
        yield RECORDS[0]
        raise Stop("lab 'x' is not up")

    with client(workspaces, DenialFeed(source)).stream("GET", "/api/denials") as got:
        text = got.read().decode()
    seen = [e for e in events(iter(text.split("\n"))) if e[0] != "comment"]
    assert seen == [("message", [json_line(RECORDS[0]).rstrip("\n")]), ("end", ['{"error": "lab \'x\' is not up"}'])]


def test_two_pages_watch_one_subscription(workspaces: dict[str, Workspace]) -> None:
    subscriptions = []
    both = threading.Event()
    done = threading.Event()

    def source() -> Iterator[dict[str, Any]]:
        subscriptions.append(1)
        both.wait(30)  # the second page subscribed
        yield from RECORDS
        done.wait(30)

    feed = DenialFeed(source)
    first = feed.subscribe()
    second = feed.subscribe()
    both.set()
    try:
        got = [[first.get(timeout=30)[1] for _ in RECORDS], [second.get(timeout=30)[1] for _ in RECORDS]]
        feed.unsubscribe(first)
    finally:
        done.set()
    assert subscriptions == [1]  # the lab's drop log takes one subscriber
    assert got == [RECORDS, RECORDS]
    assert second.get(timeout=30)[0] == "end" and first.empty()  # a page gone hears nothing more


def test_without_a_lab_the_stream_is_404_with_how_to_start_it(workspaces: dict[str, Workspace]) -> None:
    app = client(workspaces, None)
    got = app.get("/api/denials")
    assert got.status_code == 404
    error = got.json()["error"]
    assert "--lab NAME" in error and "\n" not in error
    assert app.get("/api/contexts").json()["denials"] is False
    assert client(workspaces, DenialFeed(lambda: iter(()))).get("/api/contexts").json()["denials"] is True


def test_the_stream_is_guarded_like_every_read(workspaces: dict[str, Workspace]) -> None:
    feed = DenialFeed(lambda: iter(RECORDS))
    off_loopback = client(workspaces, feed, host="10.1.2.3")
    assert off_loopback.get("/api/denials").status_code == 403  # no token
    assert client(workspaces, feed).get("/api/denials", headers={"Host": "evil.example:8765"}).status_code == 403


def test_a_page_that_goes_away_stops_watching(workspaces: dict[str, Workspace]) -> None:
    import socket

    import httpx
    import uvicorn

    quiet = threading.Event()

    def source() -> Iterator[dict[str, Any]]:
        yield RECORDS[0]
        quiet.wait(60)  # a lab with nothing to report

    feed = DenialFeed(source)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    guard = Guard.for_host("127.0.0.1", sock.getsockname()[1])
    server = uvicorn.Server(uvicorn.Config(create_app(workspaces, guard, feed), log_level="warning"))
    serving = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    serving.start()
    try:
        while not server.started:
            serving.join(0.05)
        with httpx.stream("GET", guard.url + "api/denials", timeout=30) as got:
            lines = got.iter_lines()
            assert next(lines).startswith(":")
            assert next(l for l in lines if l.startswith("data: ")) == "data: " + json_line(RECORDS[0]).rstrip("\n")
            assert feed.watching == 1
        for _ in range(600):  # the server notices the closed connection and drops the page
            if feed.watching == 0:
                break
            serving.join(0.05)
        assert feed.watching == 0
    finally:
        quiet.set()
        server.should_exit = True
        serving.join(30)
        sock.close()
