"""podfence rollout check: observed flows against the enforced and the staged policies."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cli_support import podfence
from podfence.flows import RecordParser, parse_record
from podfence.loader import load
from podfence.rollout import check_flows
from podfence.sources import count_flows, read_flows

SHOP = "tests/fixtures/staged/shop.yaml"
FLOWS = "tests/fixtures/staged/flows.jsonl"
HUBBLE = "tests/fixtures/flows/hubble.jsonl"
CALICO = "tests/fixtures/flows/calico.jsonl"


def test_the_json_contract() -> None:
    result = podfence("rollout", "check", "-f", SHOP, "--flows", FLOWS, "-o", "json")
    assert result.returncode == 1, result.stderr  # something would be blocked
    assert json.loads(result.stdout) == {
        "flows": 8,
        "would_block": [
            {"src": "shop/cli", "dst": "billing/web", "protocol": "TCP", "port": 8080, "count": 2,
             "policies": ["billing/default-deny"]},
            {"src": "203.0.113.9", "dst": "billing/web", "protocol": "TCP", "port": 8080, "count": 1,
             "policies": ["billing/default-deny"]},
        ],
        "would_allow": [
            {"src": "shop/api", "dst": "shop/cli", "protocol": "TCP", "port": 8080, "count": 1,
             "policies": ["shop/legacy-deny"]},
        ],
        # the reply, the pod of a namespace the manifests do not have, the line that is not JSON
        "unmatched": 3,
    }


def test_text_leads_with_what_would_break_and_accounts_for_every_record() -> None:
    result = podfence("rollout", "check", "-f", SHOP, "--flows", FLOWS)
    lines = result.stdout.splitlines()
    assert lines[0].startswith("WOULD BLOCK 2 connections (3 flows observed allowed)")
    assert lines[1] == "  shop/cli -> billing/web TCP 8080 (2 flows): billing/default-deny"
    assert any("would allow 1 connection" in line for line in lines)
    assert f"flows: 8 records from {FLOWS}: 4 distinct connections, 3 unmatched" in result.stdout
    assert "ghost/x" in result.stdout and f"(first: {FLOWS}:8)" in result.stdout


def test_nothing_blocked_is_exit_0(tmp_path: Path) -> None:
    only_unchanged = tmp_path / "flows.jsonl"
    only_unchanged.write_text(Path(FLOWS).read_text().splitlines()[4] + "\n")  # shop/cli -> shop/api stays allowed
    result = podfence("rollout", "check", "-f", SHOP, "--flows", str(only_unchanged), "-o", "json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"flows": 1, "would_block": [], "would_allow": [], "unmatched": 0}


def test_flows_from_stdin_and_a_format_that_does_not_fit() -> None:
    text = Path(FLOWS).read_text()
    assert json.loads(podfence("rollout", "check", "-f", SHOP, "--flows", "-", "-o", "json", stdin=text).stdout)[
        "flows"] == 8
    calico = json.loads(podfence("rollout", "check", "-f", SHOP, "--flows", FLOWS, "--flows-format", "calico",
                                 "-o", "json").stdout)
    assert (calico["flows"], calico["unmatched"], calico["would_block"]) == (8, 8, [])
    lab = json.loads(podfence("rollout", "check", "-f", SHOP, "--flows", FLOWS, "--flows-format", "lab",
                              "-o", "json").stdout)
    assert lab["unmatched"] == 3  # the lab's denial stream is Hubble-shaped


@pytest.mark.parametrize("args, message", [
    ((), "no flows given: use --flows FILE"),
    (("--flows", "missing.jsonl"), "--flows missing.jsonl: cannot read"),
    (("--flows", FLOWS, "--flows-format", "pcap"), "--flows-format 'pcap': choose one of auto, hubble, calico, lab"),
    (("--flows", FLOWS, "-o", "yaml"), "-o 'yaml': choose one of text, json"),
])
def test_bad_input_is_one_line_and_exit_2(args: tuple[str, ...], message: str) -> None:
    result = podfence("rollout", "check", "-f", SHOP, *args)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1 and message in result.stderr, result.stderr


def test_the_same_flows_read_one_by_one_or_counted_give_the_same_result() -> None:
    cluster = load([SHOP]).cluster
    read = read_flows([FLOWS, HUBBLE, CALICO])
    counted = count_flows([FLOWS, HUBBLE, CALICO])
    assert counted.lines == len(read.records)
    assert check_flows(((w, r, 1) for w, r in read.records), cluster) == check_flows(counted.records, cluster)


def test_lines_equal_but_for_time_id_and_source_port_are_counted_not_parsed_again(tmp_path: Path) -> None:
    first, second = Path(FLOWS).read_text().splitlines()[:2]
    path = tmp_path / "f.jsonl"
    path.write_text("\n".join([first, second, first.replace('"SYN":true', '"SYN":1'), "{", "{"]) + "\n")
    counted = count_flows([str(path)])
    assert counted.lines == 5
    assert [(w.line, times) for w, _, times in counted.records] == [(1, 2), (3, 1), (4, 2)]
    for (_, record, _), line in zip(counted.records, [first, first.replace('"SYN":true', '"SYN":1')]):
        assert record == parse_record(json.loads(line))


@pytest.mark.parametrize("variant", [
    {"destination_port": True}, {"destination_port": 8080.0}, {"destination_port": "8080"},
    {"is_reply": 0}, {"is_reply": None}, {"verdict": 1}, {"verdict": "DROPPED"},
])
def test_the_record_memory_tells_apart_what_the_reader_tells_apart(variant: dict[str, object]) -> None:
    base = json.loads(Path(FLOWS).read_text().splitlines()[0])
    changed = json.loads(json.dumps(base))
    for key, value in variant.items():
        if key == "destination_port":
            changed["flow"]["l4"]["TCP"][key] = value
        else:
            changed["flow"][key] = value
    parser = RecordParser()
    assert parser(base) == parse_record(base)
    assert parser(changed) == parse_record(changed)
