"""podfence.loader.assemble: load() and load_texts() from manifests to a located Cluster."""

from __future__ import annotations

import io
import json
import textwrap
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

import podfence.loader.assemble as assemble
from podfence.loader import LoadResult, load, load_texts
from podfence.loader.limits import Budget
from podfence.model import Severity

FIXTURES = Path(__file__).parent / "fixtures" / "loader"
EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "baa"


def _path(name: str) -> str:
    return str(FIXTURES / name)


def _found(result: LoadResult) -> list[tuple[str, str | None, int | None, str, str]]:
    """(code, file, line, object, field) of every diagnostic, in order."""
    return [(d.code, d.file, d.line, d.object, d.field_path) for d in result.diagnostics]


def _text(text: str, name: str = "in.yaml", **kw: str) -> LoadResult:
    return load_texts([(name, textwrap.dedent(text))], **kw)  # type: ignore[arg-type]


# -- reading and placing objects ---------------------------------------------------------------


def test_multi_document_file_with_the_default_namespace_of_minus_n() -> None:
    result = load([_path("multi.yaml")], default_namespace="tools")
    assert result.ok and result.diagnostics == () and result.notes == ()
    pods = {p.key: p for p in result.cluster.pods}
    assert sorted(pods) == ["shop/web", "tools/debug"]
    assert [(str(p.source), p.kind) for p in pods.values()] == [
        (f"{_path('multi.yaml')}:13", "Deployment"), (f"{_path('multi.yaml')}:59", "Pod")]
    namespaces = {n.name: n for n in result.cluster.namespaces}
    assert sorted(namespaces) == ["shop", "tools"]
    assert namespaces["shop"].declared and not namespaces["tools"].declared
    assert dict(namespaces["tools"].labels) == {"kubernetes.io/metadata.name": "tools"}


def test_without_minus_n_objects_go_to_default() -> None:
    result = load([_path("multi.yaml")])
    assert result.cluster.pod("default/debug") is not None


def test_an_empty_namespace_is_the_default_namespace() -> None:
    result = _text("""\
        apiVersion: v1
        kind: Pod
        metadata: {name: p, namespace: ""}
        """, default_namespace="dev")
    assert [p.key for p in result.cluster.pods] == ["dev/p"]


def test_list_items_keep_their_own_lines() -> None:
    result = load([_path("list.yaml")])
    assert result.ok
    client = result.cluster.pod("lists/client")
    assert client is not None and client.source is not None and client.source.line == 4
    (policy,) = result.cluster.policies
    # The third item's "-" stands alone on line 14; the object starts on line 15.
    assert policy.key == "lists/deny-all" and policy.source is not None and policy.source.line == 15
    assert result.notes == ("ignored 1 ConfigMap object",)


def test_typed_json_list_items_need_no_kind_of_their_own() -> None:
    result = load([_path("podlist.json")])
    assert result.ok
    assert [(p.key, p.source.line if p.source else None) for p in result.cluster.pods] == [
        ("prod/api-0", 5), ("prod/api-1", 13)]


def test_nested_lists_are_flattened() -> None:
    result = _text("""\
        apiVersion: v1
        kind: List
        items:
        - apiVersion: v1
          kind: List
          items:
          - {apiVersion: v1, kind: Namespace, metadata: {name: inner}}
        """)
    (ns,) = result.cluster.namespaces
    assert (ns.name, ns.source.line if ns.source else None) == ("inner", 7)


def test_json_stream_objects_keep_their_lines() -> None:
    result = load([_path("stream.json")])
    assert [(n.name, n.source.line if n.source else None) for n in result.cluster.namespaces] == [
        ("first", 1), ("second", 3)]


def test_directory_walk_and_the_later_definition_wins() -> None:
    result = load([_path("tree")])
    override = _path("tree/zz-override.yaml")
    assert _found(result) == [("L9", override, 2, "Service tree/backend", "")]
    assert _path("tree/app/config/service.json") + ":1" in result.diagnostics[0].message
    service = result.cluster.service("tree/backend")
    assert service is not None and [p.port for p in service.ports] == [8080]
    assert result.ok  # a warning only
    assert result.cluster.pod("tree/backend") is not None
    assert result.cluster.namespace("tree") is not None and result.cluster.namespace("tree").declared  # type: ignore[union-attr]


