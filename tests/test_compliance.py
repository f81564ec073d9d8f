"""The language's semantics, as data: policy + plan -> findings or diagnostic codes."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from policy_engine.diagnostics import CompileError
from policy_engine.dsl.compiler import compile_sources
from policy_engine.engine import RunOptions, run_rules
from policy_engine.plan.graph import build_graph
from policy_engine.plan.loader import load_texts
from policy_engine.plan.yamlread import read_documents
from policy_engine.source import SourceFile

HERE = Path(__file__).parent / "compliance"
BASE_PLAN = (HERE / "base-plan.yaml").read_text()


def _cases() -> list[Any]:
    params = []
    for path in sorted(HERE.glob("*.yaml")):
        if path.name == "base-plan.yaml":
            continue
        for case in next(read_documents(path.read_text())).value["cases"]:
            params.append(pytest.param(case, id=f"{path.stem}: {case['name']}"))
    return params


CASES = _cases()


def test_there_are_at_least_80_cases() -> None:
    assert len(CASES) >= 80


def _codes_in_checker() -> set[str]:
    from policy_engine.dsl.checker import CODES

    return set(CODES)


def test_every_diagnostic_code_has_a_case() -> None:
    text = (HERE / "diagnostics.yaml").read_text()
    missing = sorted(code for code in _codes_in_checker() if code not in text)
    assert missing == []


@pytest.mark.parametrize("case", CASES)
def test_compliance(case: dict[str, Any]) -> None:
    source = SourceFile("case.policy", case["policy"])
    expected_codes = case.get("errors") or ([case["error"]] if "error" in case else None)
    if expected_codes:
        with pytest.raises(CompileError) as info:
            compile_sources([source])
        diagnostics = info.value.diagnostics
        assert [d.code for d in diagnostics] == expected_codes, [d.render() for d in diagnostics]
        first = diagnostics[0]
        assert 0 <= first.span.start <= first.span.end <= len(source.text)
        if "underlined" in case:
            assert first.span.text == case["underlined"]
        if "hint" in case:
            assert first.help == case["hint"]
        if "message" in case:
            assert first.message == case["message"]
        if "messages" in case:
            assert [d.message for d in diagnostics] == case["messages"]
        if "hints" in case:
            assert [d.help for d in diagnostics] == case["hints"]
        return
    rules = compile_sources([source])
    graph = build_graph(load_texts([("plan.yaml", case.get("plan", BASE_PLAN))]))
    assert (graph.plan.problems == [] and graph.problems == []) or case.get("plan"), graph.plan.problems
    options = RunOptions(as_of=date(2027, 1, 15), params={"t": case.get("params", {})})
    findings = sorted(run_rules(graph, rules, options), key=lambda f: f.subject or f.group or "")
    assert [f.subject or f.group for f in findings] == case["expect"]
    if "related" in case:
        assert [list(f.related) for f in findings] == case["related"]
    if "messages" in case:
        assert [f.message for f in findings] == case["messages"]
    if "messages_contain" in case:
        assert all(part in f.message for f, part in zip(findings, case["messages_contain"], strict=True))
    if "lines" in case:
        assert [f.location.line if f.location else None for f in findings] == case["lines"]
    if "severities" in case:
        assert [f.severity for f in findings] == case["severities"]
    if "suppressed" in case:
        assert [f.suppressed_by for f in findings] == case["suppressed"]
