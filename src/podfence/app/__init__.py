"""podfence's use cases, free of any face: the command line today, a web UI next.

Each use case takes the shared :class:`Options` (manifests, namespace, config,
``--set``, limits), a :class:`Listener` for what it says while it works, and its
own question; it returns values for the renderers and never prints or exits.
When it cannot go on it raises :class:`Stop` with the lines to show and the exit
code. Modules: :mod:`~podfence.app.analysis` (check, matrix, connectivity,
explain), :mod:`~podfence.app.lint` (lint, audit, rule pages),
:mod:`~podfence.app.diff`, :mod:`~podfence.app.expectations` (test),
:mod:`~podfence.app.generate`, :mod:`~podfence.app.lab`; :mod:`~podfence.app.files`
and :mod:`~podfence.app.writing` write output files, all or none.
"""

from __future__ import annotations

from podfence.app.errors import EXIT_FINDINGS, EXIT_INTERNAL, EXIT_INVALID, EXIT_OK, Said, Stop
from podfence.app.options import (
    DEFAULT_MAX_INPUT_BYTES, DEFAULT_MAX_OBJECTS, DEFAULT_MAX_OUTPUT_BYTES, TIMEOUT, Listener, Live, Options, Run,
    check_namespace, choose, one_port, prepare, protocol_of,
)
from podfence.config import CONFIG_FILE
from podfence.model import Settings
from podfence.model.ports import PROTOCOL_WORDS

SETTING_NAMES = Settings.names()

__all__ = [
    "CONFIG_FILE", "DEFAULT_MAX_INPUT_BYTES", "DEFAULT_MAX_OBJECTS", "DEFAULT_MAX_OUTPUT_BYTES", "EXIT_FINDINGS",
    "EXIT_INTERNAL", "EXIT_INVALID", "EXIT_OK", "Listener", "Options", "PROTOCOL_WORDS", "Run", "SETTING_NAMES",
    "Said", "Stop", "TIMEOUT", "Live", "check_namespace", "choose", "one_port", "prepare", "protocol_of",
]
