"""Hostile input to podfence test, generate, lint --rules-doc and diff --base, through the console script.

Every bad spec, flag, intent file or output place ends with one line on stderr and
exit 2 (never exit 3, podfence's own failure), and the files podfence writes are
written all or none, regular files only, with the usual modes.

Some tests inject a fault into the podfence process: a ``sitecustomize`` module on
``PYTHONPATH`` that Python runs at start-up wraps one ``os`` function (a read-only
file system, a signal in the middle of a write). Nothing in podfence knows of it.
"""

from __future__ import annotations

import os
import signal
import socket
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from podfence.model.text import quoted
from cli_support import ROOT, error_lead, podfence

SPEC_CLUSTER = str(ROOT / "tests" / "fixtures" / "assertions" / "cluster.yaml")
GEN_CLUSTER = str(ROOT / "tests" / "fixtures" / "generate" / "cluster.yaml")
INTENT = """\
defaults: {deny: [ingress, egress], dns: allow}
services:
  shop/frontend:
    talks_to: ["svc/shop/checkout:80", "svc/pay/payapi:80"]
  pay/gateway:
    ingress_from: ["internet:8443"]
"""
NAMESPACE_RULE = "at most 63 lowercase letters, digits and '-', starting and ending with a letter or digit"


def one_line(r: subprocess.CompletedProcess[str]) -> str:
    """The single line a refusal prints (exit 2), or a failure that shows everything."""
    assert r.returncode == 2, (r.returncode, r.stderr)
    lines = r.stderr.splitlines()
    assert len(lines) == 1, r.stderr
    return lines[0]


def error_line(r: subprocess.CompletedProcess[str]) -> str:
    """The one error line a refusal ends with (exit 2), after any notes on the way."""
    assert r.returncode == 2, (r.returncode, r.stderr)
    errors = [line for line in r.stderr.splitlines() if "error" in line]
    assert len(errors) == 1 and r.stderr.endswith(errors[0] + "\n"), r.stderr
    return errors[0]


def inject(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, code: str) -> None:
    """Run ``code`` at the start of every podfence process this test starts."""
    folder = tmp_path / "inject"
    folder.mkdir(exist_ok=True)
    (folder / "sitecustomize.py").write_text(textwrap.dedent(code))
    monkeypatch.setenv("PYTHONPATH", str(folder))


def listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


# ---- podfence test: type confusions in an assertion file --------------------------------------------------------

SPEC_CASES = [
    # (what the file says on its line 4, the one line podfence prints for it)
    ("    expect: []", "s.yaml:4: podfence test: tests[0].expect: must be allow, deny or exactly"),
    ("    expect: {allow: 1}", "s.yaml:4: podfence test: tests[0].expect: must be allow, deny or exactly"),
    ("    protocol: [TCP]\n    expect: allow", "s.yaml:4: podfence test: tests[0].protocol: must be TCP, UDP or SCTP"),
    ("    ports: [{protocol: {UDP: 1}}]\n    expect: allow",
     "s.yaml:4: podfence test: tests[0].ports[0].protocol: must be TCP, UDP or SCTP"),
    ("    port: \"1-\u00b2\"\n    expect: allow",
     "s.yaml:4: podfence test: tests[0].port: port '1-\u00b2': expected a number, LOW-HIGH, a port name or *"),
    ("    port: \"1-" + "9" * 5000 + "\"\n    expect: allow", None),
]


@pytest.mark.parametrize("line4, expected", SPEC_CASES, ids=["expect-list", "expect-map", "protocol-list",
                                                             "port-protocol-map", "superscript-digit", "5000-digits"])