def test_stdin_is_read_for_dash() -> None:
    stdin = io.StringIO("apiVersion: v1\nkind: Namespace\nmetadata: {name: piped}\n")
    result = load(["-"], stdin=stdin)
    (ns,) = result.cluster.namespaces
    assert ns.source is not None and (ns.source.file, ns.source.line) == ("-", 1)


def test_stdin_json_without_an_extension_gets_the_json_fallback() -> None:
    stdin = io.StringIO('{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a"}}\n'
                        '{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "b"}}\n')
    result = load(["-"], stdin=stdin)
    assert result.ok and [n.name for n in result.cluster.namespaces] == ["a", "b"]


def test_files_and_stdin_together_in_the_order_given() -> None:
    stdin = io.StringIO("apiVersion: v1\nkind: Pod\nmetadata: {name: web, namespace: shop, labels: {from: stdin}}\n")
    result = load([_path("multi.yaml"), "-"], stdin=stdin)
    assert _found(result) == [("L10", _path("multi.yaml"), 13, "Deployment shop/web", "")]
    assert result.cluster.pod("shop/web").labels == {"from": "stdin"}  # type: ignore[union-attr]
    assert result.cluster.pod("shop/web-deployment").kind == "Deployment"  # type: ignore[union-attr]


# -- names, duplicates and notes ---------------------------------------------------------------


def test_representatives_sharing_a_pod_name_are_renamed_and_duplicates_replaced() -> None:
    result = load([_path("collisions.yaml")])
    file = _path("collisions.yaml")
    assert _found(result) == [
        ("L9", file, 26, "Deployment clash/api", ""),
        ("L10", file, 5, "Deployment clash/web", ""),
        ("L10", file, 12, "StatefulSet clash/web", ""),
    ]
    assert f"{file}:19" in result.diagnostics[0].message
    assert "clash/web-deployment" in result.diagnostics[1].message
    pods = {p.key: p for p in result.cluster.pods}
    assert sorted(pods) == ["clash/api", "clash/solo", "clash/web", "clash/web-deployment", "clash/web-statefulset"]
    assert pods["clash/web"].kind == "Pod"
    assert pods["clash/web-statefulset"].labels == {"app": "web-db"}
    assert pods["clash/api"].labels == {"app": "api", "version": "v2"}


def test_a_renamed_pod_does_not_take_a_name_already_in_use() -> None:
    result = _text("""\
        {apiVersion: v1, kind: Pod, metadata: {name: web}}
        ---
        {apiVersion: v1, kind: Pod, metadata: {name: web-deployment}}
        ---
        {apiVersion: apps/v1, kind: Deployment, metadata: {name: web},
         spec: {selector: {matchLabels: {app: web}}, template: {metadata: {labels: {app: web}}}}}
        """)
    assert sorted(p.key for p in result.cluster.pods) == [
        "default/web", "default/web-deployment", "default/web-deployment-2"]


def test_an_invalid_later_definition_does_not_replace_a_valid_one() -> None:
    result = _text("""\
        apiVersion: networking.k8s.io/v1
        kind: NetworkPolicy
        metadata: {name: p}
        spec: {podSelector: {}}
        ---
        apiVersion: networking.k8s.io/v1
        kind: NetworkPolicy
        metadata: {name: p}
        spec: {podSelector: {}, policyTypes: [ingress]}
        """)
    assert [(d.code, d.line) for d in result.diagnostics] == [("V27", 9)]
    (policy,) = result.cluster.policies
    assert policy.source is not None and policy.source.line == 1


def test_kinds_podfence_does_not_model_are_counted_in_notes() -> None:
    result = load([_path("unknown-kinds.yaml")])
    assert result.notes == (
        "ignored 3 ConfigMap objects",
        "ignored 1 Ingress object",
        "ignored 1 Kustomization object",
        "ignored 1 Secret object",
        "ignored 1 Service (serving.knative.dev/v1) object",
    )
    assert _found(result) == [("L11", _path("unknown-kinds.yaml"), 38, "NetworkPolicy misc/calico-policy", "apiVersion")]
    assert result.ok
    assert result.cluster.services == () and result.cluster.policies == () and result.cluster.namespaces == ()
    # AdminNetworkPolicy is a cluster-wide tier podfence reads (a rule-less one changes nothing).
    assert [(p.kind, p.name, p.tier, p.priority) for p in result.cluster.cluster_policies] == [
        ("AdminNetworkPolicy", "cluster-wide", "Admin", 10)]


