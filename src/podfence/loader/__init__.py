"""podfence.loader."""
