"""The convert use case: v1alpha1 Admin/BaselineAdminNetworkPolicy to v1alpha2 ClusterNetworkPolicy, proven.

The conversion itself is :mod:`podfence.generate.convert`; this use case reads the
source, converts every v1alpha1 cluster policy in it, checks that the result
loads as valid manifests, and proves with the engine that the cluster's
connectivity is the same before and after. With ``out`` the policies are written
there (all or nothing, never over a file without ``force``); else their YAML comes
back for the face to print.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from podfence.app.errors import Stop, stop_on_errors
from podfence.app.loading import load_cluster
from podfence.app.options import Listener, Options, prepare
from podfence.app.writing import check_writable, write_file
from podfence.generate.convert import convert as convert_policies, converted_cluster
from podfence.generate.proof import Proof, prove_change
from podfence.loader import LineDict, load_texts, locate
from podfence.model import Diagnostic
from podfence.render.generate import converted_yaml


@dataclass(frozen=True, slots=True)
class ConvertReport:
    """The ClusterNetworkPolicies made (empty: nothing to convert), their YAML, and the proof."""

    policies: tuple[Any, ...]
    text: str
    proof: Proof | None


def convert(options: Options, listener: Listener | None = None, *, out: str | None = None,
            force: bool = False) -> ConvertReport:
    """Every v1alpha1 cluster policy of the source as a ClusterNetworkPolicy, with the proof nothing changed."""
    if out is not None:
        check_writable(Path(out), force, "-o")
    run = prepare(options, listener)
    result = load_cluster(run, keep_documents=True, live=False)
    before = result.cluster
    documents = result.documents
    policies = sorted(before.cluster_policies,
                      key=lambda p: (p.source.file, p.source.line or 0) if p.source else ("", 0))
    conversion = convert_policies((documents[p.source], p.source) for p in policies if p.source in documents)
    stop_on_errors(_placed(d, policies, documents) for d in conversion.problems)
    if not conversion.converted:
        run.say("podfence: nothing to convert: no AdminNetworkPolicy or BaselineAdminNetworkPolicy in the input")
        return ConvertReport((), "", None)
    text = converted_yaml(conversion.converted)
    check = load_texts([("converted", text)], default_namespace=options.namespace, settings=run.settings)
    if not check.ok:  # the conversion's own output must be valid: a bug, said plainly
        raise Stop("the converted policies do not validate: "
                   + "; ".join(d.one_line() for d in check.diagnostics if d.is_error))
    after = converted_cluster(before, conversion)
    found = prove_change(before, after, run.settings, [], [p.key for p in before.pods])
    if out is not None:
        write_file(Path(out), text, force, "-o")
    return ConvertReport(tuple(conversion.converted), text, found)


def _placed(d: Diagnostic, policies: Sequence[Any], documents: dict[Any, Any]) -> Diagnostic:
    """A conversion problem placed at its field's line in its policy's file (its object is ``Kind name``)."""
    source = next((p.source for p in policies if f"{p.kind} {p.name}" == d.object), None)
    if source is None:
        return d
    doc = documents.get(source)
    return d.located(line=locate(doc, d.field) if isinstance(doc, LineDict) else source.line)
