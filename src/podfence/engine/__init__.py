"""The NetworkPolicy engine: exact verdicts, explanations, whole-cluster connectivity."""

from podfence.engine.connectivity import Connection, Connectivity
from podfence.engine.core import Endpoint, EndpointError, Engine
from podfence.engine.matrix import Matrix
from podfence.engine.verdict import DirectionVerdict, NearMiss, Reason, RuleRef, Verdict

__all__ = [
    "Connection", "Connectivity", "DirectionVerdict", "Endpoint", "EndpointError", "Engine", "Matrix",
    "NearMiss", "Reason", "RuleRef", "Verdict",
]
