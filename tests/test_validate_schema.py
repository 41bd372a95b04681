"""Shape checks: wrong types (S1), unknown fields (S2), integers out of range (S3), null semantics."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
import yaml

from podfence.model import Diagnostic, NetworkPolicy, Settings, format_path
from podfence.validate import validate_network_policy


def policy(spec: Any, **metadata: Any) -> dict[str, Any]:
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": "shape", **metadata}, "spec": spec}


def run(doc: Any) -> list[Diagnostic]:
    return validate_network_policy(doc, namespace="default", settings=Settings())


def summary(diags: list[Diagnostic]) -> list[tuple[str, str]]:
    return [(d.code, format_path(d.field)) for d in diags]


def from_yaml(text: str) -> Any:
    return yaml.safe_load(text)


# --- wrong types ----------------------------------------------------------------------

def test_document_not_a_mapping() -> None:
    (d,) = run(["not", "a", "policy"])
    assert (d.code, d.field) == ("S1", ())
    assert d.message == "Invalid type: must be a mapping, not a list"


def test_spec_not_a_mapping() -> None:
    (d,) = run(policy("deny-all"))
    assert summary([d]) == [("S1", "spec")]
    assert d.message == 'Invalid type: must be a mapping, not a string ("deny-all")'


def test_ingress_not_a_list_is_reported_once_and_the_walk_goes_on() -> None:
    doc = policy({"ingress": {"from": [{}]}, "egress": [{"to": [{}]}], "policyTypes": ["egress"]})
    assert summary(run(doc)) == [("S1", "spec.ingress"), ("V19", "spec.egress[0].to[0]"),
                                 ("V27", "spec.policyTypes[0]")]


def test_rule_not_a_mapping() -> None:
    assert summary(run(policy({"ingress": ["allow"]}))) == [("S1", "spec.ingress[0]")]


def test_peer_not_a_mapping_is_not_also_an_empty_peer() -> None:
    doc = policy({"ingress": [{"from": ["app=web", {"podSelector": "app=web"}]}]})
    assert summary(run(doc)) == [("S1", "spec.ingress[0].from[0]"), ("S1", "spec.ingress[0].from[1].podSelector")]


def test_yaml_yes_as_a_port_is_a_boolean() -> None:
    doc = from_yaml("metadata: {name: p}\nspec:\n  ingress:\n  - ports:\n    - port: yes\n")
    (d,) = run(doc)
    assert summary([d]) == [("S1", "spec.ingress[0].ports[0].port")]
    assert "must be an integer or a string, not a boolean (true)" in d.message
    assert "quote" in d.message


@pytest.mark.parametrize("value", [80.0, [80], {"number": 80}])
def test_port_of_other_types(value: Any) -> None:
    (d,) = run(policy({"ingress": [{"ports": [{"port": value}]}]}))
    assert summary([d]) == [("S1", "spec.ingress[0].ports[0].port")]
    assert d.message.startswith("Invalid type: must be an integer or a string")


@pytest.mark.parametrize("value", ["90", 90.5, True])
def test_end_port_must_be_an_integer(value: Any) -> None:
    (d,) = run(policy({"ingress": [{"ports": [{"port": 80, "endPort": value}]}]}))
    assert summary([d]) == [("S1", "spec.ingress[0].ports[0].endPort")]
    assert d.message.startswith("Invalid type: must be an integer, not")


def test_bad_end_port_type_leaves_the_port_checked() -> None:
    doc = policy({"ingress": [{"ports": [{"port": 0, "endPort": "90"}]}]})
    assert summary(run(doc)) == [("S1", "spec.ingress[0].ports[0].endPort"), ("V13", "spec.ingress[0].ports[0].port")]


def test_protocol_must_be_a_string() -> None:
    assert summary(run(policy({"egress": [{"ports": [{"protocol": 6}]}]}))) == [
        ("S1", "spec.egress[0].ports[0].protocol")]


@pytest.mark.parametrize(("field", "value"), [("port", 1 << 31), ("port", -(1 << 31) - 1), ("endPort", 1 << 40)])
def test_integers_beyond_int32(field: str, value: int) -> None:
    port: dict[str, Any] = {"port": 80, field: value}
    (d,) = run(policy({"ingress": [{"ports": [port]}]}))
    assert (d.code, format_path(d.field)) == ("S3", f"spec.ingress[0].ports[0].{field}")
    assert "32-bit" in d.message


def test_largest_int32_is_a_range_error_not_a_type_error() -> None:
    (d,) = run(policy({"ingress": [{"ports": [{"port": (1 << 31) - 1}]}]}))
    assert d.code == "V13"


def test_float_label_value_from_yaml() -> None:
    doc = from_yaml("metadata: {name: p}\nspec:\n  podSelector:\n    matchLabels:\n      version: 1.0\n")
    (d,) = run(doc)
    assert summary([d]) == [("S1", "spec.podSelector.matchLabels.version")]
    assert d.message == "Invalid type: must be a string, not a number (1.0); quote the value to keep it text"


def test_boolean_label_value_from_yaml() -> None:
    doc = from_yaml("metadata: {name: p}\nspec:\n  podSelector:\n    matchLabels:\n      enabled: on\n")
    (d,) = run(doc)
    assert summary([d]) == [("S1", "spec.podSelector.matchLabels.enabled")]
    assert "YAML reads unquoted yes/no/on/off/true/false as booleans" in d.message


def test_null_label_value_is_an_error() -> None:
    # Kubernetes would read it as "", which is what the author should write.
    (d,) = run(policy({"podSelector": {"matchLabels": {"tier": None}}}))
    assert summary([d]) == [("S1", "spec.podSelector.matchLabels.tier")]
    assert "not null" in d.message


def test_non_string_label_key() -> None:
    (d,) = run(policy({"podSelector": {"matchLabels": {1: "a"}}}))
    assert summary([d]) == [("S1", "spec.podSelector.matchLabels")]
    assert "keys must be strings" in d.message


def test_values_must_be_a_list_of_strings() -> None:
    not_list = policy({"podSelector": {"matchExpressions": [{"key": "a", "operator": "In", "values": "x"}]}})
    assert summary(run(not_list)) == [("S1", "spec.podSelector.matchExpressions[0].values")]
    numbers = policy({"podSelector": {"matchExpressions": [{"key": "a", "operator": "In", "values": [1, "b"]}]}})
    assert summary(run(numbers)) == [("S1", "spec.podSelector.matchExpressions[0].values[0]")]


def test_bad_values_type_keeps_the_operator_check() -> None:
    doc = policy({"podSelector": {"matchExpressions": [{"key": "a", "operator": "Gt", "values": "x"}]}})
    assert summary(run(doc)) == [("S1", "spec.podSelector.matchExpressions[0].values"),
                                 ("V7", "spec.podSelector.matchExpressions[0].operator")]


def test_expression_key_and_operator_types() -> None:
    doc = policy({"podSelector": {"matchExpressions": [{"key": 7, "operator": True}]}})
    assert summary(run(doc)) == [("S1", "spec.podSelector.matchExpressions[0].key"),
                                 ("S1", "spec.podSelector.matchExpressions[0].operator")]


def test_match_labels_and_expressions_container_types() -> None:
    doc = policy({"podSelector": {"matchLabels": ["app=web"], "matchExpressions": {"key": "a"}}})
    assert summary(run(doc)) == [("S1", "spec.podSelector.matchLabels"),
                                 ("S1", "spec.podSelector.matchExpressions")]


def test_cidr_and_except_types() -> None:
    doc = policy({"egress": [{"to": [{"ipBlock": {"cidr": 10}}, {"ipBlock": {"cidr": "10.0.0.0/8", "except": "x"}},
                                     {"ipBlock": {"cidr": "10.0.0.0/8", "except": [None, "10.1.0.0/16"]}},
                                     {"ipBlock": "10.0.0.0/8"}]}]})
    assert summary(run(doc)) == [
        ("S1", "spec.egress[0].to[0].ipBlock.cidr"),
        ("S1", "spec.egress[0].to[1].ipBlock.except"),
        ("S1", "spec.egress[0].to[2].ipBlock.except[0]"),
        ("S1", "spec.egress[0].to[3].ipBlock"),
    ]


def test_policy_types_types() -> None:
    assert summary(run(policy({"policyTypes": "Ingress"}))) == [("S1", "spec.policyTypes")]
    assert summary(run(policy({"policyTypes": [None]}))) == [("S1", "spec.policyTypes[0]")]


def test_metadata_types() -> None:
    doc = {"metadata": {"name": 42, "labels": {"a": True}, "annotations": {"note": 1}, "generation": "1",
                        "finalizers": "x"}}
    assert summary(run(doc)) == [
        ("S1", "metadata.name"),
        ("S1", "metadata.generation"),
        ("S1", "metadata.labels.a"),
        ("S1", "metadata.annotations.note"),
        ("S1", "metadata.finalizers"),
    ]


def test_metadata_not_a_mapping() -> None:
    assert summary(run({"metadata": "web", "spec": {}})) == [("S1", "metadata")]


def test_top_level_scalars() -> None:
    assert summary(run({"apiVersion": 1, "kind": ["NetworkPolicy"], "metadata": {"name": "a"}})) == [
        ("S1", "apiVersion"), ("S1", "kind")]


# --- unknown fields -------------------------------------------------------------------

@pytest.mark.parametrize(("spec", "path", "suggestion"), [
    ({"ingres": [{}]}, "spec.ingres", 'did you mean "ingress"?'),
    ({"podselector": {}}, "spec.podselector", 'did you mean "podSelector"?'),
    ({"policyType": ["Ingress"]}, "spec.policyType", 'did you mean "policyTypes"?'),
    ({"ingress": [{"form": [{"podSelector": {}}]}]}, "spec.ingress[0].form", 'did you mean "from"?'),
    ({"ingress": [{"ports": [{"endport": 90, "port": 80}]}]}, "spec.ingress[0].ports[0].endport",
     'did you mean "endPort"?'),
    ({"egress": [{"to": [{"ipBlock": {"cidr": "10.0.0.0/8", "exceptions": []}}]}]},
     "spec.egress[0].to[0].ipBlock.exceptions", 'did you mean "except"?'),
    ({"podSelector": {"matchLabel": {"a": "b"}}}, "spec.podSelector.matchLabel", 'did you mean "matchLabels"?'),
    ({"podSelector": {"matchExpressions": [{"key": "a", "operator": "In", "value": ["b"], "values": ["b"]}]}},
     "spec.podSelector.matchExpressions[0].value", 'did you mean "values"?'),
    ({"egress": [{"to": [{"namespaceselector": {}}]}]}, "spec.egress[0].to[0].namespaceselector",
     'did you mean "namespaceSelector"?'),
])
def test_unknown_field_with_suggestion(spec: dict[str, Any], path: str, suggestion: str) -> None:
    diags = [d for d in run(policy(spec)) if d.code == "S2"]
    assert summary(diags) == [("S2", path)]
    assert diags[0].message.startswith(f'unknown field "{path.rsplit(".", 1)[-1]}"')
    assert suggestion in diags[0].message


def test_to_in_an_ingress_rule_is_unknown() -> None:
    doc = policy({"ingress": [{"to": [{"podSelector": {}}]}]})
    (d,) = run(doc)
    assert summary([d]) == [("S2", "spec.ingress[0].to")]
    assert d.message == 'unknown field "to" (ingress rules list their peers under "from")'


def test_from_in_an_egress_rule_is_unknown() -> None:
    (d,) = run(policy({"egress": [{"from": [{"podSelector": {}}]}]}))
    assert summary([d]) == [("S2", "spec.egress[0].from")]
    assert d.message == 'unknown field "from" (egress rules list their peers under "to")'


def test_unknown_field_without_a_close_match_has_no_suggestion() -> None:
    (d,) = run(policy({"priority": 10}))
    assert d.message == 'unknown field "priority"'


def test_unknown_fields_in_metadata_and_at_the_top() -> None:
    doc = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "specs": {},
           "metadata": {"name": "a", "label": {"a": "b"}}}
    diags = run(doc)
    assert summary(diags) == [("S2", "specs"), ("S2", "metadata.label")]
    assert 'did you mean "spec"?' in diags[0].message
    assert 'did you mean "labels"?' in diags[1].message


def test_every_object_meta_field_is_known() -> None:
    stamp = datetime.datetime(2024, 5, 1, 12, 0, tzinfo=datetime.timezone.utc)
    doc = {
        "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
        "metadata": {
            "name": "exported", "generateName": "exported-", "namespace": "default", "selfLink": "/x",
            "uid": "3f1c", "resourceVersion": "123", "generation": 2, "creationTimestamp": stamp,
            "deletionTimestamp": "2024-05-02T00:00:00Z", "deletionGracePeriodSeconds": 30,
            "labels": {"app": "web"}, "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{}"},
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": "web", "uid": "9a",
                                 "controller": True, "blockOwnerDeletion": True}],
            "finalizers": ["example.com/cleanup"],
            "managedFields": [{"manager": "kubectl-client-side-apply", "operation": "Update",
                               "apiVersion": "networking.k8s.io/v1", "time": stamp, "fieldsType": "FieldsV1",
                               "fieldsV1": {"f:spec": {}}, "subresource": ""}],
        },
        "spec": {},
        "status": {},
    }
    assert run(doc) == []


def test_creation_timestamp_null_as_kubectl_writes_it() -> None:
    assert run(policy({}, creationTimestamp=None)) == []


def test_second_controller_owner_reference() -> None:
    refs = [{"apiVersion": "v1", "kind": "A", "name": "a", "uid": "1", "controller": True},
            {"apiVersion": "v1", "kind": "B", "name": "b", "uid": "2", "controller": True}]
    (d,) = run(policy({}, ownerReferences=refs))
    assert summary([d]) == [("V4", "metadata.ownerReferences")]
    assert "Only one reference can have Controller set to true" in d.message and "A/a and B/b" in d.message


def test_owner_reference_unknown_field_and_bad_api_version() -> None:
    refs = [{"apiVersion": "apps/", "kind": "A", "name": "a", "uid": "1", "contoller": True}]
    assert summary(run(policy({}, ownerReferences=refs))) == [
        ("S2", "metadata.ownerReferences[0].contoller"), ("V4", "metadata.ownerReferences.apiVersion")]


# --- null is absent -------------------------------------------------------------------

@pytest.mark.parametrize("spec", [
    None,
    {"podSelector": None, "ingress": None, "egress": None, "policyTypes": None},
    {"ingress": [{"ports": None, "from": None}]},
    {"ingress": [None]},
    {"ingress": [{"ports": [None]}]},
    {"ingress": [{"ports": [{"protocol": None, "port": None, "endPort": None}]}]},
    {"ingress": [{"from": [{"podSelector": {"matchLabels": None, "matchExpressions": None},
                            "namespaceSelector": None, "ipBlock": None}]}]},
    {"egress": [{"to": [{"ipBlock": {"cidr": "10.0.0.0/8", "except": None}}]}]},
    {"podSelector": {"matchExpressions": [{"key": "a", "operator": "Exists", "values": None}]}},
])
def test_null_is_the_same_as_absent(spec: Any) -> None:
    doc = policy(spec, labels=None, annotations=None)
    assert run(doc) == []
    NetworkPolicy.from_dict(doc)


def test_null_peer_is_an_empty_peer() -> None:
    assert summary(run(policy({"egress": [{"to": [None]}]}))) == [("V19", "spec.egress[0].to[0]")]


def test_null_expression_is_an_empty_expression() -> None:
    codes = [d.code for d in run(policy({"podSelector": {"matchExpressions": [None]}}))]
    assert codes == ["V7", "V10", "V10"]  # operator "", key "" (non-empty, then the pattern)


def test_null_metadata_means_no_name() -> None:
    assert summary(run({"metadata": None})) == [("V1", "metadata.name")]


def test_null_ingress_rule_allows_everything_once_loaded() -> None:
    doc = policy({"ingress": [None]})
    loaded = NetworkPolicy.from_dict(doc)
    assert len(loaded.ingress) == 1
    assert loaded.ingress[0].ports == () and loaded.ingress[0].peers == ()


# --- dict subclasses from a line-tracking loader ----------------------------------------

class LineDict(dict):  # type: ignore[type-arg]
    """Stands in for the loader's mapping that remembers line numbers."""

    line = 7


class LineList(list):  # type: ignore[type-arg]
    line = 8


def test_mapping_and_list_subclasses_are_accepted() -> None:
    doc = LineDict(metadata=LineDict(name="x"), spec=LineDict(
        ingress=LineList([LineDict(ports=LineList([LineDict(port="HTTP")]))])))
    assert summary(run(doc)) == [("V14", "spec.ingress[0].ports[0].port"), ("V14", "spec.ingress[0].ports[0].port")]
