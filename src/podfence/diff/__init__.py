"""podfence diff: what a change of manifests does to connectivity.

>>> from podfence.model import Cluster, Pod, Settings
>>> old = Cluster.of(pods=[Pod("a", "x"), Pod("b", "y")])
>>> new = Cluster.of(pods=[Pod("a", "x")])
>>> [(c.src, c.dst) for c in diff(old, new, Settings()).diff.changes]
[('a/x', 'b/y'), ('b/y', 'a/x'), ('b/y', 'b/y'), ('b/y', '0.0.0.0/0'), ('0.0.0.0/0', 'b/y')]
"""

from podfence.diff.causes import Causes, ObjectCause, PolicyCause, Status, TierCause
from podfence.diff.compare import Change, ConnectivityDiff, diff_clusters, diff_connectivity, range_changes
from podfence.diff.drift import Drift, OneSided, drift
from podfence.diff.groups import ChangeGroup, group_changes
from podfence.diff.report import DiffReport, GroupReport, diff
from podfence.diff.risk import Flag, Risk

__all__ = [
    "Causes", "Change", "ChangeGroup", "ConnectivityDiff", "DiffReport", "Drift", "Flag", "GroupReport",
    "ObjectCause", "OneSided", "PolicyCause", "Risk", "Status", "TierCause", "diff", "diff_clusters", "diff_connectivity",
    "drift", "group_changes", "range_changes",
]
