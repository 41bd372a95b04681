"""Several test clusters at once, behind one generated CA, and the kubeconfig that reaches them.

>>> fleet = Fleet()                                              # doctest: +SKIP
>>> prod = fleet.cluster("prod", users={"t0k3n": User("admin")})  # doctest: +SKIP
>>> fleet.context("prod", "prod", "t0k3n")                       # doctest: +SKIP
>>> fleet.write_kubeconfig(path, current="prod")                 # doctest: +SKIP
"""

from __future__ import annotations

import base64
import ssl
from pathlib import Path
from typing import Any, Iterable

import trustme
import yaml

from kubeapi.resources import CORE, Resource
from kubeapi.server import ApiServer, User
from kubeapi.store import Store


class Fleet:
    """Test API servers (one per cluster, each over TLS with a certificate of the fleet's CA) and contexts."""

    def __init__(self) -> None:
        self.ca = trustme.CA()
        self._server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.ca.issue_cert("127.0.0.1").configure_cert(self._server_context)
        self.servers: dict[str, ApiServer] = {}
        self.contexts: dict[str, tuple[str, str, str | None]] = {}

    def cluster(self, name: str, users: dict[str, User], resources: Iterable[Resource] = CORE,
                bookmark_interval: float = 1.0) -> ApiServer:
        """Start the API server of cluster ``name``."""
        server = ApiServer(Store(), users, self._server_context, resources, bookmark_interval).start()
        self.servers[name] = server
        return server

    def context(self, name: str, cluster: str, token: str, namespace: str | None = None) -> None:
        """A kubeconfig context: ``cluster`` reached with bearer ``token``."""
        self.contexts[name] = (cluster, token, namespace)

    def kubeconfig(self, current: str | None = None, contexts: Iterable[str] | None = None) -> dict[str, Any]:
        """The kubeconfig (as a mapping) holding ``contexts`` (all by default) and their clusters."""
        names = list(self.contexts if contexts is None else contexts)
        ca = base64.b64encode(self.ca.cert_pem.bytes()).decode()
        clusters = sorted({self.contexts[n][0] for n in names})
        return {
            "apiVersion": "v1", "kind": "Config", "preferences": {},
            "current-context": current if current is not None else (names[0] if names else ""),
            "clusters": [{"name": c, "cluster": {"server": self.servers[c].url, "certificate-authority-data": ca}}
                         for c in clusters],
            "users": [{"name": f"{n}-user", "user": {"token": self.contexts[n][1]}} for n in names],
            "contexts": [{"name": n, "context": {"cluster": self.contexts[n][0], "user": f"{n}-user",
                                                 **({"namespace": self.contexts[n][2]} if self.contexts[n][2] else {})}}
                         for n in names],
        }

    def write_kubeconfig(self, path: Path, current: str | None = None, contexts: Iterable[str] | None = None) -> Path:
        path.write_text(yaml.safe_dump(self.kubeconfig(current, contexts), sort_keys=False))
        return path

    def stop(self) -> None:
        for server in self.servers.values():
            server.stop()
