"""Where an object was read: a file, a file at a git revision, or an object of a live cluster.

Every variant says where a diagnostic places it (``file``, ``line``), so the
messages of every command read the same whatever the input:

* :class:`FileOrigin` (``Source``): ``FILE:LINE`` (``-`` is standard input).
* :class:`GitOrigin`: ``REF:PATH:LINE`` as text; diagnostics show ``PATH:LINE``
  after the command's own ``at REF:`` (``podfence diff --base``), so ``PATH`` is
  the name the same file has in the working tree.
* :class:`ClusterOrigin`: ``context/Kind/ns/name@resourceVersion`` (the namespace
  left out for cluster-scoped kinds); a cluster object has no lines.

>>> str(FileOrigin("web.yaml", 3)), str(GitOrigin("main", "deploy/web.yaml", 3))
('web.yaml:3', 'main:deploy/web.yaml:3')
>>> str(ClusterOrigin("prod", "Pod", "shop", "web", "42"))
'prod/Pod/shop/web@42'
"""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True, slots=True)
class FileOrigin:
    """A file (``-`` for stdin) and a 1-based line (0: the file as a whole)."""

    file: str
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"

    def at(self, line: int) -> FileOrigin:
        """The same file at ``line``."""
        return replace(self, line=line)


@dataclass(frozen=True, slots=True)
class GitOrigin:
    """A file as it was at a git revision: ``ref``, ``path`` (as the working tree names it) and line."""

    ref: str
    path: str
    line: int = 0

    def __str__(self) -> str:
        return f"{self.ref}:{self.path}:{self.line}"

    @property
    def file(self) -> str:
        """The path; the command names the revision once (``at REF:``)."""
        return self.path

    def at(self, line: int) -> GitOrigin:
        return replace(self, line=line)


@dataclass(frozen=True, slots=True)
class ClusterOrigin:
    """An object read from a live cluster's API: context, kind, namespace, name and resourceVersion.

    A origin with only ``context`` stands for everything read from that cluster;
    the loader names each object it reads (:meth:`named`).
    """

    context: str
    kind: str = ""
    namespace: str = ""
    name: str = ""
    resource_version: str = ""

    def __str__(self) -> str:
        parts = [p for p in (self.context, self.kind, self.namespace, self.name) if p]
        text = "/".join(parts)
        return f"{text}@{self.resource_version}" if self.resource_version else text

    @property
    def file(self) -> str:
        return str(self)

    @property
    def line(self) -> None:
        return None

    def at(self, line: int) -> ClusterOrigin:  # noqa: ARG002 - a cluster object has no lines
        return self

    def named(self, kind: str, namespace: str | None, name: str, resource_version: str = "") -> ClusterOrigin:
        """The origin of one object of this cluster."""
        return replace(self, kind=kind, namespace=namespace or "", name=name, resource_version=resource_version)


Origin = FileOrigin | GitOrigin | ClusterOrigin
Source = FileOrigin  # the name every object and flow record used first


def where(origin: Origin) -> str:
    """``FILE:LINE`` (or the file alone when it has no line), as a diagnostic places the origin."""
    return f"{origin.file}:{origin.line}" if origin.line else origin.file
