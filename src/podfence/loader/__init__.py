"""Manifests (files, directories, standard input) to a :class:`~podfence.model.Cluster`.

>>> from podfence.loader import load_texts
>>> result = load_texts([("ns.yaml", "apiVersion: v1\\nkind: Namespace\\nmetadata:\\n  name: shop\\n")])
>>> result.ok, result.cluster.namespaces[0].labels["kubernetes.io/metadata.name"]
(True, 'shop')

Every object keeps its :class:`~podfence.model.Source` (file and line) and every
problem comes back as a located :class:`~podfence.model.Diagnostic`, never as an
exception. The diagnostic codes are listed in :mod:`podfence.loader.codes`.
"""

from podfence.loader.assemble import LoadResult, load, load_texts, object_label
from podfence.loader.documents import LineDict, LineList, iter_documents, locate
from podfence.loader.own_files import OwnFile, read_own_file

__all__ = [
    "LineDict", "LineList", "LoadResult", "OwnFile", "iter_documents", "load", "load_texts", "locate",
    "object_label", "read_own_file",
]
