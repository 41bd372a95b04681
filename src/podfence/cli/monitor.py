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

import os
import signal
import sys
import threading
import time
from typing import Annotated, Any, Optional

import typer

from podfence.cli.common import (
    DEFAULT_MAX_INPUT_BYTES, DEFAULT_MAX_OBJECTS, AllowEmpty, ConfigPath, Filenames, MaxInputBytes, MaxObjects,
    Namespace, SettingValues, StrictCidr, fail, input_budget, load_cluster, load_config, settings_from,
)
from podfence.model.text import quoted
from podfence.monitor import ManifestContext, Metrics, Monitor, follow_file, read_stream
from podfence.render.monitor import monitor_view

DEFAULT_LISTEN = "127.0.0.1:9807"


def parse_listen(value: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[v6]:PORT`` for IPv6) as a host and a port number; exit 2 when it is neither."""
    host, sep, port = value.rpartition(":")
    host = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        fail(f"--listen {quoted(value)}: expected HOST:PORT, e.g. {DEFAULT_LISTEN}")
    return host, int(port)


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
    given = [(flag, value) for flag, value in (("--hubble", hubble), ("--calico", calico), ("--lab", lab))
             if value is not None]
    if len(given) != 1:
        fail("say which stream to follow: exactly one of --hubble FILE|-, --calico FILE|- or --lab NAME")
    flag, path = given[0]
    source = flag.lstrip("-")
    host, port = parse_listen(listen)
    if source != "lab" and path != "-":
        if not os.path.isfile(path):
            fail(f"{flag} {path}: {'not a regular file' if os.path.exists(path) else 'no such file'}")
        if not os.access(path, os.R_OK):
            fail(f"{flag} {path}: cannot read: permission denied")
    if path == "-" and "-" in filename:
        fail(f"-f - and {flag} - both read standard input: give one of them a file")
    from prometheus_client import disable_created_metrics, start_http_server

    disable_created_metrics()  # the *_created series carry nothing a dashboard reads
    context = None
    metrics = Metrics(source)
    if filename:
        budget = input_budget(max_input_bytes, max_objects)
        cfg = load_config(config, budget)
        settings = settings_from(setting, strict_cidr, cfg.settings)
        result = load_cluster(filename, namespace, settings, budget, allow_empty)
        context = ManifestContext(result.cluster, settings, cfg)
        metrics.set_manifest_gauges(context.isolated_ratios(), context.lint_counts())
    try:
        server, _ = start_http_server(port, addr=host, registry=metrics.registry)
    except (OSError, ValueError) as exc:  # address in use, unknown host
        fail(f"--listen {quoted(listen)}: cannot serve there ({getattr(exc, 'strerror', None) or exc})")
    bound = server.server_address
    where = f"http://{'[' + host + ']' if ':' in host else host}:{bound[1]}/metrics"
    sys.stderr.write(f"podfence: serving metrics on {where}\n")
    sys.stderr.flush()
    running = Monitor(source, metrics, context, keep_recent=False)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: (stop.set(), _exit_quietly()))
    view = None if quiet else _start_view(running, stop, where)
    running.keep_recent = view is not None
    try:
        _follow(running, source, path, stop)
    except KeyboardInterrupt:
        pass
    finally:
        stop.set()
        if view is not None:
            view.join(timeout=2)


def _exit_quietly() -> None:
    raise KeyboardInterrupt


def _follow(running: Monitor, source: str, path: str, stop: threading.Event) -> None:
    if source == "lab":
        _follow_lab(running, path)
        return
    if path == "-":
        running.lines(read_stream(sys.stdin.buffer))
        sys.stderr.write("podfence: end of standard input; still serving the metrics (stop with Ctrl-C)\n")
        sys.stderr.flush()
        while not stop.wait(3600):
            pass
        return
    try:
        running.lines(follow_file(path, stop))
    except OSError as exc:
        fail(f"--{source} {path}: cannot read: {exc.strerror or exc}")


def _follow_lab(running: Monitor, name: str) -> None:
    from podfence.cli.lab import DEFAULT_WAIT, lab_errors, lab_session
    from podfence.lab import control
    from podfence.lab.denials import open_reader, stream

    with lab_errors():
        with lab_session(name, DEFAULT_WAIT):
            reader = open_reader(control.require_state(name))
        ready = lambda n: sys.stderr.write(  # noqa: E731
            f"podfence: following denied connections in {n} pod namespaces of lab {name!r}\n")
        for record in stream(reader, ready=ready):
            running.record(record)


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
