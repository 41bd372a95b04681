"""The objects of one test cluster, with resource versions, a bounded event history and paging.

Like etcd behind the API server: every write takes the next resourceVersion and
is recorded as a watch event; :meth:`Store.compact` forgets the history up to
now, after which a watch from an older version, or a ``continue`` token issued
before, is answered 410 Gone (``Expired``).
"""

from __future__ import annotations

import base64
import copy
import json
import threading
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Iterable

from kubeapi.resources import Resource

Key = tuple[str, str, str, str]  # group, plural, namespace ("" when cluster-scoped), name


class Expired(Exception):
    """The resource version or continue token asked for is older than the history kept."""


@dataclass(frozen=True, slots=True)
class Event:
    version: int
    group: str
    plural: str
    type: str  # ADDED, MODIFIED, DELETED
    object: dict[str, Any]


def now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class Store:
    """Objects by key; thread-safe; waiters are woken on every write."""

    def __init__(self) -> None:
        self.version = 1
        self.compacted = 0
        self.objects: dict[Key, dict[str, Any]] = {}
        self.events: list[Event] = []
        self.changed = threading.Condition()

    # -- writes ----------------------------------------------------------------------------

    def put(self, resource: Resource, obj: dict[str, Any], *, manager: str = "kubeapi-seed") -> dict[str, Any]:
        """Create or replace ``obj`` (as given, status included); returns the stored object."""
        with self.changed:
            meta = obj.setdefault("metadata", {})
            if not resource.namespaced:
                meta.pop("namespace", None)
            elif not meta.get("namespace"):
                meta["namespace"] = "default"
            key = self.key(resource, meta.get("namespace", ""), meta["name"])
            previous = self.objects.get(key)
            self.version += 1
            obj["apiVersion"], obj["kind"] = resource.group_version, resource.kind
            meta["resourceVersion"] = str(self.version)
            if previous is None:
                meta.setdefault("uid", str(uuid.uuid4()))
                meta.setdefault("creationTimestamp", now())
            else:
                meta["uid"] = previous["metadata"]["uid"]
                meta["creationTimestamp"] = previous["metadata"]["creationTimestamp"]
            meta["generation"] = 1 if previous is None else previous["metadata"].get("generation", 1) + 1
            meta["managedFields"] = [{"manager": manager, "operation": "Update", "apiVersion": resource.group_version,
                                      "time": now(), "fieldsType": "FieldsV1", "fieldsV1": {"f:metadata": {}}}]
            if resource.kind == "Namespace":
                meta.setdefault("labels", {})["kubernetes.io/metadata.name"] = meta["name"]
            self.objects[key] = obj
            self._record(resource, "ADDED" if previous is None else "MODIFIED", obj)
            return copy.deepcopy(obj)

    def delete(self, resource: Resource, namespace: str, name: str) -> dict[str, Any] | None:
        with self.changed:
            obj = self.objects.pop(self.key(resource, namespace, name), None)
            if obj is None:
                return None
            self.version += 1
            obj["metadata"]["resourceVersion"] = str(self.version)
            self._record(resource, "DELETED", obj)
            return copy.deepcopy(obj)

    def compact(self) -> None:
        """Forget the event history so far: older watches and continue tokens expire."""
        with self.changed:
            self.version += 1  # the compaction's own revision: a watch from now on still works
            self.compacted = self.version
            self.events.clear()

    def _record(self, resource: Resource, kind: str, obj: dict[str, Any]) -> None:
        self.events.append(Event(self.version, resource.group, resource.plural, kind, copy.deepcopy(obj)))
        if len(self.events) > 100_000:  # a bounded history, as etcd compacts
            drop = len(self.events) - 50_000
            self.compacted = self.events[drop - 1].version
            del self.events[:drop]
        self.changed.notify_all()

    # -- reads -----------------------------------------------------------------------------

    @staticmethod
    def key(resource: Resource, namespace: str, name: str) -> Key:
        return (resource.group, resource.plural, namespace if resource.namespaced else "", name)

    def get(self, resource: Resource, namespace: str, name: str) -> dict[str, Any] | None:
        with self.changed:
            obj = self.objects.get(self.key(resource, namespace, name))
            return copy.deepcopy(obj) if obj is not None else None

    def list(self, resource: Resource, namespace: str | None, *, limit: int = 0, token: str = "",
             match: Any = None) -> tuple[list[dict[str, Any]], str, str, int]:
        """(items, list resourceVersion, continue token, remaining count) of one page."""
        with self.changed:
            version, after = self.version, ""
            if token:
                version, after = _decode(token)
                if version < self.compacted:
                    raise Expired
            found = sorted(
                (k, o) for k, o in self.objects.items()
                if k[0] == resource.group and k[1] == resource.plural
                and (namespace is None or k[2] == namespace) and (k[2], k[3]) > _split(after)
                and (match is None or match(o)))
            page = found[:limit] if limit else found
            more = limit and len(found) > limit
            next_token = _encode(version, f"{page[-1][0][2]}/{page[-1][0][3]}") if more else ""
            return [copy.deepcopy(o) for _, o in page], str(version), next_token, len(found) - len(page)

    def events_after(self, version: int) -> Iterable[Event]:
        """Events newer than ``version`` (call with ``changed`` held); Expired when forgotten."""
        if version < self.compacted:
            raise Expired
        return [e for e in self.events if e.version > version]


def _encode(version: int, after: str) -> str:
    return base64.urlsafe_b64encode(json.dumps({"rv": version, "start": after}).encode()).decode()


def _decode(token: str) -> tuple[int, str]:
    try:
        data = json.loads(base64.urlsafe_b64decode(token))
        return int(data["rv"]), str(data["start"])
    except (ValueError, KeyError, TypeError):
        raise ValueError("invalid continue token") from None


def _split(after: str) -> tuple[str, str]:
    namespace, _, name = after.rpartition("/")
    return namespace, name
