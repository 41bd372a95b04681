"""podfence: exact Kubernetes NetworkPolicy semantics."""

__version__ = "0.1.0"
