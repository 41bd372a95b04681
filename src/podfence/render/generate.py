"""What ``podfence generate`` prints: policies as commented YAML, the intent file, the proof.

The YAML is written by hand (PyYAML drops comments): block style, two-space
indentation, sequences indented under their key as kubectl prints them, scalars
quoted only when YAML would read them as something else.
"""

from __future__ import annotations

import json
from typing import Any, Iterable, Mapping, Sequence

import yaml

from podfence.model import FieldPath

Comments = Mapping[FieldPath, Sequence[str]]
_SPECIAL_START = set("-?:,[]{}#&*!|>'\"%@`")


def scalar(value: Any) -> str:
    """One scalar, quoted (as JSON, which YAML reads) only when it would not read back as itself."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    text = str(value)
    plain = (
        text != "" and text == text.strip() and text[0] not in _SPECIAL_START
        and ": " not in text and " #" not in text and not text.endswith(":") and "\n" not in text
    )
    if plain:
        try:
            plain = yaml.safe_load(text) == text
        except yaml.YAMLError:
            plain = False
    return text if plain else json.dumps(text)


def _emit(node: Any, indent: int, path: FieldPath, comments: Comments, out: list[str], first_prefix: str = "") -> None:
    """Write ``node`` (a mapping or a sequence) at ``indent``; ``first_prefix`` starts its first line."""
    pad = " " * indent
    if isinstance(node, Mapping):
        for i, (key, value) in enumerate(node.items()):
            lead = first_prefix if i == 0 and first_prefix else pad
            child = path + (key,)
            for line in comments.get(child, ()):
                out.append(f"{pad}# {line}")
            head = f"{lead}{scalar(key)}:"
            if isinstance(value, Mapping) and value:
                out.append(head)
                _emit(value, indent + 2, child, comments, out)
            elif isinstance(value, list) and value:
                out.append(head)
                _emit(value, indent + 2, child, comments, out)
            elif isinstance(value, Mapping):
                out.append(f"{head} {{}}")
            elif isinstance(value, list):
                out.append(f"{head} []")
            else:
                out.append(f"{head} {scalar(value)}")
        return
    for i, item in enumerate(node):
        child = path + (i,)
        for line in comments.get(child, ()):
            out.append(f"{pad}# {line}")
        if isinstance(item, Mapping) and item:
            _emit(item, indent + 2, child, comments, out, first_prefix=f"{pad}- ")
        elif isinstance(item, list) and item:
            out.append(f"{pad}-")
            _emit(item, indent + 2, child, comments, out)
        elif isinstance(item, Mapping):
            out.append(f"{pad}- {{}}")
        elif isinstance(item, list):
            out.append(f"{pad}- []")
        else:
            out.append(f"{pad}- {scalar(item)}")


def to_yaml(document: Mapping[str, Any], comments: Comments | None = None) -> str:
    """One YAML document; ``comments[path]`` lines go just above the node at ``path``."""
    comments = comments or {}
    out = [f"# {line}" for line in comments.get((), ())]
    _emit(document, 0, (), comments, out)
    return "\n".join(out) + "\n"


def policies_yaml(policies: Iterable[Any], header: Sequence[str] = ()) -> str:
    """Several generated policies as one multi-document YAML stream."""
    parts = []
    for policy in policies:
        parts.append(to_yaml(policy.manifest, dict(policy.comments)))
    head = "".join(f"# {line}\n" for line in header)
    return head + "---\n".join(parts)
