"""Hostile input through the real console script.

YAML tags whose value does not fit, aliases that expand without end, nesting
deeper than the parsers go, input with no Kubernetes object, and input that is
endless or larger than the limits: each is one line naming the file (and line),
with exit 2, and never a traceback (exit 3).
"""

from __future__ import annotations

import json
import os
import subprocess
import threading
from pathlib import Path

import pytest
from cli_support import PODFENCE, error_lead, podfence

POD = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n  labels: {app: web}\n"
NO_OBJECTS = "(pass --allow-empty to accept empty input)"


def _write(path: Path, text: str) -> str:
    path.write_text(text)
    return str(path)


def _nested_aliases(levels: int, width: int = 9) -> str:
    """Anchors a0..a<levels>, each a list of ``width`` aliases of the one before."""
    lines = [f"  a0: &a0 [{', '.join(['Ingress'] * width)}]"]
    lines += [f"  a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * width)}]" for i in range(1, levels + 1)]
    return "\n".join(lines) + "\n"


# -- YAML aliases ----------------------------------------------------------------------


def test_nested_aliases_are_refused_before_they_expand(tmp_path: Path) -> None:
    # 731 bytes that expand to almost a billion nodes under policyTypes.
    bomb = _write(tmp_path / "bomb.yaml", POD + "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
                  "metadata: {name: x}\nx:\n" + _nested_aliases(8) + "spec:\n  podSelector: {}\n  policyTypes: *a8\n")
    r = podfence("connectivity", "-f", bomb)
    assert (r.returncode, r.stdout) == (2, "")
    assert r.stderr == (f"{bomb}:7: YAML aliases expand this document by 926,177,086 nodes, past the limit of "
                        "1,000,000 nodes from aliases in all; write repeated parts out instead of aliasing them\n")


def test_aliased_rules_that_repeat_past_the_limit_are_refused(tmp_path: Path) -> None:
    # 4.9 KB: one rule of 100 aliased peers, aliased into 600 rules.
    peers = ", ".join(["&p {podSelector: {matchExpressions: [{key: app, operator: In, values: [a, b, c]}]}, "
                       "namespaceSelector: {matchLabels: {team: x}}}"] + ["*p"] * 99)
    policy = _write(tmp_path / "rules.yaml", (
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: x}\nspec:\n  podSelector: {}\n"
        f"  ingress:\n  - &r\n    from: [{peers}]\n    ports: [{{port: 80}}]\n" + "  - *r\n" * 599))
    r = podfence("matrix", "--port", "80", "-f", policy)
    assert (r.returncode, r.stdout) == (2, "")
    assert r.stderr == (f"{policy}:1: YAML aliases expand this document by 1,264,771 nodes, past the limit of "
                        "1,000,000 nodes from aliases in all; write repeated parts out instead of aliasing them\n")


def test_an_alias_inside_its_own_anchor_is_refused(tmp_path: Path) -> None:
    policy = _write(tmp_path / "self.yaml", "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
                    "metadata: {name: x}\nspec:\n  podSelector: {}\n  policyTypes: &a [*a, *a, *a]\n")
    r = podfence("connectivity", "-f", policy)
    assert (r.returncode, r.stdout) == (2, "")
    assert r.stderr == f"{policy}:6: invalid YAML: an alias refers to the node that contains it, so the value never ends\n"


def test_an_oversized_list_is_echoed_as_a_short_prefix_and_a_count(tmp_path: Path) -> None:
    # 729 policyTypes through aliases: well within the alias limit, far too many to print.
    policy = _write(tmp_path / "types.yaml", "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
                    "metadata: {name: x}\nx:\n" + _nested_aliases(2) + "spec:\n  podSelector: {}\n  policyTypes: *a2\n")
    r = podfence("connectivity", "-f", policy)
    assert (r.returncode, r.stdout) == (2, "")
    nine, five = "[" + ", ".join(['"Ingress"'] * 9) + "]", ", ".join(['"Ingress"'] * 5)
    assert r.stderr.splitlines() == [
        f'{policy}:4: NetworkPolicy default/x: x: unknown field "x"',
        f"{policy}:10: NetworkPolicy default/x: spec.policyTypes: Invalid value: [[{nine}, {nine}, [{five}, "
        "... (9 items)], ... (9 items)], ... (9 items)]: may not specify more than two policyTypes",
    ]


