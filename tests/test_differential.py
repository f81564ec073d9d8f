"""Differential testing: the compiled built-in pack and the hand-written reference agree."""

from __future__ import annotations

from collections import Counter
from datetime import date

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from benchmarks.generate import generate
from benchmarks.reference import evaluate
from policy_engine.api import compile_policy
from policy_engine.dsl.compiler import CompiledRule
from policy_engine.engine import RunOptions, run_rules
from policy_engine.plan.graph import build_graph
from policy_engine.plan.loader import load_texts

RULES: list[CompiledRule] = compile_policy(builtin=True)


def both(n: int, seed: int, as_of: date) -> tuple[Counter[object], Counter[object]]:
    text = yaml.safe_dump_all(generate(n, seed), sort_keys=False)
    graph = build_graph(load_texts([("plan.yaml", text)]))
    assert graph.plan.problems == []
    findings = run_rules(graph, RULES, RunOptions(as_of=as_of))
    ours = Counter((f.rule, f.subject, f.group, tuple(sorted(f.related))) for f in findings)
    theirs = Counter(evaluate(graph, as_of))
    return ours, theirs


@settings(max_examples=40, deadline=None)
@given(
    st.integers(min_value=5, max_value=150),
    st.integers(min_value=0, max_value=10**6),
    st.dates(min_value=date(2026, 6, 1), max_value=date(2028, 1, 1)),
)
def test_compiled_pack_matches_the_reference(n: int, seed: int, as_of: date) -> None:
    ours, theirs = both(n, seed, as_of)
    assert ours == theirs


def test_a_large_plan_exercises_every_rule() -> None:
    ours, theirs = both(2000, 11, date(2027, 1, 15))
    assert ours == theirs
    assert {rule for rule, *_ in ours} >= {
        "outcome-single-owner", "owner-active", "initiative-has-outcome", "top-priorities-limit",
        "priority-inversion", "dependency-cycle", "ai-pilot-acceptable-use", "vendor-due-diligence",
        "initiative-approved-vendor", "retired-system-use", "restricted-data-review",
        "outcome-review-cadence", "sustainment-capacity", "waiver-expired", "waiver-not-allowed",
    }  # fmt: skip
