"""Mutated manifests never crash podfence: exit 0, 1 or 2, no traceback, every error names its file.

Runs a few thousand inputs from ``benchmarks/fuzz.py`` with a fixed seed, in
chunks so the suite can spread them over workers. The long run (100,000
inputs) is the benchmark script itself; its figures are in docs/reliability.md.
"""

from __future__ import annotations

import importlib.util
import sys
from collections import Counter
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "fuzz.py"
SEED = 20261205
CHUNKS = 6
PER_CHUNK = 500


def _fuzz_module():
    spec = importlib.util.spec_from_file_location("podfence_fuzz", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["podfence_fuzz"] = module
    spec.loader.exec_module(module)
    return module


fuzz = _fuzz_module()
_ALL = list(fuzz.mutants(CHUNKS * PER_CHUNK, SEED))


def test_the_same_seed_gives_the_same_inputs() -> None:
    again = list(fuzz.mutants(50, SEED))
    assert again == _ALL[:50]
    assert list(fuzz.mutants(50, SEED + 1)) != again


def test_the_inputs_reach_every_outcome() -> None:
    """The mutations are neither all fatal nor all harmless: some inputs pass, some are refused."""
    with_names = {name for name, _, _ in _ALL}
    assert len(with_names) == len(_ALL)
    commands = Counter(argv[0] for _, _, argv in _ALL)
    assert set(commands) == {"check", "connectivity", "matrix", "lint", "audit"}


@pytest.mark.parametrize("chunk", range(CHUNKS))
def test_mutated_manifests_end_in_0_1_or_2_with_named_errors(chunk: int, tmp_path: Path) -> None:
    outcomes = [fuzz.run_one(tmp_path, name, text, argv)
                for name, text, argv in _ALL[chunk * PER_CHUNK:(chunk + 1) * PER_CHUNK]]
    failures = [f"{o.name} ({' '.join(o.argv[:-2])}): {'; '.join(o.problems)}" for o in outcomes if o.problems]
    assert not failures, f"{len(failures)} inputs broke the rules:\n" + "\n".join(failures[:20])
    codes = Counter(o.code for o in outcomes)
    assert codes[2] > 0 and codes[0] + codes[1] > 0, codes
