"""Every rule V28..V42 (Pods, Services, Namespaces, workload controllers): a failing input and a passing one.

Each failing case gives the one diagnostic the input must produce (code, field
path, exact message); each passing case is the closest valid neighbour and must
produce nothing at all.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from podfence.model import Severity, format_path
from podfence.validate import CLUSTER_POLICY_KINDS, VALIDATED_KINDS, validate_object

from api_messages import DNS1035_LABEL, DNS1123_LABEL, KEY_NAME_PART, LABEL_VALUE, MISMATCH, SUBDOMAIN

FAMILY = "may specify no more than one IP for each IP family"

WEB = {"app": "web"}


def template(labels: dict[str, str] | None = None, **spec: Any) -> dict[str, Any]:
    return {"metadata": {"labels": WEB if labels is None else labels}, "spec": {"containers": [{"name": "c"}], **spec}}


def meta(name: str = "web", **more: Any) -> dict[str, Any]:
    return {"name": name, **more}


def pod(spec: dict[str, Any] | None = None, status: dict[str, Any] | None = None, **metadata: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {"metadata": meta(**metadata), "spec": spec or {}}
    if status is not None:
        doc["status"] = status
    return doc


def ports(*entries: dict[str, Any], init: bool = False) -> dict[str, Any]:
    return {"initContainers" if init else "containers": [{"name": "c", "ports": list(entries)}]}


def service(spec: dict[str, Any] | None = None, **metadata: Any) -> dict[str, Any]:
    return {"metadata": meta(**metadata), "spec": {"selector": WEB, "ports": [{"port": 80}], **(spec or {})}}


def apps(selector: Any = None, tmpl: dict[str, Any] | None = None, **spec: Any) -> dict[str, Any]:
    body = {"selector": {"matchLabels": WEB} if selector is None else selector, "template": tmpl or template(), **spec}
    return {"metadata": meta(), "spec": body}


def without_selector(tmpl: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"metadata": meta(), "spec": {"template": tmpl or template()}}


def cronjob(job_spec: dict[str, Any] | None = None, **metadata: Any) -> dict[str, Any]:
    return {"metadata": meta(**metadata),
            "spec": {"schedule": "@daily", "jobTemplate": {"spec": {"template": template(), **(job_spec or {})}}}}


TEMPLATE_LABELS = "spec.template.metadata.labels"

# (id, kind, document, apiVersion, code, field path, message); the namespace is "shop".
FAILING: list[tuple[str, str, Any, str, str, str, str]] = [
    ("V28-pod-slash", "Pod", pod(name="web/x"), "v1",
     "V28", "metadata.name", f'Invalid value: "web/x": {SUBDOMAIN}'),
    ("V28-pod-newline", "Pod", pod(name="web\nx"), "v1",
     "V28", "metadata.name", f'Invalid value: "web\\nx": {SUBDOMAIN}'),
    ("V28-pod-too-long", "Pod", pod(name="a" * 254), "v1",
     "V28", "metadata.name", f'Invalid value: "{"a" * 254}": must be no more than 253 bytes'),
    ("V28-service-digit", "Service", service(name="1web"), "v1",
     "V28", "metadata.name", f'Invalid value: "1web": {DNS1035_LABEL}'),
    ("V28-service-dot", "Service", service(name="web.v2"), "v1",
     "V28", "metadata.name", f'Invalid value: "web.v2": {DNS1035_LABEL}'),
    ("V28-namespace-dot", "Namespace", {"metadata": meta("team.a")}, "v1",
     "V28", "metadata.name", 'Invalid value: "team.a": must not contain dots'),
    ("V28-deployment-upper", "Deployment", {**apps(), "metadata": meta("Web")}, "apps/v1",
     "V28", "metadata.name", f'Invalid value: "Web": {SUBDOMAIN}'),
    ("V28-generateName", "Pod", pod(generateName="Web-"), "v1",
     "V28", "metadata.generateName", f'Invalid value: "Web-": {SUBDOMAIN}'),
    ("V28-no-name", "Pod", {"metadata": {}, "spec": {}}, "v1",
     "V28", "metadata.name", "Required value: name or generateName is required"),
    ("V28-cronjob-52", "CronJob", cronjob(name="a" * 53), "batch/v1",
     "V28", "metadata.name", f'Invalid value: "{"a" * 53}": must be no more than 52 characters'),
    ("V30-object-key", "Pod", pod(labels={"-app": "web"}), "v1",
     "V30", "metadata.labels", f'Invalid value: "-app": {KEY_NAME_PART}'),
    ("V30-object-value", "Service", service(labels={"app": "a b"}), "v1",
     "V30", "metadata.labels", f'Invalid value: "a b": {LABEL_VALUE}'),
    ("V30-template-value", "Deployment",
     apps(tmpl=template({"app": "web", "version": "x" * 64})), "apps/v1",
     "V30", TEMPLATE_LABELS, f'Invalid value: "{"x" * 64}": must be no more than 63 bytes'),
    ("V30-namespace-label", "Namespace", {"metadata": meta("team", labels={"a/b/c": "x"})}, "v1",
     "V30", "metadata.labels",
     'Invalid value: "a/b/c": a valid label key must consist of alphanumeric characters, \'-\', \'_\' or \'.\', '
     "and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', "
     "regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain "
     "prefix and '/' (e.g. 'example.com/MyName')"),
    ("V31-object-size", "Pod", pod(annotations={"k": "x" * (256 * 1024)}), "v1",
     "V31", "metadata.annotations", "Too long: may not be more than 262144 bytes"),
    ("V31-template-key", "Job", {"metadata": meta(), "spec": {"template": {
        "metadata": {"annotations": {"-note": "x"}}, "spec": {}}}}, "batch/v1",
     "V31", "spec.template.metadata.annotations", f'Invalid value: "-note": {KEY_NAME_PART}'),
    ("V32-duplicate", "Pod", pod(ports({"containerPort": 80, "name": "http"}, {"containerPort": 81, "name": "http"})),
     "v1", "V32", "spec.containers[0].ports[1].name", 'Duplicate value: "http"'),
    ("V32-init-duplicate", "Pod", pod(ports({"containerPort": 80, "name": "m"}, {"containerPort": 81, "name": "m"},
                                            init=True)), "v1",
     "V32", "spec.initContainers[0].ports[1].name", 'Duplicate value: "m"'),
    ("V32-template", "StatefulSet", apps(tmpl={"metadata": {"labels": WEB}, "spec": ports(
        {"containerPort": 80, "name": "http"}, {"containerPort": 81, "name": "http"})}), "apps/v1",
     "V32", "spec.template.spec.containers[0].ports[1].name", 'Duplicate value: "http"'),
    ("V33-node", "Pod", pod({"nodeName": "Node_1"}), "v1",
     "V33", "spec.nodeName", f'Invalid value: "Node_1": {SUBDOMAIN}'),
    ("V33-template-node", "DaemonSet", apps(tmpl=template(nodeName="a..b")), "apps/v1",
     "V33", "spec.template.spec.nodeName", f'Invalid value: "a..b": {SUBDOMAIN}'),
    ("V34-two-v4", "Pod", pod(status={"podIPs": [{"ip": "10.0.0.1"}, {"ip": "10.0.0.2"}]}), "v1",
     "V34", "status.podIPs", f'Invalid value: [{{"ip": "10.0.0.1"}}, {{"ip": "10.0.0.2"}}]: {FAMILY}'),
    ("V34-three", "Pod", pod(status={"podIPs": [{"ip": "10.0.0.1"}, {"ip": "fd00::1"}, {"ip": "fd00::2"}]}), "v1",
     "V34", "status.podIPs",
     f'Invalid value: [{{"ip": "10.0.0.1"}}, {{"ip": "fd00::1"}}, {{"ip": "fd00::2"}}]: {FAMILY}'),
    ("V34-first-differs", "Pod", pod(status={"podIP": "10.0.0.1", "podIPs": [{"ip": "10.0.0.2"}]}), "v1",
     "V34", "status.podIPs[0].ip", 'Invalid value: "10.0.0.2": must be equal to `podIP`'),
    ("V34-host-two-v6", "Pod", pod(status={"hostIPs": [{"ip": "fd00::1"}, {"ip": "fd00::2"}]}), "v1",
     "V34", "status.hostIPs", f'Invalid value: [{{"ip": "fd00::1"}}, {{"ip": "fd00::2"}}]: {FAMILY}'),
    ("V34-host-first-differs", "Pod", pod(status={"hostIP": "192.168.0.1", "hostIPs": [{"ip": "192.168.0.2"}]}),
     "v1", "V34", "status.hostIPs[0].ip", 'Invalid value: "192.168.0.2": must be equal to `hostIP`'),
    ("V35-phase", "Pod", pod(status={"phase": "running"}), "v1",
     "V35", "status.phase",
     'Unsupported value: "running": supported values: "Pending", "Running", "Succeeded", "Failed", "Unknown"'),
    ("V36-selector-key", "Service", service({"selector": {"app kind": "web"}}), "v1",
     "V36", "spec.selector", f'Invalid value: "app kind": {KEY_NAME_PART}'),
    ("V36-selector-value", "Service", service({"selector": {"app": "web/x"}}), "v1",
     "V36", "spec.selector", f'Invalid value: "web/x": {LABEL_VALUE}'),
    ("V37-ports-required", "Service", service({"ports": []}), "v1",
     "V37", "spec.ports", "Required value"),
    ("V37-name-syntax", "Service", service({"ports": [{"name": "Web", "port": 80}]}), "v1",
     "V37", "spec.ports[0].name", f'Invalid value: "Web": {DNS1123_LABEL}'),
    ("V37-name-required", "Service", service({"ports": [{"name": "a", "port": 80}, {"port": 81}]}), "v1",
     "V37", "spec.ports[1].name", "Required value"),
    ("V37-name-unique", "Service", service({"ports": [{"name": "a", "port": 80}, {"name": "a", "port": 81}]}), "v1",
     "V37", "spec.ports[1].name", 'Duplicate value: "a"'),
    ("V37-port-protocol", "Service", service({"ports": [{"name": "a", "port": 80},
                                                       {"name": "b", "port": 80, "protocol": "TCP"}]}), "v1",
     "V37", "spec.ports[1]", 'Duplicate value: {"protocol": "TCP", "port": 80}'),
    ("V38-none-first", "Service", service({"clusterIPs": ["None", "10.0.0.1"]}), "v1",
     "V38", "spec.clusterIPs", 'Invalid value: ["None", "10.0.0.1"]: \'None\' must be the first and only value'),
    ("V38-none-later", "Service", service({"clusterIPs": ["10.0.0.1", "None"]}), "v1",
     "V38", "spec.clusterIPs[1]", 'Invalid value: "None": must be a valid IP address'),
    ("V38-empty-entry", "Service", service({"clusterIPs": ["", "fd00::1"]}), "v1",
     "V38", "spec.clusterIPs[0]", 'Invalid value: "": must be a valid IP address'),
    ("V38-three", "Service", service({"clusterIPs": ["10.0.0.1", "fd00::1", "10.0.0.2"]}), "v1",
     "V38", "spec.clusterIPs", 'Invalid value: ["10.0.0.1", "fd00::1", "10.0.0.2"]: may only hold up to 2 values'),
    ("V38-same-family", "Service", service({"clusterIPs": ["fd00::1", "fd00::2"]}), "v1",
     "V38", "spec.clusterIPs", f'Invalid value: ["fd00::1", "fd00::2"]: {FAMILY}'),
    ("V38-first-differs", "Service", service({"clusterIP": "10.0.0.1", "clusterIPs": ["10.0.0.2"]}), "v1",
     "V38", "spec.clusterIPs", 'Invalid value: ["10.0.0.2"]: first value must match `clusterIP`'),
    ("V39-type", "Service", service({"type": "clusterip"}), "v1",
     "V39", "spec.type",
     'Unsupported value: "clusterip": supported values: "ClusterIP", "ExternalName", "LoadBalancer", "NodePort"'),
    ("V40-deployment-required", "Deployment", without_selector(), "apps/v1",
     "V40", "spec.selector", "Required value"),
    ("V40-statefulset-empty", "StatefulSet", apps(selector={}), "apps/v1",
     "V40", "spec.selector", "Invalid value: {}: empty selector is invalid for statefulset"),
    ("V40-daemonset-empty", "DaemonSet", apps(selector={"matchLabels": {}}), "apps/v1",
     "V40", "spec.selector", 'Invalid value: {"matchLabels": {}}: empty selector is invalid for daemonset'),
    ("V40-operator", "ReplicaSet", apps(selector={"matchExpressions": [{"key": "app", "operator": "Gt",
                                                                        "values": ["1"]}]}), "apps/v1",
     "V40", "spec.selector.matchExpressions[0].operator", 'Invalid value: "Gt": not a valid selector operator'),
    ("V40-match-label-value", "Deployment", apps(selector={"matchLabels": {"app": "a b"}}), "apps/v1",
     "V40", "spec.selector.matchLabels", f'Invalid value: "a b": {LABEL_VALUE}'),
    ("V40-rc-empty", "ReplicationController", {"metadata": meta(), "spec": {"template": template({})}}, "v1",
     "V40", "spec.selector", "Required value"),
    ("V40-job-manual", "Job", {"metadata": meta(), "spec": {"manualSelector": True, "template": template()}},
     "batch/v1", "V40", "spec.selector", "Required value"),
    ("V40-cronjob-selector", "CronJob", cronjob({"selector": {"matchLabels": WEB}}), "batch/v1",
     "V40", "spec.jobTemplate.spec.selector",
     'Invalid value: {"matchLabels": {"app": "web"}}: `selector` will be auto-generated'),
    ("V40-cronjob-manual", "CronJob", cronjob({"manualSelector": True}), "batch/v1",
     "V40", "spec.jobTemplate.spec.manualSelector", 'Unsupported value: true: supported values: "nil", "false"'),
    ("V41-deployment", "Deployment", apps(selector={"matchLabels": {"app": "api"}}), "apps/v1",
     "V41", TEMPLATE_LABELS, f'Invalid value: {{"app": "web"}}: {MISMATCH}'),
    ("V41-expression", "ReplicaSet", apps(selector={"matchExpressions": [
        {"key": "tier", "operator": "Exists"}]}), "apps/v1",
     "V41", TEMPLATE_LABELS, f'Invalid value: {{"app": "web"}}: {MISMATCH}'),
    ("V41-daemonset-none", "DaemonSet", without_selector(), "apps/v1",
     "V41", TEMPLATE_LABELS, f'Invalid value: {{"app": "web"}}: {MISMATCH}'),
    ("V41-rc", "ReplicationController", {"metadata": meta(), "spec": {"selector": {"app": "api"},
                                                                     "template": template()}}, "v1",
     "V41", TEMPLATE_LABELS, f'Invalid value: {{"app": "web"}}: {MISMATCH}'),
    ("V41-job", "Job", {"metadata": meta(), "spec": {"selector": {"matchLabels": {"app": "api"}},
                                                     "template": template()}}, "batch/v1",
     "V41", TEMPLATE_LABELS, f'Invalid value: {{"app": "web"}}: {MISMATCH}'),
    ("V42-replicas", "Deployment", apps(replicas=-1), "apps/v1",
     "V42", "spec.replicas", "Invalid value: -1: must be greater than or equal to 0"),
    ("V42-rc-replicas", "ReplicationController", {"metadata": meta(), "spec": {
        "replicas": -3, "selector": WEB, "template": template()}}, "v1",
     "V42", "spec.replicas", "Invalid value: -3: must be greater than or equal to 0"),
]

# (id, kind, document, apiVersion): the closest valid neighbours of the failing cases.
PASSING: list[tuple[str, str, Any, str]] = [
    ("V28-pod-dotted", "Pod", pod(name="web.v2-1"), "v1"),
    ("V28-pod-253", "Pod", pod(name="a" * 253), "v1"),
    ("V28-service-letter", "Service", service(name="web-1"), "v1"),
    ("V28-namespace-label", "Namespace", {"metadata": meta("team-a", namespace="ignored for namespaces")}, "v1"),
    ("V28-generateName-dash", "Pod", pod(generateName="web-"), "v1"),
    ("V28-generateName-only", "Pod", {"metadata": {"generateName": "web-"}}, "v1"),
    ("V28-cronjob-52", "CronJob", cronjob(name="a" * 52), "batch/v1"),
    ("V30-labels", "Pod", pod(labels={"app.kubernetes.io/name": "web", "empty": "", "x": "y" * 63}), "v1"),
    ("V31-annotation-case-and-size", "Pod", pod(annotations={"Example.COM/Key": "x" * (256 * 1024 - 15)}), "v1"),
    ("V32-other-container", "Pod", pod({"containers": [
        {"name": "a", "ports": [{"containerPort": 80, "name": "http"}]},
        {"name": "b", "ports": [{"containerPort": 81, "name": "http"}]}]}), "v1"),
    ("V32-unnamed", "Pod", pod(ports({"containerPort": 80}, {"containerPort": 81})), "v1"),
    ("V33-node", "Pod", pod({"nodeName": "node-1.zone-a"}), "v1"),
    ("V34-dual", "Pod", pod(status={"podIP": "10.0.0.1", "podIPs": [{"ip": "10.0.0.1"}, {"ip": "fd00::1"}],
                                    "hostIP": "192.168.0.1", "hostIPs": [{"ip": "192.168.0.1"}]}), "v1"),
    ("V34-list-only", "Pod", pod(status={"podIPs": [{"ip": "fd00::1"}], "hostIPs": [{"ip": "192.168.0.2"}]}), "v1"),
    ("V35-phases", "Pod", pod(status={"phase": "Succeeded"}), "v1"),
    ("V36-selector", "Service", service({"selector": {"app.kubernetes.io/name": "web", "tier": ""}}), "v1"),
    ("V37-one-unnamed", "Service", service({"ports": [{"port": 80}]}), "v1"),
    ("V37-headless-without-ports", "Service", service({"ports": None, "clusterIP": "None"}), "v1"),
    ("V37-external-name-without-ports", "Service", {"metadata": meta(), "spec": {"type": "ExternalName",
                                                                                 "externalName": "example.com"}}, "v1"),
    ("V37-same-port-other-protocol", "Service", service({"ports": [{"name": "dns", "port": 53},
                                                                  {"name": "dns-udp", "port": 53,
                                                                   "protocol": "UDP"}]}), "v1"),
    ("V38-headless", "Service", service({"clusterIP": "None", "clusterIPs": ["None"]}), "v1"),
    ("V38-dual", "Service", service({"clusterIP": "10.0.0.1", "clusterIPs": ["10.0.0.1", "fd00::1"]}), "v1"),
    ("V38-list-only", "Service", service({"clusterIP": "", "clusterIPs": ["fd00::1"]}), "v1"),
    ("V38-external-name", "Service", service({"type": "ExternalName", "clusterIPs": ["None", "x"]}), "v1"),
    ("V39-types", "Service", service({"type": "LoadBalancer"}), "v1"),
    ("V40-defaulted-selector", "Deployment", without_selector(), "extensions/v1beta1"),
    ("V40-apps-v1beta1", "StatefulSet", without_selector(), "apps/v1beta1"),
    ("V40-rc-defaulted", "ReplicationController", {"metadata": meta(), "spec": {"template": template()}}, "v1"),
    ("V40-job-generated", "Job", {"metadata": meta(), "spec": {"template": template()}}, "batch/v1"),
    ("V40-cronjob", "CronJob", cronjob({"manualSelector": False}), "batch/v1"),
    ("V41-expressions", "DaemonSet", apps(selector={"matchLabels": WEB, "matchExpressions": [
        {"key": "tier", "operator": "DoesNotExist"}, {"key": "app", "operator": "In", "values": ["web", "api"]}]}),
     "apps/v1"),
    ("V41-job-manual", "Job", {"metadata": meta(), "spec": {"manualSelector": True, "selector": {"matchLabels": WEB},
                                                            "template": template()}}, "batch/v1"),
    ("V41-rc", "ReplicationController", {"metadata": meta(), "spec": {"selector": WEB, "template": template(
        {"app": "web", "tier": "fe"})}}, "v1"),
    ("V42-zero", "ReplicaSet", apps(replicas=0), "apps/v1"),
]


def run(kind: str, doc: Any, api_version: str, namespace: str = "shop") -> list[Any]:
    return validate_object(doc, kind=kind, namespace=namespace, api_version=api_version)


@pytest.mark.parametrize(("kind", "doc", "api_version", "code", "path", "message"),
                         [pytest.param(*case[1:], id=case[0]) for case in FAILING])
def test_rule_fails(kind: str, doc: Any, api_version: str, code: str, path: str, message: str) -> None:
    found = run(kind, doc, api_version)
    assert [(d.code, d.severity, format_path(d.field), d.message) for d in found] == [
        (code, Severity.ERROR, path, message)]


@pytest.mark.parametrize(("kind", "doc", "api_version"), [pytest.param(*case[1:], id=case[0]) for case in PASSING])
def test_rule_passes(kind: str, doc: Any, api_version: str) -> None:
    assert run(kind, doc, api_version) == []


def test_every_rule_has_a_failing_and_a_passing_case() -> None:
    failing = {case[4] for case in FAILING} | {"V29"}  # V29 has its own tests below
    passing = {case[0].split("-")[0] for case in PASSING} | {"V29"}
    assert failing == passing == {f"V{n}" for n in range(28, 43)}


def test_every_kind_podfence_reads_is_validated() -> None:
    kinds = {case[1] for case in FAILING}
    # The cluster-wide policy kinds have their own tests (test_validate_cluster_policies.py).
    assert kinds | CLUSTER_POLICY_KINDS == VALIDATED_KINDS


NAMESPACED_KINDS = VALIDATED_KINDS - {"Namespace"} - CLUSTER_POLICY_KINDS


@pytest.mark.parametrize(("namespace", "message"), [
    ("", "Required value"),
    ("Team_A", f'Invalid value: "Team_A": {DNS1123_LABEL}'),
    ("team.a", 'Invalid value: "team.a": must not contain dots'),
])
@pytest.mark.parametrize("kind", sorted(NAMESPACED_KINDS))
def test_v29_the_effective_namespace_is_a_dns1123_label(kind: str, namespace: str, message: str) -> None:
    (d,) = run(kind, {"metadata": meta()}, "", namespace=namespace)
    assert (d.code, format_path(d.field), d.message) == ("V29", "metadata.namespace", message)


@pytest.mark.parametrize("kind", sorted(NAMESPACED_KINDS))
def test_v29_passes_a_label(kind: str) -> None:
    assert [d for d in run(kind, {"metadata": meta()}, "", namespace="a" * 63) if d.code == "V29"] == []


def test_wrong_types_are_shape_errors_and_stop_nothing_else() -> None:
    doc = pod({"nodeName": 7, "containers": [{"ports": [{"name": 80}]}]}, {"phase": True}, labels=["app"],
              name="Web")
    found = [(d.code, format_path(d.field)) for d in run("Pod", doc, "v1")]
    assert found == [("V28", "metadata.name"), ("S1", "metadata.labels"), ("S1", "spec.containers[0].ports[0].name"),
                     ("S1", "spec.nodeName"), ("S1", "status.phase")]


def test_a_service_selector_and_a_workload_selector_are_told_apart() -> None:
    # A Deployment's selector is a LabelSelector: a plain label map is an unknown field.
    (d,) = run("Deployment", apps(selector={"app": "web"}), "apps/v1")
    assert (d.code, format_path(d.field)) == ("S2", "spec.selector.app")


def test_long_values_are_cut_in_messages() -> None:
    (d,) = run("Pod", pod(labels={"app": "v" * (1 << 20)}), "v1")
    assert d.message == f'Invalid value: "{"v" * 64}"... (1048576 bytes): must be no more than 63 bytes'


# --- properties -----------------------------------------------------------------------------

DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")
labels_1123 = st.from_regex(DNS_LABEL, fullmatch=True)
labels_1035 = st.from_regex(re.compile(r"[a-z]([-a-z0-9]{0,61}[a-z0-9])?"), fullmatch=True)
subdomains = st.lists(labels_1123, min_size=1, max_size=4).map(".".join).filter(lambda s: len(s) <= 253)
label_values = st.from_regex(re.compile(r"(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?"), fullmatch=True)
label_keys = st.tuples(st.one_of(st.just(""), subdomains.map(lambda p: p + "/")),
                       st.from_regex(re.compile(r"([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9]"), fullmatch=True)
                       ).map("".join)
label_maps = st.dictionaries(label_keys, label_values, max_size=4)
KIND_NAMES = {"Namespace": labels_1123, "Service": labels_1035}


@given(st.sampled_from(sorted(VALIDATED_KINDS)), st.data(), labels_1123, label_maps)
def test_valid_generated_names_and_labels_always_pass(kind: str, data: st.DataObject, namespace: str,
                                                     labels: dict[str, str]) -> None:
    name = data.draw(KIND_NAMES.get(kind, subdomains))
    if kind == "CronJob":
        name = name[:52].rstrip("-.") or "a"
    doc = {"metadata": {"name": name, "namespace": namespace, "labels": labels, "annotations": labels}}
    assert [d for d in run(kind, doc, "", namespace=namespace) if d.code in {"V28", "V29", "V30", "V31"}] == []


junk = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-(2**40), 2**40), st.floats(allow_nan=False),
              st.text(max_size=4), st.sampled_from(["None", "10.0.0.1", "fd00::1", "web", "TCP"])),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
        st.sampled_from(["metadata", "spec", "status", "name", "labels", "selector", "matchLabels", "template",
                         "ports", "containers", "podIPs", "ip", "clusterIPs", "replicas", "jobTemplate", "x"]),
        inner, max_size=4),
    max_leaves=12,
)


@given(st.sampled_from(sorted(VALIDATED_KINDS)), junk)
def test_no_manifest_shape_makes_validation_raise(kind: str, doc: Any) -> None:
    for d in run(kind, doc, "apps/v1"):
        assert d.severity is Severity.ERROR
        assert d.code.startswith(("V", "S"))
