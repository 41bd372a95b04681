"""A Kubernetes API server for tests: the real wire format over HTTPS, backed by a :class:`Store`.

What it speaks (enough for the ``kubernetes`` client and ``kubectl get/-w/apply/delete``):

* discovery: ``/version``, ``/api``, ``/apis``, ``/api/v1``, ``/apis/<group>/<version>``;
* lists whose items carry no kind/apiVersion (the List does), with ``limit`` and
  ``continue`` (410 ``Expired`` for a token older than the history), label and field
  selectors (equality), ``resourceVersion`` on objects and lists;
* watches (``?watch=1``): JSON lines of ``{"type", "object"}``, ``allowWatchBookmarks``,
  ``timeoutSeconds``, and an ``ERROR`` event with a 410 Status for a forgotten version;
* create, get, update, patch (JSON merge, strategic merge read as merge, server-side
  apply) and delete, with ``dryRun=All``;
* an admission refusal a test asks for: a written object annotated
  ``kubeapi.test/deny: MESSAGE`` is refused (403, as a validating webhook's denial),
  dry runs included, and so is a write the server's ``admission`` hook answers with a
  message;
* bearer tokens (401 for an unknown one) and per-token RBAC rules (403 with the API
  server's message), Status objects for every failure.

The HTTP layer is the standard library's threaded server: one thread per connection,
which is what long-lived watch streams need.
"""

from __future__ import annotations

import json
import ssl
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Iterable
from urllib.parse import parse_qs, urlsplit

import yaml

from kubeapi.resources import CORE, Resource
from kubeapi.store import Expired, Store


@dataclass(frozen=True, slots=True)
class User:
    """Who a bearer token is; ``rules`` as a ClusterRole writes them, None for everything."""

    name: str
    rules: tuple[dict[str, Any], ...] | None = None

    def allows(self, verb: str, resource: Resource) -> bool:
        if self.rules is None:
            return True
        return any(_has(rule.get("verbs"), verb) and _has(rule.get("apiGroups"), resource.group)
                   and _has(rule.get("resources"), resource.plural) for rule in self.rules)


def _has(values: Any, wanted: str) -> bool:
    return isinstance(values, list) and ("*" in values or wanted in values)


def rules_of(cluster_role_text: str) -> tuple[dict[str, Any], ...]:
    """The rules of a ClusterRole manifest (YAML text)."""
    return tuple(yaml.safe_load(cluster_role_text)["rules"])


def status(code: int, reason: str, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                           "message": message, "reason": reason, "code": code}
    if details:
        out["details"] = details
    return out


class Refused(Exception):
    def __init__(self, body: dict[str, Any]) -> None:
        super().__init__(body["message"])
        self.body = body


DENY = "kubeapi.test/deny"  # an object annotated so is refused on every write, as a webhook would refuse it
DENYING_WEBHOOK = "deny.kubeapi.test"

EXPIRED_CONTINUE = (
    "The provided continue parameter is too old to display a consistent list result. You can start a new list "
    "without the continue parameter, or use the continue token in this response to retrieve the remainder of "
    "the results. Continuing with the provided token results in an inconsistent list - objects that were "
    "created, modified, or deleted between the time the first chunk was returned and now may show up in the list.")


