"""Hostile manifests of every kind podfence reads, through the console script.

Names holding newlines or slashes, bad label keys and values, a 1 MiB label
value, oversized annotations, bad container and Service ports, contradictory
addresses, a workload whose selector does not own its pods, and keys written
twice: each is refused the way the API server refuses it, as one line
``file:line: Kind ns/name: field.path: message`` per problem and exit 2.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from api_messages import DNS1035_LABEL, DNS1123_LABEL, KEY_NAME_PART, LABEL_VALUE, MISMATCH, SUBDOMAIN
from cli_support import podfence


# The pod template every workload below uses, indented to sit under ``spec:``.
TEMPLATE = """\
  template:
    metadata:
      labels: {app: web}
    spec:
      containers: [{name: c, ports: [{containerPort: 8080, name: http}]}]
"""
APPS_SPEC = "spec:\n  selector: {matchLabels: {app: web}}\n" + TEMPLATE
BODIES = {
    "Pod": ("v1", "spec:\n  containers: [{name: c}]\n"),
    "Service": ("v1", "spec:\n  selector: {app: web}\n  ports: [{port: 80}]\n"),
    "Namespace": ("v1", ""),
    "Deployment": ("apps/v1", APPS_SPEC),
    "ReplicaSet": ("apps/v1", APPS_SPEC),
    "StatefulSet": ("apps/v1", APPS_SPEC),
    "DaemonSet": ("apps/v1", APPS_SPEC),
    "ReplicationController": ("v1", "spec:\n  selector: {app: web}\n" + TEMPLATE),
    "Job": ("batch/v1", "spec:\n" + TEMPLATE),
    "CronJob": ("batch/v1", "spec:\n  schedule: '@daily'\n  jobTemplate:\n    spec:\n"
                + "".join("    " + line + "\n" for line in TEMPLATE.splitlines())),
}
NAME_RULES = {"Namespace": DNS1123_LABEL, "Service": DNS1035_LABEL}


def manifest(kind: str, name: str = '"web"', namespace: str | None = "shop", body: str | None = None) -> str:
    """One manifest of ``kind`` with a YAML-quoted ``name``; ``metadata.name`` is always on line 4."""
    api_version, default_body = BODIES[kind]
    ns = f"  namespace: {namespace}\n" if namespace is not None and kind != "Namespace" else ""
    return (f"apiVersion: {api_version}\nkind: {kind}\nmetadata:\n  name: {name}\n{ns}"
            + (default_body if body is None else body))


def check(tmp_path: Path, *manifests: str) -> tuple[subprocess.CompletedProcess[str], str]:
    path = tmp_path / "manifests.yaml"
    path.write_text("---\n".join(manifests))
    return podfence("check", "-f", str(path)), str(path)


def problems(result: subprocess.CompletedProcess[str]) -> list[str]:
    """The diagnostic lines of ``check`` (its stdout without the summary line)."""
    lines = result.stdout.splitlines()
    assert lines and lines[-1].endswith(("warning", "warnings")), result.stdout + result.stderr
    return lines[:-1]


def refused(tmp_path: Path, *manifests: str) -> tuple[list[str], str]:
    """The diagnostic lines of a ``check`` that must exit 2, and the file name they start with."""
    result, path = check(tmp_path, *manifests)
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr == ""
    return problems(result), path


# -- names --------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", sorted(BODIES))
@pytest.mark.parametrize(("yaml_name", "shown"), [('"we/b\\nx"', '"we/b\\nx"'), ('"web/x"', '"web/x"')])
def test_a_name_with_a_newline_or_a_slash_is_one_quoted_error_line_for_every_kind(
    tmp_path: Path, kind: str, yaml_name: str, shown: str,
) -> None:
    lines, path = refused(tmp_path, manifest(kind, yaml_name))
    label = f"{kind} {shown}" if kind == "Namespace" else f"{kind} shop/{shown}"
    assert lines == [f"{path}:4: {label}: metadata.name: Invalid value: {shown}: "
                     f"{NAME_RULES.get(kind, SUBDOMAIN)}"]


def test_a_service_name_must_start_with_a_letter_and_a_namespace_name_has_no_dots(tmp_path: Path) -> None:
    lines, path = refused(tmp_path, manifest("Service", "1web"), manifest("Namespace", "team.a"),
                          manifest("Pod", "1web.v2"))
    assert lines == [
        f'{path}:4: Service shop/1web: metadata.name: Invalid value: "1web": {DNS1035_LABEL}',
        f'{path}:13: Namespace team.a: metadata.name: Invalid value: "team.a": must not contain dots',
    ]


def test_an_invalid_namespace_is_refused_for_every_namespaced_kind(tmp_path: Path) -> None:
    lines, path = refused(tmp_path, manifest("Pod", namespace='"Team A"'))
    assert lines == [f'{path}:5: Pod "Team A"/web: metadata.namespace: Invalid value: "Team A": {DNS1123_LABEL}']


def test_a_cronjob_name_leaves_room_for_the_job_suffix(tmp_path: Path) -> None:
    lines, path = refused(tmp_path, manifest("CronJob", "a" * 53), manifest("CronJob", "b" * 52))
    assert lines == [f'{path}:4: CronJob shop/{"a" * 53}: metadata.name: Invalid value: "{"a" * 53}": '
                     "must be no more than 52 characters"]


# -- labels and annotations ---------------------------------------------------------------------


def test_invalid_label_keys_and_values_are_refused_on_objects_and_pod_templates(tmp_path: Path) -> None:
    pod = manifest("Pod", body='  labels: {"-app": web, tier: "front end"}\nspec: {}\n')
    deployment = manifest("Deployment", body=APPS_SPEC.replace("labels: {app: web}",
                                                               "labels: {app: web, example.com/: x}"))
    lines, path = refused(tmp_path, pod, deployment)
    assert lines == [
        f'{path}:6: Pod shop/web: metadata.labels: Invalid value: "-app": {KEY_NAME_PART}',
        f'{path}:6: Pod shop/web: metadata.labels: Invalid value: "front end": {LABEL_VALUE}',
        f'{path}:18: Deployment shop/web: spec.template.metadata.labels: Invalid value: "example.com/": '
        "name part must be non-empty",
        f'{path}:18: Deployment shop/web: spec.template.metadata.labels: Invalid value: "example.com/": '
        f"name part {KEY_NAME_PART[len('name part '):]}",
    ]


def test_a_1_mib_label_value_gives_one_short_error_line(tmp_path: Path) -> None:
    value = "x" * (1 << 20)
    lines, path = refused(tmp_path, manifest("Pod", body=f"  labels: {{app: {value}}}\nspec: {{}}\n"))
    assert lines == [f'{path}:6: Pod shop/web: metadata.labels: Invalid value: "{"x" * 64}"... (1048576 bytes): '
                     "must be no more than 63 bytes"]


@pytest.mark.parametrize(("where", "line", "field"), [
    ("object", 6, "metadata.annotations"),
    ("template", 11, "spec.template.metadata.annotations"),
])
def test_annotations_over_256_kib_are_refused(tmp_path: Path, where: str, line: int, field: str) -> None:
    def annotated(name: str, size: int) -> str:
        note = f"annotations: {{note: {'n' * (size - len('note'))}}}"  # keys and values count
        if where == "object":
            return manifest("Deployment", name, body=f"  {note}\n{APPS_SPEC}")
        return manifest("Deployment", name, body=APPS_SPEC.replace("      labels: {app: web}\n",
                                                                   f"      labels: {{app: web}}\n      {note}\n"))

    lines, path = refused(tmp_path, annotated("web", 256 * 1024 + 1), annotated("at-the-limit", 256 * 1024))
    assert lines == [f"{path}:{line}: Deployment shop/web: {field}: Too long: may not be more than 262144 bytes"]


# -- ports --------------------------------------------------------------------------------------


def test_container_port_names_are_unique_within_a_container(tmp_path: Path) -> None:
    spec = """\