# -- NetworkPolicy validation ------------------------------------------------------------------


def test_validation_errors_are_placed_at_the_line_of_the_field() -> None:
    result = load([_path("errors/invalid-except.yaml")])
    file = _path("errors/invalid-except.yaml")
    assert _found(result) == [
        ("V25", file, 13, "NetworkPolicy sec/bad-except", "spec.egress[0].to[0].ipBlock.except[0]"),
        ("V23", file, 25, "NetworkPolicy sec/host-bits", "spec.egress[0].to[0].ipBlock.cidr"),
    ]
    assert [d.severity for d in result.diagnostics] == [Severity.ERROR, Severity.WARNING]
    assert not result.ok
    # The policy with an error is left out; the one with a warning is kept.
    (policy,) = result.cluster.policies
    assert policy.key == "sec/host-bits" and policy.source is not None and policy.source.line == 15


def test_policies_without_a_namespace_are_validated_and_named_in_the_default_namespace() -> None:
    result = _text("""\
        apiVersion: networking.k8s.io/v1
        kind: NetworkPolicy
        metadata:
          name: Bad_Name
        spec: {}
        """, default_namespace="team-a")
    (d,) = result.diagnostics
    assert (d.code, d.line, d.object, d.field_path) == ("V2", 4, "NetworkPolicy team-a/Bad_Name", "metadata.name")


