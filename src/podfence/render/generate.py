"""What ``podfence generate`` prints: policies as commented YAML, the intent file, the proof.

The YAML is written by hand (PyYAML drops comments): block style, two-space
indentation, sequences indented under their key as kubectl prints them, scalars
quoted only when YAML would read them as something else.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any, Iterable, Mapping, Sequence

import yaml

from podfence.model import FieldPath
from podfence.render.escape import printable, text_lines
from podfence.render.json_text import json_document

FORMATS = ("text", "json")  # the proof report's -o
Comments = Mapping[FieldPath, Sequence[str]]
_SIMPLE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]*")
_NUMBERISH = re.compile(
    r"[-+]?(\.?[0-9][0-9_.]*([eE][-+]?[0-9]+)?|0x[0-9a-fA-F_]+|0o[0-7_]+|\.(inf|Inf|INF|nan|NaN|NAN))")
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _reads_back(text: str) -> bool:
    """Does ``text`` read back as itself, plain, as a mapping key, a value and a list item?"""
    try:
        return (yaml.load(f"k: {text}", Loader=_Loader) == {"k": text}
                and yaml.load(f"- {text}", Loader=_Loader) == [text]
                and yaml.load(f"{text}: v", Loader=_Loader) == {text: "v"})
    except (yaml.YAMLError, TypeError):
        return False


@lru_cache(maxsize=65536)
def _plain(text: str) -> bool:
    if not text or text != text.strip() or " #" in text or ": " in text or text[0] in "#&*!|>'\"%@`,[]{}":
        return False
    if _NUMBERISH.fullmatch(text):
        return False  # JSON, YAML 1.2 and kubectl read 1e3 or 0o17 as numbers even where YAML 1.1 does not
    if _SIMPLE.fullmatch(text):
        return yaml.load(text, Loader=_Loader) == text  # not a number, a boolean, null or a date
    return text.isprintable() and _reads_back(text)


def _quoted(text: str) -> str:
    """A double-quoted YAML scalar; everything YAML does not print is escaped."""
    out = []
    for ch in text:
        code = ord(ch)
        if ch in "\\\"":
            out.append("\\" + ch)
        elif ch.isprintable() and code not in (0x2028, 0x2029, 0xFEFF) and not 0xD800 <= code <= 0xDFFF:
            out.append(ch)
        elif code <= 0xFF:
            out.append(f"\\x{code:02x}")
        elif code <= 0xFFFF:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    return '"' + "".join(out) + '"'


def scalar(value: Any) -> str:
    """One scalar, quoted only when it would not read back as itself."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    text = str(value)
    return text if _plain(text) else _quoted(text)


def _comment(pad: str, line: str) -> str:
    return f"{pad}# {printable(' '.join(line.splitlines()))}".rstrip()


def _emit(node: Any, indent: int, path: FieldPath, comments: Comments, out: list[str], first_prefix: str = "") -> None:
    """Write ``node`` (a mapping or a sequence) at ``indent``; ``first_prefix`` starts its first line."""
    pad = " " * indent
    if isinstance(node, Mapping):
        for i, (key, value) in enumerate(node.items()):
            lead = first_prefix if i == 0 and first_prefix else pad
            child = path + (key,)
            for line in comments.get(child, ()):
                out.append(_comment(pad, line))
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
            out.append(_comment(pad, line))
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
    out = [_comment("", line) for line in comments.get((), ())]
    _emit(document, 0, (), comments, out)
    return "\n".join(out) + "\n"


def policies_yaml(policies: Iterable[Any], header: Sequence[str] = ()) -> str:
    """Several generated policies as one multi-document YAML stream."""
    parts = []
    for policy in policies:
        parts.append(to_yaml(policy.manifest, dict(policy.comments)))
    head = "".join(_comment("", line) + "\n" for line in header)
    return head + "---\n".join(parts)


# ---- the proof ----------------------------------------------------------------------

MAX_SHOWN = 200
MAX_REMOVED = 10


def _plural(n: int, word: str, many: str = "") -> str:
    if n == 1:
        return f"{n} {word}"
    if many:
        return f"{n} {many}"
    return f"{n} {word}es" if word.endswith("s") else f"{n} {word}s"


