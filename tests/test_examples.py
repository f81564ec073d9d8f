"""The shipped examples: acme breaks exactly its deliberate rules; clean breaks none."""

from __future__ import annotations

import json
from typing import Any

import pytest

from conftest import ROOT

ACME_FINDINGS = [
    (
        "waiver-expired",
        "waiver:fastcrm-early-use",
        None,
        "examples/acme/governance/waivers.yaml",
        19,
        10,
    ),
    (
        "vendor-due-diligence",
        "vendor:fastcrm",
        None,
        "examples/acme/landscape/vendors.json",
        21,
        36,
    ),
    ("outcome-single-owner", "outcome:reduce-churn", None, "examples/acme/outcomes.yaml", 7, 8),
    (
        "priority-inversion",
        "initiative:sso-rollout",
        None,
        "examples/acme/roadmap/2027-q1.yaml",
        12,
        13,
    ),
    ("top-priorities-limit", None, "2027-Q1", "examples/acme/roadmap/2027-q1.yaml", 20, 1),
    (
        "ai-pilot-acceptable-use",
        "initiative:sales-email-writer",
        None,
        "examples/acme/roadmap/2027-q1.yaml",
        78,
        9,
    ),
    (
        "retired-system-use",
        "initiative:churn-dashboard",
        None,
        "examples/acme/roadmap/2027-q1.yaml",
        94,
        7,
    ),
    (
        "dependency-cycle",
        "initiative:data-lake",
        None,
        "examples/acme/roadmap/2027-q2.yaml",
        33,
        13,
    ),
]


@pytest.fixture(autouse=True)
def at_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)


def test_acme_reports_every_deliberate_problem_and_nothing_else(run_cli: Any) -> None:
    result = run_cli("check", "examples/acme", "--as-of", "2027-01-15", "--format", "json")
    assert result.exit_code == 1
    report = json.loads(result.output)
    got = [
        (
            f["rule"],
            f["subject"],
            f["group"],
            f["location"]["path"],
            f["location"]["line"],
            f["location"]["column"],
        )
        for f in report["findings"]
        if not f["suppressed_by"]
    ]
    assert got == ACME_FINDINGS
    waived = [(f["rule"], f["subject"], f["suppressed_by"]) for f in report["findings"] if f["suppressed_by"]]
    assert waived == [("initiative-approved-vendor", "initiative:support-copilot", "waiver:acme-llm-pilot")]
    assert report["summary"] == {
        "error": 8,
        "warning": 0,
        "info": 0,
        "suppressed": 1,
        "entities": 47,
        "rules": 17,
    }


def test_acme_marks_every_deliberate_problem_with_a_comment() -> None:
    marked = sum(p.read_text().count("DELIBERATE") for p in (ROOT / "examples/acme").rglob("*.*"))
    assert marked == len(ACME_FINDINGS)


def test_acme_is_a_realistic_plan(run_cli: Any) -> None:
    result = run_cli("validate", "examples/acme")
    assert result.exit_code == 0
    assert "no problems in 10 files, 47 entities" in result.output
    files = [p for p in (ROOT / "examples/acme").rglob("*") if p.is_file()]
    assert len({p.parent for p in files}) >= 4


def test_the_example_policies_add_their_findings_and_pass_their_cases(run_cli: Any) -> None:
    result = run_cli("check", "examples/acme", "--policy", "examples/policies", "--as-of", "2027-01-15")
    assert result.exit_code == 1
    assert result.output.endswith("11 errors, 2 warnings, 0 info (1 waived) in 47 entities, 19 rules\n")
    own = [line for line in result.output.splitlines() if "has-end-date" in line or "has-decider" in line]
    assert own == [
        "examples/acme/roadmap/2027-q1.yaml:25:11: error top-priority-has-decider"
        " P0 initiative checkout-redesign does not say who decides",
        "examples/acme/roadmap/2027-q1.yaml:37:11: error top-priority-has-decider"
        " P0 initiative soc2-readiness does not say who decides",
        "examples/acme/roadmap/2027-q1.yaml:48:11: error top-priority-has-decider"
        " P0 initiative pricing-engine does not say who decides",
        "examples/acme/roadmap/2027-q1.yaml:59:7: warning ai-pilot-has-end-date"
        " AI pilot support-copilot has no end date (target)",
        "examples/acme/roadmap/2027-q1.yaml:76:7: warning ai-pilot-has-end-date"
        " AI pilot sales-email-writer has no end date (target)",
    ]
    tested = run_cli("test", "examples/policies/cases")
    assert (tested.exit_code, tested.output) == (0, "4 passed, 0 failed\n")


def test_clean_passes(run_cli: Any) -> None:
    result = run_cli("check", "examples/clean", "--as-of", "2027-01-15")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("No problems found.")


@pytest.mark.parametrize("as_of", ["2026-11-21", "2027-06-30", "2030-01-01"])
def test_clean_passes_whatever_the_date(run_cli: Any, as_of: str) -> None:
    assert run_cli("check", "examples/clean", "--as-of", as_of).exit_code == 0
