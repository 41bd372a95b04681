"""The objects of a live cluster, read through its API with the official ``kubernetes`` client.

What is read, in every namespace: Namespaces, Pods, Services, Nodes,
NetworkPolicies and the workload controllers (Deployments, ReplicaSets,
StatefulSets, DaemonSets, Jobs, CronJobs, ReplicationControllers); and, when
discovery says the API serves them, ClusterNetworkPolicies
(``policy.networking.k8s.io/v1alpha2``), AdminNetworkPolicies and
BaselineAdminNetworkPolicies (``v1alpha1``) and Calico's
StagedKubernetesNetworkPolicies (``projectcalico.org/v3``); a kind not served is
skipped with a note. Never Secrets or ConfigMaps. Lists are paged (``limit`` 500,
``continue``); a continue token the server has forgotten (410 Gone) starts that
list again, once. Each item is given the kind and apiVersion its List carries.

Problems are one :class:`~podfence.model.Diagnostic` each, never an exception:

* ``K1`` the kubeconfig cannot be used (file, line and field);
* ``K2`` no such context (the known ones are listed), or none is current;
* ``K3`` the server cannot be reached, answers too late, or its TLS fails (URL and context);
* ``K4`` the server refused the credentials (401);
* ``K5`` RBAC refused a list (403: the verb, the resource and "forbidden");
* ``K6`` any other answer of the API server (its Status message);
* ``K7`` no kubeconfig file exists (``~/.kube/config``, or none of ``$KUBECONFIG``).
"""

from __future__ import annotations

import copy
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Callable

from podfence.loader import LoadResult, load_objects
from podfence.loader.limits import Budget
from podfence.model import DEFAULT_SETTINGS, ClusterOrigin, Diagnostic, Settings, Severity
from podfence.sources.kubeconfig import Context, Kubeconfig, read_kubeconfig

UNREACHABLE = "K3"
UNAUTHORIZED = "K4"
FORBIDDEN = "K5"
API_PROBLEM = "K6"
PAGE_SIZE = 500
TIMEOUT = 30.0


@dataclass(frozen=True, slots=True)
class Listed:
    """One kind podfence lists: where it is served, and whether a cluster may lack it."""

    group: str
    version: str
    plural: str
    kind: str
    optional: bool = False

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def path(self) -> str:
        base = f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"
        return f"{base}/{self.plural}"


READ: tuple[Listed, ...] = (
    Listed("", "v1", "namespaces", "Namespace"),
    Listed("", "v1", "nodes", "Node"),
    Listed("", "v1", "pods", "Pod"),
    Listed("", "v1", "services", "Service"),
    Listed("", "v1", "replicationcontrollers", "ReplicationController"),
    Listed("apps", "v1", "deployments", "Deployment"),
    Listed("apps", "v1", "replicasets", "ReplicaSet"),
    Listed("apps", "v1", "statefulsets", "StatefulSet"),
    Listed("apps", "v1", "daemonsets", "DaemonSet"),
    Listed("batch", "v1", "jobs", "Job"),
    Listed("batch", "v1", "cronjobs", "CronJob"),
    Listed("networking.k8s.io", "v1", "networkpolicies", "NetworkPolicy"),
    Listed("policy.networking.k8s.io", "v1alpha2", "clusternetworkpolicies", "ClusterNetworkPolicy", optional=True),
    Listed("policy.networking.k8s.io", "v1alpha1", "adminnetworkpolicies", "AdminNetworkPolicy", optional=True),
    Listed("policy.networking.k8s.io", "v1alpha1", "baselineadminnetworkpolicies", "BaselineAdminNetworkPolicy",
           optional=True),
    Listed("projectcalico.org", "v3", "stagedkubernetesnetworkpolicies", "StagedKubernetesNetworkPolicy",
           optional=True),
)


@dataclass(frozen=True, slots=True)
class ClusterObjects:
    """What one context's API held: every object read (kind and apiVersion set), notes, or the problem.

    ``documents`` are in the order of :data:`READ`, each kind's objects by namespace
    and name. ``problem`` set means nothing usable was read.
    """

    context: str
    server: str = ""
    documents: tuple[dict[str, Any], ...] = ()
    notes: tuple[str, ...] = ()
    problem: Diagnostic | None = None
    cluster: str = ""
    namespace: str = ""  # the context's namespace, where kubectl puts objects that name none

    def load(self, *, settings: Settings = DEFAULT_SETTINGS, budget: Budget | None = None,
             keep_documents: bool = False) -> LoadResult:
        """The cluster podfence analyses: the documents through the loader, named after the context."""
        return load_objects(ClusterOrigin(self.context), self.documents, settings=settings, budget=budget,
                            name=self.context, keep_documents=keep_documents)


