"""The real pre-commit tool runs our hook from this repository and blocks bad plans."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import EXAMPLES, ROOT
from gitutil import commit_all, git, init

P0 = """---
kind: Initiative
id: {id}
title: Another top priority
type: feature
priority: P0
status: approved
owner: team:core
contributes_to: [faster-onboarding]
effort: 1
period: 2027-Q1
"""

PILOT = """kind: Initiative
id: reply-drafts
title: AI reply drafts for onboarding emails
type: ai-pilot
priority: P2
status: approved
owner: team:core
contributes_to: [faster-onboarding]
effort: 1
period: 2027-Q1
"""

WAIVER = """---
kind: Waiver
id: reply-drafts-review-pending
rule: ai-pilot-acceptable-use
subjects: [initiative:reply-drafts]
owner: person:ada-byrne
approved_by: person:ada-byrne
reason: two-week internal trial on synthetic data while the review is scheduled
expires: 2027-01-31
"""


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("git") is None:
        pytest.fail("git is needed for the pre-commit tests")
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True)
    hooks = subprocess.run(
        ["git", "cat-file", "-e", "HEAD:.pre-commit-hooks.yaml"], cwd=ROOT, capture_output=True, check=False
    )
    assert hooks.returncode == 0, "commit .pre-commit-hooks.yaml before running this test"
    base = tmp_path_factory.mktemp("precommit")
    repo = base / "repo"
    init(repo)
    shutil.copytree(EXAMPLES / "clean", repo / "plan")
    (repo / ".pre-commit-config.yaml").write_text(
        "repos:\n"
        f"  - repo: {ROOT}\n"
        f"    rev: {head.stdout.strip()}\n"
        "    hooks:\n"
        "      - id: policy-engine\n"
        "        args: [plan, --as-of, '2027-01-15']\n"
    )
    os.environ["PRE_COMMIT_HOME"] = str(base / "pre-commit-home")
    installed = subprocess.run(
        [sys.executable, "-m", "pre_commit", "install"], cwd=repo, capture_output=True, text=True, check=False
    )
    assert installed.returncode == 0, installed.stderr
    return repo


def test_a_compliant_commit_passes(repo: Path) -> None:
    (repo / "plan" / "more.yaml").write_text(P0.format(id="third-p0").removeprefix("---\n"))
    done = commit_all(repo, "a third P0: still within the limit", check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "policy-engine check" in done.stdout + done.stderr
    assert "Passed" in done.stdout + done.stderr


def test_a_fourth_open_p0_in_a_quarter_is_blocked_with_rule_and_location(repo: Path) -> None:
    with (repo / "plan" / "more.yaml").open("a") as handle:
        handle.write(P0.format(id="fourth-p0"))
    done = commit_all(repo, "a fourth P0", check=False)
    output = done.stdout + done.stderr
    assert done.returncode != 0
    assert "top-priorities-limit" in output
    assert "plan/more.yaml:12:1: error top-priorities-limit" in output  # fourth-p0 is the first member by id
    git(repo, "reset", "-q", "--hard", "HEAD")


def test_an_ai_pilot_without_review_is_blocked_until_it_carries_a_valid_waiver(repo: Path) -> None:
    (repo / "plan" / "pilot.yaml").write_text(PILOT)
    done = commit_all(repo, "approve an AI pilot", check=False)
    output = done.stdout + done.stderr
    assert done.returncode != 0
    assert "plan/pilot.yaml:6:9: error ai-pilot-acceptable-use" in output
    with (repo / "plan" / "pilot.yaml").open("a") as handle:
        handle.write(WAIVER)
    done = commit_all(repo, "approve an AI pilot, with a waiver", check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_hook_files_are_one_source_of_truth() -> None:
    link = ROOT / "pre-commit-hooks.yaml"
    assert link.is_symlink() and os.readlink(link) == ".pre-commit-hooks.yaml"