def test_a_type_confusion_in_a_spec_is_one_line_with_file_line_and_field(
        tmp_path: Path, line4: str, expected: str | None) -> None:
    (tmp_path / "s.yaml").write_text(f"tests:\n  - from: gateway/envoy\n    to: api/server\n{line4}\n")
    line = one_line(podfence("test", "-f", SPEC_CLUSTER, "s.yaml", cwd=tmp_path))
    if expected is None:
        # The echoed value is capped, so the line stays short and still names file, line and field.
        assert line.startswith("s.yaml:4: podfence test: tests[0].port: port '1-999") and line.endswith(
            "…(+4748 chars): must be 1-65535 (a range as LOW-HIGH, LOW <= HIGH)")
        assert len(line) < 400
    else:
        assert line == expected


def test_a_number_in_an_ip_block_except_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "s.yaml").write_text("tests:\n  - from: gateway/envoy\n"
                                     "    to: {ipBlock: {cidr: 10.0.0.0/8, except: [1]}}\n    expect: deny\n")
    assert one_line(podfence("test", "-f", SPEC_CLUSTER, "s.yaml", cwd=tmp_path)) == \
        "s.yaml:3: podfence test: tests[0].to.ipBlock.except[0]: must be a CIDR"


@pytest.mark.parametrize("value", ['""', "0", "{}"])
def test_an_ip_block_except_that_is_not_a_list_is_refused_not_read_as_empty(tmp_path: Path, value: str) -> None:
    (tmp_path / "s.yaml").write_text("tests:\n  - from: gateway/envoy\n"
                                     f"    to: {{ipBlock: {{cidr: 0.0.0.0/0, except: {value}}}}}\n    expect: deny\n")
    assert one_line(podfence("test", "-f", SPEC_CLUSTER, "s.yaml", cwd=tmp_path)) == \
        "s.yaml:3: podfence test: tests[0].to.ipBlock.except: must be a list of CIDRs"


@pytest.mark.parametrize("value", ["Bad_NS", "null"])
def test_a_selector_namespace_must_be_a_namespace_name(tmp_path: Path, value: str) -> None:
    # namespace: null used to select every pod of the cluster.
    (tmp_path / "s.yaml").write_text(f"tests:\n  - from: {{namespace: {value}}}\n    to: api/server\n"
                                     "    expect: deny\n")
    assert one_line(podfence("test", "-f", SPEC_CLUSTER, "s.yaml", cwd=tmp_path)) == \
        f"s.yaml:2: podfence test: tests[0].from.namespace: must be a namespace name ({NAMESPACE_RULE})"


# ---- podfence test --junit ---------------------------------------------------------------------------------------

def test_junit_empty_is_refused_rather_than_ignored(tmp_path: Path) -> None:
    spec = str(ROOT / "tests" / "fixtures" / "assertions" / "passing.yaml")
    assert one_line(podfence("test", "-f", SPEC_CLUSTER, spec, "--junit", "", cwd=tmp_path)) == \
        "podfence test: error: --junit '': name a file"


def test_junit_on_a_fifo_is_refused_even_with_force_before_the_checks_run(tmp_path: Path) -> None:
    spec = str(ROOT / "tests" / "fixtures" / "assertions" / "passing.yaml")
    os.mkfifo(tmp_path / "report.xml")
    r = podfence("test", "-f", SPEC_CLUSTER, spec, "--junit", "report.xml", "--force", cwd=tmp_path)
    assert one_line(r) == ("podfence test: error: --junit report.xml: is a FIFO; podfence only replaces regular files, "
                           "even with --force")
    assert r.stdout == "" and stat.S_ISFIFO(os.lstat(tmp_path / "report.xml").st_mode)


# ---- podfence generate: names and numbers in flags and intent files ----------------------------------------------

@pytest.mark.parametrize("namespace", ["Bad_NS", "", "a" * 64])
def test_default_deny_for_an_invalid_namespace_is_refused_naming_the_flag(namespace: str) -> None:
    assert one_line(podfence("generate", "default-deny", "-n", namespace)) == \
        f"podfence generate default-deny: error: -n {namespace!r}: not a namespace name ({NAMESPACE_RULE})"


