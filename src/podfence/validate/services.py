"""Services: rules V36 to V39 for the fields podfence reads.

* V36 ``spec.selector`` is a label map: qualified-name keys, label values.
* V37 ``spec.ports``: required unless the Service is headless or ExternalName;
  a port's ``name`` is a DNS-1123 label, is required when the Service has more
  than one port, and is unique; no two ports share a ``port`` and ``protocol``.
* V38 cluster IPs: ``None`` (headless) only as the first and only entry of
  ``clusterIPs``, no empty entries, at most two entries and at most one per IP
  family, and the first equals ``clusterIP`` when both are written. Like the API
  server, ExternalName Services skip these checks.
* V39 ``spec.type`` is ClusterIP, NodePort, LoadBalancer or ExternalName.

Port numbers, protocols, ``targetPort`` and address syntax are checked where the
loader reads them (``L8``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from podfence.model.diagnostic import Diagnostic, FieldPath
from podfence.sets import parse_ip
from podfence.validate.messages import duplicate, invalid, required, unsupported
from podfence.validate.names import dns1123_label_errors
from podfence.validate.object_meta import validate_object_meta
from podfence.validate.schema import Kind, check_kind, object_list, string_list, wrong_type
from podfence.validate.selectors import validate_labels

# In the order the API server lists them (sorted).
SERVICE_TYPES = ("ClusterIP", "ExternalName", "LoadBalancer", "NodePort")
PROTOCOLS = ("TCP", "UDP", "SCTP")
HEADLESS = "None"


def validate_service(doc: object, *, namespace: str) -> list[Diagnostic]:
    """Every problem of one Service manifest in the fields podfence reads (V28 to V31, V36 to V39).

    >>> [d.message for d in validate_service({"metadata": {"name": "web"}, "spec": {"ports": [
    ...     {"name": "http", "port": 80}, {"port": 443}]}}, namespace="default")]
    ['Required value']
    """
    if not isinstance(doc, Mapping):
        return [wrong_type((), doc, Kind.MAPPING)]
    problems = list(validate_object_meta(doc.get("metadata"), "Service", namespace))
    spec = doc.get("spec")
    if spec is None:
        return problems
    if not isinstance(spec, Mapping):
        return [*problems, wrong_type(("spec",), spec, Kind.MAPPING)]
    path: FieldPath = ("spec",)
    problems += validate_labels(spec.get("selector"), path + ("selector",), "V36", "V36")
    problems += _ports(spec.get("ports"), path + ("ports",))
    service_type = spec.get("type")
    if not spec.get("ports") and service_type != "ExternalName" and not _headless(spec):
        problems.append(required("V37", path + ("ports",)))
    if (err := check_kind(service_type, Kind.STRING, path + ("type",))) is not None:
        problems.append(err)
    elif service_type and service_type not in SERVICE_TYPES:
        problems.append(unsupported("V39", path + ("type",), service_type, SERVICE_TYPES))
    if service_type != "ExternalName":
        problems += _cluster_ips(spec, path)
    return problems


def _headless(spec: Mapping[object, object]) -> bool:
    """``clusterIP: None`` (or ``clusterIPs: [None]``): a Service without a virtual address."""
    cluster_ips = spec.get("clusterIPs")
    first = cluster_ips[0] if isinstance(cluster_ips, list) and cluster_ips else None
    return HEADLESS in (spec.get("clusterIP"), first)


def _ports(raw: object, path: FieldPath) -> Iterator[Diagnostic]:
    entries = list(object_list(raw, path))
    names: set[str] = set()
    pairs: set[tuple[str, int]] = set()
    for entry in entries:
        if isinstance(entry, Diagnostic):
            yield entry
            continue
        i, port = entry
        name = port.get("name")
        if (err := check_kind(name, Kind.STRING, path + (i, "name"))) is not None:
            yield err
        elif not name:
            if len(entries) > 1:
                yield required("V37", path + (i, "name"))
        elif isinstance(name, str):
            for msg in dns1123_label_errors(name):
                yield invalid("V37", path + (i, "name"), name, msg)
            if name in names:
                yield duplicate("V37", path + (i, "name"), name)
            names.add(name)
        number, protocol = port.get("port"), port.get("protocol") or "TCP"
        if isinstance(number, int) and not isinstance(number, bool) and protocol in PROTOCOLS:
            if (protocol, number) in pairs:
                yield duplicate("V37", path + (i,), {"protocol": protocol, "port": number})
            pairs.add((protocol, number))


def _cluster_ips(spec: Mapping[object, object], path: FieldPath) -> Iterator[Diagnostic]:
    single = spec.get("clusterIP")
    if (err := check_kind(single, Kind.STRING, path + ("clusterIP",))) is not None:
        yield err
    list_path = path + ("clusterIPs",)
    entries, type_errors, _ = string_list(spec.get("clusterIPs"), list_path)
    yield from type_errors
    if type_errors or not entries:
        return
    values = [value for _, value in entries]
    if isinstance(single, str) and single and values[0] != single:
        yield invalid("V38", list_path, values, "first value must match `clusterIP`")
    unusable = False
    for i, value in entries:
        if i == 0 and value == HEADLESS:
            if len(values) > 1:
                unusable = True
                yield invalid("V38", list_path, values, "'None' must be the first and only value")
        elif value in ("", HEADLESS):
            # The loader passes over these as "no address"; here they are misplaced.
            unusable = True
            yield invalid("V38", list_path + (i,), value, "must be a valid IP address")
        elif parse_ip(value) is None:
            unusable = True  # the loader reports it (L8)
    if len(values) > 2:
        yield invalid("V38", list_path, values, "may only hold up to 2 values")
    elif not unusable and len(values) == 2:
        families = {address.version for address in map(parse_ip, values) if address is not None}
        if len(families) == 1:
            yield invalid("V38", list_path, values, "may specify no more than one IP for each IP family")