# Metadata the API server keeps for itself; a manifest written by hand has none of it.
_SERVER_METADATA = ("managedFields", "uid", "creationTimestamp", "resourceVersion", "selfLink", "generation",
                    "deletionTimestamp", "deletionGracePeriodSeconds")
_SERVER_ANNOTATIONS = ("kubectl.kubernetes.io/last-applied-configuration", "deployment.kubernetes.io/revision")


def plain_manifest(doc: Mapping[str, Any]) -> dict[str, Any]:
    """``doc`` as a manifest a person would write: the server's bookkeeping dropped, everything podfence reads kept.

    Dropped: ``metadata.managedFields``, ``uid``, ``creationTimestamp``,
    ``resourceVersion``, ``selfLink``, ``generation``, deletion marks, the
    annotations kubectl and the Deployment controller write (the last applied
    configuration repeats the object), and containers' ``env``/``envFrom`` (values
    that may hold credentials and that podfence never reads). Kept: kind,
    apiVersion, name, namespace, labels, other annotations, ownerReferences,
    the spec, and the status (a pod's phase and addresses).
    """
    out = copy.deepcopy(dict(doc))
    meta = out.get("metadata") if isinstance(out.get("metadata"), dict) else {}
    for key in _SERVER_METADATA:
        meta.pop(key, None)
    annotations = meta.get("annotations")
    if isinstance(annotations, dict):
        for key in _SERVER_ANNOTATIONS:
            annotations.pop(key, None)
        if not annotations:
            del meta["annotations"]
    for pod_spec in _pod_specs(out):
        for field in ("containers", "initContainers", "ephemeralContainers"):
            for container in pod_spec.get(field) or ():
                if isinstance(container, dict):
                    container.pop("env", None)
                    container.pop("envFrom", None)
    return out


