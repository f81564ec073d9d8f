"""A short run of every coverage-guided fuzz target, as CI's share of the fuzzing."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

FUZZ = Path(__file__).parent / "fuzz"
RUNS = {"plan": 400, "policy": 150, "config": 400, "cli": 100, "yaml": 400}


@pytest.mark.parametrize("target", sorted(RUNS))
def test_fuzz_target_finds_no_crash(target: str, tmp_path: Path) -> None:
    pytest.importorskip("atheris")
    corpus = FUZZ / "corpus" / ("plan" if target == "yaml" else target)
    seeds = [str(corpus)] if corpus.is_dir() else []
    done = subprocess.run(
        [
            sys.executable,
            str(FUZZ / "fuzz.py"),
            target,
            f"-runs={RUNS[target]}",
            "-seed=1",
            str(tmp_path),
            *seeds,
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert not list(tmp_path.glob("crash-*"))


REGRESSIONS = sorted((FUZZ / "regressions").glob("*/*"))


@pytest.mark.parametrize("case", REGRESSIONS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_crash_found_by_fuzzing_stays_fixed(case: Path) -> None:
    spec = importlib.util.spec_from_file_location("fuzz_targets", FUZZ / "fuzz.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.TARGETS[case.parent.name](case.read_bytes())
