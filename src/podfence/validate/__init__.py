"""API-server parity checks on raw manifests, returned as :class:`~podfence.model.Diagnostic` values.

>>> from podfence.validate import validate_network_policy, is_dns1123_label
>>> validate_network_policy({"metadata": {"name": "deny-all"}, "spec": {}}, namespace="default")
[]
>>> is_dns1123_label("kube-system")
True

Codes: ``V1``..``V27`` are the API server's NetworkPolicy rules (see
:mod:`podfence.validate.network_policy` and the modules it uses); ``V28``..``V42``
are its rules for the fields podfence reads of Pods, Services, Namespaces and
workload controllers (:mod:`podfence.validate.objects`); ``V43``..``V65`` are the
CRD rules of ClusterNetworkPolicy, AdminNetworkPolicy and BaselineAdminNetworkPolicy
(:mod:`podfence.validate.cluster_policies`); ``VS1``, ``VS2`` the ``stagedAction``
rules of staged policies (:mod:`podfence.validate.staged`); ``S1``..``S3`` are shape
errors (:mod:`podfence.validate.schema`).
"""

from podfence.validate.cidrs import is_strict_subset
from podfence.validate.cluster_peers import is_cidr
from podfence.validate.cluster_policies import CLUSTER_POLICY_KINDS, validate_cluster_policy
from podfence.validate.names import (
    dns1035_label_errors, dns1123_label_errors, dns1123_subdomain_errors, generate_name_errors, is_dns1123_label,
    is_dns1123_subdomain, is_label_value, is_port_name, is_qualified_name, label_value_errors, port_name_errors,
    port_number_errors, qualified_name_errors,
)
from podfence.validate.network_policy import validate_network_policy
from podfence.validate.objects import VALIDATED_KINDS, validate_namespace, validate_object
from podfence.validate.pods import validate_pod
from podfence.validate.selectors import validate_selector
from podfence.validate.staged import validate_staged_policy
from podfence.validate.services import validate_service
from podfence.validate.workloads import TEMPLATE_PATHS, validate_workload

__all__ = [
    "CLUSTER_POLICY_KINDS", "TEMPLATE_PATHS", "VALIDATED_KINDS", "is_cidr", "validate_cluster_policy", "dns1035_label_errors", "dns1123_label_errors", "dns1123_subdomain_errors",
    "generate_name_errors", "is_dns1123_label", "is_dns1123_subdomain", "is_label_value", "is_port_name",
    "is_qualified_name", "is_strict_subset", "label_value_errors", "port_name_errors", "port_number_errors",
    "qualified_name_errors", "validate_namespace", "validate_network_policy", "validate_object", "validate_pod",
    "validate_selector", "validate_service", "validate_staged_policy", "validate_workload",
]
