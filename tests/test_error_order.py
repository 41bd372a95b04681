"""Errors of several files are printed in file and line order, whatever order the files were named in."""

from __future__ import annotations

from pathlib import Path

import pytest

from cli_support import podfence

POLICY = """apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {{name: {name}, namespace: shop}}
spec:
  podSelector: {{}}
  ingress:
    - ports: [{{port: {port}}}]
"""


@pytest.mark.parametrize("command", [["check"], ["matrix", "--port", "80"], ["lint"]])
def test_errors_come_in_file_and_line_order(tmp_path: Path, command: list[str]) -> None:
    (tmp_path / "b.yaml").write_text(POLICY.format(name="b1", port=70000) + "---\n" +
                                     POLICY.format(name="b2", port=0))
    (tmp_path / "a.yaml").write_text(POLICY.format(name="a1", port=-1))
    r = podfence(*command, "-f", "b.yaml", "-f", "a.yaml", cwd=tmp_path)
    assert r.returncode == 2
    lines = (r.stdout if command == ["check"] else r.stderr).splitlines()
    places = [line.split(": ", 1)[0] for line in lines if line.endswith("inclusive")]
    assert places == ["a.yaml:7", "b.yaml:7", "b.yaml:15"]
