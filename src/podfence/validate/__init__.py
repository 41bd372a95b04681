"""podfence.validate."""
