"""podfence monitor: follow a denial stream and serve Prometheus metrics.

The stream is a Hubble flow file (``hubble observe -o json``), a Calico flow log,
either followed as it grows or read from standard input (``-``), or a lab's
denial stream (``--lab NAME``, read as ``podfence lab denials`` reads it). The
metrics are served on ``--listen`` until the command is stopped (standard input
reaching its end does not stop it). With ``-f`` manifests, events get the
workloads and policies the records leave out, and two gauges describe the
manifests. Unless ``-q``, a terminal shows the denied pairs of the last minute.
"""

from __future__ import annotations

import signal
import sys
import threading
import time
from typing import Annotated, Any, Optional

import typer

from podfence.app import monitor as monitoring
from podfence.app.monitor import DEFAULT_LISTEN, Monitor
from podfence.cli.common import (
    DEFAULT_MAX_INPUT_BYTES, DEFAULT_MAX_OBJECTS, LISTENER, AllowEmpty, ConfigPath, Filenames, MaxInputBytes,
    MaxObjects, Namespace, SettingValues, StrictCidr, options,
)
from podfence.render.monitor import monitor_view


def monitor(
    hubble: Annotated[Optional[str], typer.Option("--hubble", metavar="FILE|-",
                                                  help="Follow Hubble flows (hubble observe -o json) in FILE as it "
                                                       "grows, or read them from standard input (-).")] = None,
    calico: Annotated[Optional[str], typer.Option("--calico", metavar="FILE|-",
                                                  help="Follow a Calico flow log in FILE, or read standard input (-).")]
    = None,
    lab: Annotated[Optional[str], typer.Option("--lab", metavar="NAME",
                                               help="Follow the denial stream of the podfence lab NAME.")] = None,
    filename: Filenames = [],  # noqa: B006
    listen: Annotated[str, typer.Option("--listen", metavar="HOST:PORT",
                                        help="Where to serve /metrics (port 0: any free port).")] = DEFAULT_LISTEN,
    quiet: Annotated[bool, typer.Option("-q", "--quiet", help="No terminal view: only serve the metrics.")] = False,
    namespace: Namespace = "default",
    strict_cidr: StrictCidr = False,
    config: ConfigPath = None,
    setting: SettingValues = [],  # noqa: B006
    allow_empty: AllowEmpty = False,
    max_input_bytes: MaxInputBytes = DEFAULT_MAX_INPUT_BYTES,
    max_objects: MaxObjects = DEFAULT_MAX_OBJECTS,
) -> None:
    """Follow denied connections and serve them as Prometheus metrics (with a live view of the last minute)."""
    watch = monitoring.prepare_monitor(
        options(filename, namespace, config, setting, strict_cidr, allow_empty, max_input_bytes, max_objects,
                live=False), {"--hubble": hubble, "--calico": calico, "--lab": lab}, listen, LISTENER)
    metrics = monitoring.metrics_for(watch)
    where = monitoring.serve(metrics, watch, listen)
    sys.stderr.write(f"podfence: serving metrics on {where}\n")
    sys.stderr.flush()
    running = Monitor(watch.source, metrics, watch.context, keep_recent=False)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: (stop.set(), _exit_quietly()))
    view = None if quiet else _start_view(running, stop, where)
    running.keep_recent = view is not None
    try:
        monitoring.follow(running, watch, stop, LISTENER)
    except KeyboardInterrupt:
        pass
    finally:
        stop.set()
        if view is not None:
            view.join(timeout=2)


def _exit_quietly() -> None:
    raise KeyboardInterrupt


def _start_view(running: Monitor, stop: threading.Event, where: str) -> threading.Thread | None:
    """The live table on the terminal, redrawn every second; none when standard output is not a terminal."""
    from rich.console import Console
    from rich.live import Live

    console = Console()
    if not console.is_terminal:
        return None

    def draw() -> Any:
        with running.lock:
            return monitor_view(running.recent.top(time.time()), running.recent.totals, where)

    def loop() -> None:
        with Live(draw(), console=console, refresh_per_second=1, transient=False) as live:
            while not stop.wait(1.0):
                live.update(draw())

    thread = threading.Thread(target=loop, name="podfence-monitor-view", daemon=True)
    thread.start()
    return thread
