"""A Kubernetes API server for podfence's tests and benchmarks, speaking the real wire format.

:class:`Fleet` runs one TLS server per cluster behind a CA it generates and writes
the kubeconfig that reaches them; :class:`ApiServer` serves one :class:`Store`;
:class:`User` is a bearer token's identity and RBAC rules (``rules_of`` reads them
from a ClusterRole). The real ``kubectl`` works against it (``tests/test_kubeapi.py``).
"""

from kubeapi.fleet import Fleet
from kubeapi.resources import CORE, OPTIONAL, Resource
from kubeapi.server import ApiServer, User, merge_patch, rules_of
from kubeapi.store import Store

__all__ = ["ApiServer", "CORE", "Fleet", "OPTIONAL", "Resource", "Store", "User", "merge_patch", "rules_of"]