@pytest.mark.parametrize("block", [["allow", "--from", "shop/frontend", "--to", "shop/checkout", "--port", "80"],
                                   ["egress", "--from", "shop/frontend", "--to-cidr", "10.0.0.0/8", "--port", "80"]])
def test_building_blocks_refuse_an_invalid_default_namespace(block: list[str]) -> None:
    assert one_line(podfence("generate", *block, "-f", GEN_CLUSTER, "-n", "Bad_NS")) == \
        f"podfence generate {block[0]}: error: -n 'Bad_NS': not a namespace name ({NAMESPACE_RULE})"


@pytest.mark.parametrize("command", [
    ["check"], ["matrix", "--port", "80"], ["connectivity"], ["explain", "--from", "shop/frontend", "--to",
                                                                  "shop/checkout", "--port", "80"],
    ["lint"], ["audit"], ["test", "--snapshot"], ["generate", "--intents", "i.yaml"], ["lab", "up"], ["lab", "apply"],
    ["lab", "matrix", "--port", "80"],
], ids=lambda c: " ".join(c[:2]))
def test_every_command_refuses_an_invalid_default_namespace_before_reading(command: list[str]) -> None:
    # Before -n was checked here, a bad name became the namespace of every object that named none.
    r = podfence(*command, "-f", GEN_CLUSTER, "-n", "Bad_NS")
    assert (r.returncode, r.stdout) == (2, "")
    assert r.stderr == f"{error_lead(*command)}-n 'Bad_NS': not a namespace name ({NAMESPACE_RULE})\n"


def test_diff_refuses_an_invalid_default_namespace() -> None:
    r = podfence("diff", GEN_CLUSTER, GEN_CLUSTER, "-n", "Bad_NS")
    assert (r.returncode, r.stderr) == (2, f"podfence diff: error: -n 'Bad_NS': not a namespace name ({NAMESPACE_RULE})\n")


def test_an_intent_file_excluding_an_invalid_namespace_names_file_line_and_entry(tmp_path: Path) -> None:
    (tmp_path / "i.yaml").write_text("defaults:\n  exclude: [kube-system, Bad_NS]\n" + INTENT.split("\n", 1)[1])
    assert one_line(podfence("generate", "-f", GEN_CLUSTER, "--intents", "i.yaml", cwd=tmp_path)) == \
        f"i.yaml:2: intents: defaults.exclude[1]: 'Bad_NS' is not a namespace name ({NAMESPACE_RULE})"


@pytest.mark.parametrize("port, words", [
    ("\u00b2", "expected a number, LOW-HIGH, a port name or *"),
    ("1-\u00b3", "expected a number, LOW-HIGH, a port name or *"),
    ("0" * 5000 + "70000", "must be 1-65535 (a range as LOW-HIGH, LOW <= HIGH)"),
], ids=["superscript", "range-to-superscript", "5005-digits"])
def test_a_port_flag_with_odd_digits_is_refused(port: str, words: str) -> None:
    line = one_line(podfence("generate", "allow", "--from", "shop/frontend", "--to", "shop/checkout",
                             "--port", port, "-f", GEN_CLUSTER))
    assert line == f"podfence generate allow: error: --port: port {quoted(port)}: {words}"
    assert len(line) < 400


def test_an_intent_port_with_a_superscript_digit_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "i.yaml").write_text(INTENT.replace("svc/pay/payapi:80", "svc/pay/payapi:8\u00b2"))
    assert one_line(podfence("generate", "-f", GEN_CLUSTER, "--intents", "i.yaml", cwd=tmp_path)) == \
        "i.yaml:4: intents: services.shop/frontend.talks_to[1]: port '8\u00b2': expected a number, LOW-HIGH, " \
        "a port name or *"


