"""Saving an edited manifest: one document of a loaded file replaced, or a new file under a loaded directory.

:func:`save` is what the web UI's Save does. The edited text replaces exactly the
text of one document of its file (from its first key to the end of its last
value): every other document, every comment outside that document and every
byte around it stays as it was. The file is written atomically (a temporary
file in the same directory, then a rename). A new file goes under a directory
that was loaded and must not exist yet. Nothing is written outside the loaded
paths: the target is resolved (symbolic links followed) and must lie inside a
loaded path as resolved, and a target that is itself a symbolic link is refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import copy

import yaml

from podfence.app import files as files_
from podfence.app.errors import Stop
from podfence.diff import Change, ConnectivityDiff, DiffReport, range_changes
from podfence.engine import Change as SessionChange, Connectivity, EditError, Session, endpoint_sort_key
from podfence.model import Direction, NetworkPolicy

YAML_ENDINGS = (".yaml", ".yml")


@dataclass(frozen=True, slots=True)
class Target:
    """The document to replace: its kind, namespace (None: the default) and name."""

    kind: str
    name: str
    namespace: str | None = None


@dataclass(frozen=True, slots=True)
class Saved:
    """Where the text went and whether the file is new."""

    path: Path
    created: bool


def document_spans(text: str) -> list[tuple[int, int, yaml.Node]]:
    """(start, end, node) of every non-empty document of ``text``: from its first character to the end of its
    last value (a trailing comment or blank line belongs to what follows)."""
    loader = yaml.SafeLoader(text)
    out = []
    try:
        while loader.check_node():
            node = loader.get_node()
            if node is None or (isinstance(node, yaml.ScalarNode) and node.value in ("", "~", "null")):
                continue
            out.append((node.start_mark.index, _content_end(node), node))
    finally:
        loader.dispose()
    return out


def _content_end(node: yaml.Node) -> int:
    while isinstance(node, (yaml.MappingNode, yaml.SequenceNode)) and node.value and not node.flow_style:
        last = node.value[-1]
        node = last[1] if isinstance(node, yaml.MappingNode) else last
    end: int = node.end_mark.index
    return end


def _scalar(node: yaml.Node, *path: str) -> str | None:
    for key in path:
        if not isinstance(node, yaml.MappingNode):
            return None
        found = next((v for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == key), None)
        if found is None:
            return None
        node = found
    return node.value if isinstance(node, yaml.ScalarNode) else None


def _span(text: str, target: Target, default_namespace: str) -> tuple[int, int]:
    try:
        spans = document_spans(text)
    except yaml.YAMLError as e:
        raise ValueError(f"the file is not YAML: {str(e).splitlines()[0]}") from None
    matches = [(start, end) for start, end, node in spans
               if _scalar(node, "kind") == target.kind and _scalar(node, "metadata", "name") == target.name
               and (_scalar(node, "metadata", "namespace") or default_namespace) == (target.namespace or
                                                                                        default_namespace)]
    what = f"{target.kind} {target.namespace + '/' if target.namespace else ''}{target.name}"
    if len(matches) != 1:
        raise ValueError(f"{what}: {'not in the file' if not matches else 'found more than once in the file'}")
    return matches[0]


def document_text(text: str, target: Target, default_namespace: str = "default") -> str:
    """The text of ``target``'s document in ``text`` (from its first key to the end of its last value), with a
    final newline; a :class:`ValueError` says why there is none."""
    start, end = _span(text, target, default_namespace)
    return text[start:end] + "\n"


def replaced_document(text: str, target: Target, new: str, default_namespace: str = "default") -> str:
    """``text`` with the document of ``target`` replaced by ``new``; a :class:`ValueError` says why not."""
    start, end = _span(text, target, default_namespace)
    body = new.strip("\n")
    if body.startswith("---"):
        body = body.split("\n", 1)[1] if "\n" in body else ""
    return text[:start] + body.strip("\n") + text[end:]


def inside(path: Path, roots: Sequence[str]) -> tuple[Path, bool]:
    """``path`` resolved, and whether it may be written: inside a loaded path (resolved), not a symbolic link.
    The flag is for a new file: True when the path lies under a loaded directory (not only is a loaded file)."""
    if path.is_symlink():
        raise Stop(f"{path}: a symbolic link; podfence writes only regular files it loaded")
    resolved = path.resolve()
    under_directory = False
    allowed = False
    for root in roots:
        if root == "-":
            continue
        real = Path(root).resolve()
        if real.is_dir() and resolved.is_relative_to(real) and resolved != real:
            allowed = under_directory = True
        elif resolved == real:
            allowed = True
    if not allowed:
        raise Stop(f"{path}: outside the loaded paths ({', '.join(r for r in roots if r != '-') or 'none'})")
    return resolved, under_directory


def read_document(roots: Sequence[str], file: str, target: Target, default_namespace: str = "default") -> str:
    """The text of ``target``'s document in the loaded ``file``."""
    resolved, _ = inside(Path(file), roots)
    try:
        data = files_.read_existing(resolved, "file")
        if data is None:
            raise Stop(f"{file}: does not exist")
        return document_text(data.decode("utf-8"), target, default_namespace)
    except files_.Refused as e:
        raise Stop(str(e)) from None
    except (ValueError, UnicodeDecodeError) as e:
        raise Stop(f"{file}: {e}") from None