class ApiServer:
    """One cluster's API on ``https://127.0.0.1:<port>``; start with :meth:`start`, end with :meth:`stop`.

    Args:
        store: the cluster's objects.
        users: bearer token -> :class:`User`.
        ssl_context: the server's TLS context (see :mod:`kubeapi.tls`); None serves plain HTTP.
        resources: what is served; the core kinds by default, add ``OPTIONAL`` ones.
        bookmark_interval: seconds between BOOKMARK events on watches that allow them.
        port: the port to listen on (0: any free one; a stopped server's port serves its store again).
    """

    def __init__(self, store: Store, users: dict[str, User], ssl_context: ssl.SSLContext | None = None,
                 resources: Iterable[Resource] = CORE, bookmark_interval: float = 1.0, port: int = 0) -> None:
        self.store, self.users = store, users
        self.resources = tuple(resources)
        self.bookmark_interval = bookmark_interval
        self.requests: list[str] = []  # "VERB path?query" of every request, for tests
        self.before_list: Any = None  # a test's hook, called with (resource, query) before each list page
        # a test's admission hook, called with (resource, object, dry_run) on every create, update and patch:
        # a message refuses the write as the annotation kubeapi.test/deny does
        self.admission: Any = None
        self._stopping = threading.Event()
        handler = type("Handler", (_Handler,), {"api": self})
        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), handler)
        self.httpd.daemon_threads = True
        self.scheme = "http"
        if ssl_context is not None:
            self.httpd.socket = ssl_context.wrap_socket(self.httpd.socket, server_side=True)
            self.scheme = "https"
        self._thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.httpd.server_address[1]}"

    def start(self) -> ApiServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        with self.store.changed:
            self.store.changed.notify_all()
        self.httpd.shutdown()
        self.httpd.server_close()

    def resource(self, group: str, version: str, plural: str) -> Resource | None:
        for r in self.resources:
            if (r.group, r.version, r.plural) == (group, version, plural):
                return r
        return None

    def seed(self, manifests: Iterable[dict[str, Any]]) -> None:
        """Store manifests as given (status kept), each under the resource of its kind."""
        for doc in manifests:
            group, _, version = doc["apiVersion"].rpartition("/")
            match = [r for r in self.resources if (r.group, r.version, r.kind) == (group, version, doc["kind"])]
            if not match:
                raise ValueError(f"not served: {doc['apiVersion']} {doc['kind']}")
            self.store.put(match[0], json.loads(json.dumps(doc)))


