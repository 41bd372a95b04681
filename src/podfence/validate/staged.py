"""StagedKubernetesNetworkPolicy (``projectcalico.org/v3``) validation.

A staged policy is validated as a NetworkPolicy (every ``V1``..``V27`` rule, the
same field paths under ``spec``), plus the ``stagedAction`` rules:

* ``VS1``: ``spec.stagedAction`` is ``Set`` or ``Delete`` (absent means ``Set``).
* ``VS2``: with ``Delete`` the spec holds nothing but ``stagedAction``: the staged
  object only names the enforced NetworkPolicy it removes, as Calico requires.
"""

from __future__ import annotations

from collections.abc import Mapping

from podfence.model.diagnostic import Diagnostic
from podfence.model.settings import DEFAULT_SETTINGS, Settings
from podfence.model.staged import StagedAction
from podfence.validate.messages import forbidden, unsupported
from podfence.validate.network_policy import validate_network_policy
from podfence.validate.schema import Kind, check_kind

STAGED_ACTIONS = tuple(a.value for a in StagedAction)


def validate_staged_policy(doc: object, *, namespace: str,
                           settings: Settings = DEFAULT_SETTINGS) -> list[Diagnostic]:
    """Every problem of one StagedKubernetesNetworkPolicy manifest.

    >>> [d.message for d in validate_staged_policy(
    ...     {"metadata": {"name": "web"}, "spec": {"stagedAction": "Remove"}}, namespace="default")]
    ['Unsupported value: "Remove": supported values: "Set", "Delete"']
    >>> [(d.code, d.field) for d in validate_staged_policy(
    ...     {"metadata": {"name": "web"}, "spec": {"stagedAction": "Delete", "podSelector": {}}}, namespace="default")]
    [('VS2', ('spec', 'podSelector'))]
    """
    if not isinstance(doc, Mapping) or not isinstance(doc.get("spec"), Mapping):
        return validate_network_policy(doc, namespace=namespace, settings=settings)
    spec = doc["spec"]
    action = spec.get("stagedAction")
    path = ("spec", "stagedAction")
    problems: list[Diagnostic] = []
    if (err := check_kind(action, Kind.STRING, path)) is not None:
        problems.append(err)
    elif action is not None and action not in STAGED_ACTIONS:
        problems.append(unsupported("VS1", path, action, STAGED_ACTIONS))
    rest = {k: v for k, v in spec.items() if k != "stagedAction"}
    if action == StagedAction.DELETE.value:
        problems += [
            forbidden("VS2", ("spec", key), "must be empty when stagedAction is Delete: the staged "
                                            "policy only names the NetworkPolicy it removes")
            for key in rest
        ]
        rest = {}
    return [*problems, *validate_network_policy({**doc, "spec": rest}, namespace=namespace, settings=settings)]
