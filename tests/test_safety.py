"""Policy text is never executed as Python, and a failing rule does not stop the others."""

from __future__ import annotations

import ast
from datetime import date
from pathlib import Path

import pytest

import policy_engine
from policy_engine.diagnostics import CompileError
from policy_engine.dsl.compiler import compile_sources
from policy_engine.engine import RunOptions, run_rules
from policy_engine.plan.graph import build_graph
from policy_engine.plan.loader import load_texts
from policy_engine.source import SourceFile

PACKAGE = Path(policy_engine.__file__).parent


def test_the_package_never_calls_eval_exec_compile_or_import_module_on_data() -> None:
    forbidden = {"eval", "exec", "compile", "__import__"}
    for path in PACKAGE.rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                assert node.func.id not in forbidden, f"{path}:{node.lineno} calls {node.func.id}"


def test_names_a_policy_can_call_are_only_the_language_builtins() -> None:
    from policy_engine.dsl.builtins import BUILTINS

    assert set(BUILTINS) == {
        "count", "sum", "min", "max", "first", "exists", "missing", "default", "days_between",
        "lower", "join", "text", "path", "cycles", "rule_defined", "rule_waivable", "similar_rule",
        "period_start", "period_end",
    }  # fmt: skip


def test_a_rule_failing_on_one_subject_gives_an_error_finding_and_the_run_goes_on() -> None:
    plan = "kind: Initiative\nid: a\nx-n: 1\n---\nkind: Initiative\nid: b\nx-n: oops\n---\nkind: Initiative\nid: c\nx-n: 2\n"
    rules = compile_sources(
        [
            SourceFile(
                "p.policy",
                "rule sums for i in Initiative where i.x-n + 1 > 1\nrule other for i in Initiative\n",
            ),
        ]
    )
    findings = run_rules(
        build_graph(load_texts([("p.yaml", plan)])), rules, RunOptions(as_of=date(2027, 1, 15))
    )
    by_rule = sorted((f.rule, f.subject, f.severity, "failed here" in f.message) for f in findings)
    assert by_rule == [
        ("other", "initiative:a", "error", False),
        ("other", "initiative:b", "error", False),
        ("other", "initiative:c", "error", False),
        ("sums", "initiative:a", "error", False),
        ("sums", "initiative:b", "error", True),
        ("sums", "initiative:c", "error", False),
    ]


def test_a_rule_failing_inside_a_closure_fails_on_the_first_member_in_order() -> None:
    # Members of `i.depends_on+` are tested in no order for speed; a failure
    # must still name the same member on every run: the first by id.
    members = [f"kind: Initiative\nid: m{n:02d}\nx-n: {'[1]' if n % 2 == 0 else 'oops'}\n" for n in range(30)]
    head = "kind: Initiative\nid: head\ndepends_on: [" + ", ".join(f"m{n:02d}" for n in range(30)) + "]\n"
    plan = "---\n".join([head, *members])
    rules = compile_sources(
        [
            SourceFile(
                "p.policy",
                "rule r for i in Initiative where i.id == 'head'\n  require no d in i.depends_on+ where d.x-n + 1 > 1\n",
            )
        ]
    )
    graph = build_graph(load_texts([("p.yaml", plan)]))
    (finding,) = run_rules(graph, rules, RunOptions(as_of=date(2027, 1, 15)))
    assert finding.message == "rule r failed here: cannot add a list and the number 1"


def test_a_long_chain_of_or_compiles_runs_and_caches_like_a_short_one(tmp_path: Path) -> None:
    # 400 titles in one `or` chain: as a left-deep tree every later stage recursed 400 levels deep
    titles = [f"t{k}" for k in range(400)]
    policy = "rule listed for i in Initiative where " + " or ".join(f'i.title == "{t}"' for t in titles)
    plan = "kind: Initiative\nid: a\ntitle: t399\n---\nkind: Initiative\nid: b\ntitle: t400\n"
    from policy_engine.cache import compile_cached

    (tmp_path / "listed.policy").write_text(policy)
    for _ in range(2):  # parsed and written to the cache, then read back from it
        rules = compile_cached([tmp_path / "listed.policy"])
        findings = run_rules(
            build_graph(load_texts([("p.yaml", plan)])), rules, RunOptions(as_of=date(2027, 1, 15))
        )
        assert [f.subject for f in findings] == ["initiative:a"]


@pytest.mark.parametrize("condition", ["not " * 150 + "true", "i.effort > " + " + ".join(["1"] * 150)])
def test_operations_nested_past_the_limit_are_e105_not_a_recursion_error(condition: str) -> None:
    source = f"rule deep for i in Initiative where {condition}\n"
    with pytest.raises(CompileError) as info:
        compile_sources([SourceFile("deep.policy", source)])
    [problem] = info.value.diagnostics
    assert (problem.code, problem.message) == ("E105", "more than 100 operations inside one another")
    assert problem.span.start > source.index("where") and problem.span.text in condition  # underlined in it


def _helper_chain(levels: int, body: str, reverse: bool = False) -> str:
    helpers = ["def h0(i: Initiative) = i.effort > 1"]
    helpers += [f"def h{k}(i: Initiative) = {body.format(k - 1)}" for k in range(1, levels)]
    ordered = reversed(helpers) if reverse else helpers
    return "\n".join([*ordered, f"rule chain for i in Initiative where h{levels - 1}(i)", ""])


@pytest.mark.parametrize("reverse", [False, True])
def test_a_chain_of_helpers_compiles_in_any_order_and_a_longer_one_is_e105(reverse: bool) -> None:
    # Helpers are inlined where they are called: 120 in a chain is 120 deep once written out.
    plan = "kind: Initiative\nid: a\neffort: 2\n"
    rules = compile_sources([SourceFile("chain.policy", _helper_chain(120, "h{}(i)", reverse))])
    findings = run_rules(
        build_graph(load_texts([("p.yaml", plan)])), rules, RunOptions(as_of=date(2027, 1, 15))
    )
    assert [f.subject for f in findings] == ["initiative:a"]
    with pytest.raises(CompileError) as info:  # it was a RecursionError, an internal error
        compile_sources([SourceFile("chain.policy", _helper_chain(400, "h{}(i)", reverse))])
    assert {d.code for d in info.value.diagnostics} == {"E105"}
    assert "operations deep once its helpers are written out" in info.value.diagnostics[0].message


def test_helpers_that_call_each_other_twice_at_each_step_are_e105_not_a_hang() -> None:
    # Written out, 30 such steps are 2**30 calls: compiling them took minutes, then ran as long.
    with pytest.raises(CompileError) as info:
        compile_sources([SourceFile("twice.policy", _helper_chain(30, "h{0}(i) and h{0}(i)"))])
    problem, *_ = info.value.diagnostics  # and again where the chain passes the limit once more
    assert {d.code for d in info.value.diagnostics} == {"E105"}
    assert problem.span.text.strip() == "def h12(i: Initiative) = h11(i) and h11(i)"
    assert problem.message == "helper 'h12' is more than 20,000 operations once its helpers are written out"
