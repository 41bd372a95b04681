"""podfence.render."""
