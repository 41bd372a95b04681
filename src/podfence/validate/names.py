"""Syntax checks for the names Kubernetes uses everywhere.

Each ``*_errors`` function returns the API server's messages for one value, one
message per broken sub-rule, in the API server's order; an empty list means the
value is valid. The ``is_*`` functions are the yes/no form.

The rules are the published regular expressions (quoted in the messages), checked
character by character instead of with :mod:`re`: Python's backtracking engine can
take quadratic time on long near-misses, and a 256 KiB annotation key must not
stall a lint run. Lengths count UTF-8 bytes, as the API server does.
"""

from __future__ import annotations

DNS1123_LABEL_MAX = 63
DNS1123_SUBDOMAIN_MAX = 253
QUALIFIED_NAME_MAX = 63
LABEL_VALUE_MAX = 63
PORT_NAME_MAX = 15
MIN_PORT = 1
MAX_PORT = 65535

DNS1123_LABEL_FMT = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
DNS1035_LABEL_FMT = "[a-z]([-a-z0-9]*[a-z0-9])?"
DNS1123_SUBDOMAIN_FMT = DNS1123_LABEL_FMT + "(\\." + DNS1123_LABEL_FMT + ")*"
QUALIFIED_NAME_FMT = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
LABEL_VALUE_FMT = "(" + QUALIFIED_NAME_FMT + ")?"

_LOWER_ALNUM = frozenset("abcdefghijklmnopqrstuvwxyz0123456789")
_ALNUM = _LOWER_ALNUM | frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
_DNS_CHARS = _LOWER_ALNUM | {"-"}
_NAME_CHARS = _ALNUM | {"-", "_", "."}
_LOWER_LETTERS = frozenset("abcdefghijklmnopqrstuvwxyz")

_DNS1123_LABEL_MSG = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', "
    "and must start and end with an alphanumeric character"
)
_DNS1035_LABEL_MSG = (
    "a DNS-1035 label must consist of lower case alphanumeric characters or '-', "
    "start with an alphabetic character, and end with an alphanumeric character"
)
_DNS1123_SUBDOMAIN_MSG = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', "
    "and must start and end with an alphanumeric character"
)
_QUALIFIED_NAME_MSG = (
    "must consist of alphanumeric characters, '-', '_' or '.', "
    "and must start and end with an alphanumeric character"
)
_LABEL_VALUE_MSG = (
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', "
    "and must start and end with an alphanumeric character"
)


def regex_error(message: str, regex: str, *examples: str) -> str:
    """The API server's wording for a value that fails a regular expression."""
    if not examples:
        return f"{message} (regex used for validation is '{regex}')"
    # The API server joins the examples as "'a', " + " or " + "'b', ", double space
    # included; kept so that messages compare equal to kubectl's.
    listed = " or ".join(f"'{e}', " for e in examples)
    return f"{message} (e.g. {listed}regex used for validation is '{regex}')"


def max_len_error(limit: int) -> str:
    return f"must be no more than {limit} bytes"


def inclusive_range_error(low: int, high: int) -> str:
    return f"must be between {low} and {high}, inclusive"


def byte_len(value: str) -> int:
    """Length in UTF-8 bytes, the unit of every Kubernetes length limit."""
    return len(value) if value.isascii() else len(value.encode("utf-8", "surrogatepass"))


def _is_label_chars(value: str, chars: frozenset[str], ends: frozenset[str]) -> bool:
    """``value`` is non-empty, made of ``chars``, and starts and ends with one of ``ends``."""
    return bool(value) and value[0] in ends and value[-1] in ends and chars.issuperset(value)


def _matches_dns1123_label(value: str) -> bool:
    return _is_label_chars(value, _DNS_CHARS, _LOWER_ALNUM)


def _matches_dns1123_subdomain(value: str) -> bool:
    return all(_matches_dns1123_label(part) for part in value.split("."))


def _matches_name_part(value: str) -> bool:
    return _is_label_chars(value, _NAME_CHARS, _ALNUM)


def dns1123_label_errors(value: str) -> list[str]:
    """Errors for a DNS-1123 label (namespace names): at most 63 bytes, ``[a-z0-9-]``."""
    errs = []
    if byte_len(value) > DNS1123_LABEL_MAX:
        errs.append(max_len_error(DNS1123_LABEL_MAX))
    if not _matches_dns1123_label(value):
        if _matches_dns1123_subdomain(value):
            errs.append("must not contain dots")
        else:
            errs.append(regex_error(_DNS1123_LABEL_MSG, DNS1123_LABEL_FMT, "my-name", "123-abc"))
    return errs


def dns1035_label_errors(value: str) -> list[str]:
    """Errors for a DNS-1035 label (Service names): a DNS-1123 label that starts with a letter."""
    errs = []
    if byte_len(value) > DNS1123_LABEL_MAX:
        errs.append(max_len_error(DNS1123_LABEL_MAX))
    if not (_matches_dns1123_label(value) and value[0] in _LOWER_LETTERS):
        errs.append(regex_error(_DNS1035_LABEL_MSG, DNS1035_LABEL_FMT, "my-name", "abc-123"))
    return errs