spec:
  containers:
  - name: a
    ports: [{containerPort: 80, name: http}, {containerPort: 81, name: http}]
  - name: b
    ports: [{containerPort: 82, name: http}]
"""
    lines, path = refused(tmp_path, manifest("Pod", body=spec))
    assert lines == [f'{path}:9: Pod shop/web: spec.containers[0].ports[1].name: Duplicate value: "http"']


def test_service_ports_are_required_with_valid_unique_names_and_distinct_port_protocol(tmp_path: Path) -> None:
    spec = """\
spec:
  selector: {app: web}
  ports:
  - {name: HTTP, port: 80}
  - {port: 81}
  - {name: web, port: 82, targetPort: 8080}
  - {name: web, port: 82, protocol: TCP}
"""
    portless = manifest("Service", "portless", body="spec:\n  selector: {app: web}\n")
    headless = manifest("Service", "headless", body="spec:\n  selector: {app: web}\n  clusterIP: None\n")
    lines, path = refused(tmp_path, manifest("Service", body=spec), portless, headless)
    assert lines == [
        f'{path}:9: Service shop/web: spec.ports[0].name: Invalid value: "HTTP": {DNS1123_LABEL}',
        f"{path}:10: Service shop/web: spec.ports[1].name: Required value",
        f'{path}:12: Service shop/web: spec.ports[3].name: Duplicate value: "web"',
        f'{path}:12: Service shop/web: spec.ports[3]: Duplicate value: {{"protocol": "TCP", "port": 82}}',
        f"{path}:19: Service shop/portless: spec.ports: Required value",
    ]


# -- addresses ----------------------------------------------------------------------------------


def test_pod_addresses_hold_one_per_family_and_agree_with_the_single_field(tmp_path: Path) -> None:
    two_v4 = manifest("Pod", "two-v4", body="spec: {}\nstatus:\n  podIPs: [{ip: 10.0.0.1}, {ip: 10.0.0.2}]\n")
    disagree = manifest("Pod", "disagree", body="""\