def test_an_intent_entry_with_an_empty_port_list_is_refused_not_dropped(tmp_path: Path) -> None:
    (tmp_path / "i.yaml").write_text(INTENT.replace('"svc/pay/payapi:80"', "{to: svc/pay/payapi, ports: []}"))
    assert one_line(podfence("generate", "-f", GEN_CLUSTER, "--intents", "i.yaml", cwd=tmp_path)) == \
        "i.yaml:4: intents: services.shop/frontend.talks_to[1].ports: names no port: give at least one " \
        "(or '*' for every port)"


@pytest.mark.parametrize("flag", ["--cidr-prefix", "--cidr-prefix-v6"])
@pytest.mark.parametrize("value", ["\u00b2", "9" * 5000])
def test_a_cidr_prefix_with_odd_digits_is_refused(flag: str, value: str) -> None:
    line = one_line(podfence("generate", "-f", GEN_CLUSTER, "--from-flows", "-", flag, value, stdin=""))
    assert line.startswith(f"podfence generate: error: {flag} {quoted(value)}: ") and line.endswith("or auto"), line
    assert len(line) < 400


@pytest.mark.parametrize("flag, words", [("--out", "name a directory"), ("--write-intents", "name a file")])
def test_an_empty_output_place_is_refused_rather_than_ignored(flag: str, words: str) -> None:
    r = podfence("generate", "-f", GEN_CLUSTER, "--from-flows", "-", flag, "", stdin="")
    assert one_line(r) == f"podfence generate: error: {flag} '': {words}"


# ---- podfence lint --rules-doc -----------------------------------------------------------------------------------

def test_rules_doc_into_a_file_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "docs").write_text("x")
    assert one_line(podfence("lint", "--rules-doc", "docs", cwd=tmp_path)) == \
        "podfence lint: error: --rules-doc docs: not a directory"
    assert one_line(podfence("lint", "--rules-doc", "docs/rules", cwd=tmp_path)) == \
        "podfence lint: error: --rules-doc docs/rules: not a directory (a part of the path is a file)"


def test_rules_doc_with_a_page_that_is_a_directory_writes_nothing(tmp_path: Path) -> None:
    (tmp_path / "NP101.md").mkdir()
    assert one_line(podfence("lint", "--rules-doc", ".", "--force", cwd=tmp_path)) == \
        "podfence lint: error: --rules-doc NP101.md: is a directory; podfence only replaces regular files, even with --force"
    assert listing(tmp_path) == ["NP101.md"]


def test_rules_doc_with_a_page_that_is_a_fifo_neither_reads_nor_replaces_it(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "README.md")  # reading it would wait for a writer for ever
    assert one_line(podfence("lint", "--rules-doc", ".", "--force", cwd=tmp_path)) == \
        "podfence lint: error: --rules-doc README.md: is a FIFO; podfence only replaces regular files, even with --force"
    assert listing(tmp_path) == ["README.md"] and stat.S_ISFIFO(os.lstat(tmp_path / "README.md").st_mode)


def test_rules_doc_with_a_page_that_is_not_utf8_differs_and_force_replaces_it(tmp_path: Path) -> None:
    (tmp_path / "NP101.md").write_bytes(b"\xff\xfe not text\n")
    assert one_line(podfence("lint", "--rules-doc", ".", cwd=tmp_path)) == \
        "podfence lint: error: --rules-doc: 1 page already exists in . and differ from the rules (NP101.md); " \
        "add --force to overwrite them"
    r = podfence("lint", "--rules-doc", ".", "--force", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "NP101.md").read_text() == (ROOT / "docs" / "rules" / "NP101.md").read_text()


