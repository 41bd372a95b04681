"""Documents to a :class:`~podfence.model.Cluster`, with every problem placed at file:line.

Objects are read one document at a time and kept only when they are sound. The
rules that decide what ends up in the cluster:

* ``kind: List`` and ``<Kind>List`` documents are flattened; items of a typed list
  (``PodList``) may leave out their ``kind`` and ``apiVersion``.
* Objects without a namespace (or with ``""``) go to the default namespace.
* Every object is validated like the API server does (NetworkPolicies and the
  cluster-wide policy kinds fully, other kinds in the fields podfence reads); an
  object with an error is left out, a policy's warnings are kept.
* Two objects of the same kind, namespace and name: the later one wins (``L9``).
* Pods belong to their workloads (``metadata.ownerReferences``, followed from a
  Pod to its ReplicaSet to its Deployment, a Job to its CronJob; a ReplicaSet
  that is not in the input is matched to its Deployment by the pods'
  ``pod-template-hash`` label). Real pods are the pods: a controller with
  pods of its own in the input adds no representative, nor does a controller
  whose own controller is in the input (an old ReplicaSet of a Deployment).
  Each pod's ``workload`` is the top controller its owners lead to.
* A workload's representative pod whose ``namespace/name`` another pod also has
  is renamed ``<name>-<kind>`` (``L10``); bare Pods keep their names.
* Declared namespaces keep their labels; namespaces that objects live in but no
  manifest declares are added with only the ``kubernetes.io/metadata.name`` label.
* Kinds podfence does not model are counted in the notes.
* Reading stops at the first limit of the run's
  :class:`~podfence.loader.limits.Budget` that is passed (``L13``).
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, TextIO

from podfence.loader import codes
from podfence.loader.documents import Duplicate, LineDict, LineList, RawDocument, iter_documents, locate, node_paths
from podfence.loader.fields import FieldReader
from podfence.loader.limits import Budget, too_many_objects
from podfence.loader.cluster_kinds import check_cluster_policy, read_node
from podfence.loader.kinds import (
    CLUSTER_SCOPED, GROUPS, ONE_VERSION, POLICY_KINDS, PREFERRED_VERSION, api_group, looks_built_in, read_namespace,
    read_pod, read_service, read_workload,
)
from podfence.loader.sources import SourceText, read_sources
from podfence.model import (
    CLUSTER_POLICY_KINDS, DEFAULT_SETTINGS, ClusterOrigin, Cluster, ClusterPolicy, Diagnostic, FileOrigin, Namespace,
    NetworkPolicy, Node, Origin, Pod, Service, Settings, Severity, StagedNetworkPolicy, where,
)
from podfence.model.tiers import same_priority_warnings
from podfence.validate import validate_network_policy, validate_object, validate_staged_policy
from podfence.validate.objects import VALIDATED_KINDS
from podfence.validate.messages import diag, invalid, render_value, required, shown_name
from podfence.validate.schema import Kind, describe

_JSON_START = re.compile(r"\s*\{")
_ARTICLE = {"kind": "a", "apiVersion": "an"}


@dataclass(frozen=True, slots=True)
class LoadResult:
    """What the loader made of its input.

    Attributes:
        cluster: every sound object, sorted, with undeclared namespaces added.
        diagnostics: errors and warnings in input order, each with file, line and object.
        notes: things left out on purpose (kinds podfence does not model), for stderr.
        objects: how many Kubernetes objects the input holds (modelled or not,
            sound or not); 0 means nothing that looks like a Kubernetes object.
        texts: the text read from each input, by display name, when asked for.
        documents: each object's manifest as read (lines kept, see
            :func:`~podfence.loader.locate`), by the object's origin, when asked
            for; a later step places its findings at their fields' lines with it.
    """

    cluster: Cluster
    diagnostics: tuple[Diagnostic, ...] = ()
    notes: tuple[str, ...] = ()
    objects: int = 0
    texts: Mapping[str, str] = field(default_factory=dict)
    documents: Mapping[Origin, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def ok(self) -> bool:
        """True when there is no error diagnostic (warnings are fine)."""
        return not any(d.is_error for d in self.diagnostics)


def load(paths: Sequence[str], *, default_namespace: str = "default", settings: Settings = DEFAULT_SETTINGS,
         stdin: TextIO | None = None, budget: Budget | None = None, keep_texts: bool = False,
         keep_documents: bool = False) -> LoadResult:
    """Read files, directories and ``-`` (standard input) into a cluster.

    Args:
        paths: as given to ``-f``; see :mod:`podfence.loader.sources` for how
            directories are walked.
        default_namespace: the namespace of objects that do not name one (``-n``).
        settings: passed to NetworkPolicy validation (strict CIDR parsing).
        stdin: what ``-`` reads; ``sys.stdin`` when not given.
        budget: the limits of the run, shared with its other reads (defaults when
            not given); reading stops at the first limit passed.
        keep_texts: keep every text read in ``LoadResult.texts``.
        keep_documents: keep every object's manifest in ``LoadResult.documents``.

    >>> load(["/nonexistent.yaml"]).diagnostics[0].one_line()
    '/nonexistent.yaml: cannot read: no such file or directory'
    """
    assembly = _Assembly(default_namespace, settings, Budget() if budget is None else budget, keep_documents)
    assembly.add_sources(paths, sys.stdin if stdin is None else stdin, keep_texts)
    return assembly.result()


def load_texts(texts: Iterable[tuple[str | Origin, str]], *, default_namespace: str = "default",
               settings: Settings = DEFAULT_SETTINGS, budget: Budget | None = None,
               keep_documents: bool = False) -> LoadResult:
    """Like :func:`load`, for texts already in memory: ``(display name or origin, text)`` pairs.

    A display name is a file's; an origin (a file at a git revision, say) gives
    its objects that origin, at the lines of the text.

    >>> result = load_texts([("web.yaml", "apiVersion: v1\\nkind: Pod\\nmetadata: {name: web}\\n")])
    >>> [p.key for p in result.cluster.pods], str(result.cluster.pods[0].source)
    (['default/web'], 'web.yaml:1')
    """
    assembly = _Assembly(default_namespace, settings, Budget() if budget is None else budget, keep_documents)
    for name, text in texts:
        assembly.add_text(FileOrigin(name, 0) if isinstance(name, str) else name, text)
        if assembly.stopped:
            break
    return assembly.result()


def load_objects(origin: Origin, documents: Iterable[Any], *, default_namespace: str = "default",
                 settings: Settings = DEFAULT_SETTINGS, budget: Budget | None = None,
                 name: str = "", keep_documents: bool = False, then: Sequence[str] = (),
                 stdin: TextIO | None = None) -> LoadResult:
    """Like :func:`load`, for documents already parsed (a live cluster's API, a git blob, a test).

    Each document is validated and assembled exactly as if it had been read from a
    file: the same rules, diagnostics and :class:`LoadResult`. ``origin`` says
    where the documents come from. A document is a mapping (or a List), or a
    :class:`~podfence.loader.documents.RawDocument` from
    :func:`~podfence.loader.iter_documents`, which keeps lines and duplicate keys;
    plain dicts have no lines, so they take the origin's own. Each object's origin
    is ``origin`` at the object's line, and a :class:`~podfence.model.ClusterOrigin`
    gets each object's kind, namespace, name and resourceVersion. ``name`` names
    the cluster built.

    ``then`` names manifests (as :func:`load` reads them, ``-`` is ``stdin``) read
    after the documents, as ``kubectl apply -f`` would apply them: an object of
    the same kind, namespace and name replaces the document's (an ``L9`` warning
    says which); objects that name no namespace take ``default_namespace``.

    >>> from podfence.model import ClusterOrigin
    >>> pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web", "resourceVersion": "7"}}
    >>> result = load_objects(ClusterOrigin("prod"), [pod], name="prod")
    >>> str(result.cluster.pods[0].source), result.cluster.name
    ('prod/Pod/default/web@7', 'prod')
    """
    assembly = _Assembly(default_namespace, settings, Budget() if budget is None else budget, keep_documents)
    for doc in documents:
        assembly.add_document(origin, doc)
        if assembly.stopped:
            return assembly.result(name)
    if then:
        assembly.add_sources(then, sys.stdin if stdin is None else stdin)
    return assembly.result(name)


def object_label(kind: str, namespace: str | None, name: str | None) -> str:
    """``Kind ns/name`` (``Kind name`` for cluster-scoped kinds), as diagnostics show objects."""
    if not kind:
        return ""
    kind = shown_name(kind)
    if not name:
        return kind
    if kind in CLUSTER_SCOPED or namespace is None:
        return f"{kind} {shown_name(name)}"
    return f"{kind} {shown_name(namespace)}/{shown_name(name)}"


class _Assembly:
    """Collects objects, diagnostics and notes while documents stream by."""

    def __init__(self, default_namespace: str, settings: Settings, budget: Budget,
                 keep_documents: bool = False) -> None:
        self.default_namespace = default_namespace
        self.settings = settings
        self.budget = budget
        self.stopped = False  # a limit of the budget was passed: read nothing more
        self.objects = 0
        self.texts: dict[str, str] = {}
        self.keep_documents = keep_documents
        self.documents: dict[Origin, Any] = {}
        self.diagnostics: list[Diagnostic] = []
        self.notes: list[str] = []
        self.ignored: Counter[str] = Counter()
        self.namespaces: dict[str, Namespace] = {}
        self.pods: dict[tuple[str, str, str], Pod] = {}
        self.services: dict[tuple[str, str], Service] = {}
        self.policies: dict[tuple[str, str], NetworkPolicy] = {}
        self.cluster_policies: dict[tuple[str, str], ClusterPolicy] = {}
        self.nodes: dict[str, Node] = {}
        self.staged: dict[tuple[str, str], StagedNetworkPolicy] = {}

    def add_sources(self, paths: Sequence[str], stdin: TextIO, keep_texts: bool = False) -> None:
        """Every file, directory and ``-`` of ``paths``, in order, until a limit stops the reading."""
        for item in read_sources(paths, stdin, self.budget):
            match item:
                case SourceText(name=name, text=text):
                    if keep_texts:
                        self.texts[name] = text
                    self.add_text(FileOrigin(name, 0), text)
                case Diagnostic():
                    self.diagnostics.append(item)
                    self.stopped = item.code == codes.LIMIT
                case str():
                    self.notes.append(item)
            if self.stopped:
                break

    def add_text(self, origin: Origin, text: str) -> None:
        json_like = origin.file.endswith(".json") or _JSON_START.match(text) is not None
        lines_lost = False
        for item in iter_documents(text, json_fallback=json_like, budget=self.budget):
            if isinstance(item, RawDocument):
                lines_lost = lines_lost or _without_lines(item.data)
                self._add(origin, item.data, item.line, item.duplicates, None, None)
                if self.stopped:
                    return
            else:
                self.diagnostics.append(
                    Diagnostic(item.code, Severity.ERROR, item.message, file=origin.file, line=item.line))
        if lines_lost and self.keep_documents:
            # A stream of JSON values is read without lines; the YAML reading of its
            # start still has them, for the objects it reaches.
            for line, doc in _yaml_start(text).items():
                self.documents[origin.at(line)] = doc

    def add_document(self, origin: Origin, doc: Any) -> None:
        """One parsed document (an object or a List) from ``origin``.

        A :class:`RawDocument` keeps its line and duplicate keys; other values their
        ``line`` if they have one (a ``LineDict``), else the origin's.
        """
        if isinstance(doc, RawDocument):
            self._add(origin, doc.data, doc.line, doc.duplicates, None, None)
        else:
            self._add(origin, doc, getattr(doc, "line", None) or origin.line or 0, (), None, None)

    # -- documents -------------------------------------------------------------------------

    def _add(self, origin: Origin, doc: Any, line: int, duplicates: Sequence[Duplicate],
             default_kind: str | None, default_api_version: str | None) -> None:
        # Lists may hold Lists, as deep as the YAML nests: a stack, not recursion.
        pending = [(doc, line, duplicates, default_kind, default_api_version)]
        while pending:
            doc, line, duplicates, default_kind, default_api_version = pending.pop()
            if not isinstance(doc, Mapping):
                self.diagnostics.append(Diagnostic(
                    codes.NOT_A_MAPPING, Severity.ERROR,
                    f"a manifest must be a mapping with kind, apiVersion and metadata, not {describe(doc)}",
                    file=origin.file, line=_line(origin, line)))
                continue
            if default_kind is None and "kind" not in doc and "apiVersion" not in doc:
                # podfence's own files (intents, assertion specs, .podfence.yaml) often sit
                # beside the manifests; they are not objects, so they are passed over aloud.
                self.notes.append(f"skipped {where(origin.at(line))}: not a Kubernetes object (no kind or apiVersion)")
                continue
            kind = doc.get("kind") or default_kind
            if isinstance(kind, str) and (kind == "List" or (kind.endswith("List") and "items" in doc)):
                pending.extend(reversed(self._list_items(origin, doc, line, duplicates, kind, doc.get("apiVersion"))))
                continue
            self.objects += 1
            self.budget.objects += 1
            if self.budget.objects > self.budget.max_objects:
                self.diagnostics.append(too_many_objects(origin.file, _line(origin, line), self.budget))
                self.stopped = True
                return
            self._add_object(origin, doc, line, duplicates, kind, doc.get("apiVersion") or default_api_version)

    def _list_items(self, origin: Origin, doc: Mapping[str, Any], line: int, duplicates: Sequence[Duplicate],
                    kind: str, api_version: Any) -> list[tuple[Any, int, Sequence[Duplicate], str | None, str | None]]:
        """The items of a List, each with its line, duplicates and defaults; [] when the List is unusable."""
        items = doc.get("items")
        per_item = _duplicates_by_item(items, duplicates) if duplicates and isinstance(items, list) else {}
        own = [d for d in duplicates if not any(d in found for found in per_item.values())]
        r = FieldReader()
        _report_duplicates(r, own, doc)
        if items is None:
            r.add(required(codes.MISSING_FIELD, ("items",), f"a {kind} needs items"))
        elif not isinstance(items, list):
            r.wrong_type(("items",), items, Kind.LIST)
        if r.problems:
            self._place(r.problems, origin, doc, kind)
            return []
        # Items of a typed list (PodList) may leave out their kind and apiVersion.
        item_kind = kind[: -len("List")] if kind != "List" else None
        item_api_version = api_version if item_kind and isinstance(api_version, str) else None
        item_lines = items.item_lines if isinstance(items, LineList) else None
        return [(item, item_lines[i] if item_lines is not None else line, per_item.get(i, ()), item_kind,
                 item_api_version) for i, item in enumerate(items)]

    def _add_object(self, origin: Origin, doc: Mapping[str, Any], line: int, duplicates: Sequence[Duplicate],
                    kind: Any, api_version: Any) -> None:
        r = FieldReader()
        for name, value in (("kind", kind), ("apiVersion", api_version)):
            if value is None or value == "":
                r.add(required(codes.MISSING_FIELD, (name,), f"every object needs {_ARTICLE[name]} {name}"))
            elif not isinstance(value, str):
                r.wrong_type((name,), value, Kind.STRING)
        namespace = self._namespace_of(doc)
        label = object_label(kind if isinstance(kind, str) else "", namespace, _name_of(doc))
        _report_duplicates(r, duplicates, doc)
        if r.problems or not self._modelled(kind, api_version, r):
            self._place(r.problems, origin, doc, label)
            return
        meta = r.as_map(doc.get("metadata"), ("metadata",))
        name = r.as_str(meta.get("name"), ("metadata", "name"))
        r.as_str(meta.get("namespace"), ("metadata", "namespace"))
        if not name and not r.problems:
            r.add(required(codes.MISSING_FIELD, ("metadata", "name"), "every object needs a name"))
        # Without a name there is nothing to build; a NetworkPolicy's other metadata
        # problems would be reported again by its validation. Other kinds read on,
        # so that every problem of the object is reported at once.
        if not name or (kind in POLICY_KINDS and r.problems):
            self._place(r.problems, origin, doc, label, by_line=True)
            return
        source = _object_origin(origin, line, kind, namespace, name, meta)
        if self.keep_documents:
            self.documents.setdefault(source, doc)  # List items on one line: the first is found there
        if kind in POLICY_KINDS:
            self._add_policy(doc, namespace, name, source, label, staged=kind != "NetworkPolicy")
            return
        if kind in CLUSTER_POLICY_KINDS:
            self._add_cluster_policy(doc, kind, name, source, label, r)
            return
        built: Namespace | Pod | Service | Node | None
        if kind == "Namespace":
            built = read_namespace(doc, name, source, r)
        elif kind == "Pod":
            built = read_pod(doc, namespace, name, source, r)
        elif kind == "Service":
            built = read_service(doc, namespace, name, source, r)
        elif kind == "Node":
            built = read_node(doc, name, source, r)
        else:
            built = read_workload(doc, kind, namespace, name, source, r)
        known = {(d.code, d.field, d.message) for d in r.problems}
        validated = validate_object(doc, kind=kind, namespace=namespace, api_version=api_version) \
            if kind in VALIDATED_KINDS else []
        for problem in validated:
            # Reads and validation both report a wrong type where they meet it; one is enough.
            if (problem.code, problem.field, problem.message) not in known:
                r.add(problem)
        self._place(r.problems, source, doc, label, by_line=True)
        if built is None or r.failed:
            return
        if isinstance(built, Node):
            self._keep(self.nodes, name, built, label)
        elif isinstance(built, Namespace):
            self._keep(self.namespaces, name, built, label)
        elif isinstance(built, Service):
            self._keep(self.services, (namespace, name), built, label)
        else:
            if not _namespace_given(doc):
                built = replace(built, namespace_given=False)
            self._keep(self.pods, (kind, namespace, name), built, label)

    def _namespace_of(self, doc: Mapping[str, Any]) -> str:
        """The effective namespace: ``metadata.namespace`` when it is a non-empty string, else the default."""
        meta = doc.get("metadata")
        namespace = meta.get("namespace") if isinstance(meta, Mapping) else None
        return namespace if isinstance(namespace, str) and namespace else self.default_namespace

    def _modelled(self, kind: str, api_version: str, r: FieldReader) -> bool:
        """True for kinds podfence reads; the rest are counted in the notes or reported."""
        groups = GROUPS.get(kind)
        if groups is None:
            self.ignored[kind] += 1
            return False
        group = api_group(api_version)
        if group in groups and (kind not in ONE_VERSION or kind in CLUSTER_POLICY_KINDS  # the validator says which
                                or api_version == PREFERRED_VERSION[kind]):
            return True
        if looks_built_in(group):
            r.add(invalid(codes.WRONG_API_VERSION, ("apiVersion",), api_version,
                          f"{kind} is served as {PREFERRED_VERSION[kind]}"))
        elif kind == "NetworkPolicy":
            r.add(diag(codes.FOREIGN_POLICY, ("apiVersion",),
                       f"a {api_version} NetworkPolicy is not a Kubernetes NetworkPolicy; podfence does not "
                       f"evaluate it, so results leave it out", Severity.WARNING))
        else:
            self.ignored[f"{kind} ({api_version})"] += 1
        return False

    def _add_policy(self, doc: Mapping[str, Any], namespace: str, name: str, source: Origin, label: str,
                    staged: bool = False) -> None:
        validate = validate_staged_policy if staged else validate_network_policy
        problems = validate(doc, namespace=namespace, settings=self.settings)
        self._place(problems, source, doc, label)
        if any(d.is_error for d in problems):
            return
        try:
            policy: NetworkPolicy | StagedNetworkPolicy = (
                StagedNetworkPolicy.from_dict(doc, namespace=namespace, source=source) if staged
                else NetworkPolicy.from_dict(doc, namespace=namespace, source=source))
        except (TypeError, ValueError, KeyError, AttributeError) as exc:
            self._unreadable(exc, source, label)
            return
        self._keep(self.staged if staged else self.policies, (namespace, name), policy, label)

    def _add_cluster_policy(self, doc: Mapping[str, Any], kind: str, name: str, source: Origin, label: str,
                            r: FieldReader) -> None:
        """A cluster-wide policy: validated as its CRD validates it, then read type-safely."""
        known = {(d.code, d.field, d.message) for d in r.problems}
        for problem in validate_object(doc, kind=kind, namespace="", api_version=doc.get("apiVersion") or "",
                                       settings=self.settings):
            if (problem.code, problem.field, problem.message) not in known:
                r.add(problem)
        if not r.failed:
            guard = FieldReader()
            check_cluster_policy(doc, kind, guard)
            known = {d.field for d in r.problems}
            for problem in guard.problems:
                if problem.field not in known:
                    r.add(problem)
        self._place(r.problems, source, doc, label, by_line=True)
        if r.failed:
            return
        try:
            policy = ClusterPolicy.from_dict(doc, source=source)
        except (TypeError, ValueError, KeyError, AttributeError) as exc:
            self._unreadable(exc, source, label)
            return
        self._keep(self.cluster_policies, (kind, name), policy, label)

    def _unreadable(self, exc: Exception, source: Origin, label: str) -> None:
        """Validation promises input the model can read; if that promise is broken, say so instead of crashing."""
        self.diagnostics.append(Diagnostic(
            codes.UNREADABLE_POLICY, Severity.ERROR,
            f"podfence could not read this policy although it passed validation ({exc!r}); "
            f"please report this as a bug", object=label, file=source.file, line=source.line))

    def _keep(self, store: dict[Any, Any], key: Any, obj: Namespace | Pod | Service | NetworkPolicy | StagedNetworkPolicy
              | ClusterPolicy | Node, label: str) -> None:
        previous = store.get(key)
        if previous is not None and obj.source is not None:
            self.diagnostics.append(Diagnostic(
                codes.DUPLICATE_OBJECT, Severity.WARNING,
                f"defined again; this definition replaces the one at {where(previous.source)}",
                object=label, file=obj.source.file, line=obj.source.line))
        store[key] = obj

    def _place(self, problems: Iterable[Diagnostic], origin: Origin, doc: Any, label: str, *,
               by_line: bool = False) -> None:
        """Add ``problems`` at their lines in ``doc``; ``by_line`` sorts them (validation keeps its order)."""
        placed = [
            d.located(file=origin.file, line=d.line if d.line is not None else locate(doc, d.field), object=label)
            if origin.line is not None else replace(d, file=origin.file, line=None, object=label)
            for d in problems
        ]
        if by_line:
            placed.sort(key=lambda d: d.line or 0)
        self.diagnostics.extend(placed)

    # -- result ----------------------------------------------------------------------------

    def result(self, name: str = "") -> LoadResult:
        cluster = Cluster.of(tuple(self.namespaces.values()), self._named_pods(),
                             tuple(self.services.values()), tuple(self.policies.values()), name=name,
                             cluster_policies=tuple(self.cluster_policies.values()), nodes=tuple(self.nodes.values()),
                             staged=tuple(self.staged.values()))
        for warning in same_priority_warnings(cluster.cluster_policies):
            self.diagnostics.append(warning)
        notes = [*self.notes]
        for kind, count in sorted(self.ignored.items()):
            notes.append(f"ignored {count} {kind} object{'' if count == 1 else 's'}")
        return LoadResult(cluster, tuple(self.diagnostics), tuple(notes), self.objects, self.texts, self.documents)

    def _named_pods(self) -> tuple[Pod, ...]:
        """Pods with unique keys: representatives that share a name get ``-<kind>`` appended."""
        owned = _owned(self.pods)
        sharing = Counter((ns, name) for _, ns, name in owned)
        taken = set(sharing)
        pods = []
        for (kind, namespace, name), pod in sorted(owned.items()):
            if kind == "Pod" or sharing[(namespace, name)] == 1:
                pods.append(pod)
                continue
            base = new_name = f"{name}-{kind.lower()}"
            n = 2
            while (namespace, new_name) in taken:
                new_name, n = f"{base}-{n}", n + 1
            taken.add((namespace, new_name))
            self.diagnostics.append(Diagnostic(
                codes.RENAMED_POD, Severity.WARNING,
                f"another pod is also named {namespace}/{name}; this {kind} is analysed as {namespace}/{new_name}",
                object=object_label(kind, namespace, name),
                file=pod.source.file if pod.source else None, line=pod.source.line if pod.source else None))
            pods.append(replace(pod, name=new_name))
        return tuple(pods)


def _owned(pods: Mapping[tuple[str, str, str], Pod]) -> dict[tuple[str, str, str], Pod]:
    """The pods once ownership is followed: controllers stand aside for their pods.

    Every pod gets its ``workload`` (the top controller its owner references
    lead to, among the objects read); a controller is left out when a pod it
    owns, directly or through another controller, is in the input, or when its
    own controller is (that one stands for it).
    """
    def parent(kind: str, namespace: str, pod: Pod) -> tuple[str, str, str] | None:
        if pod.owner is None:
            return None
        owner = (pod.owner[0], namespace, pod.owner[1])
        if owner in pods or kind != "Pod" or owner[0] != "ReplicaSet":
            return owner
        # The ReplicaSet is not in the input: its name is its Deployment's plus the pods' hash.
        digest = pod.labels.get("pod-template-hash")
        if digest and owner[2].endswith(f"-{digest}"):
            deployment = ("Deployment", namespace, owner[2][: -len(digest) - 1])
            if deployment in pods:
                return deployment
        return owner

    below: set[tuple[str, str, str]] = set()  # controllers with a real pod below them
    top: dict[tuple[str, str, str], tuple[str, str]] = {}
    for key, pod in pods.items():
        kind, namespace, _ = key
        seen = {key}
        step = parent(kind, namespace, pod)
        last = None
        while step is not None and step not in seen:
            seen.add(step)
            last = step
            if kind == "Pod":
                below.add(step)
            above = pods.get(step)
            step = None if above is None else parent(step[0], namespace, above)
        if last is not None:
            top[key] = (last[0], last[2])
    out: dict[tuple[str, str, str], Pod] = {}
    for key, pod in pods.items():
        if key[0] != "Pod" and (key in below or (pod.owner is not None and parent(key[0], key[1], pod) in pods)):
            continue
        out[key] = replace(pod, workload=top.get(key)) if key in top else pod
    return out


def _without_lines(data: Any) -> bool:
    """A mapping read as JSON, not YAML: no lines for its keys."""
    return isinstance(data, Mapping) and bool(data) and not getattr(data, "key_lines", None)


def _yaml_start(text: str) -> dict[int, LineDict]:
    """Line -> object manifest, with lines, for the documents YAML reads before it gives up (and List items)."""
    out: dict[int, LineDict] = {}
    for item in iter_documents(text):
        if not isinstance(item, RawDocument):
            break
        pending = [(item.data, item.line)]  # Lists may nest as deep as the YAML does
        while pending:
            data, line = pending.pop()
            if not isinstance(data, LineDict):
                continue
            items, kind = data.get("items"), data.get("kind")
            if isinstance(kind, str) and kind.endswith("List") and isinstance(items, LineList):
                pending.extend(reversed([(one, items.item_lines[i]) for i, one in enumerate(items)]))
            else:
                out.setdefault(line, data)
    return out


def _line(origin: Origin, line: int) -> int | None:
    """``line`` where the origin has lines (files), None where it has none (a cluster's objects)."""
    return None if origin.line is None else line


def _object_origin(origin: Origin, line: int, kind: str, namespace: str, name: str,
                   meta: Mapping[str, Any]) -> Origin:
    """Where one object was read: its line in a file, or its name in a cluster."""
    if isinstance(origin, ClusterOrigin):
        version = meta.get("resourceVersion")
        return origin.named(kind, None if kind in CLUSTER_SCOPED else namespace, name,
                            version if isinstance(version, str) else "")
    return origin.at(line)


def _namespace_given(doc: Mapping[str, Any]) -> bool:
    """True when ``metadata.namespace`` names a namespace (the default was not needed)."""
    meta = doc.get("metadata")
    namespace = meta.get("namespace") if isinstance(meta, Mapping) else None
    return isinstance(namespace, str) and bool(namespace)


def _name_of(doc: Mapping[str, Any]) -> str | None:
    """``metadata.name`` if it is a string, for naming the object in diagnostics."""
    meta = doc.get("metadata")
    name = meta.get("name") if isinstance(meta, Mapping) else None
    return name if isinstance(name, str) else None


def _report_duplicates(r: FieldReader, duplicates: Sequence[Duplicate], doc: Any) -> None:
    """``L4`` for each key written twice, at the path of the mapping that holds it."""
    paths = node_paths(doc, [dup.mapping for dup in duplicates]) if duplicates else {}
    for dup in duplicates:
        problem = diag(codes.DUPLICATE_KEY, paths.get(id(dup.mapping), ()),
                       f"key {render_value(dup.key)} is already set at line {dup.first_line}; "
                       f"kubectl rejects duplicate keys, so the object is left out")
        r.add(problem.located(line=dup.line))


def _duplicates_by_item(items: list[Any], duplicates: Sequence[Duplicate]) -> dict[int, list[Duplicate]]:
    """Which List items hold each duplicate key (walks the items; only done when there are some)."""
    wanted = {id(d.mapping) for d in duplicates}
    found: dict[int, list[Duplicate]] = {}
    for i, item in enumerate(items):
        inside: set[int] = set()
        seen: set[int] = set()  # YAML aliases can make a value contain itself
        stack = [item]
        while stack:
            node = stack.pop()
            if not isinstance(node, (dict, list)) or id(node) in seen:
                continue
            seen.add(id(node))
            if isinstance(node, dict):
                if id(node) in wanted:
                    inside.add(id(node))
                stack.extend(node.values())
            else:
                stack.extend(node)
        if inside:
            found[i] = [d for d in duplicates if id(d.mapping) in inside]
    return found
