"""Pods, and the pod spec of workload templates: rules V32 to V35.

* V32 a named container port's name appears once per container
  (``Duplicate value``); the API server checks each container on its own, so two
  containers may both name a port ``http``.
* V33 ``spec.nodeName`` is a DNS-1123 subdomain.
* V34 ``status.podIPs`` and ``status.hostIPs`` hold at most one address per IP
  family, and their first entry equals ``status.podIP`` / ``status.hostIP`` when
  both are written (the API server would otherwise keep the single field and
  drop the list, so podfence refuses to guess which one is meant).
* V35 ``status.phase`` is one of the five pod phases.

Port numbers, protocols, port-name syntax and address syntax are checked where
the loader reads them (``L8``); these rules are the rest of what the API server
checks in the fields podfence reads.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from podfence.model.diagnostic import Diagnostic, FieldPath
from podfence.sets import parse_ip
from podfence.validate.messages import duplicate, invalid, unsupported
from podfence.validate.names import dns1123_subdomain_errors, is_port_name
from podfence.validate.object_meta import validate_object_meta
from podfence.validate.schema import Kind, check_kind, object_list, wrong_type

POD_PHASES = ("Pending", "Running", "Succeeded", "Failed", "Unknown")
CONTAINER_LISTS = ("containers", "initContainers")


def validate_pod(doc: object, *, namespace: str) -> list[Diagnostic]:
    """Every problem of one Pod manifest in the fields podfence reads (V28 to V35).

    >>> [d.message for d in validate_pod({"metadata": {"name": "web"}, "status": {"phase": "running"}},
    ...                                  namespace="default")]
    ['Unsupported value: "running": supported values: "Pending", "Running", "Succeeded", "Failed", "Unknown"']
    """
    if not isinstance(doc, Mapping):
        return [wrong_type((), doc, Kind.MAPPING)]
    problems = list(validate_object_meta(doc.get("metadata"), "Pod", namespace))
    problems += validate_pod_spec(doc.get("spec"), ("spec",))
    problems += _status(doc.get("status"), ("status",))
    return problems


def validate_pod_spec(spec: object, path: FieldPath) -> Iterator[Diagnostic]:
    """V32 and V33 for a pod spec at ``path`` (a Pod's ``spec`` or a template's)."""
    if not isinstance(spec, Mapping):
        if spec is not None:
            yield wrong_type(path, spec, Kind.MAPPING)
        return
    for key in CONTAINER_LISTS:
        for entry in object_list(spec.get(key), path + (key,)):
            if isinstance(entry, Diagnostic):
                yield entry
            else:
                yield from _container_ports(entry[1].get("ports"), path + (key, entry[0], "ports"))
    node = spec.get("nodeName")
    if (err := check_kind(node, Kind.STRING, path + ("nodeName",))) is not None:
        yield err
    elif node:
        for msg in dns1123_subdomain_errors(node):
            yield invalid("V33", path + ("nodeName",), node, msg)


def _container_ports(raw: object, path: FieldPath) -> Iterator[Diagnostic]:
    names: set[str] = set()
    for entry in object_list(raw, path):
        if isinstance(entry, Diagnostic):
            yield entry
            continue
        j, port = entry
        name = port.get("name")
        if (err := check_kind(name, Kind.STRING, path + (j, "name"))) is not None:
            yield err
        elif isinstance(name, str) and is_port_name(name):
            if name in names:
                yield duplicate("V32", path + (j, "name"), name)
            names.add(name)


def _status(status: object, path: FieldPath) -> Iterator[Diagnostic]:
    if not isinstance(status, Mapping):
        if status is not None:
            yield wrong_type(path, status, Kind.MAPPING)
        return
    yield from _addresses(status, "podIP", "podIPs", path)
    yield from _addresses(status, "hostIP", "hostIPs", path)
    phase = status.get("phase")
    if (err := check_kind(phase, Kind.STRING, path + ("phase",))) is not None:
        yield err
    elif phase and phase not in POD_PHASES:
        yield unsupported("V35", path + ("phase",), phase, POD_PHASES)


def _addresses(status: Mapping[object, object], single_field: str, list_field: str,
               path: FieldPath) -> Iterator[Diagnostic]:
    """V34 for ``podIP``/``podIPs`` (or ``hostIP``/``hostIPs``); bad addresses are the loader's ``L8``."""
    single = status.get(single_field)
    if (err := check_kind(single, Kind.STRING, path + (single_field,))) is not None:
        yield err
    raw = status.get(list_field)
    list_path = path + (list_field,)
    texts: list[str] = []
    shapes_ok = True
    for entry in object_list(raw, list_path):
        if isinstance(entry, Diagnostic):
            yield entry
            shapes_ok = False
            continue
        i, item = entry
        ip = item.get("ip")
        if (err := check_kind(ip, Kind.STRING, list_path + (i, "ip"))) is not None:
            yield err
            shapes_ok = False
        else:
            texts.append(ip if isinstance(ip, str) else "")
    if not shapes_ok or not texts:
        return
    if isinstance(single, str) and single and texts[0] != single:
        yield invalid("V34", list_path + (0, "ip"), texts[0], f"must be equal to `{single_field}`")
    addresses = [parse_ip(text) for text in texts]
    if len(texts) > 1 and all(a is not None for a in addresses):
        families = [a.version for a in addresses if a is not None]
        if len(texts) > 2 or len(set(families)) != len(families):
            yield invalid("V34", list_path, raw, "may specify no more than one IP for each IP family")
