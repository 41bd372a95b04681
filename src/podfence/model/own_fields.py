"""Typed reads of podfence's own YAML files: ``.podfence.yaml``, test specs and intent files.

The three files are read with the same rules, so a field means the same and a
mistake reads the same in each:

* ``null`` counts as absent: the default applies;
* a mapping's unknown fields are errors that list the known ones;
* a word from a fixed set (``expect: allow``, ``severity: warning``) matches in any case;
* where a list belongs, one item may stand alone (``namespaces: billing``);
* every problem is an error :class:`~podfence.model.Diagnostic` with the field
  path (``lint.rules.NP101.severity``); the CLI places it at its file and line
  (:meth:`podfence.loader.OwnFile.place`).

>>> r = OwnFields("C1", "podfence config")
>>> r.enum("Warning", ("severity",), ("error", "warning", "note")), r.problems
('warning', [])
>>> r.boolean("yes", ("enabled",), True), r.problems[0].message
(True, 'must be true or false')
"""

from __future__ import annotations

from typing import Any, Callable, Mapping, Sequence, TypeVar

from podfence.model.diagnostic import Diagnostic, FieldPath, Severity

T = TypeVar("T")
V = TypeVar("V")
Reader = Callable[[Any, FieldPath], "T | None"]
_EMPTY: Mapping[str, Any] = {}

NAMESPACE_RULE = "at most 63 lowercase letters, digits and '-', starting and ending with a letter or digit"
NAMESPACE_NAME = f"a namespace name ({NAMESPACE_RULE})"  # for checked(): "'X' is not a namespace name (...)"


def words(choices: Sequence[str]) -> str:
    """``a``, ``a or b``, ``a, b or c``."""
    items = list(choices)
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} or {items[-1]}"


class OwnFields:
    """Reads the fields of one own file; ``problems`` collects the errors (code and object label given,
    appended to ``problems`` when a list is passed)."""

    def __init__(self, code: str, object_label: str, problems: list[Diagnostic] | None = None) -> None:
        self.code = code
        self.object_label = object_label
        self.problems: list[Diagnostic] = problems if problems is not None else []

    def error(self, path: FieldPath, message: str) -> None:
        self.problems.append(Diagnostic(self.code, Severity.ERROR, message, path, self.object_label))

    # -- shapes ----------------------------------------------------------------------------

    def mapping(self, raw: Any, path: FieldPath, known: Sequence[str] | None = None,
                what: str = "a mapping") -> Mapping[str, Any]:
        """A mapping (empty when absent); ``known``: its field names, others are errors."""
        if raw is None:
            return _EMPTY
        if not isinstance(raw, Mapping):
            self.error(path, f"must be {what}")
            return _EMPTY
        if known is not None:
            for key in raw:
                if key not in known:
                    self.error(path + (str(key),), f"unknown field (known: {', '.join(known)})")
        return raw

    def list_of(self, raw: Any, path: FieldPath, item: Callable[[Any, FieldPath], T | None]) -> tuple[T, ...]:
        """A list read item by item (empty when absent; one item may stand alone)."""
        if raw is None:
            return ()
        if not isinstance(raw, list):
            one = item(raw, path)
            return (one,) if one is not None else ()
        out = []
        for i, value in enumerate(raw):
            got = item(value, path + (i,))
            if got is not None:
                out.append(got)
        return tuple(out)

    def map_of(self, raw: Any, path: FieldPath, key: Callable[[str, FieldPath], T | None],
               value: Callable[[Any, FieldPath], V | None], what: str = "a mapping") -> tuple[tuple[T, V], ...]:
        """A mapping read entry by entry: ``key`` reads each (string) key, ``value`` its value."""
        out = []
        for k, v in self.mapping(raw, path, None, what).items():
            where = path + (str(k),)
            got_key = key(str(k), where)
            got = value(v, where)
            if got_key is not None and got is not None:
                out.append((got_key, got))
        return tuple(out)

    # -- scalars ---------------------------------------------------------------------------

    def string(self, raw: Any, path: FieldPath, default: str | None = None) -> str | None:
        if raw is None:
            return default
        if isinstance(raw, str):
            return raw
        self.error(path, "must be a string")
        return default

    def integer(self, raw: Any, path: FieldPath, default: int | None = None) -> int | None:
        if raw is None:
            return default
        if isinstance(raw, int) and not isinstance(raw, bool):
            return raw
        self.error(path, "must be a whole number")
        return default

    def boolean(self, raw: Any, path: FieldPath, default: bool) -> bool:
        if raw is None:
            return default
        if isinstance(raw, bool):
            return raw
        self.error(path, "must be true or false")
        return default

    def enum(self, raw: Any, path: FieldPath, choices: Sequence[str], default: str | None = None) -> str | None:
        """One of ``choices`` (lower case), in any case."""
        if raw is None:
            return default
        if isinstance(raw, str) and raw.strip().lower() in choices:
            return raw.strip().lower()
        self.error(path, f"must be {words(choices)}")
        return default

    def checked(self, raw: Any, path: FieldPath, valid: Callable[[str], bool], what: str) -> str | None:
        """A string that ``valid`` accepts; otherwise ``'value' is not <what>``."""
        if isinstance(raw, str) and valid(raw):
            return raw
        self.error(path, f"{raw!r} is not {what}")
        return None

    def string_map(self, raw: Any, path: FieldPath, what: str = "a mapping of strings to strings"
                   ) -> dict[str, str] | None:
        """A mapping of strings to strings (labels), or None after an error."""
        if raw is None:
            return None
        if isinstance(raw, Mapping) and all(isinstance(k, str) and isinstance(v, str) for k, v in raw.items()):
            return dict(raw)
        self.error(path, f"must be {what}")
        return None


__all__ = ["NAMESPACE_NAME", "NAMESPACE_RULE", "OwnFields", "words"]
