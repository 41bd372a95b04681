"""Manifests (files, directories, standard input) to a :class:`~podfence.model.Cluster`.

>>> from podfence.loader import load_texts
>>> result = load_texts([("ns.yaml", "apiVersion: v1\\nkind: Namespace\\nmetadata:\\n  name: shop\\n")])
>>> result.ok, result.cluster.namespaces[0].labels["kubernetes.io/metadata.name"]
(True, 'shop')

Every object keeps its :class:`~podfence.model.Origin` (a file and line, a file
at a git revision, or a live cluster's object) and every problem comes back as a
located :class:`~podfence.model.Diagnostic`, never as an exception. Texts go
through :func:`load` (paths) or :func:`load_texts`; documents parsed elsewhere
(a cluster's API) through :func:`load_objects`, with the same checks. The
diagnostic codes are listed in :mod:`podfence.loader.codes`.
"""

from podfence.loader.assemble import LoadResult, load, load_objects, load_texts, object_label
from podfence.loader.documents import LineDict, LineList, iter_documents, locate
from podfence.loader.own_files import OwnFile, read_own_file

__all__ = [
    "LineDict", "LineList", "LoadResult", "OwnFile", "iter_documents", "load", "load_objects", "load_texts",
    "locate", "object_label", "read_own_file",
]
