"""Lab names: what a lab may be called, what it owns, how log prefixes map back."""

from __future__ import annotations

import pytest

from podfence.lab.naming import LabNames, name_problem
from podfence.model import Direction


@pytest.mark.parametrize("name", ["podfence", "a", "lab2", "abcdefghi"])
def test_valid_names(name: str) -> None:
    assert name_problem(name) is None


@pytest.mark.parametrize("name", ["", "Podfence", "2lab", "my-lab", "abcdefghij", "lab_1", "la b"])
def test_invalid_names(name: str) -> None:
    assert name_problem(name) is not None


def test_link_names_fit_linux_limit_for_the_longest_name_and_largest_index() -> None:
    assert len(LabNames("abcdefghi").node_link(99999)) <= 15


def test_owns_exactly_its_own_namespaces() -> None:
    names = LabNames("pf")
    assert names.owns_netns("pf-node")
    assert names.owns_netns("pf-p1") and names.owns_netns("pf-p200")
    # another lab whose name starts the same, and things that merely look alike
    assert not names.owns_netns("pf2-p1")
    assert not names.owns_netns("pfx-node")
    assert not names.owns_netns("pf-pod")
    assert not names.owns_netns("pf-p")
    assert not names.owns_netns("pf-p1x")
    assert not names.owns_netns("other")


def test_log_prefix_round_trip_and_fits_nflog() -> None:
    names = LabNames("abcdefghi")
    for direction in Direction:
        prefix = names.log_prefix(4242, direction)
        assert len(prefix.encode()) < 128
        assert names.parse_log_prefix(prefix) == (4242, direction)


def test_log_prefix_of_another_lab_is_not_ours() -> None:
    assert LabNames("pf").parse_log_prefix(LabNames("pf2").log_prefix(3, Direction.INGRESS)) is None
    assert LabNames("pf").parse_log_prefix("pf 3 x") is None
    assert LabNames("pf").parse_log_prefix("garbage") is None


def test_tagged_log_prefixes_name_a_decider() -> None:
    names = LabNames("abcdefghi")
    prefix = names.log_prefix(4242, Direction.EGRESS, "t12")
    assert len(prefix.encode()) < 128
    assert names.parse_log(prefix) == (4242, Direction.EGRESS, "t12")
    assert names.parse_log(names.log_prefix(7, Direction.INGRESS, "a0")) == (7, Direction.INGRESS, "a0")
    assert names.parse_log(names.log_prefix(7, Direction.INGRESS)) == (7, Direction.INGRESS, "")
    assert names.parse_log_prefix(prefix) == (4242, Direction.EGRESS)
    for tag in ("x1", "t", "a-1", "t1 t2"):
        assert names.parse_log(f"abcdefghi 7 i {tag}") is None