def _difference(d: Any) -> str:
    from podfence.render.conns import conns_text

    line = f"  {d.src} -> {d.dst}: {conns_text(d.conns)}"
    because = getattr(d, "because", ())
    if because:
        line += f"  ({'; '.join(because)})"
    return line


def proof_text(proof: Any, *, change: bool = False) -> str:
    """The verdict first (with everything that changed beyond the intent), then the differences, one per line."""
    lines: list[str] = []
    if proof.exact:
        head = "proof: exactly the intended connectivity"
        if proof.isolated:
            head += f"; {_plural(len(proof.isolated), 'connection')} allowed before now denied, as asked"
        lines.append(head)
    else:
        parts = [p for p in (f"{len(proof.extra)} extra" if proof.extra else "",
                             f"{len(proof.missing)} missing" if proof.missing else "",
                             f"{_plural(len(proof.removed), 'connection')} of others removed" if proof.removed
                             else "") if p]
        lines.append(f"proof: NOT the intended connectivity: {' and '.join(parts)}")
    if change:
        lines.append(f"  compared before and after for {', '.join(proof.subjects) or 'no workload'}: "
                     f"{_plural(proof.intended, 'asked-for connection')}")
    else:
        lines.append(f"  {_plural(proof.workloads, 'workload')} governed in "
                     f"{_plural(len(proof.namespaces), 'namespace')} ({', '.join(proof.namespaces) or 'none'}), "
                     f"{_plural(proof.intended, 'intended connection')} (DNS included)")
    if proof.extra:
        lines.append("extra (allowed, but no intent asks for it; the rules that allow it):")
        lines += _listed(proof.extra, MAX_SHOWN)
    if proof.missing:
        lines.append("missing (intended, but denied; the intent that asks for it):")
        lines += _listed(proof.missing, MAX_SHOWN)
    if proof.removed:
        lines.append(f"removed (allowed before, denied now, and not asked for: the new policies isolate "
                     f"{', '.join(proof.subjects)}; isolate them first with generate default-deny, or pass "
                     f"--isolate to accept):")
        lines += _listed(proof.removed, MAX_SHOWN)
    if proof.isolated:
        lines.append("denied now, as asked (allowed before):")
        lines += _listed(proof.isolated, MAX_REMOVED)
    return text_lines(lines)


def _listed(differences: Sequence[Any], limit: int) -> list[str]:
    lines = [_difference(d) for d in differences[:limit]]
    if len(differences) > limit:
        lines.append(f"  ... and {len(differences) - limit} more (-o json lists every one)")
    return lines


def proof_json(proof: Any) -> str:
    return json_document(proof_data(proof))


def proof_data(proof: Any) -> dict[str, Any]:
    """What a proof found: exact or not, what it covers, and the extra, missing and removed connections."""
    from podfence.render.conns import conns_json

    def items(diffs: Iterable[Any]) -> list[dict[str, Any]]:
        return [{"src": d.src, "dst": d.dst, "allowed": conns_json(d.conns), "because": list(d.because)}
                for d in diffs]

    body = {"exact": proof.exact, "namespaces": list(proof.namespaces), "workloads": proof.workloads,
            "intended": proof.intended, "extra": items(proof.extra), "missing": items(proof.missing)}
    if proof.removed or proof.subjects:
        body["removed"] = items(proof.removed)
        body["isolated"] = items(proof.isolated)
    return body


# ---- observed flows -----------------------------------------------------------------


def flows_text(observed: Any, foldings: Sequence[Any], notes: Sequence[str], sources: Sequence[str]) -> str:
    """What was read from the flow files and what became of every record."""
    kinds = ", ".join(f"{k} {n}" for k, n in sorted(observed.formats.items()))
    lines = [f"flows: {_plural(observed.records, 'record')} from {', '.join(sources)}"
             + (f" ({kinds})" if kinds else "")
             + f": {_plural(len(observed.connections), 'distinct connection')}"]
    denied = sum(1 for o in observed.connections.values() if o.denied)
    if denied:
        lines.append(f"  {denied} of them {'was' if denied == 1 else 'were'} denied when observed "
                     "(kept: pass --only-allowed to leave them out)")
    for title, table in (("unreadable", observed.problems), ("unmappable", observed.unmappable),
                         ("ignored", observed.ignored)):
        if not table:
            continue
        total = observed.unmapped if title == "unmappable" else sum(t.count for t in table.values())
        lines.append(f"  {title} ({_plural(total, 'record')}):")
        for reason, tally in sorted(table.items(), key=lambda kv: (-kv[1].count, kv[0])):
            lines.append(f"    {tally.count} x {reason} (first: {tally.first})")
    for f in foldings:
        what = "to" if f.direction == "egress" else "from"
        lines.append(f"  addresses: {f.workload} {f.direction} {what} {_plural(f.addresses, 'address')} on "
                     f"{f.protocol} {f.port} -> {', '.join(f.cidrs)} ({f.rule})")
    lines += [f"  {n}" for n in notes]
    return text_lines(lines)