# -- YAML tags -------------------------------------------------------------------------

TAGS = [
    ('!!int ""', 'invalid YAML: !!int "" is not an integer'),
    ('!!float ""', 'invalid YAML: !!float "" is not a number'),
    ("!!seq x", "invalid YAML: the tag !!seq needs a list, not a value"),
    ("!!map x", "invalid YAML: the tag !!map needs a mapping, not a value"),
    ("!!bool maybe", 'invalid YAML: !!bool "maybe" is not true or false'),
    ("!!binary aGk=", "invalid YAML: the tag !!binary has no JSON equivalent, so podfence does not read it"),
    ("!foo x", "invalid YAML: unknown tag !foo: podfence reads only the standard YAML tags"),
    ("!!python/object x", "invalid YAML: unknown tag !!python/object: podfence reads only the standard YAML tags"),
]


@pytest.mark.parametrize(("tagged", "message"), TAGS, ids=[t for t, _ in TAGS])
def test_a_tag_that_does_not_fit_its_value_is_one_line_in_a_manifest(tmp_path: Path, tagged: str,
                                                                       message: str) -> None:
    manifest = _write(tmp_path / "pod.yaml", f"apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n  labels:\n"
                                             f"    app: {tagged}\n")
    r = podfence("connectivity", "-f", manifest)
    assert (r.returncode, r.stdout, r.stderr) == (2, "", f"{manifest}:6: {message}\n")


@pytest.mark.parametrize(("tagged", "message"), TAGS, ids=[t for t, _ in TAGS])
def test_a_tag_that_does_not_fit_its_value_is_one_line_in_podfence_files(tmp_path: Path, tagged: str,
                                                                          message: str) -> None:
    manifest = _write(tmp_path / "pod.yaml", POD)
    config = _write(tmp_path / "config.yaml", f"dns:\n  namespace: {tagged}\n")
    spec = _write(tmp_path / "spec.yaml", f"tests:\n  - name: {tagged}\n    from: default/web\n    to: default/web\n"
                                          "    port: 80\n    expect: allow\n")
    intents = _write(tmp_path / "intents.yaml", f"services:\n  default/web:\n    talks_to: [{tagged}]\n")
    runs = {
        config: podfence("connectivity", "-f", manifest, "--config", config),
        spec: podfence("test", "-f", manifest, spec),
        intents: podfence("generate", "-f", manifest, "--intents", intents),
    }
    line = {config: 2, spec: 2, intents: 3}
    for path, r in runs.items():
        assert (r.returncode, r.stdout, r.stderr) == (2, "", f"{path}:{line[path]}: {message}\n")


# -- Nesting ---------------------------------------------------------------------------


def test_json_nested_2000_deep_is_one_line(tmp_path: Path) -> None:
    deep = _write(tmp_path / "deep.json", '{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "a"}, "x": '
                  + "[" * 2000 + "]" * 2000 + "}")
    r = podfence("connectivity", "-f", deep)
    assert (r.returncode, r.stdout, r.stderr) == (
        2, "", f"{deep}:1: invalid JSON: nested too deeply (the limit is about 1,000 levels)\n")


def test_yaml_nested_2000_deep_is_one_line(tmp_path: Path) -> None:
    deep = _write(tmp_path / "deep.yaml", "{kind: Pod, x: " + "[" * 2000 + "]" * 2000 + "}\n")
    r = podfence("connectivity", "-f", deep)
    assert (r.returncode, r.stdout, r.stderr) == (
        2, "", f"{deep}:1: invalid JSON: nested too deeply (the limit is about 1,000 levels)\n")


