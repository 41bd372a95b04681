"""podfence test: connectivity expectations written down once and checked on every change.

>>> from podfence.engine import Engine
>>> from podfence.model import Cluster, Pod
>>> spec, problems = parse_spec({"tests": [{"from": "a/x", "to": "b/y", "port": 80, "expect": "allow"}]})
>>> [r.passed for r in check(spec, Engine(Cluster.of(pods=[Pod("a", "x"), Pod("b", "y")])).connectivity())]
[True]
"""

from podfence.assertions.check import Checker, Failure, Result, check
from podfence.assertions.spec import Address, Endpoint, Expect, Expectation, PodName, Selector, Spec, parse_spec

__all__ = [
    "Address", "Checker", "Endpoint", "Expect", "Expectation", "Failure", "PodName", "Result", "Selector", "Spec",
    "check", "parse_spec",
]