spec: {}
status:
  podIP: 10.0.0.3
  podIPs: [{ip: 10.0.0.4}]
  hostIP: 192.168.0.1
  hostIPs: [{ip: 192.168.0.2}, {ip: fd00::2}]
""")
    lines, path = refused(tmp_path, two_v4, disagree)
    assert lines == [
        f'{path}:8: Pod shop/two-v4: status.podIPs: Invalid value: [{{"ip": "10.0.0.1"}}, {{"ip": "10.0.0.2"}}]: '
        "may specify no more than one IP for each IP family",
        f'{path}:18: Pod shop/disagree: status.podIPs[0].ip: Invalid value: "10.0.0.4": must be equal to `podIP`',
        f'{path}:20: Pod shop/disagree: status.hostIPs[0].ip: Invalid value: "192.168.0.2": '
        "must be equal to `hostIP`",
    ]


def test_service_cluster_ips_follow_the_api_server_rules(tmp_path: Path) -> None:
    def service(name: str, ips: str) -> str:
        return manifest("Service", name, body=f"spec:\n  ports: [{{port: 80}}]\n{ips}")

    lines, path = refused(
        tmp_path,
        service("headless-and-more", "  clusterIPs: [None, 10.0.0.1]\n"),
        service("none-later", "  clusterIPs: [10.0.0.1, None]\n"),
        service("same-family", "  clusterIP: 10.0.0.1\n  clusterIPs: [10.0.0.1, 10.0.0.2]\n"),
        service("first-differs", "  clusterIP: 10.0.0.1\n  clusterIPs: [10.0.0.9]\n"),
        service("dual", "  clusterIP: 10.0.0.1\n  clusterIPs: [10.0.0.1, fd00::1]\n"),
    )
    assert lines == [
        f'{path}:8: Service shop/headless-and-more: spec.clusterIPs: Invalid value: ["None", "10.0.0.1"]: '
        "'None' must be the first and only value",
        f'{path}:17: Service shop/none-later: spec.clusterIPs[1]: Invalid value: "None": must be a valid IP address',
        f'{path}:27: Service shop/same-family: spec.clusterIPs: Invalid value: ["10.0.0.1", "10.0.0.2"]: '
        "may specify no more than one IP for each IP family",
        f'{path}:37: Service shop/first-differs: spec.clusterIPs: Invalid value: ["10.0.0.9"]: '
        "first value must match `clusterIP`",
    ]


def test_pod_phase_node_name_and_service_type_take_the_api_server_values(tmp_path: Path) -> None:
    pod = manifest("Pod", body="spec:\n  nodeName: Node_1\nstatus:\n  phase: running\n")
    service = manifest("Service", body="spec:\n  type: Headless\n  ports: [{port: 80}]\n")
    lines, path = refused(tmp_path, pod, service)
    assert lines == [
        f'{path}:7: Pod shop/web: spec.nodeName: Invalid value: "Node_1": {SUBDOMAIN}',
        f'{path}:9: Pod shop/web: status.phase: Unsupported value: "running": supported values: "Pending", '
        '"Running", "Succeeded", "Failed", "Unknown"',
        f'{path}:17: Service shop/web: spec.type: Unsupported value: "Headless": supported values: "ClusterIP", '
        '"ExternalName", "LoadBalancer", "NodePort"',
    ]


# -- workload selectors -------------------------------------------------------------------------


def test_a_workload_selector_must_match_its_template(tmp_path: Path) -> None:
    other = APPS_SPEC.replace("matchLabels: {app: web}", "matchLabels: {app: api}")
    expression = APPS_SPEC.replace("matchLabels: {app: web}",
                                   "matchExpressions: [{key: app, operator: NotIn, values: [web]}]")
    lines, path = refused(tmp_path, manifest("Deployment", "api", body=other),
                          manifest("StatefulSet", "db", body=expression),
                          manifest("ReplicationController", "rc",
                                   body=("spec:\n  selector: {app: api}\n" + TEMPLATE)))
    assert lines == [
        f'{path}:10: Deployment shop/api: spec.template.metadata.labels: Invalid value: {{"app": "web"}}: {MISMATCH}',
        f'{path}:23: StatefulSet shop/db: spec.template.metadata.labels: Invalid value: {{"app": "web"}}: '
        f"{MISMATCH}",
        f'{path}:36: ReplicationController shop/rc: spec.template.metadata.labels: Invalid value: {{"app": "web"}}: '
        f"{MISMATCH}",
    ]


def test_workload_selectors_are_required_not_empty_and_valid_and_replicas_not_negative(tmp_path: Path) -> None:
    lines, path = refused(
        tmp_path,
        manifest("Deployment", "no-selector", body="spec:\n" + TEMPLATE),
        manifest("ReplicaSet", "empty", body="spec:\n  selector: {}\n" + TEMPLATE),
        manifest("DaemonSet", "bad-operator", body=APPS_SPEC.replace(
            "matchLabels: {app: web}", "matchLabels: {app: web}, matchExpressions: [{key: app, operator: in}]")),
        manifest("StatefulSet", "negative", body=APPS_SPEC + "  replicas: -1\n"),
        manifest("CronJob", "picky", body=BODIES["CronJob"][1].replace(
            "    spec:\n", "    spec:\n      selector: {matchLabels: {app: web}}\n", 1)),
    )
    assert lines == [
        f"{path}:6: Deployment shop/no-selector: spec.selector: Required value",
        f"{path}:19: ReplicaSet shop/empty: spec.selector: Invalid value: {{}}: "
        "empty selector is invalid for deployment",
        f'{path}:32: DaemonSet shop/bad-operator: spec.selector.matchExpressions[0].operator: Invalid value: "in": '
        "not a valid selector operator",
        f"{path}:51: StatefulSet shop/negative: spec.replicas: Invalid value: -1: must be greater than or equal to 0",
        f'{path}:62: CronJob shop/picky: spec.jobTemplate.spec.selector: Invalid value: {{"matchLabels": '
        '{"app": "web"}}: `selector` will be auto-generated',
    ]


def test_valid_objects_of_every_kind_pass(tmp_path: Path) -> None:
    result, _ = check(tmp_path, *(manifest(kind, kind.lower()) for kind in sorted(BODIES)))
    assert (result.returncode, result.stdout) == (0, f"ok: {len(BODIES)} objects valid\n")


# -- duplicate keys -----------------------------------------------------------------------------


def test_duplicate_keys_name_the_field_path_of_their_mapping(tmp_path: Path) -> None:
    policy = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: p, namespace: shop}
spec:
  podSelector: {}
  ingress:
  - from:
    - podSelector: {}
    - podSelector: {matchLabels: {app: a}}
      podSelector: {matchLabels: {app: b}}
"""
    lines, path = refused(tmp_path, policy, manifest("Pod", body="spec:\n  nodeName: n1\n  nodeName: n2\n"))
    assert lines == [
        f'{path}:10: NetworkPolicy shop/p: spec.ingress[0].from[1]: key "podSelector" is already set at line 9; '
        "kubectl rejects duplicate keys, so the object is left out",
        f'{path}:19: Pod shop/web: spec: key "nodeName" is already set at line 18; '
        "kubectl rejects duplicate keys, so the object is left out",
    ]


# -- every command ------------------------------------------------------------------------------


@pytest.mark.parametrize("command", [
    ("matrix", "--port", "80"), ("connectivity",), ("lint",), ("audit",),
    ("explain", "--from", "shop/web", "--to", "shop/web", "--port", "80"),
])
def test_every_command_refuses_an_invalid_object_with_the_same_line(tmp_path: Path, command: tuple[str, ...]) -> None:
    path = tmp_path / "pod.yaml"
    path.write_text(manifest("Pod", body='  labels: {app: "a b"}\nspec: {}\n'))
    result = podfence(command[0], "-f", str(path), *command[1:])
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stdout == ""
    assert result.stderr == f'{path}:6: Pod shop/web: metadata.labels: Invalid value: "a b": {LABEL_VALUE}\n'