def intents_yaml(document: Mapping[str, Any], comments: Comments, header: Sequence[str]) -> str:
    """An intent file: the header as comments, then the document."""
    return "".join(_comment("", line) + "\n" for line in header) + to_yaml(document, comments)


# ---- podfence convert ------------------------------------------------------------------


def converted_yaml(converted: Iterable[Any]) -> str:
    """Converted or generated ClusterNetworkPolicies, each under its comment: what it replaces and
    where (converted), or why (generated guardrails, ``comment``)."""
    parts = []
    for c in converted:
        comment = getattr(c, "comment", None)
        if comment is None:
            where = f" ({c.source.file}:{c.source.line})" if c.source is not None and c.source.line else ""
            comment = f"converted from {c.kind} {c.name}{where}"
        parts.append(to_yaml(c.manifest, {(): (comment,)}))
    return "---\n".join(parts)


def guardrail_proof_text(proof: Any) -> str:
    """The guardrails' verdict first (what they denied, anything they allowed or DNS they took), then the pairs."""
    names = ", ".join(proof.guardrails)
    if proof.exact:
        head = (f"guardrails ({names}): only denials, as asked: connections denied now for "
                f"{_plural(len(proof.denied), 'pod pair')}, none newly allowed, no pod loses DNS")
    else:
        parts = [p for p in (f"{_plural(len(proof.extra), 'pod pair')} newly allowed" if proof.extra else "",
                             f"{_plural(len(proof.dns_lost), 'pod pair')} lost DNS" if proof.dns_lost else "") if p]
        head = f"guardrails ({names}): NOT as asked: {' and '.join(parts)}"
    lines = [head]
    if proof.extra:
        lines.append("newly allowed (nobody asked):")
        lines += _listed(proof.extra, MAX_SHOWN)
    if proof.dns_lost:
        lines.append("DNS lost:")
        lines += _listed(proof.dns_lost, MAX_SHOWN)
    if proof.denied:
        lines.append("denied now, as asked (allowed before):")
        lines += _listed(proof.denied, MAX_REMOVED)
    return text_lines(lines)


def guardrail_proof_data(proof: Any) -> dict[str, Any]:
    from podfence.render.conns import conns_json

    def items(changes: Iterable[Any]) -> list[dict[str, Any]]:
        return [{"src": c.src, "dst": c.dst, "allowed": conns_json(c.conns)} for c in changes]

    return {"exact": proof.exact, "guardrails": list(proof.guardrails), "denied": items(proof.denied),
            "extra": items(proof.extra), "dns_lost": items(proof.dns_lost)}


def conversion_proof_text(proof: Any, converted: Sequence[Any]) -> str:
    """The verdict of a conversion's proof first, then every connection it changed (none, when it is right)."""
    names = ", ".join(f"{c.kind} {c.name}" for c in converted)
    pods = _plural(len(proof.subjects), "pod")
    if proof.exact:
        return text_lines([f"proof: connectivity unchanged: {_plural(len(converted), 'policy', 'policies')} "
                           f"converted ({names}); every connection of {pods} compared before and after"])
    lines = [f"proof: connectivity CHANGED by the conversion of {names}: "
             f"{_plural(len(proof.extra), 'connection')} added, {_plural(len(proof.removed), 'connection')} removed"]
    if proof.extra:
        lines.append("added (denied before, allowed after):")
        lines += _listed(proof.extra, MAX_SHOWN)
    if proof.removed:
        lines.append("removed (allowed before, denied after):")
        lines += _listed(proof.removed, MAX_SHOWN)
    return text_lines(lines)
