"""Labels and label selectors (metav1.LabelSelector semantics)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Iterator, Mapping


class Labels(Mapping[str, str]):
    """An immutable, hashable label map that compares by value.

    >>> Labels({"app": "web"}) == Labels(app="web")
    True
    """

    __slots__ = ("_data", "_hash")

    def __init__(self, data: Mapping[str, str] | None = None, **kw: str) -> None:
        merged = dict(data or {})
        merged.update(kw)
        self._data = dict(sorted(merged.items()))
        self._hash: int | None = None

    def __getitem__(self, key: str) -> str:
        return self._data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __hash__(self) -> int:
        if self._hash is None:
            self._hash = hash(tuple(self._data.items()))
        return self._hash

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Labels):
            return self._data == other._data
        if isinstance(other, Mapping):
            return self._data == dict(other)
        return NotImplemented

    def __repr__(self) -> str:
        return f"Labels({self._data!r})"

    def with_label(self, key: str, value: str) -> Labels:
        """A copy with one label set."""
        return Labels({**self._data, key: value})

    def __str__(self) -> str:
        return ",".join(f"{k}={v}" for k, v in self._data.items())


EMPTY_LABELS = Labels()


class Operator(StrEnum):
    IN = "In"
    NOT_IN = "NotIn"
    EXISTS = "Exists"
    DOES_NOT_EXIST = "DoesNotExist"


@dataclass(frozen=True, slots=True)
class Requirement:
    """One ``matchExpressions`` entry (or one ``matchLabels`` pair, as ``In [v]``)."""

    key: str
    operator: Operator
    values: tuple[str, ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        match self.operator:
            case Operator.IN:
                return key_in(labels, self.key, self.values)
            case Operator.NOT_IN:
                return not key_in(labels, self.key, self.values)
            case Operator.EXISTS:
                return self.key in labels
            case Operator.DOES_NOT_EXIST:
                return self.key not in labels

    def __str__(self) -> str:
        match self.operator:
            case Operator.IN if len(self.values) == 1:
                return f"{self.key}={self.values[0]}"
            case Operator.IN:
                return f"{self.key} in ({','.join(self.values)})"
            case Operator.NOT_IN:
                return f"{self.key} notin ({','.join(self.values)})"
            case Operator.EXISTS:
                return self.key
            case Operator.DOES_NOT_EXIST:
                return f"!{self.key}"


def key_in(labels: Mapping[str, str], key: str, values: tuple[str, ...]) -> bool:
    value = labels.get(key)
    return value is not None and value in values


@dataclass(frozen=True, slots=True)
class LabelSelector:
    """A label selector: every requirement must hold; no requirement matches all.

    ``match_labels`` and ``match_expressions`` are kept as written so that
    explanations can quote them; :attr:`requirements` is their conjunction.

    >>> LabelSelector.of({"app": "web"}).matches({"app": "web", "tier": "fe"})
    True
    >>> LabelSelector().matches({})
    True
    """

    match_labels: tuple[tuple[str, str], ...] = ()
    match_expressions: tuple[Requirement, ...] = ()

    @classmethod
    def of(cls, match_labels: Mapping[str, str] | None = None,
           match_expressions: tuple[Requirement, ...] = ()) -> LabelSelector:
        return cls(tuple(sorted((match_labels or {}).items())), tuple(match_expressions))

    @property
    def requirements(self) -> tuple[Requirement, ...]:
        return tuple(Requirement(k, Operator.IN, (v,)) for k, v in self.match_labels) + self.match_expressions

    def is_empty(self) -> bool:
        """True when the selector selects everything."""
        return not self.match_labels and not self.match_expressions

    def matches(self, labels: Mapping[str, str]) -> bool:
        for k, v in self.match_labels:
            if labels.get(k) != v:
                return False
        return all(r.matches(labels) for r in self.match_expressions)

    def failing(self, labels: Mapping[str, str]) -> tuple[Requirement, ...]:
        """The requirements that ``labels`` do not meet (empty when it matches)."""
        return tuple(r for r in self.requirements if not r.matches(labels))

    def __str__(self) -> str:
        if self.is_empty():
            return "(all)"
        return ",".join(str(r) for r in self.requirements)


SELECT_ALL = LabelSelector()