READ_ONLY = """
    import errno, os
    _ro = os.path.realpath({folder!r})

    def _inside(path):
        try:
            return os.path.realpath(os.fsdecode(path)).startswith(_ro)
        except TypeError:
            return False

    def _refuse(path):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), os.fsdecode(path))

    def _wrap(name, *where):
        real = getattr(os, name)
        def wrapped(*args, **kwargs):
            if any(_inside(args[i]) for i in where if i < len(args)):
                if name != "open" or args[1] & (os.O_WRONLY | os.O_RDWR | os.O_CREAT):
                    _refuse(args[0])
            return real(*args, **kwargs)
        setattr(os, name, wrapped)

    for _name, _where in (("open", (0,)), ("mkdir", (0,)), ("replace", (0, 1)), ("rename", (0, 1)),
                          ("link", (0, 1)), ("unlink", (0,)), ("rmdir", (0,))):
        _wrap(_name, *_where)
    _access = os.access
    os.access = lambda path, mode, **kw: False if _inside(path) and mode & os.W_OK else _access(path, mode, **kw)
"""


def test_rules_doc_on_a_read_only_file_system_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    frozen = tmp_path / "frozen"
    frozen.mkdir()
    inject(monkeypatch, tmp_path, READ_ONLY.format(folder=str(frozen)))
    assert one_line(podfence("lint", "--rules-doc", str(frozen / "rules"))) == (
        f"podfence lint: error: --rules-doc {frozen}/rules: cannot write in {frozen} (permission denied or "
        "read-only file system)")
    assert listing(frozen) == []


def test_every_file_option_on_a_read_only_file_system_is_one_line(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    frozen = tmp_path / "frozen"
    frozen.mkdir()
    inject(monkeypatch, tmp_path, READ_ONLY.format(folder=str(frozen)))
    words = f"cannot write in {frozen} (permission denied or read-only file system)"
    r = podfence("generate", "default-deny", "-n", "shop", "--out", str(frozen))
    assert one_line(r) == f"podfence generate default-deny: error: --out {frozen}: {words}"
    spec = str(ROOT / "tests" / "fixtures" / "assertions" / "passing.yaml")
    r = podfence("test", "-f", SPEC_CLUSTER, spec, "--junit", str(frozen / "r.xml"))
    assert one_line(r) == f"podfence test: error: --junit {frozen}/r.xml: {words}"
    r = podfence("generate", "-f", GEN_CLUSTER, "--from-flows", "-", "--write-intents", str(frozen / "i.yaml"),
                 stdin="")
    assert one_line(r) == f"podfence generate: error: --write-intents {frozen}/i.yaml: {words}"


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only directories")
def test_rules_doc_into_a_read_only_directory_is_one_line(tmp_path: Path) -> None:
    tmp_path.chmod(0o555)
    try:
        line = one_line(podfence("lint", "--rules-doc", "rules", cwd=tmp_path))
    finally:
        tmp_path.chmod(0o755)
    assert line == "podfence lint: error: --rules-doc rules: cannot write in . (permission denied or read-only file system)"


# ---- podfence diff --base: a file name that is not UTF-8 --------------------------------------------------------

def git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True,
                   env={**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
                        "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"})


def test_diff_base_reads_a_file_whose_name_is_not_utf8(tmp_path: Path) -> None:
    folder = tmp_path / "m"
    folder.mkdir()
    odd = os.fsdecode(b"pod-\xff.yaml")
    (folder / odd).write_text("apiVersion: v1\nkind: Pod\nmetadata: {name: web, namespace: shop, labels: {a: b}}\n"
                              "status: {podIP: 10.0.0.5}\n")
    git(tmp_path, "init", "-q")
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-qm", "pods")
    same = podfence("diff", "--base", "HEAD", "-f", "m", cwd=tmp_path)
    assert (same.returncode, same.stdout, same.stderr) == (0, "No change in connectivity.\n", "")
    (folder / odd).write_text("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
                              "metadata: {name: deny, namespace: shop}\nspec: {podSelector: {}}\n")
    changed = podfence("diff", "--base", "HEAD", "-f", "m", "-o", "json", cwd=tmp_path)
    assert changed.returncode == 1 and '"removed": 3' in changed.stdout, changed.stderr


# ---- the files podfence writes: generate --out ------------------------------------------------------------------

@pytest.fixture
def intents(tmp_path: Path) -> Path:
    path = tmp_path / "intents.yaml"
    path.write_text(INTENT)
    return path


