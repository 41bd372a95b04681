"""Live-cluster tests: a fleet of test API servers, the ClusterRole podfence ships, and raw HTTP to them."""

from __future__ import annotations

import json
import shutil
import ssl
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Iterator

import pytest
import yaml

from kubeapi import ApiServer, Fleet, User, rules_of

ROOT = Path(__file__).resolve().parent.parent
CLUSTER_ROLE = ROOT / "docs" / "clusterrole.yaml"
READER_RULES = rules_of(CLUSTER_ROLE.read_text())
KUBECTL = shutil.which("kubectl")
needs_kubectl = pytest.mark.skipif(KUBECTL is None, reason="kubectl is not installed (CI machines have it)")


def reader(name: str = "podfence") -> User:
    """A user bound to podfence's ClusterRole (docs/clusterrole.yaml)."""
    return User(name, READER_RULES)


@pytest.fixture
def fleet() -> Iterator[Fleet]:
    f = Fleet()
    try:
        yield f
    finally:
        f.stop()


def manifests(*paths: Path) -> list[dict[str, Any]]:
    """Every object of the YAML files (directories walked), Lists flattened."""
    out: list[dict[str, Any]] = []
    for path in paths:
        files = sorted(p for p in path.rglob("*") if p.suffix in (".yaml", ".yml")) if path.is_dir() else [path]
        for file in files:
            for doc in yaml.safe_load_all(file.read_text()):
                if isinstance(doc, dict):
                    out.extend(doc["items"] if doc.get("kind") == "List" else [doc])
    return out


def request(fleet: Fleet, server: ApiServer, path: str, token: str, method: str = "GET",
            body: Any = None, content_type: str = "application/json") -> tuple[int, Any]:
    """(status, parsed JSON body) of one request to ``server``, verifying TLS with the fleet's CA."""
    context = ssl.create_default_context(cadata=fleet.ca.cert_pem.bytes().decode())
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(server.url + path, data=data, method=method,
                                 headers={"Authorization": f"Bearer {token}", "Content-Type": content_type})
    try:
        with urllib.request.urlopen(req, context=context, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def watch_lines(fleet: Fleet, server: ApiServer, path: str, token: str, count: int) -> list[dict[str, Any]]:
    """The first ``count`` events of a watch (the stream is closed after them)."""
    context = ssl.create_default_context(cadata=fleet.ca.cert_pem.bytes().decode())
    req = urllib.request.Request(server.url + path, headers={"Authorization": f"Bearer {token}"})
    events = []
    with urllib.request.urlopen(req, context=context, timeout=30) as response:
        while len(events) < count:
            line = response.readline()
            if not line:
                break
            events.append(json.loads(line))
    return events
