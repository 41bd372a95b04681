"""Which pods are sensitive (podfence.model.sensitivity): one answer for every command."""

from __future__ import annotations

from podfence.config import Sensitivity as ConfiguredSensitivity
from podfence.model import Cluster, Labels, Namespace, Pod
from podfence.model.sensitivity import SENSITIVE_LABEL, Sensitivity


def cluster(ns_labels: dict[str, str] | None = None, ns_annotations: dict[str, str] | None = None,
            pod: Pod | None = None) -> tuple[Cluster, Pod]:
    pod = pod or Pod("vault", "store", Labels(app="store"))
    return Cluster.of([Namespace.of("vault", ns_labels, annotations=ns_annotations)], [pod]), pod


def test_the_configuration_uses_the_model_value() -> None:
    assert ConfiguredSensitivity is Sensitivity and Sensitivity().label == SENSITIVE_LABEL == "podfence.io/sensitive"


def test_a_plain_pod_is_not_sensitive() -> None:
    c, pod = cluster()
    assert not Sensitivity().is_sensitive(pod, c)


def test_listed_namespace() -> None:
    c, pod = cluster()
    assert Sensitivity(namespaces=("vault",)).is_sensitive(pod, c)
    assert Sensitivity(namespaces=("vault",)).namespace_is_sensitive("vault", None)


def test_namespace_label_or_annotation() -> None:
    for marks in ({"ns_labels": {SENSITIVE_LABEL: "true"}}, {"ns_annotations": {SENSITIVE_LABEL: "true"}}):
        c, pod = cluster(**marks)
        assert Sensitivity().is_sensitive(pod, c), marks


def test_pod_label_or_annotation() -> None:
    for pod in (Pod("vault", "store", Labels({"app": "store", SENSITIVE_LABEL: "true"})),
                Pod("vault", "store", Labels(app="store"), annotations=Labels({SENSITIVE_LABEL: "true"}))):
        c, _ = cluster(pod=pod)
        assert Sensitivity().is_sensitive(pod, c)


def test_only_the_value_true_counts_and_the_label_is_configurable() -> None:
    c, pod = cluster(ns_labels={SENSITIVE_LABEL: "yes"})
    assert not Sensitivity().is_sensitive(pod, c)
    c, pod = cluster(ns_annotations={"example.com/pci": "true"})
    assert Sensitivity(label="example.com/pci").is_sensitive(pod, c)
    assert not Sensitivity().is_sensitive(pod, c)
