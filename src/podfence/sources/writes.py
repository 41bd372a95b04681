"""Writes to a live cluster (``rollout apply``, the web UI's Apply): server-side apply and delete, each after a
server-side dry run.

Every write is sent twice: first with ``dryRun=All`` (the API server validates
and admits it, and stores nothing), then for real. A refusal of either is one
:class:`WriteRefused` naming the object and the server's message; a delete of
an object that is already gone is not a refusal.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from podfence.model import Diagnostic
from podfence.sources.cluster import TIMEOUT, _client, _first_line, _Problem, _status_of
from podfence.sources.kubeconfig import Context, read_kubeconfig

FIELD_MANAGER = "podfence"
_PLURALS = {
    "NetworkPolicy": ("networking.k8s.io", "v1", "networkpolicies"),
    "StagedKubernetesNetworkPolicy": ("projectcalico.org", "v3", "stagedkubernetesnetworkpolicies"),
}


class WriteRefused(Exception):
    """The API server refused a write, or could not be reached; the message is one line."""


def _path(kind: str, namespace: str, name: str) -> str:
    group, version, plural = _PLURALS[kind]
    return f"/apis/{group}/{version}/namespaces/{namespace}/{plural}/{name}"


class ClusterWriter:
    """Server-side apply and delete of NetworkPolicies and staged policies in one context."""

    def __init__(self, kubeconfig: str | None, context: str | None, timeout: float = TIMEOUT,
                 environ: Mapping[str, str] | None = None) -> None:
        config = read_kubeconfig(kubeconfig, environ)
        if isinstance(config, Diagnostic):
            raise WriteRefused(config.one_line())
        chosen = config.context(context)
        if isinstance(chosen, Diagnostic):
            raise WriteRefused(chosen.one_line())
        self.context: Context = chosen
        try:
            self.api = _client(config, chosen, timeout)
        except _Problem as p:
            raise WriteRefused(p.diagnostic.one_line()) from None
        self.timeout = timeout

    def close(self) -> None:
        self.api.close()

    def apply(self, manifest: Mapping[str, Any]) -> None:
        """Server-side apply (field manager ``podfence``, forcing conflicts): dry run, then for real."""
        self.dry_run_apply(manifest)
        self.apply_checked(manifest)

    def dry_run_apply(self, manifest: Mapping[str, Any]) -> None:
        """Only the server-side dry run of :meth:`apply`: the server validates and admits it, stores nothing.

        To write several objects all or none as far as admission goes, dry-run each first, then
        :meth:`apply_checked` each.
        """
        self._apply(manifest, dry=True)

    def apply_checked(self, manifest: Mapping[str, Any]) -> bool:
        """The real write of :meth:`apply`, for a manifest whose dry run passed; True when it created the object."""
        return self._apply(manifest, dry=False) == 201

    def _apply(self, manifest: Mapping[str, Any], dry: bool) -> int:
        meta = manifest["metadata"]
        path = _path(manifest["kind"], meta["namespace"], meta["name"])
        query = {"fieldManager": FIELD_MANAGER, "force": "true", **({"dryRun": "All"} if dry else {})}
        return self._call("PATCH", path, query, json.dumps(manifest), "application/apply-patch+yaml",
                          f"apply {manifest['kind']} {meta['namespace']}/{meta['name']}", dry)

    def delete(self, kind: str, namespace: str, name: str) -> None:
        """Delete (dry run, then for real); an object already gone is fine."""
        path = _path(kind, namespace, name)
        for dry in (True, False):
            if self._call("DELETE", path, {"dryRun": "All"} if dry else {}, None, "application/json",
                          f"delete {kind} {namespace}/{name}", dry) == 404:
                return

    def _call(self, method: str, path: str, query: dict[str, str], body: str | None, content_type: str,
              what: str, dry: bool) -> int:
        from urllib3.exceptions import HTTPError

        try:
            request = self.api.param_serialize(method=method, resource_path=path, query_params=list(query.items()),
                                               header_params={"Accept": "application/json",
                                                              "Content-Type": content_type},
                                               body=body, auth_settings=["BearerToken"])
            response = self.api.call_api(*request, _request_timeout=(self.timeout, self.timeout))
            raw = response.read()
        except HTTPError as e:
            raise WriteRefused(f"context {self.context.name!r}: {what}: cannot reach the API server: "
                               f"{_first_line(e)}") from None
        except Exception as e:  # the client wraps transport errors in its own ApiException
            if isinstance(e.__cause__ or e.__context__, HTTPError):
                raise WriteRefused(f"context {self.context.name!r}: {what}: cannot reach the API server: "
                                   f"{_first_line(e)}") from None
            raise
        if method == "DELETE" and response.status == 404:
            return 404
        if not 200 <= response.status <= 299:
            message = _status_of(raw).get("message") or response.reason or ""
            stage = "the server-side dry run of " if dry else ""
            raise WriteRefused(f"context {self.context.name!r}: {stage}{what}: the API server answered "
                               f"{response.status}: {message}")
        return response.status
