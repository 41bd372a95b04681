"""Every error line names the command as typed: ``podfence matrix: error: ...``, ``podfence lab up: error: ...``."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_support import podfence

BAA = "examples/baa"


@pytest.mark.parametrize(("args", "lead"), [
    (["matrix", "-f", BAA, "--port", "abc"], "podfence matrix: error: "),
    (["check", "-f", BAA, "-n", "Bad_NS"], "podfence check: error: "),
    (["explain", "-f", BAA, "--from", "api/nobody", "--to", "data/postgres", "--port", "5432"],
     "podfence explain: error: "),
    (["generate", "allow", "-f", BAA, "--from", "api/api-server", "--to", "data/postgres", "--port", "0"],
     "podfence generate allow: error: "),
    (["rollout", "plan", "-f", BAA, "--to", BAA, "--write", "README.md"], "podfence rollout plan: error: "),
    (["lint", "-f", BAA, "--select", "NPX"], "podfence lint: error: "),
])
def test_an_error_of_a_use_case_names_the_command_path(args: list[str], lead: str) -> None:
    done = podfence(*args)
    assert (done.returncode, done.stdout) == (2, "")
    lines = done.stderr.splitlines()
    assert lines and lines[-1].startswith(lead), done.stderr
    assert "podfence: error:" not in done.stderr


def test_a_loader_limit_line_names_the_command(tmp_path: Path) -> None:
    path = tmp_path / "pods.yaml"
    path.write_text("".join(f"---\napiVersion: v1\nkind: Namespace\nmetadata: {{name: n{i}}}\n" for i in range(5)))
    done = podfence("connectivity", "-f", str(path), "--max-objects", "2")
    assert done.returncode == 2
    assert done.stderr.startswith(f"podfence connectivity: error: {path}:")
    assert "exceed --max-objects=2" in done.stderr


def test_options_between_words_do_not_lengthen_the_path() -> None:
    # The words after the first option are values, never part of the command path.
    done = podfence("generate", "default-deny", "-n", "Bad_NS")
    assert done.returncode == 2
    assert done.stderr.startswith("podfence generate default-deny: error: -n 'Bad_NS'")


def test_several_contexts_refused_by_their_command() -> None:
    done = podfence("matrix", "-f", BAA, "--port", "80", "--all-contexts", "--context", "a")
    assert done.returncode == 2
    assert done.stderr == "podfence matrix: error: --all-contexts reads every context: leave out --context\n"


def test_validation_diagnostics_keep_their_own_format(tmp_path: Path) -> None:
    path = tmp_path / "np.yaml"
    path.write_text("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: x, namespace: a}\n"
                    "spec: {podSelector: {}, policyTypes: [Sideways]}\n")
    done = podfence("check", "-f", str(path))
    assert done.returncode == 2
    assert done.stdout.startswith(f"{path}:"), done.stdout


def test_counts_are_real_plurals_in_check_lint_and_audit() -> None:
    checked = podfence("check", "-f", BAA)
    assert checked.stdout == "ok: 77 objects valid\n"
    linted = podfence("lint", "-f", BAA)
    assert linted.stdout.splitlines()[-1] == "0 errors, 6 warnings, 1 note"
    audited = podfence("audit", "-f", BAA).stdout.splitlines()
    assert audited[0] == "overall grade A (94/100): 7 namespaces, 14 pods"
    assert "1 hostNetwork pod not counted: it is its node's address" in audited[1]
    assert "(s)" not in checked.stdout + linted.stdout + "\n".join(audited)


def test_a_validation_summary_counts_one_error_in_the_singular(tmp_path: Path) -> None:
    path = tmp_path / "np.yaml"
    path.write_text("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: x, namespace: a}\n"
                    "spec: {podSelector: {}, policyTypes: [Sideways]}\n")
    assert podfence("check", "-f", str(path)).stdout.splitlines()[-1] == "1 error, 0 warnings"


@pytest.mark.lab
def test_lab_probe_takes_the_endpoint_grammar(tmp_path: Path) -> None:
    from test_lab_support import lab_name

    lab = lab_name("pfw")
    env = {"PODFENCE_LAB_STATE_DIR": str(tmp_path / "state")}
    up = podfence("lab", "up", "-f", BAA, "--name", lab, env=env)
    assert up.returncode == 0, up.stderr
    try:
        done = podfence("lab", "probe", "--name", lab, "--from", "api/*", "--to", "svc/data/postgres", env=env)
        assert done.returncode == 0, done.stderr
        rows = [line.split(" (")[0] for line in done.stdout.splitlines() if line.startswith("api/")]
        assert sorted(set(rows)) == ["api/api-server", "api/api-worker"]
        assert done.stdout.rstrip().endswith(": 2 of 2 pairs allowed")
        wrong = podfence("lab", "probe", "--name", lab, "--from", "api/api-servr", "--to", "data/postgres", env=env)
        assert (wrong.returncode, wrong.stdout) == (2, "")
        assert wrong.stderr == ("podfence lab probe: error: --from api/api-servr: no pod, workload or service named "
                                "api/api-servr; did you mean api/api-server?\n")
    finally:
        podfence("lab", "down", "--name", lab, env=env)


@pytest.mark.lab
def test_a_lab_made_from_standard_input_takes_namespaces_and_close_names(tmp_path: Path) -> None:
    from test_lab_support import lab_name

    lab = lab_name("pfi")
    env = {"PODFENCE_LAB_STATE_DIR": str(tmp_path / "state")}
    text = "".join(f"---\n{p.read_text()}\n" for p in sorted(Path(BAA).glob("*.yaml")))
    up = podfence("lab", "up", "-f", "-", "--name", lab, env=env, stdin=text)
    assert up.returncode == 0, up.stderr
    try:
        done = podfence("lab", "probe", "--name", lab, "--port", "5432", "--from", "api/*", "--to", "data/postgres",
                        env=env)
        assert done.returncode == 0, done.stderr
        rows = [line.split(" (")[0] for line in done.stdout.splitlines() if line.startswith("api/")]
        assert sorted(set(rows)) == ["api/api-server", "api/api-worker"]
        wrong = podfence("lab", "probe", "--name", lab, "--from", "api/api-servr", "--to", "data/*", env=env)
        assert (wrong.returncode, wrong.stdout) == (2, "")
        assert wrong.stderr == ("podfence lab probe: error: --from api/api-servr: no pod, workload or service named "
                                "api/api-servr; did you mean api/api-server?\n")
        service = podfence("lab", "probe", "--name", lab, "--from", "api/*", "--to", "svc/data/postgres", env=env)
        assert (service.returncode, service.stderr) == (2, (
            f"podfence lab probe: error: --to svc/data/postgres: lab '{lab}' was made from standard input and knows "
            "its pods, not their Services; name pods (ns/name, ns/*)\n"))
    finally:
        podfence("lab", "down", "--name", lab, env=env)


def test_files_written_are_reported_with_ok(tmp_path: Path) -> None:
    docs = podfence("lint", "--rules-doc", "doc", cwd=tmp_path)
    assert docs.returncode == 0
    assert docs.stderr.startswith("ok: ") and " rule pages written to doc" in docs.stderr
    out = tmp_path / "out"
    made = podfence("generate", "default-deny", "-n", "shop", "--out", str(out))
    assert made.returncode == 0
    assert f"ok: wrote 1 policy in 1 file under {out}" in made.stderr, made.stderr
