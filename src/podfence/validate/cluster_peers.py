"""The address peers of cluster-wide policies: ``networks`` (V61) and ``domainNames`` (V62).

Both CRD versions define them the same way: a set of 1 to 25 strings.

* ``networks``: each entry at most 43 characters and a CIDR by the CEL function
  ``isCIDR``: Go's ``netip.ParsePrefix`` (prefix length required, no leading
  zeros, no IPv6 zone) that is not IPv4-mapped IPv6. Bits set beyond the prefix
  length are accepted; podfence warns, since ``10.0.0.5/8`` means all of
  ``10.0.0.0/8``.
* ``domainNames``: each entry matches the CRD's pattern (kept as written, with
  its ``A-z`` range that also admits ``[ \\ ] ^ _ `` `` ` ``). podfence also refuses
  what no DNS name can be: a label that starts with a character other than a
  letter, a digit or ``_``, a label longer than 63 characters, a name longer than
  253.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from podfence.model.diagnostic import Diagnostic, FieldPath
from podfence.sets import parse_cidr
from podfence.validate.crd import cel, in_body, string_set
from podfence.validate.messages import go_quote, invalid, too_long, warn

NETWORKS_CODE = "V61"
DOMAIN_NAMES_CODE = "V62"
MAX_ADDRESSES = 25
CIDR_MAX_LENGTH = 43
CIDR_FORMAT_MESSAGE = "Invalid CIDR format provided"
DOMAIN_NAME_PATTERN = (
    r"^(\*\.)?([a-zA-z0-9]([-a-zA-Z0-9_]*[a-zA-Z0-9])?\.)+[a-zA-z0-9]([-a-zA-Z0-9_]*[a-zA-Z0-9])?\.?$"
)
# Go's regexp reads "$" as the end of the text; Python's would also match before a final newline.
_DOMAIN_NAME = re.compile(DOMAIN_NAME_PATTERN[1:-1])
_LABEL_STARTS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")
DNS_LABEL_MAX = 63
DNS_NAME_MAX = 253


def is_cidr(text: str) -> bool:
    """The CEL library's ``isCIDR``: a strict prefix, not IPv4-mapped; host bits allowed.

    >>> [is_cidr(t) for t in ("10.0.0.5/8", "10.0.0.1", "010.0.0.0/8", "::ffff:10.0.0.0/104", "fd00::/8")]
    [True, False, False, False, True]
    """
    cidr = parse_cidr(text)
    return cidr is not None and not cidr.leading_zeros and not cidr.ipv4_mapped


def validate_networks(value: object, path: FieldPath) -> Iterator[Diagnostic]:
    """A ``networks`` peer at ``path``."""
    for entry in string_set(NETWORKS_CODE, path, value, 1, MAX_ADDRESSES):
        if isinstance(entry, Diagnostic):
            yield entry
            continue
        m, text = entry
        here = path + (m,)
        if len(text) > CIDR_MAX_LENGTH:
            yield too_long(NETWORKS_CODE, here, CIDR_MAX_LENGTH)
        if not is_cidr(text):
            yield cel(NETWORKS_CODE, here, "string", CIDR_FORMAT_MESSAGE)
            continue
        cidr = parse_cidr(text)
        if cidr is not None and cidr.host_bits:
            yield warn(NETWORKS_CODE, here, f"{go_quote(text)} has bits set beyond the prefix length; "
                                            f"it matches all of {go_quote(str(cidr))}")


def validate_domain_names(value: object, path: FieldPath) -> Iterator[Diagnostic]:
    """A ``domainNames`` peer at ``path``."""
    for entry in string_set(DOMAIN_NAMES_CODE, path, value, 1, MAX_ADDRESSES):
        if isinstance(entry, Diagnostic):
            yield entry
            continue
        m, name = entry
        here = path + (m,)
        if _DOMAIN_NAME.fullmatch(name) is None:
            yield in_body(DOMAIN_NAMES_CODE, here, name, f"should match '{DOMAIN_NAME_PATTERN}'")
        else:
            yield from (invalid(DOMAIN_NAMES_CODE, here, name, msg) for msg in domain_name_errors(name))


def domain_name_errors(name: str) -> list[str]:
    """What keeps a name the CRD's pattern accepts from being a DNS name (or ``*.`` and one).

    >>> domain_name_errors("^.example.com")
    ['label "^" must start with a letter, a digit or \\'_\\'']
    """
    errs = []
    bare = name.removeprefix("*.").removesuffix(".")
    if len(bare) > DNS_NAME_MAX:
        errs.append(f"must be no more than {DNS_NAME_MAX} characters")
    for label in bare.split("."):
        if label[:1] not in _LABEL_STARTS:
            errs.append(f"label {go_quote(label)} must start with a letter, a digit or '_'")
        if len(label) > DNS_LABEL_MAX:
            errs.append(f"label {go_quote(label[:16])}... must be no more than {DNS_LABEL_MAX} characters")
    return errs
