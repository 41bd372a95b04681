"""Where input comes from, beside files named with ``-f``: git revisions, flow files and live clusters.

Each source is a plain function that returns values and diagnostics (never exits,
never prints); the CLI decides what to say. A source hands its texts (with their
:class:`~podfence.model.Origin`) or parsed documents to the loader
(:func:`~podfence.loader.load_texts`, :func:`~podfence.loader.load_objects`), so
every input is checked the same way. A new input (a live cluster, an archive)
is a new module here.
"""

from podfence.sources.cluster import ClusterObjects, read_cluster
from podfence.sources.flow_files import CountedFlows, FlowFiles, count_flows, read_flows
from podfence.sources.git import GIT_TIMEOUT, GitTexts, texts_at
from podfence.sources.kubeconfig import Kubeconfig, read_kubeconfig

__all__ = ["ClusterObjects", "CountedFlows", "FlowFiles", "GIT_TIMEOUT", "GitTexts", "Kubeconfig", "count_flows",
           "read_cluster", "read_flows", "read_kubeconfig", "texts_at"]