def save(roots: Sequence[str], file: str, text: str, target: Target | None,
         default_namespace: str = "default") -> Saved:
    """Write ``text`` into ``file``: replacing the document of ``target``, or as a new file (``target`` None)."""
    if not file:
        raise Stop("file: name the file to write")
    path = Path(file)
    resolved, under_directory = inside(path, roots)
    if target is None:
        if not under_directory:
            raise Stop(f"{file}: a new file goes under a loaded directory")
        if not resolved.name.endswith(YAML_ENDINGS):
            raise Stop(f"{file}: a manifest's name ends with .yaml or .yml")
        if resolved.exists() or path.is_symlink():
            raise Stop(f"{file}: exists; open its policy to edit it")
        body = text if text.endswith("\n") else text + "\n"
        _write(resolved, body, force=False)
        return Saved(path, True)
    try:
        old = files_.read_existing(resolved, "file")
    except files_.Refused as e:
        raise Stop(str(e)) from None
    if old is None:
        raise Stop(f"{file}: does not exist")
    try:
        new = replaced_document(old.decode("utf-8"), target, text, default_namespace)
    except (ValueError, UnicodeDecodeError) as e:
        raise Stop(f"{file}: {e}") from None
    _write(resolved, new, force=True)
    return Saved(path, False)


def impact(base: Session, policies: Sequence[NetworkPolicy], replaces: str | None = None) -> DiffReport:
    """What ``policies`` open and close when they replace the policy ``replaces`` (``namespace/name``; None:
    they are added) in ``base``'s cluster: the changed pairs ``podfence diff OLD NEW`` reports for the edit.

    Evaluated incrementally on a copy of ``base`` (a session's edits replace its view, never change it in
    place), so ``base`` stays as it was and serves the next edit; only the pairs and address ranges the edits
    can have changed are compared. An edit that does not fit stops (exit 2).
    """
    session = copy.copy(base)
    steps: list[SessionChange] = []
    try:
        if replaces:
            steps.append(session.remove_policy(replaces))
        for policy in policies:
            if session.cluster.policy(policy.key) is not None:
                steps.append(session.replace_policy(policy))
            else:
                steps.append(session.add_policy(policy))
    except EditError as e:
        raise Stop(str(e)) from None
    return DiffReport(_changed(base.connectivity, session.connectivity, steps), ())


def _changed(before: Connectivity, after: Connectivity, steps: Sequence[SessionChange]) -> ConnectivityDiff:
    """``diff_connectivity(before, after)``, looking only where the edits can have changed anything: the pod
    pairs some step changed, and the address ranges of the pods whose egress or ingress some step judged."""
    changes = []
    for src, dst in sorted({pair for step in steps for pair in step.changed_pairs()}):
        old, new = before.between(src, dst), after.between(src, dst)
        if old != new:
            changes.append(Change(src, dst, new - old, old - new))
    for direction, pods in ((Direction.EGRESS, {p for step in steps for p in step.sources}),
                            (Direction.INGRESS, {p for step in steps for p in step.destinations})):
        for pod in sorted(pods):
            for cidr, added, removed in range_changes(before.address_ranges(pod, direction),
                                                      after.address_ranges(pod, direction)):
                ends = (pod, cidr) if direction is Direction.EGRESS else (cidr, pod)
                changes.append(Change(*ends, added, removed))
    changes.sort(key=lambda c: (endpoint_sort_key(c.src), endpoint_sort_key(c.dst)))
    return ConnectivityDiff(tuple(changes))


def _write(path: Path, text: str, force: bool) -> None:
    try:
        files_.write_all({path: text}, force=force, flag="file", shown=path)
    except files_.Refused as e:
        raise Stop(str(e)) from None


__all__ = ["Saved", "Target", "document_spans", "document_text", "impact", "read_document", "replaced_document", "save"]
