"""podfence ui: the cluster's reachability in the browser, from a local server."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from podfence.app import lab as labs
from podfence.app.browse import load_clusters
from podfence.cli.common import (
    DEFAULT_MAX_INPUT_BYTES, DEFAULT_MAX_OBJECTS, LISTENER, TIMEOUT, AllowEmpty, ConfigPath, Filenames, Kubeconfig,
    MaxInputBytes, MaxObjects, Namespace, RequestTimeout, SettingValues, StrictCidr, options,
)
from podfence.ui.api import Source, Workspace
from podfence.ui.denials import DenialFeed


def ui(
    filename: Filenames = [],  # noqa: B006
    namespace: Namespace = "default",
    kubeconfig: Kubeconfig = None,
    context: Annotated[list[str], typer.Option(
        "--context", metavar="NAME", help="kubeconfig context to read (default: the current one when no -f is "
                                          "given). Repeat it to load several clusters; the page switches "
                                          "between them.")] = [],  # noqa: B006
    port: Annotated[int, typer.Option("--port", min=0, max=65535,
                                      help="Port to listen on (0: any free port).")] = 8765,
    host: Annotated[str, typer.Option(
        "--host", help="Address to listen on. Anything but the loopback address needs the access token "
                       "that the printed URL carries.")] = "127.0.0.1",
    no_browser: Annotated[bool, typer.Option("--no-browser", help="Do not open the browser.")] = False,
    read_only: Annotated[bool, typer.Option("--read-only", help="Refuse every write.")] = False,
    lab: Annotated[Optional[str], typer.Option(
        "--lab", metavar="NAME", help="Show the denied connections of this running lab (podfence lab up) live, "
                                      "in the Denials view and as red edges on the map.")] = None,
    strict_cidr: StrictCidr = False,
    config: ConfigPath = None,
    setting: SettingValues = [],  # noqa: B006
    allow_empty: AllowEmpty = False,
    max_input_bytes: MaxInputBytes = DEFAULT_MAX_INPUT_BYTES,
    max_objects: MaxObjects = DEFAULT_MAX_OBJECTS,
    request_timeout: RequestTimeout = TIMEOUT,
) -> None:
    """Open the map, matrix, explanations and policies of the manifests (or live clusters) in the browser.

    The first line on stdout is the URL; the server runs until interrupted.
    """
    from podfence.ui.server import serve  # FastAPI only when the page is served

    given = options(filename, namespace, config, setting, strict_cidr, allow_empty, max_input_bytes, max_objects,
                    kubeconfig=kubeconfig, request_timeout=request_timeout)
    workspaces = {b.result.cluster.name: Workspace(b.result, b.run.config, b.run.settings, Source(b.label, namespace),
                                                   given, name)
                  for b, name in zip(load_clusters(given, context, LISTENER), context or [None])}
    denials = None if lab is None else DenialFeed(labs.watch_denials(labs.LabRun(name=lab), LISTENER))
    serve(workspaces, host, port, read_only, not no_browser, denials)