def test_a_deep_value_in_a_stream_of_json_values_is_one_line(tmp_path: Path) -> None:
    stream = _write(tmp_path / "stream.json", json.dumps({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "a"}})
                    + "\n" + "[" * 2000 + "]" * 2000 + "\n")
    r = podfence("connectivity", "-f", stream)
    assert (r.returncode, r.stdout, r.stderr) == (
        2, "", f"{stream}:2: invalid JSON: nested too deeply (the limit is about 1,000 levels)\n")


def test_lists_nested_in_lists_hundreds_deep_are_read(tmp_path: Path) -> None:
    pod = '{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "a"}}'
    manifest = _write(tmp_path / "lists.json", '{"apiVersion": "v1", "kind": "List", "items": [' * 495 + pod
                      + "]}" * 495)
    r = podfence("check", "-f", manifest)
    assert (r.returncode, r.stdout, r.stderr) == (0, "ok: 1 object valid\n", "")
    r = podfence("lint", "-f", manifest, "--fail-on", "error")
    assert r.returncode == 0, r.stderr


def test_a_flow_line_nested_2000_deep_is_reported_as_unreadable(tmp_path: Path) -> None:
    manifest = _write(tmp_path / "pod.yaml", POD)
    flows = _write(tmp_path / "flows.jsonl", "[" * 2000 + "]" * 2000 + "\n")
    r = podfence("generate", "-f", manifest, "--from-flows", flows)
    assert r.returncode == 1, r.stderr
    assert r.stderr.splitlines()[1:3] == ["  unreadable (1 record):", f"    1 x not JSON (nested too deeply) (first: {flows}:1)"]


# -- No Kubernetes object --------------------------------------------------------------


@pytest.mark.parametrize("text", ["", "# nothing here\n", "---\n", "---\n# a comment\n---\n"],
                         ids=["empty", "comments", "separator", "separators-and-comments"])
def test_a_file_without_objects_fails_instead_of_grading_a(tmp_path: Path, text: str) -> None:
    path = _write(tmp_path / "manifests.yaml", text)
    r = podfence("audit", "-f", path)
    assert (r.returncode, r.stdout, r.stderr) == (2, "", f"podfence audit: error: no Kubernetes objects in {path} {NO_OBJECTS}\n")


