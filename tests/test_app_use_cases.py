"""The use cases of podfence.app: values and Stop, never printing or exiting."""

from __future__ import annotations

import pytest
from cli_support import ROOT

from podfence.app import EXIT_INVALID, Listener, Options, Stop, analysis, lint, one_port, prepare
from podfence.model.ports import parse_port
from podfence.sets import Protocol

BAA = "examples/baa"


@pytest.fixture(autouse=True)
def at_the_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)


def test_a_use_case_returns_values_and_prints_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    said: list[str] = []
    spec = parse_port("postgres", Protocol.TCP)
    assert not isinstance(spec, str)
    m = analysis.matrix(Options(files=(BAA,)), spec, Listener(say=said.append))
    assert m.pods and m.port == 5432
    assert capsys.readouterr() == ("", "")
    assert any(line.startswith("note: --port postgres is TCP 5432 ") for line in said), said


def test_invalid_input_stops_with_one_line_and_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(Stop) as stopped:
        analysis.explain(Options(files=(BAA,)), "nope/x", "api/api-server", one_port("80", []))
    assert stopped.value.code == EXIT_INVALID
    assert [line.startswith("podfence: error: --from") for line in stopped.value.lines()] == [True]
    assert capsys.readouterr() == ("", "")


def test_no_source_is_a_stop_not_an_exit() -> None:
    with pytest.raises(Stop) as stopped:
        lint.lint(Options())
    assert stopped.value.lines() == ["podfence: error: no manifests given: use -f PATH (a file, a directory, "
                                     "or - for stdin)"]


def test_settings_are_resolved_in_one_place(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / ".podfence.yaml").write_text("settings:\n  allow_self_traffic: false\n")
    monkeypatch.chdir(tmp_path)
    assert prepare(Options()).settings.allow_self_traffic is False
    assert prepare(Options(set_values=("allow_self_traffic=true",))).settings.allow_self_traffic is True


def test_the_namespace_to_show_needs_a_live_source_and_an_asked_namespace() -> None:
    from podfence.app import Live

    assert Options(files=(BAA,), namespace="api", namespace_given=True).shown_namespace is None
    assert Options(namespace="api", namespace_given=True, live=Live()).shown_namespace == "api"
    assert Options(namespace="api", namespace_given=False, live=Live()).shown_namespace is None
    assert Options(namespace="api", namespace_given=True, live=Live(all_namespaces=True)).shown_namespace is None
