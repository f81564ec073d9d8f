"""The built-in pack: every rule's cases, run one rule at a time, and a meta-test."""

from __future__ import annotations

from pathlib import Path

import pytest

from policy_engine.api import builtin_policy_dir, compile_policy
from policy_engine.cases import CaseResult, read_case_file, run_case_file
from policy_engine.dsl.compiler import CompiledRule

PACK = builtin_policy_dir()
CASE_FILES = sorted((PACK / "cases").glob("*.yaml"))
CONTRACT_IDS = {
    "outcome-single-owner", "decision-single-decider", "owner-active", "initiative-has-outcome",
    "top-priorities-limit", "priority-inversion", "dependency-cycle", "ai-pilot-acceptable-use",
    "vendor-due-diligence", "initiative-approved-vendor", "ai-vendor-data-training",
    "retired-system-use", "restricted-data-review", "outcome-review-cadence",
    "sustainment-capacity", "waiver-expired", "waiver-not-allowed",
}  # fmt: skip
CONTRACT_SEVERITY = {"outcome-review-cadence": "warning", "sustainment-capacity": "warning"}


@pytest.fixture(scope="module")
def rules() -> list[CompiledRule]:
    return compile_policy(builtin=True)


def test_the_pack_defines_exactly_the_contract_rules(rules: list[CompiledRule]) -> None:
    assert {r.id for r in rules} == CONTRACT_IDS
    for rule in rules:
        assert rule.severity == CONTRACT_SEVERITY.get(rule.id, "error"), rule.id
        assert rule.pack == "governance"


def test_only_dependency_cycle_and_the_waiver_rules_are_not_waivable(
    rules: list[CompiledRule],
) -> None:
    assert sorted(r.id for r in rules if not r.waivable) == [
        "dependency-cycle",
        "waiver-expired",
        "waiver-not-allowed",
    ]


@pytest.mark.parametrize("path", CASE_FILES, ids=lambda p: p.stem)
def test_rule_cases(path: Path, rules: list[CompiledRule]) -> None:
    results = run_case_file(path, rules)
    failures = [f"{r.name}: {'; '.join(r.problems)}" for r in results if not r.passed]
    assert failures == []


@pytest.mark.parametrize("rule_id", sorted(CONTRACT_IDS))
def test_every_rule_has_docs_a_firing_case_and_a_passing_case(
    rule_id: str, rules: list[CompiledRule]
) -> None:
    rule = next(r for r in rules if r.id == rule_id)
    for heading in ("What it checks:", "Why it matters:", "Failing example:", "Fix:"):
        assert heading in rule.doc, f"{rule_id} doc lacks {heading}"
    assert rule.title and rule.rationale
    case_file = PACK / "cases" / f"{rule_id}.yaml"
    assert case_file.exists(), f"{rule_id} has no case file"
    spec = read_case_file(case_file)
    assert spec.rule == rule_id
    assert any(case.expect for case in spec.cases), f"{rule_id} has no firing case"
    assert any(not case.expect for case in spec.cases), f"{rule_id} has no passing case"


def _one_case(tmp_path: Path, rules: list[CompiledRule], expect: str) -> CaseResult:
    """A case of initiative-has-outcome on one open initiative, x, which the rule reports."""
    case = tmp_path / "c.yaml"
    case.write_text(
        "rule: initiative-has-outcome\ncases:\n  - name: c\n    plan: |\n"
        f"      kind: Initiative\n      id: x\n    expect:\n      - {expect}\n"
    )
    (result,) = run_case_file(case, rules)
    return result


def test_a_case_runner_says_what_differs_in_a_finding_about_the_expected_subject(
    tmp_path: Path, rules: list[CompiledRule]
) -> None:
    expect = "{subject: 'initiative:x', line: 2, severity: warning, message: open initiative x}"
    result = _one_case(tmp_path, rules, expect)
    assert result.problems[-1] == (
        "initiative:x has line 1, not 2; severity 'error', not 'warning';"
        " message 'open initiative x contributes to no outcome', not 'open initiative x'"
    )


def test_a_case_runner_reports_what_is_missing_and_unexpected(
    tmp_path: Path, rules: list[CompiledRule]
) -> None:
    result = _one_case(tmp_path, rules, "{subject: 'initiative:y'}")
    assert not result.passed
    assert result.problems[0] == (
        "missing finding: subject=initiative:y (the case's plan has no initiative:y; did you mean 'initiative:x'?)"
    )
    assert result.problems[1] == (
        "unexpected finding: subject=initiative:x, line=1, column=1, "
        "message=open initiative x contributes to no outcome"
    )