def test_a_directory_without_manifests_fails(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("not a manifest\n")
    r = podfence("check", "-f", str(tmp_path))
    assert (r.returncode, r.stdout) == (2, "")
    assert r.stderr == (f"note: no .yaml, .yml or .json files in {tmp_path}\n"
                        f"podfence check: error: no Kubernetes objects in {tmp_path} {NO_OBJECTS}\n")


def test_allow_empty_accepts_input_without_objects(tmp_path: Path) -> None:
    path = _write(tmp_path / "empty.yaml", "")
    r = podfence("check", "-f", path, "--allow-empty")
    assert (r.returncode, r.stdout, r.stderr) == (0, "ok: 0 objects valid\n", "")


def test_objects_podfence_does_not_model_are_not_nothing(tmp_path: Path) -> None:
    path = _write(tmp_path / "cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n")
    r = podfence("connectivity", "-f", path)
    assert r.returncode == 0
    assert r.stderr == "note: ignored 1 ConfigMap object\n"


@pytest.mark.parametrize("command", [
    ["check"], ["matrix", "--port", "80"], ["connectivity"], ["explain", "--from", "a", "--to", "b", "--port", "80"],
    ["lint"], ["audit"], ["test", "--snapshot"], ["generate", "--intents", "INTENTS"],
    ["generate", "allow", "--from", "default/a", "--to", "default/b", "--port", "80"],
    ["generate", "egress", "--from", "default/a", "--to-cidr", "10.0.0.0/8"],
    ["generate", "default-deny", "-n", "default"],
], ids=lambda c: " ".join(c))
def test_every_command_that_reads_manifests_refuses_empty_input(tmp_path: Path, command: list[str]) -> None:
    path = _write(tmp_path / "empty.yaml", "# nothing\n")
    intents = _write(tmp_path / "intents.yaml", "services:\n  default/web:\n    talks_to: []\n")
    args = [intents if a == "INTENTS" else a for a in command]
    r = podfence(*args, "-f", path)
    assert (r.returncode, r.stdout, r.stderr) == (2, "", f"{error_lead(*args)}no Kubernetes objects in {path} {NO_OBJECTS}\n")
    allowed = podfence(*args, "-f", path, "--allow-empty")
    assert "no Kubernetes objects" not in allowed.stderr
    assert allowed.returncode != 3, allowed.stderr


def test_diff_accepts_one_empty_side_but_not_two(tmp_path: Path) -> None:
    empty = tmp_path / "new"
    empty.mkdir()
    pod = _write(tmp_path / "pod.yaml", POD)
    r = podfence("diff", str(empty), pod)
    assert r.returncode == 1, r.stderr
    assert "default/web" in r.stdout
    also_empty = _write(tmp_path / "empty.yaml", "")
    r = podfence("diff", str(empty), also_empty)
    assert (r.returncode, r.stdout) == (2, "")
    assert r.stderr.splitlines()[-1] == f"podfence diff: error: no Kubernetes objects in {empty}, {also_empty} {NO_OBJECTS}"
    assert podfence("diff", str(empty), also_empty, "--allow-empty").returncode == 0


# -- Endless and oversized input -------------------------------------------------------


def test_a_character_device_is_refused_unread() -> None:
    r = podfence("check", "-f", "/dev/zero")
    assert (r.returncode, r.stderr) == (2, "")
    assert r.stdout.splitlines()[0] == ("/dev/zero: cannot read: a character device, not a file (podfence reads "
                                        "files, directories, FIFOs and - for standard input)")
    r = podfence("connectivity", "-f", "/dev/zero")
    assert (r.returncode, r.stdout) == (2, "")
    assert r.stderr == ("/dev/zero: cannot read: a character device, not a file (podfence reads files, directories, "
                        "FIFOs and - for standard input)\n")


def test_endless_standard_input_stops_at_the_byte_limit() -> None:
    with open("/dev/zero", "rb") as zeros:
        r = subprocess.run([str(PODFENCE), "connectivity", "-f", "-", "--max-input-bytes", "5000000"], stdin=zeros,
                           capture_output=True, text=True, timeout=120)
    assert (r.returncode, r.stdout) == (2, "")
    assert r.stderr == "podfence connectivity: error: -: input exceeds --max-input-bytes=5000000 (raise it with --max-input-bytes)\n"


def test_the_byte_limit_counts_all_inputs_together(tmp_path: Path) -> None:
    first = _write(tmp_path / "a.yaml", POD)
    second = _write(tmp_path / "b.yaml", POD.replace("web", "db"))
    limit = str(len(POD) + 10)
    assert podfence("connectivity", "-f", first, "--max-input-bytes", limit).returncode == 0
    r = podfence("connectivity", "-f", first, "-f", second, "--max-input-bytes", limit)
    assert (r.returncode, r.stdout) == (2, "")
    assert r.stderr == (f"podfence connectivity: error: {second}: input exceeds --max-input-bytes={limit} "
                        "(raise it with --max-input-bytes)\n")
    r = podfence("connectivity", "-f", "-", "--max-input-bytes", "100", stdin=POD * 3)
    assert r.stderr == "podfence connectivity: error: -: input exceeds --max-input-bytes=100 (raise it with --max-input-bytes)\n"


def test_the_byte_limit_covers_config_specs_intents_and_flows(tmp_path: Path) -> None:
    manifest = _write(tmp_path / "pod.yaml", POD)
    padding = "# " + "x" * 2000 + "\n"
    config = _write(tmp_path / "config.yaml", padding + "dns: {namespace: kube-system}\n")
    spec = _write(tmp_path / "spec.yaml", padding + "tests: []\n")
    intents = _write(tmp_path / "intents.yaml", padding + "services: {}\n")
    flows = _write(tmp_path / "flows.jsonl", "{}\n" * 1000)
    limit = "1000"
    for path, args in [(config, ["connectivity", "-f", manifest, "--config", config]),
                       (spec, ["test", "-f", manifest, spec]),
                       (intents, ["generate", "-f", manifest, "--intents", intents]),
                       (flows, ["generate", "-f", manifest, "--from-flows", flows])]:
        r = podfence(*args, "--max-input-bytes", limit)
        assert (r.returncode, r.stdout, r.stderr) == (
            2, "", f"{error_lead(*args)}{path}: input exceeds --max-input-bytes={limit} (raise it with --max-input-bytes)\n")


def test_the_object_limit_names_the_first_object_past_it(tmp_path: Path) -> None:
    path = _write(tmp_path / "pods.yaml", "---\n".join(POD.replace("web", name) for name in ("a", "b", "c")))
    assert podfence("connectivity", "-f", path, "--max-objects", "3").returncode == 0
    r = podfence("connectivity", "-f", path, "--max-objects", "2")
    assert (r.returncode, r.stdout) == (2, "")
    assert r.stderr == (f"podfence connectivity: error: {path}:13: Kubernetes objects exceed --max-objects=2 "
                        "(raise it with --max-objects)\n")


def _feed_fifo(path: Path, data: bytes) -> threading.Thread:
    def feed() -> None:
        try:
            with open(path, "wb") as fifo:
                fifo.write(data)
        except BrokenPipeError:  # the reader stopped at its limit
            pass

    thread = threading.Thread(target=feed, daemon=True)
    thread.start()
    return thread


def test_a_fifo_is_read_and_bounded(tmp_path: Path) -> None:
    fifo = tmp_path / "manifests.fifo"
    os.mkfifo(fifo)
    feeder = _feed_fifo(fifo, POD.encode())
    r = podfence("connectivity", "-f", str(fifo))
    feeder.join(timeout=10)
    assert r.returncode == 0, r.stderr
    assert "default/web" in r.stdout
    feeder = _feed_fifo(fifo, POD.encode() * 100)
    r = podfence("connectivity", "-f", str(fifo), "--max-input-bytes", "1000")
    feeder.join(timeout=10)
    assert (r.returncode, r.stdout) == (2, "")
    assert r.stderr == (f"podfence connectivity: error: {fifo}: input exceeds --max-input-bytes=1000 "
                        "(raise it with --max-input-bytes)\n")


# -- Symbolic links out of a walked directory ----------------------------------------------


def test_a_link_out_of_a_walked_directory_is_an_error_and_its_target_is_never_read(tmp_path: Path) -> None:
    secret = _write(tmp_path / "secret.yaml", "root:$6$not-for-ci-logs:19000:0:99999:7:::\n")
    repo = tmp_path / "repo"
    (repo / "policies").mkdir(parents=True)
    _write(repo / "pod.yaml", POD)
    os.symlink(secret, repo / "policies" / "leak.yaml")
    os.symlink("../pod.yaml", repo / "policies" / "shared.yaml")  # inside the walked directory: read
    r = podfence("check", "-f", str(repo))
    assert r.returncode == 2
    assert "not-for-ci-logs" not in r.stdout + r.stderr
    assert r.stdout.splitlines()[0] == (
        f"{repo}/policies/leak.yaml: not read: a symbolic link to a file outside the directory given; podfence "
        "reads only files inside the directories it walks (name the file itself to read it)")
    assert "policies/shared.yaml:1: Pod default/web: defined again" in r.stdout
    named = podfence("check", "-f", str(repo / "policies" / "leak.yaml"))  # named itself: read, as asked
    assert named.returncode == 2 and f"skipped {repo}/policies/leak.yaml:1: not a Kubernetes object" in named.stderr
