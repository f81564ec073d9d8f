"""A short run of every coverage-guided fuzz target, as CI's share of the fuzzing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

FUZZ = Path(__file__).parent / "fuzz"
RUNS = {"plan": 400, "policy": 150, "config": 400, "cli": 100}


@pytest.mark.parametrize("target", sorted(RUNS))
def test_fuzz_target_finds_no_crash(target: str, tmp_path: Path) -> None:
    pytest.importorskip("atheris")
    seeds = [str(FUZZ / "corpus" / target)] if (FUZZ / "corpus" / target).is_dir() else []
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
