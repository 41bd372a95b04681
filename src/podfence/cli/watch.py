"""podfence watch: follow a live cluster and say what each change does to connectivity."""

from __future__ import annotations

import signal
import sys
import threading
from datetime import datetime, timezone
from typing import Annotated

import typer

from podfence.cli.common import (
    EXIT_INVALID, EXIT_OK, TIMEOUT, ConfigPath, ContextName, Kubeconfig, RequestTimeout, SettingValues, StrictCidr,
    choose, exit_on_errors, fail, load_config, report, settings_from,
)
from podfence.live import LiveCluster, Update, follow
from podfence.model.text import one_line
from podfence.render.watch import FORMATS, render_update
from podfence.sources.kubeconfig import Context
from podfence.sources.watch import open_watch


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def watch(
    kubeconfig: Kubeconfig = None,
    context: ContextName = None,
    output: Annotated[str, typer.Option("-o", "--output", help="text, or json (one JSON object a line)")] = "text",
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
    settings = settings_from(setting, strict_cidr, load_config(config).settings)
    if context is not None and not context:
        fail("--context: give a context name")

    def starting(chosen: Context) -> None:
        sys.stderr.write(f"reading cluster {chosen.cluster!r} (context {chosen.name!r}, {chosen.server})\n")

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)  # stopped while it reads: as Ctrl-C, a clean exit 0
    try:
        watching = open_watch(kubeconfig, context, timeout=request_timeout, starting=starting)
        read = watching.objects
        for text in read.notes:
            sys.stderr.write(f"note: {one_line(text)}\n")
        if read.problem is not None:
            sys.stderr.write(f"podfence: error: {read.problem.one_line()}\n")
            raise typer.Exit(EXIT_INVALID)
        live = LiveCluster(read, settings)
    except KeyboardInterrupt:
        raise typer.Exit(EXIT_OK) from None
    report(live.loaded)
    exit_on_errors(live.loaded.diagnostics)
    stopping = threading.Event()

    def stop(signum: int, frame: object) -> None:
        stopping.set()

    previous = {s: signal.signal(s, stop) for s in (signal.SIGINT, signal.SIGTERM)}
    watching.start()
    cluster = live.loaded.cluster
    sys.stderr.write(f"watching context {read.context!r}: {len(cluster.pods)} pods, {len(cluster.policies)} "
                     "policies; Ctrl-C stops\n")

    def emit(update: Update) -> None:
        sys.stdout.write(render_update(update, output, _now()))
        sys.stdout.flush()

    def say(message: str) -> None:
        sys.stderr.write(f"note: {one_line(message)}\n")
        sys.stderr.flush()

    try:
        problem = follow(watching, live, emit, say, debounce=debounce, stopping=stopping)
    finally:
        watching.stop()
        for s, handler in previous.items():
            signal.signal(s, handler)
    if problem is not None:
        sys.stderr.write(f"podfence: error: {problem.one_line()}\n")
        raise typer.Exit(EXIT_INVALID)
    raise typer.Exit(EXIT_OK)
