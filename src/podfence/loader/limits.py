"""How much input one podfence run may read, so that hostile input fails fast.

Every reader of one run (manifests, ``.podfence.yaml``, assertion specs, intent
files, flow files) takes from the same :class:`Budget`:

* ``max_input_bytes`` (default 256 MiB): bytes read from all inputs together.
  Files are read in chunks and reading stops as soon as the total passes the
  limit; a regular file that is larger than what is left is refused before it is
  read. Standard input and FIFOs are read the same way; character and block
  devices and sockets are refused (they may never end).
* ``max_objects`` (default 500,000): Kubernetes objects loaded (every document or
  ``List`` item with a ``kind`` or ``apiVersion``, modelled or not).
* ``max_alias_nodes`` (1,000,000): nodes (scalars, lists, maps) that YAML aliases
  add when expanded, over the whole run. podfence keeps an aliased value once,
  but every check walks it once per alias, so a few hundred bytes of nested
  aliases (a "billion laughs") would otherwise cost hours. An alias that refers
  to a node containing it is refused outright.

Nesting depth needs no limit of its own: libyaml refuses YAML (and JSON read as
YAML) nested more than 1,000 levels deep, and JSON that Python's decoder cannot
nest is reported the same way.

The names of the limits are the command-line flags that raise them (a breach is
reported as ``... exceeds --max-input-bytes=N (raise it with --max-input-bytes)``).
"""

from __future__ import annotations

from dataclasses import dataclass

from podfence.loader import codes
from podfence.model import Diagnostic, Severity

MiB = 1024 * 1024
DEFAULT_MAX_INPUT_BYTES = 256 * MiB
DEFAULT_MAX_OBJECTS = 500_000
MAX_ALIAS_NODES = 1_000_000


@dataclass(slots=True)
class Budget:
    """What one run has read so far, against its limits.

    Mutable on purpose: it is the one place that sees every read of a run (both
    sides of a diff, the config, the specs, the flows), so each reader adds to it.
    """

    max_input_bytes: int = DEFAULT_MAX_INPUT_BYTES
    max_objects: int = DEFAULT_MAX_OBJECTS
    max_alias_nodes: int = MAX_ALIAS_NODES
    input_bytes: int = 0
    objects: int = 0
    alias_nodes: int = 0

    @property
    def bytes_left(self) -> int:
        return max(0, self.max_input_bytes - self.input_bytes)


def too_many_bytes(name: str, budget: Budget) -> Diagnostic:
    """``name`` took the input past ``max_input_bytes``."""
    return Diagnostic(codes.LIMIT, Severity.ERROR,
                      f"input exceeds --max-input-bytes={budget.max_input_bytes} "
                      "(raise it with --max-input-bytes)", file=name)


def too_many_objects(name: str, line: int | None, budget: Budget) -> Diagnostic:
    """The object at ``name:line`` took the input past ``max_objects``."""
    return Diagnostic(codes.LIMIT, Severity.ERROR,
                      f"Kubernetes objects exceed --max-objects={budget.max_objects} (raise it with --max-objects)",
                      file=name, line=line)
