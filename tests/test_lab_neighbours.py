"""Sizing the machine's neighbour tables for the labs on it, and reading their overflow counters."""

from __future__ import annotations

from pathlib import Path

import pytest

from podfence.lab import linux, neighbours
from podfence.lab.neighbours import Limits


@pytest.fixture
def proc(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A stand-in /proc with the kernel's default limits."""
    monkeypatch.setattr(neighbours, "PROC", tmp_path)
    monkeypatch.setattr(neighbours, "SIZING_LOCK", tmp_path / "sizing.lock")
    for version in (4, 6):
        folder = tmp_path / "sys" / "net" / f"ipv{version}" / "neigh" / "default"
        folder.mkdir(parents=True)
        for knob, value in (("gc_thresh1", 128), ("gc_thresh2", 512), ("gc_thresh3", 1024)):
            (folder / knob).write_text(f"{value}\n")
    return tmp_path


def labs(monkeypatch: pytest.MonkeyPatch, *names: str) -> None:
    monkeypatch.setattr(linux, "list_netns", lambda: sorted(names))


def test_limits_are_raised_to_what_the_pods_need_and_never_lowered() -> None:
    default = Limits(128, 512, 1024)
    assert default.raised_for(1000) == default
    assert default.raised_for(3424) == Limits(448, 1792, 3584)  # rounded up to 256s: 1/8, 1/2, all
    assert Limits(80000, 90000, 100000).raised_for(3424) == Limits(80000, 90000, 100000)


def test_a_600_pod_lab_needs_more_than_the_default_table() -> None:
    assert neighbours.entries_needed(4, 600) > 1024 and neighbours.entries_needed(6, 600) > 1024
    assert neighbours.entries_needed(4, 0) == neighbours.HOST_RESERVE


def test_only_pod_namespaces_of_labs_count(monkeypatch: pytest.MonkeyPatch) -> None:
    labs(monkeypatch, "podfence-node", "podfence-p1", "podfence-p22", "lab2-p3", "other", "my-netns-p1", "x-pod")
    assert neighbours.lab_pods_on_machine() == 3


def test_sizing_counts_every_lab_on_the_machine_plus_the_one_coming(proc: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    labs(monkeypatch, *(f"one-p{i}" for i in range(1, 301)))  # another lab of 300 pods runs
    notes = neighbours.size(coming=300)
    v4 = neighbours.read_limits(4)
    v6 = neighbours.read_limits(6)
    assert v4 == Limits(128, 512, 1024).raised_for(neighbours.entries_needed(4, 600))
    assert v6 == Limits(128, 512, 1024).raised_for(neighbours.entries_needed(6, 600))
    assert v4 is not None and v4.gc_thresh3 >= 1024 + 4 * 600
    assert notes[0] == (f"raised net.ipv4.neigh.default.gc_thresh1/2/3 from 128/512/1024 to {v4.gc_thresh1}/"
                        f"{v4.gc_thresh2}/{v4.gc_thresh3} for 600 lab pods on this machine (lab down leaves them)")
    assert len(notes) == 2
    assert neighbours.size(coming=300) == []  # big enough now: nothing to change


def test_a_table_too_small_that_cannot_be_raised_is_one_line(proc: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    labs(monkeypatch)
    knob = proc / "sys" / "net" / "ipv4" / "neigh" / "default" / "gc_thresh3"
    monkeypatch.setattr(neighbours, "write_limits", lambda version, limits: (_ for _ in ()).throw(
        PermissionError(13, "Permission denied")))
    with pytest.raises(neighbours.TooSmall) as caught:
        neighbours.size(coming=600)
    assert str(caught.value) == (
        "the machine's IPv4 neighbour table holds at most 1024 entries (net.ipv4.neigh.default.gc_thresh3) and "
        "600 lab pods need 3424; podfence cannot raise it (Permission denied): raise it as root on the host")
    assert knob.read_text() == "1024\n"


def test_without_the_knobs_there_is_nothing_to_size(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(neighbours, "PROC", tmp_path)  # not the machine's first namespace: no knobs
    monkeypatch.setattr(neighbours, "SIZING_LOCK", tmp_path / "sizing.lock")
    labs(monkeypatch)
    assert neighbours.size(coming=600) == []


def test_overflows_sum_the_per_cpu_table_fulls(proc: Path) -> None:
    stat = proc / "net" / "stat"
    stat.mkdir(parents=True)
    header = ("entries  allocs   destroys hash_grows lookups  hits     res_failed rcv_probes_mcast rcv_probes_ucast "
              "periodic_gc_runs forced_gc_runs unresolved_discards table_fulls\n")
    row = "00000002 00000247 00000362 00000002   000004ec 000000c5 00000000   00000000         00000000         "
    (stat / "arp_cache").write_text(header + row + "00000030 00000000 00000000 0000016b\n"
                                    + row + "00000000 00000000 00000000 00000169\n")
    assert neighbours.overflows() == {4: 0x16B + 0x169}  # ndisc_cache unreadable: left out


def test_a_table_that_overflowed_while_probing_makes_the_probe_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from podfence.lab import control

    monkeypatch.setattr(neighbours, "overflows", lambda: {4: 731, 6: 5})
    monkeypatch.setattr(neighbours, "read_limits", lambda version: Limits(128, 512, 1024))
    control._check_overflows({4: 731, 6: 5}, "while probing")  # nothing refused meanwhile
    with pytest.raises(control.LabError) as caught:
        control._check_overflows({4: 7, 6: 5}, "while probing")
    assert str(caught.value) == (
        "the machine's IPv4 neighbour table was full (724 times while probing; net.ipv4.neigh.default.gc_thresh3"
        "=1024), so probes would report denials that no policy made: raise it, or run fewer lab pods at once")