def _pod_specs(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """The pod specs of a Pod, a workload's template, or a CronJob's job template."""
    found = []
    for path in (("spec",), ("spec", "template", "spec"), ("spec", "jobTemplate", "spec", "template", "spec")):
        node: Any = doc
        for key in path:
            node = node.get(key) if isinstance(node, dict) else None
        if isinstance(node, dict):
            found.append(node)
    return found


class _Problem(Exception):
    def __init__(self, diagnostic: Diagnostic) -> None:
        super().__init__(diagnostic.message)
        self.diagnostic = diagnostic


def read_cluster(kubeconfig: str | None = None, context: str | None = None, *,
                 environ: Mapping[str, str] | None = None, page_size: int = PAGE_SIZE,
                 timeout: float = TIMEOUT, budget: Budget | None = None,
                 starting: Callable[[Context], None] | None = None) -> ClusterObjects:
    """Every object podfence reads from ``context`` (default: the current one) of the kubeconfig.

    Args:
        kubeconfig: ``--kubeconfig``; None: ``$KUBECONFIG`` (merged), then ``~/.kube/config``.
        context: ``--context``; None: the kubeconfig's current context.
        environ: where ``KUBECONFIG`` is looked up (the process's environment by default).
        page_size: the ``limit`` of every list request.
        timeout: seconds to connect, and to wait for each answer.
        budget: the run's limits; the kubeconfig's bytes count against it.
        starting: called with the context once it is known, before the first request.
    """
    config = read_kubeconfig(kubeconfig, environ, budget)
    if isinstance(config, Diagnostic):
        return ClusterObjects(context or "", problem=config)
    chosen = config.context(context)
    if isinstance(chosen, Diagnostic):
        return ClusterObjects(context or config.current, problem=chosen)
    if starting is not None:
        starting(chosen)
    try:
        api = _client(config, chosen, timeout)
    except _Problem as p:
        return ClusterObjects(chosen.name, chosen.server, problem=p.diagnostic)
    try:
        return _read_all(_Reader(api, chosen, page_size, timeout), chosen)
    except _Problem as p:
        return ClusterObjects(chosen.name, chosen.server, problem=p.diagnostic)
    finally:
        api.close()


def _read_all(reader: _Reader, chosen: Context) -> ClusterObjects:
    """Every kind of :data:`READ` the server serves, through ``reader`` (which keeps each list's version)."""
    served = reader.served_optional()
    documents: list[dict[str, Any]] = []
    missing = [f"{listed.kind} ({listed.api_version})" for listed in READ if listed.optional
               and listed not in served]
    notes = [f"{chosen.name}: not served by the cluster, so not read: {', '.join(missing)}"] if missing else []
    for listed in READ:
        if not listed.optional or listed in served:
            documents.extend(reader.list(listed))
    notes.extend(reader.notes)
    return ClusterObjects(chosen.name, chosen.server, tuple(documents), tuple(notes),
                          cluster=chosen.cluster, namespace=chosen.namespace)


def _client(config: Kubeconfig, context: Context, timeout: float, connections: int | None = None) -> Any:
    """An ``ApiClient`` for ``context``; no retries (a dead server is said at once, not after three tries).

    ``connections``: how many requests may be open at once (a watch holds one per kind).
    """
    from kubernetes.client import ApiClient, Configuration
    from kubernetes.config import ConfigException, load_kube_config

    from podfence.sources.kubeconfig import KUBECONFIG_PROBLEM

    configuration = Configuration()
    try:
        load_kube_config(config_file=os.pathsep.join(config.files) if len(config.files) > 1 else config.files[0],
                         context=context.name, client_configuration=configuration, persist_config=False)
    except (ConfigException, OSError, ValueError, TypeError, KeyError) as e:
        raise _Problem(Diagnostic(KUBECONFIG_PROBLEM, Severity.ERROR,
                                  f"context {context.name!r}: the kubeconfig cannot be used: {_first_line(e)}",
                                  file=config.files[0])) from None
    configuration.retries = 0
    if connections is not None:
        configuration.connection_pool_maxsize = connections
    return ApiClient(configuration)


class _Reader:
    """GET requests to one API server through the client, answers kept as raw JSON.

    No model classes: a big cluster's lists are read as fast as JSON parses, and
    every kind, built in or not, is read the same way.
    """

    def __init__(self, api: Any, context: Context, page_size: int, timeout: float) -> None:
        self.api, self.context, self.page_size, self.timeout = api, context, page_size, timeout
        self.notes: list[str] = []
        self.versions: dict[Listed, str] = {}  # the resourceVersion of each kind's last list

    def served_optional(self) -> set[Listed]:
        """The optional kinds discovery finds: their group and version listed, and the resource in it."""
        groups = self._get("/apis", {}, "discover", "API groups")
        versions = {v.get("groupVersion") for g in groups.get("groups") or () for v in g.get("versions") or ()}
        found: set[Listed] = set()
        for group_version in sorted({listed.api_version for listed in READ if listed.optional} & versions):
            resources = self._get(f"/apis/{group_version}", {}, "discover", f"resources of {group_version}")
            plurals = {r.get("name") for r in resources.get("resources") or ()}
            found.update(listed for listed in READ
                         if listed.optional and listed.api_version == group_version and listed.plural in plurals)
        return found

    def list(self, listed: Listed) -> list[dict[str, Any]]:
        """Every object of ``listed``, page by page; an expired continue token starts the list again once."""
        for attempt in (1, 2):
            items: list[dict[str, Any]] = []
            token = ""
            try:
                while True:
                    query = {"limit": str(self.page_size), **({"continue": token} if token else {})}
                    page = self._get(listed.path, query, "list", listed.plural, expiring=bool(token))
                    kind = page.get("kind", "")
                    kind = kind[: -len("List")] if isinstance(kind, str) and kind.endswith("List") else listed.kind
                    api_version = page.get("apiVersion") or listed.api_version
                    for item in page.get("items") or ():
                        items.append({"apiVersion": api_version, "kind": kind, **item})
                    meta = page.get("metadata") or {}
                    if not token and isinstance(meta.get("resourceVersion"), str):
                        self.versions[listed] = meta["resourceVersion"]
                    token = meta.get("continue") or ""
                    if not token:
                        return items
            except _Expired:
                if attempt == 2:
                    raise _Problem(self._error(API_PROBLEM, f"the list of {listed.plural} expired twice while it "
                                                           "was read (410 Gone); try again")) from None
                self.notes.append(f"{self.context.name}: the list of {listed.plural} expired while it was read "
                                  "(410 Gone); read it again from the start")
        raise AssertionError("unreachable")

    def _request(self, path: str, query: dict[str, str], read_timeout: float) -> Any:
        """The client's response to one GET, its body not read yet; transport failures are ``K3``."""
        from urllib3.exceptions import HTTPError

        try:
            request = self.api.param_serialize(method="GET", resource_path=path, query_params=list(query.items()),
                                               header_params={"Accept": "application/json"},
                                               auth_settings=["BearerToken"])
            return self.api.call_api(*request, _request_timeout=(self.timeout, read_timeout))
        except HTTPError as e:
            raise _Problem(self._unreachable(e)) from None
        except Exception as e:  # the client wraps transport errors in its own ApiException
            cause = e.__cause__ or e.__context__
            if isinstance(cause, HTTPError):
                raise _Problem(self._unreachable(cause)) from None
            raise

    def stream(self, listed: Listed, query: dict[str, str], read_timeout: float) -> Any:
        """The open answer to a watch of ``listed`` (a urllib3 response, read line by line).

        A refusal is raised as for a list (``cannot watch pods ...``); 410 Gone as :class:`_Expired`.
        """
        from urllib3.exceptions import HTTPError

        response = self._request(listed.path, query, read_timeout)
        if not 200 <= response.status <= 299:
            try:
                body = response.read()
            except HTTPError as e:
                raise _Problem(self._unreachable(e)) from None
            raise self._refused(response.status, response.reason, body, "watch", listed.plural, True)
        return response.response

    def _get(self, path: str, query: dict[str, str], verb: str, what: str, expiring: bool = False) -> dict[str, Any]:
        from urllib3.exceptions import HTTPError

        response = self._request(path, query, self.timeout)
        try:
            body = response.read()
        except HTTPError as e:
            raise _Problem(self._unreachable(e)) from None
        if not 200 <= response.status <= 299:
            raise self._refused(response.status, response.reason, body, verb, what, expiring)
        try:
            data = json.loads(body)
        except ValueError as e:
            raise _Problem(self._error(API_PROBLEM, f"the answer to {verb} {what} is not JSON ({e})")) from None
        if not isinstance(data, dict):
            raise _Problem(self._error(API_PROBLEM, f"the answer to {verb} {what} is not a JSON object"))
        return data

    def _refused(self, code: int, reason: str | None, body: bytes, verb: str, what: str,
                 expiring: bool) -> Exception:
        status = _status_of(body)
        message = status.get("message") if isinstance(status.get("message"), str) else (reason or "")
        if code == 410 and expiring:
            return _Expired()
        if code == 401:
            return _Problem(self._error(UNAUTHORIZED, "the server refused the credentials (401 Unauthorized): "
                                                      "check the user's token or certificate in the kubeconfig"))
        if code == 403:
            return _Problem(self._error(FORBIDDEN, f"cannot {verb} {what} at the cluster scope: forbidden by RBAC "
                                                   f"({message}); see docs/clusterrole.yaml for the access podfence "
                                                   "needs"))
        return _Problem(self._error(API_PROBLEM, f"{verb} {what}: the API server answered {code}"
                                                 f"{' ' + reason if reason else ''}: {message}"))

    def _unreachable(self, e: Exception) -> Diagnostic:
        reason = getattr(e, "reason", None) or e
        text = str(reason)
        if "timed out" in text.lower() or "timeout" in type(reason).__name__.lower():
            why = f"no answer within {self.timeout:g} s"
        elif "certificate" in text.lower() or "ssl" in type(reason).__name__.lower():
            text = re.sub(r"\s*\(_ssl\.c:\d+\)?", "", text)
            found = re.search(r"certificate verify failed[^'\")]*", text)
            why = f"TLS failed: {found.group(0).strip() if found else _after_colon(text)}"
        elif "refused" in text.lower():
            why = "connection refused"
        else:
            why = _after_colon(text)
        return self._error(UNREACHABLE, f"cannot reach the API server: {why}")

    def _error(self, code: str, message: str) -> Diagnostic:
        return Diagnostic(code, Severity.ERROR, f"context {self.context.name!r} ({self.context.server}): {message}")


class _Expired(Exception):
    """A continue token the server no longer knows (410 Gone)."""


def _status_of(raw: bytes) -> dict[str, Any]:
    try:
        body = json.loads(raw) if raw else {}
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _first_line(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return text[0] if text else type(e).__name__


def _after_colon(text: str) -> str:
    """The last clause of a urllib3 message (``...: [Errno 111] Connection refused`` -> the error)."""
    return text.rsplit(": ", 1)[-1].strip(" ')\"") or text