class _Handler(BaseHTTPRequestHandler):
    api: ApiServer
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out at once, not 40 ms apart

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        pass

    # -- plumbing --------------------------------------------------------------------------

    def _send(self, code: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _body(self) -> bytes:
        size = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(size) if size else b""

    def _handle(self, verb: str) -> None:
        self.api.requests.append(f"{verb} {self.path}")
        try:
            self._route(verb)
        except Refused as refused:
            self._send(refused.body["code"], refused.body)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
            pass

    do_GET = lambda self: self._handle("GET")  # noqa: E731
    do_POST = lambda self: self._handle("POST")  # noqa: E731
    do_PUT = lambda self: self._handle("PUT")  # noqa: E731
    do_PATCH = lambda self: self._handle("PATCH")  # noqa: E731
    do_DELETE = lambda self: self._handle("DELETE")  # noqa: E731

    # -- routing ---------------------------------------------------------------------------

    def _user(self) -> User:
        header = self.headers.get("Authorization", "")
        user = self.api.users.get(header.removeprefix("Bearer ").strip()) if header.startswith("Bearer ") else None
        if user is None:
            raise Refused(status(401, "Unauthorized", "Unauthorized"))
        return user

    def _route(self, method: str) -> None:
        url = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        parts = [p for p in url.path.split("/") if p]
        user = self._user()
        if method == "GET" and self._discovery(parts):
            return
        if parts[:1] == ["api"] and len(parts) >= 3:
            group, version, rest = "", parts[1], parts[2:]
        elif parts[:1] == ["apis"] and len(parts) >= 4:
            group, version, rest = parts[1], parts[2], parts[3:]
        else:
            raise Refused(status(404, "NotFound", "the server could not find the requested resource"))
        namespace = None
        if len(rest) >= 3 and rest[0] == "namespaces":
            namespace, rest = rest[1], rest[2:]
        resource = self.api.resource(group, version, rest[0])
        if resource is None or len(rest) > 2 or (namespace is not None and not resource.namespaced):
            raise Refused(status(404, "NotFound", "the server could not find the requested resource"))
        name = rest[1] if len(rest) == 2 else None
        if method == "GET":
            verb = "get" if name else ("watch" if query.get("watch") in ("1", "true") else "list")
        else:
            verb = {"POST": "create", "PUT": "update", "PATCH": "patch", "DELETE": "delete"}[method]
        if not user.allows(verb, resource):
            raise Refused(_forbidden(user, verb, resource, namespace, name))
        if verb == "list":
            self._list(resource, namespace, query)
        elif verb == "watch":
            self._watch(resource, namespace, query)
        elif name is None and verb == "create":
            self._create(resource, namespace or "", query)
        elif name is None:
            raise Refused(status(405, "MethodNotAllowed", f"{method} is not supported on a collection here"))
        elif verb == "get":
            self._send(200, self._existing(resource, namespace or "", name))
        elif verb == "delete":
            self._delete(resource, namespace or "", name, query)
        else:
            self._write(resource, namespace or "", name, method, query)

    def _discovery(self, parts: list[str]) -> bool:
        resources = self.api.resources
        if parts == ["version"]:
            self._send(200, {"major": "1", "minor": "32", "gitVersion": "v1.32.0", "platform": "linux/amd64"})
        elif parts == ["api"]:
            self._send(200, {"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": [
                {"clientCIDR": "0.0.0.0/0", "serverAddress": self.api.url.split("://")[1]}]})
        elif parts == ["apis"]:
            groups: dict[str, list[str]] = {}
            for r in resources:
                if r.group and r.version not in groups.setdefault(r.group, []):
                    groups[r.group].append(r.version)
            self._send(200, {"kind": "APIGroupList", "apiVersion": "v1", "groups": [
                {"name": g, "versions": [{"groupVersion": f"{g}/{v}", "version": v} for v in vs],
                 "preferredVersion": {"groupVersion": f"{g}/{vs[0]}", "version": vs[0]}}
                for g, vs in groups.items()]})
        elif (parts[:1] == ["api"] and len(parts) == 2) or (parts[:1] == ["apis"] and len(parts) == 3):
            group, version = ("", parts[1]) if parts[0] == "api" else (parts[1], parts[2])
            served = [r.discovery() for r in resources if (r.group, r.version) == (group, version)]
            if not served:
                raise Refused(status(404, "NotFound", "the server could not find the requested resource"))
            self._send(200, {"kind": "APIResourceList", "apiVersion": "v1",
                             "groupVersion": f"{group}/{version}" if group else version, "resources": served})
        elif parts[:1] == ["apis"] and len(parts) == 2:
            versions = [r.version for r in resources if r.group == parts[1]]
            if not versions:
                raise Refused(status(404, "NotFound", "the server could not find the requested resource"))
            vs = list(dict.fromkeys(versions))
            self._send(200, {"kind": "APIGroup", "apiVersion": "v1", "name": parts[1],
                             "versions": [{"groupVersion": f"{parts[1]}/{v}", "version": v} for v in vs],
                             "preferredVersion": {"groupVersion": f"{parts[1]}/{vs[0]}", "version": vs[0]}})
        elif parts[:2] == ["openapi", "v3"]:
            self._openapi(parts[2:])
        else:
            return False
        return True

    def _openapi(self, parts: list[str]) -> None:
        """OpenAPI v3, only as far as kubectl asks: which PATCH operations take ``fieldValidation``."""
        versions = {(r.group, r.version) for r in self.api.resources}
        if not parts:
            self._send(200, {"paths": {
                path: {"serverRelativeURL": f"/openapi/v3/{path}"}
                for path in sorted(f"apis/{g}/{v}" if g else f"api/{v}" for g, v in versions)}})
            return
        group, version = ("", parts[1]) if parts[0] == "api" and len(parts) == 2 else (
            (parts[1], parts[2]) if len(parts) == 3 else ("?", "?"))
        served = [r for r in self.api.resources if (r.group, r.version) == (group, version)]
        if not served:
            raise Refused(status(404, "NotFound", "the server could not find the requested resource"))
        paths = {}
        for r in served:
            base = f"/apis/{r.group}/{r.version}" if r.group else f"/api/{r.version}"
            scope = "/namespaces/{namespace}" if r.namespaced else ""
            paths[f"{base}{scope}/{r.plural}/{{name}}"] = {"patch": {
                "x-kubernetes-group-version-kind": {"group": r.group, "version": r.version, "kind": r.kind},
                "parameters": [{"name": "fieldValidation", "in": "query", "schema": {"type": "string"}}],
                "responses": {}}}
        self._send(200, {"openapi": "3.0.0", "info": {"title": "Kubernetes", "version": "v1.32.0"}, "paths": paths})

    # -- reads -----------------------------------------------------------------------------

    def _list(self, resource: Resource, namespace: str | None, query: dict[str, str]) -> None:
        if self.api.before_list is not None:
            self.api.before_list(resource, query)
        try:
            limit = int(query.get("limit") or 0)
            items, version, token, remaining = self.api.store.list(
                resource, namespace, limit=limit, token=query.get("continue", ""), match=_selector(query))
        except Expired:
            raise Refused(status(410, "Expired", EXPIRED_CONTINUE)) from None
        except ValueError as e:
            raise Refused(status(400, "BadRequest", str(e))) from None
        for item in items:
            item.pop("kind", None)
            item.pop("apiVersion", None)
        meta: dict[str, Any] = {"resourceVersion": version}
        if token:
            meta["continue"], meta["remainingItemCount"] = token, remaining
        self._send(200, {"kind": f"{resource.kind}List", "apiVersion": resource.group_version,
                         "metadata": meta, "items": items})

    def _watch(self, resource: Resource, namespace: str | None, query: dict[str, str]) -> None:
        store, match = self.api.store, _selector(query)
        bookmarks = query.get("allowWatchBookmarks") in ("1", "true")
        deadline = time.monotonic() + float(query.get("timeoutSeconds") or 1800)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

        def emit(kind: str, obj: dict[str, Any]) -> None:
            line = json.dumps({"type": kind, "object": obj}).encode() + b"\n"
            self.wfile.write(b"%x\r\n%s\r\n" % (len(line), line))
            self.wfile.flush()

        def wanted(group: str, plural: str, obj: dict[str, Any]) -> bool:
            return ((group, plural) == (resource.group, resource.plural)
                    and (namespace is None or obj["metadata"].get("namespace") == namespace)
                    and (match is None or match(obj)))

        asked = query.get("resourceVersion", "")
        with store.changed:
            if asked in ("", "0"):
                version = store.version
                initial = [o for k, o in sorted(store.objects.items()) if wanted(k[0], k[1], o)]
            else:
                version, initial = int(asked), []
        for obj in initial:
            emit("ADDED", obj)
        last_bookmark = time.monotonic()
        try:
            while not self.api._stopping.is_set() and time.monotonic() < deadline:
                with store.changed:
                    try:
                        events = store.events_after(version)
                    except Expired:
                        events = None
                    if events == []:
                        store.changed.wait(timeout=0.2)
                        events = store.events_after(version) if version >= store.compacted else None
                if events is None:
                    emit("ERROR", status(410, "Expired", f"too old resource version: {version} "
                                                          f"({store.compacted + 1})"))
                    break
                for event in events:
                    version = event.version
                    if wanted(event.group, event.plural, event.object):
                        emit(event.type, event.object)
                if bookmarks and time.monotonic() - last_bookmark >= self.api.bookmark_interval:
                    emit("BOOKMARK", {"kind": resource.kind, "apiVersion": resource.group_version,
                                      "metadata": {"resourceVersion": str(max(version, store.version))}})
                    last_bookmark = time.monotonic()
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError, OSError):
            pass
        self.close_connection = True

    def _existing(self, resource: Resource, namespace: str, name: str) -> dict[str, Any]:
        obj = self.api.store.get(resource, namespace, name)
        if obj is None:
            raise Refused(_not_found(resource, name))
        return obj

    # -- writes ----------------------------------------------------------------------------

    def _read_object(self, resource: Resource, namespace: str, content_type: str = "") -> dict[str, Any]:
        raw = self._body()
        try:
            obj = yaml.safe_load(raw) if "yaml" in content_type else json.loads(raw or b"null")
        except (ValueError, yaml.YAMLError) as e:
            raise Refused(status(400, "BadRequest", f"the body of the request could not be read: {e}")) from None
        if not isinstance(obj, dict):
            raise Refused(status(400, "BadRequest", "the body of the request must be an object"))
        meta = obj.setdefault("metadata", {})
        if resource.namespaced:
            given = meta.get("namespace")
            if given and namespace and given != namespace:
                raise Refused(status(400, "BadRequest", "the namespace of the provided object does not match "
                                                        "the namespace sent on the request"))
            meta["namespace"] = given or namespace or "default"
        return obj

    def _create(self, resource: Resource, namespace: str, query: dict[str, str]) -> None:
        obj = self._read_object(resource, namespace)
        name = obj["metadata"].get("name")
        if not name:
            raise Refused(status(422, "Invalid", f"{resource.kind} \"\" is invalid: metadata.name: Required value"))
        if self.api.store.get(resource, obj["metadata"].get("namespace", ""), name) is not None:
            raise Refused(status(409, "AlreadyExists", f'{resource.plural} "{name}" already exists',
                                 {"name": name, "kind": resource.plural}))
        self._send(201, self._save(resource, obj, query))

    def _save(self, resource: Resource, obj: dict[str, Any], query: dict[str, str]) -> dict[str, Any]:
        dry = query.get("dryRun") == "All"
        denied = (obj["metadata"].get("annotations") or {}).get(DENY)
        if denied is None and self.api.admission is not None:
            denied = self.api.admission(resource, obj, dry)
        if denied is not None:  # admission runs before the dry run stops: a dry run is refused alike
            raise Refused(status(403, "Forbidden", f'admission webhook "{DENYING_WEBHOOK}" denied the request: '
                                                   f"{denied}"))
        if dry:
            obj["apiVersion"], obj["kind"] = resource.group_version, resource.kind
            return obj
        return self.api.store.put(resource, obj, manager=query.get("fieldManager", "kubectl"))

    def _write(self, resource: Resource, namespace: str, name: str, method: str, query: dict[str, str]) -> None:
        content_type = self.headers.get("Content-Type", "")
        current = self.api.store.get(resource, namespace, name)
        if method == "PUT":
            obj = self._read_object(resource, namespace)
            if current is None:
                raise Refused(_not_found(resource, name))
            given = obj["metadata"].get("resourceVersion")
            if given and given != current["metadata"]["resourceVersion"]:
                raise Refused(status(409, "Conflict", f'Operation cannot be fulfilled on {resource.plural} "{name}": '
                                                      "the object has been modified; please apply your changes to "
                                                      "the latest version and try again",
                                     {"name": name, "kind": resource.plural}))
            self._send(200, self._save(resource, obj, query))
            return
        if "json-patch+json" in content_type:
            raise Refused(status(415, "UnsupportedMediaType", "the body of the request was in an unknown format "
                                                              "- accepted media types include: "
                                                              "application/merge-patch+json"))
        patch = self._read_object(resource, namespace, content_type)
        if current is None:
            if "apply-patch" not in content_type:
                raise Refused(_not_found(resource, name))
            patch["metadata"].setdefault("name", name)
            self._send(201, self._save(resource, patch, query))
            return
        merged = merge_patch(current, patch)
        for noise in ("managedFields", "resourceVersion"):
            merged["metadata"].pop(noise, None)
        self._send(200, self._save(resource, merged, query))

    def _delete(self, resource: Resource, namespace: str, name: str, query: dict[str, str]) -> None:
        self._body()
        existing = self._existing(resource, namespace, name)
        if query.get("dryRun") != "All":
            existing = self.api.store.delete(resource, namespace, name) or existing
        self._send(200, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
                         "details": {"name": name, "kind": resource.plural,
                                     "uid": existing["metadata"].get("uid", "")}})


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch (a strategic merge patch is read the same way: lists are replaced)."""
    if not isinstance(patch, dict):
        return patch
    out = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if key.startswith("$"):  # strategic merge directives
            continue
        if value is None:
            out.pop(key, None)
        else:
            out[key] = merge_patch(out.get(key), value)
    return out


def _selector(query: dict[str, str]) -> Any:
    """A predicate for ``labelSelector`` and ``fieldSelector`` (equality terms), or None."""
    labels = [t for t in (query.get("labelSelector") or "").split(",") if t]
    fields = [t for t in (query.get("fieldSelector") or "").split(",") if t]
    if not labels and not fields:
        return None

    def field_value(obj: dict[str, Any], path: str) -> Any:
        for part in path.split("."):
            obj = obj.get(part) if isinstance(obj, dict) else None
        return obj

    def match(obj: dict[str, Any]) -> bool:
        have = obj["metadata"].get("labels") or {}
        for term in labels:
            key, op, value = _term(term)
            if op == "exists" and key not in have or op == "=" and have.get(key) != value \
                    or op == "!=" and have.get(key) == value:
                return False
        for term in fields:
            key, op, value = _term(term)
            got = field_value(obj, key)
            if (op == "=" and got != value) or (op == "!=" and got == value):
                return False
        return True

    return match


def _term(term: str) -> tuple[str, str, str]:
    for op in ("!=", "==", "="):
        if op in term:
            key, _, value = term.partition(op)
            return key.strip(), "=" if op == "==" else op, value.strip()
    return term.strip(), "exists", ""


def _forbidden(user: User, verb: str, resource: Resource, namespace: str | None, name: str | None) -> dict[str, Any]:
    what = f'{resource.plural} "{name}"' if name else resource.plural
    scope = f'in the namespace "{namespace}"' if namespace else "at the cluster scope"
    message = (f'{what} is forbidden: User "{user.name}" cannot {verb} resource "{resource.plural}" '
               f'in API group "{resource.group}" {scope}')
    details: dict[str, Any] = {"kind": resource.plural}
    if name:
        details["name"] = name
    return status(403, "Forbidden", message, details)


def _not_found(resource: Resource, name: str) -> dict[str, Any]:
    return status(404, "NotFound", f'{resource.plural} "{name}" not found', {"name": name, "kind": resource.plural})
