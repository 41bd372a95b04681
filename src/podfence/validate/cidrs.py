"""``ipBlock``: rules V21 to V25.

Clusters parse CIDRs with the legacy rules by default (:func:`podfence.sets.parse_cidr`):
leading zeros, IPv4-mapped IPv6 addresses and host bits are accepted. With the
``StrictIPCIDRValidation`` gate (``Settings.strict_cidr_validation``) the API server
rejects them (V23, one error per value, first of: leading zeros, IPv4-mapped, host
bits); without it, it accepts them and answers with warnings, which podfence reports
as V23 warnings in the API server's words. An IPv6 value that is valid but not in
RFC 5952 canonical form gets the API server's canonical-form warning in both modes.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator, Mapping

from podfence.model.diagnostic import Diagnostic, FieldPath
from podfence.model.settings import Settings
from podfence.sets import Cidr, parse_cidr, parse_ip
from podfence.validate.messages import go_quote, invalid, required, warn
from podfence.validate.schema import IP_BLOCK_FIELDS, Kind, string_list, unknown_fields, wrong_type

CIDR_FORMAT_ERROR = "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)"
STRICT_SUBSET_ERROR = "must be a strict subset of `cidr`"


def validate_ip_block(raw: object, path: FieldPath, settings: Settings) -> Iterator[Diagnostic]:
    """All problems of one ``ipBlock`` at ``path``."""
    if not isinstance(raw, Mapping):
        yield wrong_type(path, raw, Kind.MAPPING)
        return
    yield from unknown_fields(raw, IP_BLOCK_FIELDS, path)
    text = raw.get("cidr")
    if text is not None and not isinstance(text, str):
        yield wrong_type(path + ("cidr",), text, Kind.STRING)
        return
    if not text:
        yield required("V21", path + ("cidr",))
        return
    cidr = parse_cidr(text)
    if cidr is None:
        yield invalid("V22", path + ("cidr",), text, CIDR_FORMAT_ERROR)
        return
    yield from _form(text, cidr, path + ("cidr",), settings)
    excepts, type_errors, _ = string_list(raw.get("except"), path + ("except",))
    yield from type_errors
    for k, ex_text in excepts:
        ex_path = path + ("except", k)
        ex = parse_cidr(ex_text)
        if ex is None:
            yield invalid("V24", ex_path, ex_text, CIDR_FORMAT_ERROR)
            continue
        yield from _form(ex_text, ex, ex_path, settings)
        if not is_strict_subset(ex, cidr):
            yield invalid("V25", ex_path, ex_text, STRICT_SUBSET_ERROR)


def is_strict_subset(inner: Cidr, outer: Cidr) -> bool:
    """The API server's test for an ``except`` entry.

    The entry's network address must lie in ``cidr`` (same family after the
    legacy parse) and ``cidr``'s prefix length must be shorter, both lengths as
    written: ``::ffff:10.0.0.0/104`` counts 104 bits although it means 10.0.0.0/8.
    """
    contained = inner.version == outer.version and outer.first <= inner.network <= outer.last
    return contained and outer.written_prefix < inner.written_prefix


def _form(text: str, cidr: Cidr, path: FieldPath, settings: Settings) -> Iterator[Diagnostic]:
    if settings.strict_cidr_validation:
        if cidr.leading_zeros:
            yield invalid("V23", path, text, "must not have leading 0s in IP or prefix length")
        elif cidr.ipv4_mapped:
            yield invalid("V23", path, text, "must not have an IPv4-mapped IPv6 address")
        elif cidr.host_bits:
            yield invalid("V23", path, text, "must not have bits set beyond the prefix length")
    else:
        if cidr.host_bits:
            yield warn("V23", path, f"CIDR value {_q(text)} is ambiguous in this context "
                       f"(should be {_q(str(cidr))} or {_q(_single_address(text))}?)")
        if cidr.leading_zeros or cidr.ipv4_mapped:
            yield warn("V23", path, f"non-standard CIDR value {_q(text)} will be considered invalid "
                       f"in a future Kubernetes release: use {_q(str(cidr))}")
    if not (cidr.leading_zeros or cidr.ipv4_mapped or cidr.host_bits) and cidr.version == 6:
        canonical = _canonical_ipv6(text)
        if canonical is not None and canonical != text:
            yield warn("V23", path, f"IPv6 CIDR value {_q(text)} should be in RFC 5952 canonical format ({_q(canonical)})")


def _single_address(text: str) -> str:
    """The one-address CIDR a value with host bits might have meant (``10.0.0.5/8`` -> ``10.0.0.5/32``)."""
    address = parse_ip(text.partition("/")[0])
    if address is None:  # parse_cidr accepted it, so this does not happen
        return text
    return f"{address}/{32 if address.version == 4 else 128}"


def _canonical_ipv6(text: str) -> str | None:
    try:
        return str(ipaddress.IPv6Network(text))
    except ValueError:
        return None


_q = go_quote
