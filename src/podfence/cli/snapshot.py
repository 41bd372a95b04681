"""podfence snapshot: everything podfence reads from a live cluster, as plain manifests."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from podfence.app import Live
from podfence.app.snapshot import snapshot as take_snapshot
from podfence.app.writing import check_writable, write_file
from podfence.cli.common import (
    DEFAULT_MAX_OUTPUT_BYTES, LISTENER, TIMEOUT, ContextName, Kubeconfig, MaxOutputBytes, RequestTimeout, busy,
    write_bounded,
)
from podfence.render.manifests import manifest_chunks


def snapshot(
    kubeconfig: Kubeconfig = None,
    context: ContextName = None,
    output: Annotated[str | None, typer.Option("-o", "--output", metavar="PATH",
                                               help="Write the manifests to PATH instead of standard output.")] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite the -o file if it exists.")] = False,
    request_timeout: RequestTimeout = TIMEOUT,
    max_output_bytes: MaxOutputBytes = DEFAULT_MAX_OUTPUT_BYTES,
) -> None:
    """Everything podfence reads from a live cluster, as plain manifests.

    One multi-document YAML stream: kind and apiVersion on every object, pod status
    kept, the API server's bookkeeping (managedFields, uid, resourceVersion, ...) and
    containers' env dropped. `podfence <command> -f` on it gives the live results.
    """
    if output is not None:
        check_writable(Path(output), force, "-o")
    taken = take_snapshot(Live(kubeconfig, context, request_timeout), LISTENER)
    with busy("writing manifests"):
        chunks = manifest_chunks(taken.manifests)
        if output is None:
            write_bounded(chunks, max_output_bytes, "snapshot")
            return
        text = "".join(chunks)
    write_file(Path(output), text, force, "-o")
    sys.stderr.write(f"wrote {len(taken.manifests)} objects of context {taken.context!r} to {output}\n")
