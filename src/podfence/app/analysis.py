"""The reading use cases: check, matrix, connectivity and explain.

Each takes the shared :class:`~podfence.app.options.Options`, a listener and its
own question, and returns values for a renderer; none prints or exits.
"""

from __future__ import annotations

from dataclasses import dataclass

from podfence.app.errors import Stop, stop_on_errors
from podfence.app.loading import NO_MANIFESTS, load_cluster, require_objects, tell_loaded
from podfence.app.options import Listener, Options, prepare
from podfence.engine import Connectivity, Endpoint, EndpointError, Engine, Matrix, Verdict
from podfence.loader import codes, load
from podfence.model import Diagnostic
from podfence.sets import Protocol


@dataclass(frozen=True, slots=True)
class Checked:
    """What ``check`` found: every diagnostic, and how many objects it read."""

    diagnostics: tuple[Diagnostic, ...]
    objects: int
    ok: bool


def check(options: Options, listener: Listener | None = None) -> Checked:
    """Validate the manifests as the API server would; errors are the answer, not a stop."""
    if not options.files:
        raise Stop(NO_MANIFESTS)
    run = prepare(options, listener)
    result = load(list(options.files), default_namespace=options.namespace, settings=run.settings,
                  budget=run.budget)
    tell_loaded(run, result, show_warnings=False)
    stop_on_errors(d for d in result.diagnostics if d.code == codes.LIMIT)
    if result.ok:
        require_objects([result], options.files, options.allow_empty)
    c = result.cluster
    objects = len([n for n in c.namespaces if n.declared]) + len(c.pods) + len(c.services) + len(c.policies)
    return Checked(tuple(result.diagnostics), objects, result.ok)


def connectivity(options: Options, listener: Listener | None = None) -> Connectivity:
    """Every allowed connection of the manifests' cluster."""
    run = prepare(options, listener)
    result = load_cluster(run)
    with run.busy("computing connectivity"):
        return Engine(result.cluster, run.settings).connectivity()


def matrix(options: Options, protocol: Protocol, port: int, listener: Listener | None = None) -> Matrix:
    """Which pod may open a connection to which, on one protocol and port."""
    run = prepare(options, listener)
    result = load_cluster(run)
    with run.busy("computing connectivity"):
        return Engine(result.cluster, run.settings).connectivity().matrix(protocol, port)


@dataclass(frozen=True, slots=True)
class Explanation:
    """The verdict on one connection; to a Service, one verdict per backend pod and target port."""

    verdict: Verdict | None = None
    service: str | None = None
    verdicts: tuple[Verdict, ...] = ()


def explain(options: Options, src: str, dst: str, protocol: Protocol, port: int,
            listener: Listener | None = None) -> Explanation:
    """Explain whether ``src`` may reach ``dst``: the policies and rules behind the verdict."""
    run = prepare(options, listener)
    result = load_cluster(run)
    engine = Engine(result.cluster, run.settings)
    source = _endpoint(engine, src, options.namespace, "--from")
    target = _endpoint(engine, dst, options.namespace, "--to")
    try:
        if target.service is not None:
            return Explanation(service=target.service.key,
                               verdicts=tuple(engine.explain_service(source, target, protocol, port)))
        return Explanation(verdict=engine.explain(source, target, protocol, port))
    except EndpointError as e:  # a service as the source, or a port the service does not offer
        raise Stop(f"{'--from' if source.service is not None else '--to'}: {e}") from None


def _endpoint(engine: Engine, text: str, namespace: str, flag: str) -> Endpoint:
    try:
        return engine.endpoint(text, namespace)
    except EndpointError as e:
        raise Stop(f"{flag}: {e}") from None


__all__ = ["Checked", "Explanation", "check", "connectivity", "explain", "matrix"]