def generate_out(intents: Path, out: Path, *more: str) -> subprocess.CompletedProcess[str]:
    return podfence("generate", "-f", GEN_CLUSTER, "--intents", str(intents), "--out", str(out), *more)


def test_out_writes_nothing_when_a_later_target_is_a_directory(intents: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    (out / "shop.yaml").mkdir(parents=True)  # pay.yaml comes first
    r = generate_out(intents, out, "--force")
    assert error_line(r) == (f"podfence generate: error: --out {out}/shop.yaml: is a directory; podfence only replaces "
                           "regular files, even with --force")
    assert listing(out) == ["shop.yaml"]


def special_files(folder: Path) -> dict[str, str]:
    """A FIFO, a socket, links to them and to a regular file, and (as root) a device node: name -> kind."""
    os.mkfifo(folder / "fifo")
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(folder / "sock"))
    server.close()
    (folder / "plain").write_text("# mine\n")
    made = {"fifo": "a FIFO", "sock": "a socket"}
    if os.geteuid() == 0:
        os.mknod(folder / "full", 0o666 | stat.S_IFCHR, os.makedev(1, 7))
        made["full"] = "a character device"
    for name in list(made) + ["plain"]:
        os.symlink(name, folder / f"link-to-{name}")
        made[f"link-to-{name}"] = "a symbolic link"
    return made