def test_a_policy_validation_cannot_read_is_an_l12_error_not_a_crash(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(assemble, "validate_network_policy", lambda doc, **kw: [])
    result = _text("""\
        apiVersion: networking.k8s.io/v1
        kind: NetworkPolicy
        metadata: {name: p}
        spec: {ingress: 5}
        """)
    assert [(d.code, d.line, d.object) for d in result.diagnostics] == [("L12", 1, "NetworkPolicy default/p")]
    assert result.cluster.policies == ()


# -- every loader error, at its file and line --------------------------------------------------

ERRORS: dict[str, list[tuple[str, int | None, str, str]]] = {
    "syntax.yaml": [("L3", 12, "", "")],
    "latin1.yaml": [("L2", 4, "", "")],
    "broken.json": [("L3", 5, "", "")],
    "duplicate-keys.yaml": [
        ("L4", 10, "NetworkPolicy dup/twice", "spec"),
        ("L4", 18, "Pod dup/labels-twice", "metadata.labels"),
    ],
    "not-mapping.yaml": [("L5", 1, "", ""), ("L5", 4, "", ""), ("L5", 12, "", "")],
    "missing.yaml": [
        ("L6", 1, "", "kind"),
        ("L6", 4, "Pod default/no-api-version", "apiVersion"),
        ("L6", 9, "Service", "metadata.name"),
        ("L6", 16, "Deployment work/no-template", "spec.template"),
        ("L6", 22, "CronJob work/no-job-template", "spec.jobTemplate"),
        ("L6", 25, "List", "items"),
    ],
    "api-versions.yaml": [
        ("L7", 1, "NetworkPolicy legacy/old-policy", "apiVersion"),
        ("L7", 6, "Deployment legacy/typo", "apiVersion"),
    ],
    "values.yaml": [
        ("L8", 8, "Pod v/bad-values", "spec.containers[0].ports[0].containerPort"),
        ("L8", 10, "Pod v/bad-values", "spec.containers[0].ports[1].protocol"),
        ("L8", 12, "Pod v/bad-values", "status.podIP"),
        ("L8", 18, "Service v/bad-service", "spec.clusterIP"),
        ("L8", 20, "Service v/bad-service", "spec.ports[0].port"),
        ("L8", 28, "Service v/quoted-target", "spec.ports[0].targetPort"),
        # Upper case breaks two rules of port names: only a-z0-9-, and at least one letter.
        ("L8", 36, "Pod v/upper-name", "spec.containers[0].ports[0].name"),
        ("L8", 36, "Pod v/upper-name", "spec.containers[0].ports[0].name"),
    ],
    "types.yaml": [
        ("S1", 10, "Deployment t/typed", "spec.template.metadata.labels.version"),
        ("S1", 12, "Deployment t/typed", "spec.template.spec.hostNetwork"),
        ("S1", 16, "Deployment t/typed", "spec.template.spec.containers[0].ports[0].containerPort"),
        ("S1", 22, "Pod t/typed-pod", "spec.containers"),
        ("S1", 24, "Pod t/typed-pod", "status.podIPs"),
        ("S1", 28, "Service default/typed-service", "metadata.namespace"),
        ("S1", 30, "Service default/typed-service", "spec.selector"),
        ("S1", 37, "Namespace typed-namespace", "metadata.labels"),
    ],
}


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_each_error_is_reported_at_its_file_and_line(name: str) -> None:
    result = load([_path(f"errors/{name}")])
    file = _path(f"errors/{name}")
    assert _found(result) == [(code, file, line, obj, field) for code, line, obj, field in ERRORS[name]]
    assert all(d.severity is Severity.ERROR for d in result.diagnostics)
    assert not result.ok


@pytest.mark.parametrize(
    ("name", "kept"),
    [
        ("syntax.yaml", {"namespaces": ["before-the-error"]}),  # documents before the error are kept
        ("duplicate-keys.yaml", {"pods": ["dup/fine"], "policies": []}),
        ("not-mapping.yaml", {"namespaces": ["listed"]}),
        ("api-versions.yaml", {"pods": ["legacy/old-but-fine"], "policies": []}),
        ("values.yaml", {"pods": [], "services": []}),
        ("types.yaml", {"pods": [], "services": [], "namespaces": []}),
    ],
)
def test_objects_with_errors_are_left_out_and_the_rest_kept(name: str, kept: dict[str, list[str]]) -> None:
    cluster = load([_path(f"errors/{name}")]).cluster
    names = {
        "pods": [p.key for p in cluster.pods], "services": [s.key for s in cluster.services],
        "policies": [p.key for p in cluster.policies], "namespaces": [n.name for n in cluster.namespaces],
    }
    for what, expected in kept.items():
        assert names[what] == expected, what


def test_messages_say_what_to_do() -> None:
    messages = {d.code: d.message for d in load([_path("errors/api-versions.yaml")]).diagnostics}
    assert messages["L7"].endswith("Deployment is served as apps/v1")
    dup = load([_path("errors/duplicate-keys.yaml")]).diagnostics[0]
    assert dup.message.startswith('key "ingress" is already set at line 8')
    missing = load(["/no/such/dir/x.yaml"]).diagnostics[0]
    assert missing.one_line() == "/no/such/dir/x.yaml: cannot read: no such file or directory"


def test_a_missing_path_does_not_stop_the_others() -> None:
    result = load(["/no/such/file.yaml", _path("multi.yaml")])
    assert [(d.code, d.file, d.line) for d in result.diagnostics] == [("L1", "/no/such/file.yaml", None)]
    assert len(result.cluster.pods) == 2


# -- robustness --------------------------------------------------------------------------------

_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-5, 70000), st.sampled_from(
    ["", "x", "TCP", "tcp", "10.0.0.1", "fd00::1", "None", "1.0", "Pod", "v1", "apps/v1", "10.0.0.0/8"]))
_KEYS = st.sampled_from([
    "apiVersion", "kind", "metadata", "name", "namespace", "labels", "spec", "template", "jobTemplate",
    "containers", "initContainers", "ports", "containerPort", "protocol", "port", "targetPort", "selector",
    "status", "podIP", "podIPs", "ip", "hostNetwork", "items", "clusterIP", "clusterIPs", "ingress", "from",
    "podSelector", "ipBlock", "cidr", "except",
])
_VALUES = st.recursive(_SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(_KEYS, inner, max_size=4)), max_leaves=12)
_KINDS = st.sampled_from(["Pod", "Deployment", "CronJob", "Service", "Namespace", "NetworkPolicy", "List",
                          "PodList", "ConfigMap", None, 3])
_API_VERSIONS = st.sampled_from(["v1", "apps/v1", "batch/v1", "networking.k8s.io/v1", "x.io/v1", None])


