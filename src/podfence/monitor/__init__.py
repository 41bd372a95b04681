"""podfence monitor: a denial stream counted into Prometheus metrics, with the manifests' view when given.

:mod:`~podfence.monitor.events` reads records into events (pure),
:mod:`~podfence.monitor.manifests` completes them from the manifests,
:mod:`~podfence.monitor.metrics` counts them, :mod:`~podfence.monitor.follow`
reads the stream, :mod:`~podfence.monitor.run` ties these together.
"""

from podfence.monitor.events import AUDIT, DROPPED, Event, EventReader, workload_of
from podfence.monitor.follow import follow_file, read_stream
from podfence.monitor.manifests import ManifestContext
from podfence.monitor.metrics import Metrics
from podfence.monitor.run import Monitor

__all__ = ["AUDIT", "DROPPED", "Event", "EventReader", "ManifestContext", "Metrics", "Monitor", "follow_file",
           "read_stream", "workload_of"]
