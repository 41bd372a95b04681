"""The diagnostic codes of the loader.

Errors (the input cannot be used as it is; ``LoadResult.ok`` is False):

* ``L1`` a path cannot be read: it does not exist, is not a file or directory,
  or reading it failed (permissions, stdin closed); or, inside a directory, it
  is a symbolic link to a file outside that directory (not read).
* ``L2`` a file is not UTF-8 text; the line of the first bad byte is given.
* ``L3`` a file is not valid YAML (or JSON); the line is where the parser gave up.
  Documents before the problem are kept. This includes tags whose value does
  not fit (``!!int ""``, ``!!seq x``), tags with no JSON equivalent (``!!binary``,
  ``!!set``, ``!foo``, ``!!python/object``) and nesting deeper than 1,000 levels.
* ``L4`` a key appears twice in one mapping. kubectl's strict decoding rejects
  this, and silently keeping one of two ``ingress:`` lists would drop rules, so
  the whole object is left out. The field path is that of the mapping holding
  the key (``spec.ingress[0].from[1]``).
* ``L5`` a document (or an item of a ``List``) is not a mapping.
* ``L6`` a required field is missing: ``kind``, ``apiVersion``, the
  ``metadata.name`` of a kind podfence reads, a workload's pod template, a
  ``List``'s ``items``.
* ``L7`` a kind podfence reads is written with an apiVersion the API server does
  not serve it under (``extensions/v1beta1`` NetworkPolicy, ``app/v1``
  Deployment); the message names the right one.
* ``L8`` a value the loader reads is invalid: a port outside 1-65535, a protocol
  other than TCP, UDP and SCTP, an IP address that does not parse, a port name
  that is not an IANA service name (``HTTP``, or ``targetPort: "8080"``: quoted,
  a number is a name).
* ``L12`` a NetworkPolicy passed validation but could not be read; this is a
  podfence bug, reported instead of crashing.
* ``L13`` the input is larger than a limit of the run (``--max-input-bytes``,
  ``--max-objects``; see :mod:`podfence.loader.limits`). Reading stops there.
* ``L14`` YAML aliases expand past the limit of the run, or an alias refers to a
  node that contains it; the document is left out.

``S1`` (wrong type: a string where a number belongs, labels that are not a map of
strings) has the same meaning as in :mod:`podfence.validate`.

Warnings (the input is usable; results may not be what the author meant):

* ``L9`` two objects with the same kind, namespace and name: the later one wins,
  as it would after applying the files in order.
* ``L10`` a workload's representative pod has the name of another pod in its
  namespace and is renamed ``<name>-<kind>`` (``web-deployment``).
* ``L11`` a ``NetworkPolicy`` of another API group (Calico's
  ``projectcalico.org/v3``, say) is not evaluated: results leave it out.

Kinds podfence does not model (ConfigMap, Ingress, custom resources ...) are not
diagnostics: they are counted in ``LoadResult.notes``.
"""

from __future__ import annotations

UNREADABLE = "L1"
NOT_UTF8 = "L2"
BAD_SYNTAX = "L3"
DUPLICATE_KEY = "L4"
NOT_A_MAPPING = "L5"
MISSING_FIELD = "L6"
WRONG_API_VERSION = "L7"
INVALID_VALUE = "L8"
DUPLICATE_OBJECT = "L9"
RENAMED_POD = "L10"
FOREIGN_POLICY = "L11"
UNREADABLE_POLICY = "L12"
LIMIT = "L13"
ALIASES = "L14"
