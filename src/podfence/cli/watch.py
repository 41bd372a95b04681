"""podfence watch: follow a live cluster and say what each change does to connectivity.

A face over :mod:`podfence.app.watch`; Ctrl-C or SIGTERM stops it with exit 0,
also while the cluster is first read.
"""

from __future__ import annotations

import signal
import sys
import threading
from datetime import datetime, timezone
from typing import Annotated

import typer

from podfence.app import watch as watching
from podfence.cli.common import (
    EXIT_OK, LISTENER, TIMEOUT, ConfigPath, ContextName, Kubeconfig, RequestTimeout, SettingValues, StrictCidr,
    choose, options, output_option, say,
)
from podfence.render.watch import FORMATS, render_update


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


Output = output_option(FORMATS, "Output format (json: one JSON object a line)")


def watch(
    kubeconfig: Kubeconfig = None,
    context: ContextName = None,
    output: Output = "text",
    debounce: Annotated[float, typer.Option("--debounce", metavar="SECONDS", min=0.0, max=60.0,
                                            help="Gather changes this long after the first one, then say what "
                                                 "they did together (default 0.2).")] = 0.2,
    request_timeout: RequestTimeout = TIMEOUT,
    strict_cidr: StrictCidr = False,
    config: ConfigPath = None,
    setting: SettingValues = [],  # noqa: B006
) -> None:
    """Follow a live cluster; after each change, print what it did to connectivity.

    Lists, then watches, Namespaces, Pods, Services, Nodes, the workload controllers,
    NetworkPolicies and the cluster policy kinds the cluster serves. A change of
    nothing podfence reads (a pod's conditions, a node's heartbeat) prints nothing.
    JSON lines: {"time", "cluster", "cause": [{"kind", "namespace", "name", "event"}],
    "changes": [diff's change objects]}. Stop with Ctrl-C (exit 0).
    """
    choose(output, FORMATS, "-o")
    given = options(config=config, setting=setting, strict_cidr=strict_cidr, kubeconfig=kubeconfig, context=context,
                    request_timeout=request_timeout)

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)  # stopped while it reads: as Ctrl-C, a clean exit 0
    try:
        followed = watching.open_watch(given, LISTENER)
    except KeyboardInterrupt:
        raise typer.Exit(EXIT_OK) from None
    stopping = threading.Event()

    def stop(signum: int, frame: object) -> None:
        stopping.set()

    previous = {s: signal.signal(s, stop) for s in (signal.SIGINT, signal.SIGTERM)}
    cluster = followed.live.loaded.cluster
    say(f"watching context {followed.context!r}: {len(cluster.pods)} pods, {len(cluster.policies)} "
        "policies; Ctrl-C stops")

    def emit(update: watching.Update) -> None:
        sys.stdout.write(render_update(update, output, _now()))
        sys.stdout.flush()

    try:
        watching.follow(followed, emit, LISTENER, debounce=debounce, stopping=stopping)
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
    raise typer.Exit(EXIT_OK)
