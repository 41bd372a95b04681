"""podfence convert: v1alpha1 AdminNetworkPolicy / BaselineAdminNetworkPolicy to v1alpha2 ClusterNetworkPolicy.

The conversion is :mod:`podfence.generate.convert`; this command reads the
manifests, writes the ClusterNetworkPolicies (stdout, or ``-o FILE``), checks that
they load as valid manifests, and proves with the engine that the cluster's
connectivity is the same before and after (the proof on stderr, or on stdout with
``--proof``). Exit 0: converted and unchanged; 1: the proof found a change; 2:
invalid input, or something with no exact equivalent.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from podfence.cli.common import (
    DEFAULT_MAX_INPUT_BYTES, DEFAULT_MAX_OBJECTS, EXIT_FINDINGS, ConfigPath, Filenames, MaxInputBytes, MaxObjects,
    Namespace, SettingValues, StrictCidr, check_writable, exit_on_errors, fail, input_budget, load_cluster,
    load_config, settings_from, write, write_file,
)
from podfence.generate.convert import convert as convert_policies, converted_cluster
from podfence.generate.proof import prove_change
from podfence.loader import LineDict, load_texts, locate
from podfence.render.generate import conversion_proof_text, converted_yaml


def convert(
    filename: Filenames = [],  # noqa: B006 - typer needs a literal default
    namespace: Namespace = "default",
    output: Annotated[Optional[str], typer.Option(
        "-o", "--output", metavar="FILE", help="Write the ClusterNetworkPolicies to FILE instead of stdout.")] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite FILE if it exists.")] = False,
    proof: Annotated[bool, typer.Option(
        "--proof", help="Print the proof on stdout (instead of stderr); the policies then go to -o FILE only.")] = False,
    strict_cidr: StrictCidr = False,
    config: ConfigPath = None,
    setting: SettingValues = [],  # noqa: B006
    max_input_bytes: MaxInputBytes = DEFAULT_MAX_INPUT_BYTES,
    max_objects: MaxObjects = DEFAULT_MAX_OBJECTS,
) -> None:
    """Convert v1alpha1 AdminNetworkPolicy/BaselineAdminNetworkPolicy to ClusterNetworkPolicy, proving connectivity unchanged."""
    if output is not None:
        check_writable(Path(output), force, "-o")
    budget = input_budget(max_input_bytes, max_objects)
    settings = settings_from(setting, strict_cidr, load_config(config, budget).settings)
    result = load_cluster(filename, namespace, settings, budget, keep_documents=True)
    before = result.cluster
    documents = result.documents
    policies = sorted(before.cluster_policies, key=lambda p: (p.source.file, p.source.line or 0) if p.source else ("", 0))
    conversion = convert_policies((documents[p.source], p.source) for p in policies if p.source in documents)
    exit_on_errors(d.located(line=_line(documents, d.field, p)) if (p := _source(policies, d.object)) else d
                   for d in conversion.problems)
    if not conversion.converted:
        sys.stderr.write("podfence: nothing to convert: no AdminNetworkPolicy or BaselineAdminNetworkPolicy in the "
                         "input\n")
        return
    text = converted_yaml(conversion.converted)
    check = load_texts([("converted", text)], default_namespace=namespace, settings=settings)
    if not check.ok:  # the conversion's own output must be valid: a bug, said plainly
        fail("the converted policies do not validate: " + "; ".join(d.one_line() for d in check.diagnostics
                                                                       if d.is_error))
    after = converted_cluster(before, conversion)
    found = prove_change(before, after, settings, [], [p.key for p in before.pods])
    if output is not None:
        write_file(Path(output), text, force, "-o")
    elif not proof:
        write(text)
    report = conversion_proof_text(found, conversion.converted)
    if proof:
        write(report)
    else:
        sys.stderr.write(report)
    if not found.exact:
        raise typer.Exit(EXIT_FINDINGS)


def _source(policies, label: str):  # type: ignore[no-untyped-def]
    """The origin of the policy a problem is about (its label is ``Kind name``)."""
    return next((p.source for p in policies if f"{p.kind} {p.name}" == label), None)


def _line(documents, field, source) -> int | None:  # type: ignore[no-untyped-def]
    doc = documents.get(source)
    return locate(doc, field) if isinstance(doc, LineDict) else source.line
