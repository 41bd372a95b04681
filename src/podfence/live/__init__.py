"""Use cases on a live cluster that go beyond one read: following it as it changes.

Typer-free: the CLI parses flags, calls one function here and renders what it
returns. These modules may use the features (diff), the engine, the loader and the
sources; they print nothing.
"""

from podfence.live.watch import Cause, LiveCluster, Update, follow

__all__ = ["Cause", "LiveCluster", "Update", "follow"]
