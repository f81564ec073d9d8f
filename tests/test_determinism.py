"""Same input, byte-identical output: across runs, hash seeds and the order paths are given."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import EXAMPLES

FORMATS = ["text", "json", "sarif", "junit", "github", "markdown"]


def _check(cwd: Path, seed: str, *paths: str, fmt: str) -> bytes:
    env = {**os.environ, "PYTHONHASHSEED": seed, "NO_COLOR": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "policy_engine", "check", *paths, "--as-of", "2027-01-15", "--format", fmt],
        cwd=cwd,
        env=env,
        capture_output=True,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def plan_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("det")
    shutil.copytree(EXAMPLES / "acme", root / "acme")
    return root


@pytest.mark.parametrize("fmt", FORMATS)
def test_byte_identical_across_hash_seeds_and_path_order(plan_copy: Path, fmt: str) -> None:
    first = _check(plan_copy, "1", "acme", fmt=fmt)
    assert _check(plan_copy, "2", "acme", fmt=fmt) == first
    parts = ["acme/roadmap", "acme/outcomes.yaml", "acme/org", "acme/landscape", "acme/governance"]
    assert _check(plan_copy, "3", *parts, fmt=fmt) == _check(plan_copy, "4", *reversed(parts), fmt=fmt)


def test_no_timestamps_or_absolute_paths_in_reports(plan_copy: Path) -> None:
    for fmt in FORMATS:
        out = _check(plan_copy, "0", "acme", fmt=fmt).decode()
        assert str(plan_copy) not in out
        assert "2026-11" not in out.replace("2026-11-20", "").replace("2026-11-04", "")
