"""podfence.cli."""