def dns1123_subdomain_errors(value: str) -> list[str]:
    """Errors for a DNS-1123 subdomain (object names): at most 253 bytes, dot-separated labels."""
    errs = []
    if byte_len(value) > DNS1123_SUBDOMAIN_MAX:
        errs.append(max_len_error(DNS1123_SUBDOMAIN_MAX))
    if not _matches_dns1123_subdomain(value):
        errs.append(regex_error(_DNS1123_SUBDOMAIN_MSG, DNS1123_SUBDOMAIN_FMT, "example.com"))
    return errs


def mask_trailing_dash(prefix: str) -> str:
    """How the API server checks a ``generateName`` prefix: a trailing ``-`` is allowed.

    It drops the last two characters and appends ``a``; the quirk is kept because
    it decides which prefixes pass (``a.-`` passes, as it does upstream).
    """
    if len(prefix) > 1 and prefix.endswith("-"):
        return prefix[:-2] + "a"
    return prefix


def generate_name_errors(prefix: str) -> list[str]:
    """Errors for ``metadata.generateName``: a subdomain once the trailing dash is masked."""
    return dns1123_subdomain_errors(mask_trailing_dash(prefix))


def qualified_name_errors(value: str) -> list[str]:
    """Errors for a qualified name (label keys, annotation keys, selector keys).

    An optional DNS-1123 subdomain prefix and ``/``, then a name of at most 63
    bytes of ``[A-Za-z0-9_.-]`` that starts and ends with an alphanumeric.
    """
    errs: list[str] = []
    parts = value.split("/")
    if len(parts) == 1:
        name = parts[0]
    elif len(parts) == 2:
        prefix, name = parts
        if not prefix:
            errs.append("prefix part must be non-empty")
        else:
            errs.extend("prefix part " + msg for msg in dns1123_subdomain_errors(prefix))
    else:
        return [
            "a valid label key "
            + regex_error(_QUALIFIED_NAME_MSG, QUALIFIED_NAME_FMT, "MyName", "my.name", "123-abc")
            + " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"
        ]
    if not name:
        errs.append("name part must be non-empty")
    elif byte_len(name) > QUALIFIED_NAME_MAX:
        errs.append("name part " + max_len_error(QUALIFIED_NAME_MAX))
    if not _matches_name_part(name):
        errs.append("name part " + regex_error(_QUALIFIED_NAME_MSG, QUALIFIED_NAME_FMT, "MyName", "my.name", "123-abc"))
    return errs


def label_value_errors(value: str) -> list[str]:
    """Errors for a label value: empty, or at most 63 bytes of ``[A-Za-z0-9_.-]`` with alphanumeric ends."""
    errs = []
    if byte_len(value) > LABEL_VALUE_MAX:
        errs.append(max_len_error(LABEL_VALUE_MAX))
    if value and not _matches_name_part(value):
        errs.append(regex_error(_LABEL_VALUE_MSG, LABEL_VALUE_FMT, "MyValue", "my_value", "12345"))
    return errs


def port_name_errors(value: str) -> list[str]:
    """Errors for a named port (IANA_SVC_NAME), one per broken sub-rule.

    At most 15 bytes, only ``[a-z0-9-]``, at least one letter, no ``--``, and no
    ``-`` at either end. Upper case is refused although RFC 6335 ignores case.
    """
    errs = []
    if byte_len(value) > PORT_NAME_MAX:
        errs.append(max_len_error(PORT_NAME_MAX))
    if not value or any(c not in _DNS_CHARS for c in value):
        errs.append("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)")
    if not any(c in _LOWER_LETTERS for c in value):
        errs.append("must contain at least one letter (a-z)")
    if "--" in value:
        errs.append("must not contain consecutive hyphens")
    if value and (value[0] == "-" or value[-1] == "-"):
        errs.append("must not begin or end with a hyphen")
    return errs


def port_number_errors(value: int) -> list[str]:
    """Errors for a port number: 1 to 65535."""
    if MIN_PORT <= value <= MAX_PORT:
        return []
    return [inclusive_range_error(MIN_PORT, MAX_PORT)]


def is_dns1123_label(value: str) -> bool:
    return not dns1123_label_errors(value)


def is_dns1035_label(value: str) -> bool:
    return not dns1035_label_errors(value)


def is_dns1123_subdomain(value: str) -> bool:
    return not dns1123_subdomain_errors(value)


def is_qualified_name(value: str) -> bool:
    return not qualified_name_errors(value)


def is_label_value(value: str) -> bool:
    return not label_value_errors(value)


def is_port_name(value: str) -> bool:
    return not port_name_errors(value)
