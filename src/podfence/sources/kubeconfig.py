"""kubeconfig files as kubectl finds and merges them, and the context a command reads.

Which files: ``--kubeconfig FILE`` alone when given (it must exist); else every
file of ``$KUBECONFIG`` (separated like ``PATH``; missing ones are skipped);
else ``~/.kube/config``. Merging follows kubectl: the first file that names a
context, cluster or user wins, and the first ``current-context`` set wins.

Only the fields podfence needs are checked here (the context's cluster, its
server); every problem names its file, line and field path. The official
client reads the files again to make its connection (certificates, tokens,
exec plugins).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from podfence.loader import read_own_file
from podfence.loader.limits import Budget
from podfence.model import Diagnostic, Severity
from podfence.model.diagnostic import FieldPath

KUBECONFIG_PROBLEM = "K1"
CONTEXT_PROBLEM = "K2"
NO_KUBECONFIG = "K7"


@dataclass(frozen=True, slots=True)
class Context:
    """One context, resolved: its name, cluster, server URL and default namespace."""

    name: str
    cluster: str
    server: str
    namespace: str = ""


@dataclass(frozen=True, slots=True)
class Kubeconfig:
    """The merged kubeconfig: its files, every context by name (first file wins) and the current one."""

    files: tuple[str, ...]
    contexts: Mapping[str, Context]
    current: str = ""
    problems: Mapping[str, Diagnostic] | None = None  # context name -> why it cannot be used

    def context(self, name: str | None) -> Context | Diagnostic:
        """The context named (or the current one), or the problem that stops using it."""
        files = ", ".join(self.files)
        chosen = name or self.current
        if not chosen:
            return Diagnostic(CONTEXT_PROBLEM, Severity.ERROR, f"no current context in {files}; pass --context "
                                                               f"(known contexts: {self._known()})")
        if self.problems and chosen in self.problems:
            return self.problems[chosen]
        found = self.contexts.get(chosen)
        if found is None:
            how = "--context" if name else "current-context"
            return Diagnostic(CONTEXT_PROBLEM, Severity.ERROR,
                              f"{how} {chosen!r}: no such context in {files} (known contexts: {self._known()})")
        return found

    def _known(self) -> str:
        names = sorted({*self.contexts, *(self.problems or {})})
        return ", ".join(names) if names else "none"


def kubeconfig_files(flag: str | None, environ: Mapping[str, str] | None = None) -> tuple[str, ...]:
    """The files a command reads, in kubectl's order: ``--kubeconfig``, else ``$KUBECONFIG``, else the default."""
    if flag:
        return (flag,)
    environ = os.environ if environ is None else environ
    listed = environ.get("KUBECONFIG", "")
    if listed:
        return tuple(dict.fromkeys(p for p in listed.split(os.pathsep) if p))
    return (default_kubeconfig(environ),)


def default_kubeconfig(environ: Mapping[str, str]) -> str:
    """``~/.kube/config``, with the home of ``environ``."""
    home = environ.get("HOME") or os.path.expanduser("~")
    return os.path.join(home, ".kube", "config")


def read_kubeconfig(flag: str | None, environ: Mapping[str, str] | None = None,
                    budget: Budget | None = None) -> Kubeconfig | Diagnostic:
    """The merged kubeconfig of ``--kubeconfig`` (``flag``) or the environment, or the problem that stops it."""
    environ = os.environ if environ is None else environ
    files = kubeconfig_files(flag, environ)
    contexts: dict[str, tuple[str, Any, FieldPath]] = {}
    clusters: dict[str, tuple[str, Any, FieldPath]] = {}
    current = ""
    read: list[str] = []
    for path in files:
        if flag is None and len(files) > 1 and not os.path.exists(path):
            continue  # kubectl skips missing $KUBECONFIG entries
        own = read_own_file(path, budget=budget)
        if own.problems:
            problem = own.problems[0]
            if flag is None and path == files[0] == default_kubeconfig(environ) and not os.path.exists(path):
                return Diagnostic(NO_KUBECONFIG, Severity.ERROR,
                                  f"no kubeconfig: {path} does not exist (pass --kubeconfig FILE, set KUBECONFIG, "
                                  "or give manifests with -f)")
            return Diagnostic(KUBECONFIG_PROBLEM, Severity.ERROR, f"kubeconfig: {problem.message}",
                              file=problem.file, line=problem.line)
        read.append(path)
        data = own.data if own.data is not None else {}
        problem = _shape(data)
        if problem is not None:
            return own.place([problem])[0]
        for key, store in (("contexts", contexts), ("clusters", clusters)):
            for i, entry in enumerate(data.get(key) or ()):
                store.setdefault(entry["name"], (path, own, (key, i)))
        if not current and isinstance(data.get("current-context"), str):
            current = data["current-context"]
    if not read:
        return Diagnostic(NO_KUBECONFIG, Severity.ERROR,
                          f"no kubeconfig: none of the KUBECONFIG files exist ({', '.join(files)})")
    resolved: dict[str, Context] = {}
    problems: dict[str, Diagnostic] = {}
    for name, (path, own, at) in contexts.items():
        entry = _get(own.data, at)
        body = entry.get("context") if isinstance(entry.get("context"), Mapping) else {}
        cluster = body.get("cluster")
        if not isinstance(cluster, str) or not cluster:
            problems[name] = own.place([_problem((*at, "context", "cluster"), "required: the context names no "
                                                                               "cluster")])[0]
            continue
        if cluster not in clusters:
            problems[name] = own.place([_problem((*at, "context", "cluster"),
                                                 f"no cluster named {cluster!r} in {', '.join(read)}")])[0]
            continue
        cpath, cown, cat = clusters[cluster]
        cbody = _get(cown.data, cat).get("cluster")
        server = cbody.get("server") if isinstance(cbody, Mapping) else None
        if not isinstance(server, str) or not server:
            problems[name] = cown.place([_problem((*cat, "cluster", "server"), "required: the cluster's API "
                                                                               "server URL")])[0]
            continue
        namespace = body.get("namespace")
        resolved[name] = Context(name, cluster, server, namespace if isinstance(namespace, str) else "")
    return Kubeconfig(tuple(read), resolved, current, problems)


def _shape(data: Any) -> Diagnostic | None:
    """The first field of a kubeconfig file whose type is wrong for a kubeconfig (None when fine)."""
    if not isinstance(data, Mapping):
        return _problem((), "a kubeconfig must be a mapping (apiVersion, kind: Config, clusters, contexts, users)")
    for key, inner in (("contexts", "context"), ("clusters", "cluster"), ("users", "user")):
        entries = data.get(key)
        if entries is None:
            continue
        if not isinstance(entries, list):
            return _problem((key,), "must be a list")
        for i, entry in enumerate(entries):
            if not isinstance(entry, Mapping):
                return _problem((key, i), "must be a mapping with name and " + inner)
            if not isinstance(entry.get("name"), str) or not entry["name"]:
                return _problem((key, i, "name"), "required: a non-empty string")
            if entry.get(inner) is not None and not isinstance(entry[inner], Mapping):
                return _problem((key, i, inner), "must be a mapping")
    if data.get("current-context") is not None and not isinstance(data["current-context"], str):
        return _problem(("current-context",), "must be a string")
    return None


def _problem(field: FieldPath, message: str) -> Diagnostic:
    return Diagnostic(KUBECONFIG_PROBLEM, Severity.ERROR, message, field=field, object="kubeconfig")


def _get(data: Any, at: FieldPath) -> Mapping[str, Any]:
    for part in at:
        data = data[part]
    return data if isinstance(data, Mapping) else {}
