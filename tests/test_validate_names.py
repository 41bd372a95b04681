"""The reusable name checkers of podfence.validate (qualified names, label values, DNS names, ports)."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from podfence.validate import (
    dns1035_label_errors, dns1123_label_errors, dns1123_subdomain_errors, generate_name_errors, is_dns1123_label, is_dns1123_subdomain,
    is_label_value, is_port_name, is_qualified_name, label_value_errors, port_name_errors, port_number_errors,
    qualified_name_errors,
)

# The regular expressions Kubernetes publishes for these formats, used here as an
# independent oracle for the character-by-character checkers.
LABEL_RE = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
DNS1035_RE = re.compile(r"[a-z]([-a-z0-9]*[a-z0-9])?")
SUBDOMAIN_RE = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
NAME_PART_RE = re.compile(r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]")
LABEL_VALUE_RE = re.compile(r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?")

# Alphabets that hit every character class boundary, plus a few outsiders.
TRICKY = "abzAZ09-_./ é\n"
short_text = st.text(alphabet=TRICKY, max_size=12)


# --- DNS-1123 labels (namespace names) ------------------------------------------

@pytest.mark.parametrize("name", ["default", "kube-system", "a", "0", "123-abc", "a" * 63])
def test_dns1123_label_accepts(name: str) -> None:
    assert dns1123_label_errors(name) == []


def test_dns1123_label_too_long_is_one_message() -> None:
    assert dns1123_label_errors("a" * 64) == ["must be no more than 63 bytes"]


def test_dns1123_label_with_dots_says_so() -> None:
    assert dns1123_label_errors("team.a") == ["must not contain dots"]


@pytest.mark.parametrize("name", ["Team", "-a", "a-", "a_b", "", "a b"])
def test_dns1123_label_rejects_with_the_regex_message(name: str) -> None:
    (msg,) = dns1123_label_errors(name)
    assert msg.startswith("a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-'")
    assert "regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?'" in msg
    # The API server's own example list, spacing included.
    assert "(e.g. 'my-name',  or '123-abc', regex" in msg


def test_dns1123_label_length_counts_bytes() -> None:
    # 32 two-byte characters are 64 bytes: too long, and not a label anyway.
    errs = dns1123_label_errors("é" * 32)
    assert errs[0] == "must be no more than 63 bytes"
    assert len(errs) == 2


@given(short_text)
def test_dns1123_label_matches_the_published_regex(name: str) -> None:
    assert is_dns1123_label(name) == (LABEL_RE.fullmatch(name) is not None)


# --- DNS-1035 labels (Service names) ---------------------------------------------

@pytest.mark.parametrize("name", ["web", "a", "my-name", "abc-123", "a" * 63])
def test_dns1035_label_accepts(name: str) -> None:
    assert dns1035_label_errors(name) == []


@pytest.mark.parametrize("name", ["1web", "123-abc", "Web", "-a", "a-", "a.b", ""])
def test_dns1035_label_rejects_with_the_regex_message(name: str) -> None:
    assert dns1035_label_errors(name) == [
        "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic "
        "character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for "
        "validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"
    ]


def test_dns1035_label_too_long() -> None:
    assert dns1035_label_errors("a" * 64) == ["must be no more than 63 bytes"]


@given(short_text)
def test_dns1035_label_matches_the_published_regex(name: str) -> None:
    assert (not dns1035_label_errors(name)) == (DNS1035_RE.fullmatch(name) is not None and len(name) <= 63)


# --- DNS-1123 subdomains (object names) -----------------------------------------

@pytest.mark.parametrize("name", ["web", "allow.all", "a-b.c-d", "a" * 253, "1.2.3"])
def test_dns1123_subdomain_accepts(name: str) -> None:
    assert dns1123_subdomain_errors(name) == []


@pytest.mark.parametrize("name", ["Allow_All", "a..b", ".a", "a.", "a.-b", ""])
def test_dns1123_subdomain_rejects(name: str) -> None:
    (msg,) = dns1123_subdomain_errors(name)
    assert "a lowercase RFC 1123 subdomain must consist of" in msg


def test_dns1123_subdomain_too_long() -> None:
    assert dns1123_subdomain_errors("a" * 254) == ["must be no more than 253 bytes"]


@given(short_text)
def test_dns1123_subdomain_matches_the_published_regex(name: str) -> None:
    assert is_dns1123_subdomain(name) == (SUBDOMAIN_RE.fullmatch(name) is not None)


def test_long_near_miss_is_fast_enough_to_finish() -> None:
    # A backtracking regex needs quadratic time here; the checker is linear.
    # (No timing assert: the test simply has to finish.)
    assert not is_dns1123_subdomain("a" * 200_000 + "-")


# --- generateName ---------------------------------------------------------------

def test_generate_name_may_end_with_a_dash() -> None:
    assert generate_name_errors("web-") == []


def test_generate_name_still_needs_lowercase() -> None:
    (msg,) = generate_name_errors("Web-")
    assert "lowercase RFC 1123 subdomain" in msg


def test_generate_name_masking_quirk() -> None:
    # The API server replaces the last two characters of "a.-" by "a" before it
    # checks, so this prefix passes even though "a." would not.
    assert generate_name_errors("a.-") == []
    assert generate_name_errors("a.") != []


def test_generate_name_of_a_single_dash_is_refused() -> None:
    assert generate_name_errors("-") != []


# --- qualified names (label and selector keys) ----------------------------------

@pytest.mark.parametrize("key", ["app", "App_1.x", "example.com/app", "app.kubernetes.io/name", "a" * 63,
                                 "kubernetes.io/metadata.name", "x/" + "a" * 63])
def test_qualified_name_accepts(key: str) -> None:
    assert qualified_name_errors(key) == []


def test_qualified_name_bad_name_part() -> None:
    (msg,) = qualified_name_errors("-app")
    assert msg.startswith("name part must consist of alphanumeric characters, '-', '_' or '.'")


def test_qualified_name_empty_prefix() -> None:
    assert qualified_name_errors("/app") == ["prefix part must be non-empty"]


def test_qualified_name_empty_name_gets_both_messages() -> None:
    errs = qualified_name_errors("example.com/")
    assert errs[0] == "name part must be non-empty"
    assert errs[1].startswith("name part must consist of")
    assert len(errs) == 2


def test_qualified_name_two_slashes() -> None:
    (msg,) = qualified_name_errors("a/b/c")
    assert msg.startswith("a valid label key must consist of")
    assert msg.endswith("with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')")


def test_qualified_name_uppercase_prefix() -> None:
    (msg,) = qualified_name_errors("Example.com/app")
    assert msg.startswith("prefix part a lowercase RFC 1123 subdomain")


def test_qualified_name_long_name_part() -> None:
    assert qualified_name_errors("a" * 64) == ["name part must be no more than 63 bytes"]


def test_qualified_name_long_prefix() -> None:
    assert qualified_name_errors("a" * 254 + "/app") == ["prefix part must be no more than 253 bytes"]


@given(short_text, short_text)
def test_qualified_name_matches_the_published_rules(prefix: str, name: str) -> None:
    key = name if "/" in prefix else f"{prefix}/{name}"
    parts = key.split("/")
    if len(parts) == 1:
        expected = NAME_PART_RE.fullmatch(parts[0]) is not None
    elif len(parts) == 2:
        expected = SUBDOMAIN_RE.fullmatch(parts[0]) is not None and NAME_PART_RE.fullmatch(parts[1]) is not None
    else:
        expected = False
    assert is_qualified_name(key) == expected


# --- label values -----------------------------------------------------------------

@pytest.mark.parametrize("value", ["", "web", "My_Value-1.0", "a" * 63, "12345"])
def test_label_value_accepts(value: str) -> None:
    assert label_value_errors(value) == []


@pytest.mark.parametrize("value", ["a b", "-a", "a-", "a/b", "é"])
def test_label_value_rejects(value: str) -> None:
    (msg,) = label_value_errors(value)
    assert msg.startswith("a valid label must be an empty string or consist of alphanumeric characters")


def test_label_value_too_long() -> None:
    assert label_value_errors("a" * 64) == ["must be no more than 63 bytes"]


@given(st.text(alphabet=TRICKY, max_size=70))
def test_label_value_accepted_iff_it_matches_the_regex_and_fits(value: str) -> None:
    expected = LABEL_VALUE_RE.fullmatch(value) is not None and len(value.encode()) <= 63
    assert is_label_value(value) == expected


# --- named ports (IANA_SVC_NAME) --------------------------------------------------

@pytest.mark.parametrize("name", ["http", "web-8080", "a", "h2c", "abcdefghijklmno"])
def test_port_name_accepts(name: str) -> None:
    assert port_name_errors(name) == []


@pytest.mark.parametrize(("name", "expected"), [
    ("HTTP", ["must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)",
              "must contain at least one letter (a-z)"]),
    ("80", ["must contain at least one letter (a-z)"]),
    ("-web", ["must not begin or end with a hyphen"]),
    ("web-", ["must not begin or end with a hyphen"]),
    ("a--b", ["must not contain consecutive hyphens"]),
    ("abcdefghijklmnop", ["must be no more than 15 bytes"]),
    ("", ["must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)",
          "must contain at least one letter (a-z)"]),
    ("--", ["must contain at least one letter (a-z)", "must not contain consecutive hyphens",
            "must not begin or end with a hyphen"]),
])
def test_port_name_one_message_per_broken_rule(name: str, expected: list[str]) -> None:
    assert port_name_errors(name) == expected


@given(st.text(alphabet="ab09-A_", max_size=18))
def test_port_name_rules(name: str) -> None:
    expected = (
        0 < len(name) <= 15
        and re.fullmatch(r"[-a-z0-9]+", name) is not None
        and re.search(r"[a-z]", name) is not None
        and "--" not in name
        and not name.startswith("-")
        and not name.endswith("-")
    )
    assert is_port_name(name) == expected


@pytest.mark.parametrize(("port", "ok"), [(0, False), (1, True), (80, True), (65535, True), (65536, False), (-1, False)])
def test_port_numbers(port: int, ok: bool) -> None:
    assert (port_number_errors(port) == []) == ok
    if not ok:
        assert port_number_errors(port) == ["must be between 1 and 65535, inclusive"]
