"""The monitor use cases: what a denial stream is followed with, and where from.

:func:`prepare_monitor` checks the stream asked for (exactly one of a Hubble
file, a Calico flow log or a lab), the ``--listen`` address and, with manifests,
builds the context that names workloads and policies in the events. :func:`follow`
feeds a :class:`~podfence.monitor.Monitor` from the stream until it ends or is
stopped. Serving the metrics and drawing the view belong to the face.
"""

from __future__ import annotations

import os
import sys
import threading
from dataclasses import dataclass

from podfence.app.errors import Stop
from podfence.app.lab import LabRun, session
from podfence.app.loading import load_cluster
from podfence.app.options import Listener, Options, prepare
from podfence.lab import control
from podfence.model.text import quoted
from podfence.monitor import ManifestContext, Metrics, Monitor, follow_file, read_stream

DEFAULT_LISTEN = "127.0.0.1:9807"


@dataclass(frozen=True, slots=True)
class Watch:
    """What to follow (``hubble``, ``calico`` or ``lab``), from where, served where, and the manifests' context."""

    source: str
    path: str
    flag: str
    host: str
    port: int
    context: ManifestContext | None = None


def parse_listen(value: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[v6]:PORT`` for IPv6) as a host and a port number; exit 2 when it is neither."""
    host, sep, port = value.rpartition(":")
    host = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise Stop(f"--listen {quoted(value)}: expected HOST:PORT, e.g. {DEFAULT_LISTEN}")
    return host, int(port)


def prepare_monitor(options: Options, streams: dict[str, str | None], listen: str,
                    listener: Listener | None = None) -> Watch:
    """The stream to follow (``streams``: flag to value, exactly one given) and the manifests' context."""
    given = [(flag, value) for flag, value in streams.items() if value is not None]
    if len(given) != 1:
        raise Stop("say which stream to follow: exactly one of --hubble FILE|-, --calico FILE|- or --lab NAME")
    flag, path = given[0]
    assert path is not None
    source = flag.lstrip("-")
    host, port = parse_listen(listen)
    if source != "lab" and path != "-":
        if not os.path.isfile(path):
            raise Stop(f"{flag} {path}: {'not a regular file' if os.path.exists(path) else 'no such file'}")
        if not os.access(path, os.R_OK):
            raise Stop(f"{flag} {path}: cannot read: permission denied")
    if path == "-" and "-" in options.files:
        raise Stop(f"-f - and {flag} - both read standard input: give one of them a file")
    context = None
    if options.files:
        run = prepare(options, listener)
        result = load_cluster(run, live=False)
        context = ManifestContext(result.cluster, run.settings, run.config)
    return Watch(source, path, flag, host, port, context)


def metrics_for(watch: Watch) -> Metrics:
    """The metrics of one monitor, with the manifests' gauges set when there are manifests."""
    from prometheus_client import disable_created_metrics

    disable_created_metrics()  # the *_created series carry nothing a dashboard reads
    metrics = Metrics(watch.source)
    if watch.context is not None:
        metrics.set_manifest_gauges(watch.context.isolated_ratios(), watch.context.lint_counts())
    return metrics


def serve(metrics: Metrics, watch: Watch, listen: str) -> str:
    """Serve ``/metrics`` at the watch's address in a background thread; the URL it answers on."""
    from prometheus_client import start_http_server

    host = watch.host
    try:
        server, _ = start_http_server(watch.port, addr=host, registry=metrics.registry)
    except (OSError, ValueError) as exc:  # address in use, unknown host
        raise Stop(f"--listen {quoted(listen)}: cannot serve there ({getattr(exc, 'strerror', None) or exc})") \
            from None
    bound = server.server_address
    return f"http://{'[' + host + ']' if ':' in host else host}:{bound[1]}/metrics"


def follow(running: Monitor, watch: Watch, stop: threading.Event, listener: Listener | None = None) -> None:
    """Feed ``running`` from the stream until it ends (standard input) or ``stop`` is set."""
    listener = listener or Listener()
    if watch.source == "lab":
        _follow_lab(running, watch.path, listener)
        return
    if watch.path == "-":
        running.lines(read_stream(sys.stdin.buffer))
        listener.say("podfence: end of standard input; still serving the metrics (stop with Ctrl-C)")
        while not stop.wait(3600):
            pass
        return
    try:
        running.lines(follow_file(watch.path, stop))
    except OSError as exc:
        raise Stop(f"--{watch.source} {watch.path}: cannot read: {exc.strerror or exc}") from None


def _follow_lab(running: Monitor, name: str, listener: Listener) -> None:
    from podfence.lab.denials import open_reader, stream

    with session(LabRun(name=name), listener):
        reader = open_reader(control.require_state(name))

    def ready(n: int) -> None:
        listener.say(f"podfence: following denied connections in {n} pod network namespaces of lab {name!r}")

    try:
        for record in stream(reader, ready=ready):
            running.record(record)
    except control.LabError as exc:
        raise Stop(str(exc)) from None


__all__ = ["DEFAULT_LISTEN", "Monitor", "Watch", "follow", "metrics_for", "parse_listen", "prepare_monitor", "serve"]