@settings(max_examples=300, deadline=None)
@given(kind=_KINDS, api_version=_API_VERSIONS, body=st.dictionaries(_KEYS, _VALUES, max_size=5))
def test_no_manifest_shape_makes_the_loader_raise(kind: object, api_version: object, body: dict[str, object]) -> None:
    doc = {**body, "kind": kind, "apiVersion": api_version}
    result = load_texts([("f.json", json.dumps(doc))])
    assert isinstance(result, LoadResult)
    assert all(d.file == "f.json" and d.line is not None for d in result.diagnostics)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab:- \n{}[]&*!|>'\"#%@`,?\t\x85é0")), max_size=80))
def test_no_text_makes_the_loader_raise(text: str) -> None:
    result = load_texts([("f.yaml", text)])
    assert isinstance(result, LoadResult)


def test_the_bundled_example_loads_cleanly_with_every_object_placed() -> None:
    result = load([str(EXAMPLE)])
    assert result.ok and result.diagnostics == () and result.notes == ()
    objects = [*result.cluster.pods, *result.cluster.services, *result.cluster.policies]
    assert objects and all(o.source is not None and o.source.file.startswith(str(EXAMPLE)) for o in objects)
    assert all(o.source.line >= 1 for o in objects)  # type: ignore[union-attr]


def test_podfence_own_files_beside_manifests_are_skipped_with_a_note(tmp_path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "app.yaml").write_text("apiVersion: v1\nkind: Pod\nmetadata: {name: web}\n")
    (tmp_path / "intents.yaml").write_text("services:\n  default/web: {talks_to: []}\n")
    (tmp_path / "tests.yaml").write_text("tests: []\n")
    result = load([str(tmp_path)])
    assert result.ok and [p.key for p in result.cluster.pods] == ["default/web"]
    assert [n for n in result.notes if "not a Kubernetes object" in n] == [
        f"skipped {tmp_path / 'intents.yaml'}:1: not a Kubernetes object (no kind or apiVersion)",
        f"skipped {tmp_path / 'tests.yaml'}:1: not a Kubernetes object (no kind or apiVersion)",
    ]
    # Half an object is still an error: it was meant to be one.
    half = load_texts([("half.yaml", "kind: Pod\nmetadata: {name: x}\n")])
    assert [d.code for d in half.diagnostics] == ["L6"]


# -- limits ----------------------------------------------------------------------------


def test_objects_are_counted_modelled_or_not() -> None:
    result = _text("""\
        apiVersion: v1
        kind: List
        items:
        - {apiVersion: v1, kind: Pod, metadata: {name: a}}
        - {apiVersion: v1, kind: ConfigMap, metadata: {name: c}}
        ---
        settings: {}
        """)
    assert (result.objects, [p.key for p in result.cluster.pods]) == (2, ["default/a"])
    assert load_texts([("empty.yaml", "# nothing\n---\n")]).objects == 0


def test_loading_stops_at_the_first_object_past_max_objects() -> None:
    budget = Budget(max_objects=2)
    text = "".join(f"---\napiVersion: v1\nkind: Pod\nmetadata: {{name: p{i}}}\n" for i in range(5))
    result = load_texts([("pods.yaml", text), ("more.yaml", text)], budget=budget)
    assert [p.name for p in result.cluster.pods] == ["p0", "p1"]
    assert _found(result) == [("L13", "pods.yaml", 10, "", "")]
    assert budget.objects == 3


def test_lists_nest_deeper_than_python_recursion_goes() -> None:
    pod = '{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "a"}}'
    text = '{"kind": "List", "apiVersion": "v1", "items": [' * 490 + pod + "]}" * 490
    result = load_texts([("lists.json", text)])
    assert result.ok and [p.key for p in result.cluster.pods] == ["default/a"]


def test_the_texts_read_are_kept_when_asked(tmp_path: Path) -> None:
    path = tmp_path / "pod.yaml"
    path.write_text("apiVersion: v1\nkind: Pod\nmetadata: {name: a}\n")
    stdin = io.StringIO("apiVersion: v1\nkind: Pod\nmetadata: {name: b}\n")
    result = load([str(path), "-"], stdin=stdin, keep_texts=True)
    assert dict(result.texts) == {str(path): path.read_text(), "-": "apiVersion: v1\nkind: Pod\nmetadata: {name: b}\n"}
    assert load([str(path)]).texts == {}
