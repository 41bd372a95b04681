"""podfence convert: v1alpha1 AdminNetworkPolicy / BaselineAdminNetworkPolicy to v1alpha2 ClusterNetworkPolicy.

A face over :func:`podfence.app.convert.convert`: the ClusterNetworkPolicies go to
stdout (or ``-o FILE``), the proof that the cluster's connectivity is unchanged to
stderr (or stdout with ``--proof``). Exit 0: converted and unchanged; 1: the
proof found a change; 2: invalid input, or something with no exact equivalent.
"""

from __future__ import annotations

import sys
from typing import Annotated, Optional

import typer

from podfence.app.convert import convert as converting
from podfence.cli.common import (
    DEFAULT_MAX_INPUT_BYTES, DEFAULT_MAX_OBJECTS, EXIT_FINDINGS, LISTENER, ConfigPath, Filenames, MaxInputBytes,
    MaxObjects, Namespace, SettingValues, StrictCidr, options, write,
)
from podfence.render.generate import conversion_proof_text


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
    made = converting(options(filename, namespace, config, setting, strict_cidr, max_input_bytes=max_input_bytes,
                              max_objects=max_objects, live=False), LISTENER, out=output, force=force)
    if made.proof is None:
        return
    if output is None and not proof:
        write(made.text)
    report = conversion_proof_text(made.proof, list(made.policies))
    if proof:
        write(report)
    else:
        sys.stderr.write(report)
    if not made.proof.exact:
        raise typer.Exit(EXIT_FINDINGS)