def test_force_never_replaces_anything_but_a_regular_file(intents: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    kinds = special_files(out)
    before = {name: os.lstat(out / name) for name in listing(out)}
    for name, kind in kinds.items():
        os.replace(out / name, out / "shop.yaml")
        r = podfence("generate", "default-deny", "-n", "shop", "--out", str(out), "--force")
        assert error_line(r) == (f"podfence generate default-deny: error: --out {out}/shop.yaml: is {kind}; podfence only replaces "
                               "regular files, even with --force"), name
        os.replace(out / "shop.yaml", out / name)
    after = {name: os.lstat(out / name) for name in listing(out)}
    assert {n: (s.st_ino, s.st_mode) for n, s in after.items()} == {n: (s.st_ino, s.st_mode) for n, s in before.items()}
    assert (out / "plain").read_text() == "# mine\n"


def test_write_intents_and_junit_refuse_a_link_to_a_regular_file(tmp_path: Path) -> None:
    (tmp_path / "real.yaml").write_text("# mine\n")
    (tmp_path / "link.yaml").symlink_to("real.yaml")
    r = podfence("generate", "-f", GEN_CLUSTER, "--from-flows", "-", "--write-intents", "link.yaml", "--force",
                 stdin="", cwd=tmp_path)
    assert one_line(r) == ("podfence generate: error: --write-intents link.yaml: is a symbolic link; podfence only replaces "
                           "regular files, even with --force")
    assert (tmp_path / "real.yaml").read_text() == "# mine\n" and (tmp_path / "link.yaml").is_symlink()


def test_new_files_follow_the_umask_and_replaced_files_keep_their_mode(intents: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    before = os.umask(0o027)
    try:
        assert generate_out(intents, out).returncode == 0
        assert {n: stat.S_IMODE(os.stat(out / n).st_mode) for n in listing(out)} == \
            {"pay.yaml": 0o640, "shop.yaml": 0o640}
        (out / "shop.yaml").chmod(0o664)
        assert generate_out(intents, out, "--force").returncode == 0
    finally:
        os.umask(before)
    assert {n: stat.S_IMODE(os.stat(out / n).st_mode) for n in listing(out)} == {"pay.yaml": 0o640, "shop.yaml": 0o664}


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_a_write_removes_temporary_files_a_killed_run_left(intents: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    stale = [f".shop.yaml.podfence-{dead_pid()}-0123abcd.tmp", f".pay.yaml.podfence-{dead_pid()}-89abcdef.old"]
    kept = [f".shop.yaml.podfence-{os.getpid()}-0123abcd.tmp",  # its process still runs
            ".shop.yaml.tmp", "notes.podfence-1-0123abcd.tmp"]  # not podfence's names
    for name in stale + kept:
        (out / name).write_text("x")
    assert generate_out(intents, out).returncode == 0
    assert listing(out) == sorted(kept + ["pay.yaml", "shop.yaml"])


KILL_AT = """
    import os, signal
    _real, _calls = os.{function}, [0]

    def _hooked(*args, **kwargs):
        _calls[0] += 1
        if _calls[0] == {call}:
            os.kill(os.getpid(), signal.{signal})
        return _real(*args, **kwargs)

    os.{function} = _hooked
"""


def test_kill_9_in_the_rename_pass_leaves_whole_files_and_the_next_run_cleans_up(
        intents: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "pay.yaml").write_text("# old pay\n")
    (out / "shop.yaml").write_text("# old shop\n")
    clean = tmp_path / "clean"
    assert generate_out(intents, clean).returncode == 0
    inject(monkeypatch, tmp_path, KILL_AT.format(function="replace", call=2, signal="SIGKILL"))
    assert generate_out(intents, out, "--force").returncode == -signal.SIGKILL
    # Killed between the renames of pay.yaml and shop.yaml: each file is whole, new or old.
    assert (out / "pay.yaml").read_text() == (clean / "pay.yaml").read_text()
    assert (out / "shop.yaml").read_text() == "# old shop\n"
    litter = [n for n in listing(out) if n not in ("pay.yaml", "shop.yaml")]
    assert litter and all(".podfence-" in n for n in litter)
    monkeypatch.delenv("PYTHONPATH")
    assert generate_out(intents, out, "--force").returncode == 0
    assert listing(out) == ["pay.yaml", "shop.yaml"]


def test_sigterm_while_staging_changes_nothing_and_leaves_no_temporary_file(
        intents: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "shop.yaml").write_text("# old shop\n")
    inject(monkeypatch, tmp_path, KILL_AT.format(function="fsync", call=1, signal="SIGTERM"))
    r = generate_out(intents, out, "--force")
    assert r.returncode == -signal.SIGTERM and r.stderr.endswith("podfence: stopped by SIGTERM\n"), r.stderr
    assert listing(out) == ["shop.yaml"] and (out / "shop.yaml").read_text() == "# old shop\n"


def test_sigterm_in_the_rename_pass_waits_for_the_pass_to_finish(
        intents: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "pay.yaml").write_text("# old pay\n")
    (out / "shop.yaml").write_text("# old shop\n")
    inject(monkeypatch, tmp_path, KILL_AT.format(function="replace", call=1, signal="SIGTERM"))
    r = generate_out(intents, out, "--force")
    assert r.returncode == -signal.SIGTERM, r.stderr
    assert listing(out) == ["pay.yaml", "shop.yaml"]
    assert all("kind: NetworkPolicy" in (out / n).read_text() for n in listing(out))


def test_flow_lines_nested_too_deeply_or_with_huge_numbers_are_unreadable_records(tmp_path: Path) -> None:
    (tmp_path / "f.jsonl").write_text("[" * 100_000 + "]" * 100_000 + "\n" + '{"flow": ' + "1" * 5000 + "}\n")
    r = podfence("generate", "-f", GEN_CLUSTER, "--from-flows", "f.jsonl", cwd=tmp_path)
    assert (r.returncode, r.stdout) == (1, "")
    assert r.stderr.splitlines() == [
        "flows: 2 records from f.jsonl: 0 distinct connections",
        "  unreadable (2 records):",
        "    1 x not JSON (a number with too many digits) (first: f.jsonl:2)",
        "    1 x not JSON (nested too deeply) (first: f.jsonl:1)",
        "podfence generate: error: the flows imply no connection of a workload in the manifests: nothing to generate",
    ]
