"""Quantifiers over closures: decided per component must equal walked member by member."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from policy_engine.dsl import runtime
from policy_engine.dsl.compiler import compile_sources
from policy_engine.dsl.runtime import Reachability
from policy_engine.engine import RunOptions, run_rules
from policy_engine.plan.graph import build_graph
from policy_engine.plan.loader import load_texts
from policy_engine.source import SourceFile

HELPERS = 'def open(i: Initiative) = not (i.status in ["done", "cancelled"])\n'

# Each rule's condition; `{walk}` is a closure, which the compiler decides per
# component, and the same closure inside a list comprehension, which it walks.
RULES = {
    "inversion": (
        "for i in Initiative where open(i)\n"
        "  require no d in {walk:i.depends_on+} where open(d) and d.priority < i.priority\n"
        '  else "{i.id} ({i.priority}) waits on {d.id} ({d.priority})"'
    ),
    "flipped-reflexive": (
        "for i in Initiative\n"
        '  require any d in {walk:i.depends_on*} where i.priority <= d.priority and d.status == "approved"'
    ),
    "inverse-number": "for i in Initiative where any d in {walk:i.dependency_of+} where d.effort > 2",
    "param": (
        "param floor = 2\n  for i in Initiative\n"
        "  require no d in {walk:i.depends_on+} where d.effort >= floor and d.target < i.start"
    ),
    "dates-outer-left": "for i in Initiative\n  require not (any d in {walk:i.depends_on+} where i.start > d.target)",
    "on-a-set": (
        'for i in Initiative\n  require no s in {walk:i.uses.depends_on*} where s.lifecycle == "retired"\n'
        '  else "{i.id} uses {s.id}"'
    ),
    "all-top": (
        'for i in Initiative\n  require all s in {walk:i.uses.depends_on*} where s.lifecycle == "active"\n'
        '  else "{i.id} uses {s.id}"'
    ),
    "all-inside": "for i in Initiative where all d in {walk:i.depends_on+} where open(d) and exists(d.effort)",
}


def _policy(fast: bool) -> str:
    text = "pack closures\n" + HELPERS
    for name, body in RULES.items():
        for walk in {part.split("}")[0] for part in body.split("{walk:")[1:]}:
            body = body.replace("{walk:" + walk + "}", walk if fast else f"[x for x in {walk}]")
        text += f"\nrule {name}\n  {body}\n"
    return text


PRIORITIES = st.sampled_from([None, "P0", "P1", "P2", "P3"])
STATUSES = st.sampled_from([None, "approved", "done", "proposed"])
DATES = st.sampled_from([None, "2027-01-01", "2027-02-01", "2027-03-01"])


@st.composite
def plans(draw: st.DrawFn) -> str:
    count = draw(st.integers(1, 9))
    systems = draw(st.integers(0, 4))
    docs = []
    for n in range(count):
        fields = {
            "priority": draw(PRIORITIES),
            "status": draw(STATUSES),
            "effort": draw(st.sampled_from([None, 0, 1, 2, 3, 4.5])),
            "start": draw(DATES),
            "target": draw(DATES),
        }
        text = f"kind: Initiative\nid: i{n}\n"
        text += "".join(f"{k}: {v}\n" for k, v in fields.items() if v is not None)
        deps = draw(st.lists(st.integers(0, count - 1), max_size=3, unique=True))
        if deps:  # self-dependencies and cycles included
            text += f"depends_on: [{', '.join(f'i{d}' for d in deps)}]\n"
        if systems:
            uses = draw(st.lists(st.integers(0, systems - 1), max_size=2, unique=True))
            if uses:
                text += f"uses: [{', '.join(f'system:s{u}' for u in uses)}]\n"
        docs.append(text)
    for n in range(systems):
        text = f"kind: System\nid: s{n}\nlifecycle: {draw(st.sampled_from(['active', 'retired']))}\n"
        deps = draw(st.lists(st.integers(0, systems - 1), max_size=2, unique=True))
        if deps:
            text += f"depends_on: [{', '.join(f's{d}' for d in deps)}]\n"
        docs.append(text)
    return "---\n".join(docs)


FAST = compile_sources([SourceFile("fast.policy", _policy(fast=True))])
WALKED = compile_sources([SourceFile("walked.policy", _policy(fast=False))])


def _findings(rules: Any, plan: str) -> list[tuple[Any, ...]]:
    graph = build_graph(load_texts([("plan.yaml", plan)]))
    assert graph.plan.problems == [] and graph.problems == []
    found = run_rules(graph, rules, RunOptions(as_of=date(2027, 1, 15)))
    return sorted((f.rule, f.subject, f.message, f.related, f.location) for f in found)


@contextmanager
def reachable_sets(eager: int, short: int) -> Iterator[None]:
    """Sets made with the walk up to `eager` entities per entity and link, and walked up to `short` members."""
    saved = runtime.EAGER_REACH, runtime.SHORT_REACH
    runtime.EAGER_REACH, runtime.SHORT_REACH = eager, short
    try:
        yield
    finally:
        runtime.EAGER_REACH, runtime.SHORT_REACH = saved


@pytest.mark.parametrize(
    ("eager", "short"),
    [
        (0, runtime.SHORT_REACH),  # no set made: decided per component
        (runtime.EAGER_REACH, 0),  # sets made, none short: decided per component
        (runtime.EAGER_REACH, runtime.SHORT_REACH),  # sets made and short: walked
    ],
)
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plans())
def test_a_closure_decided_per_component_agrees_with_the_walk(eager: int, short: int, plan: str) -> None:
    with reachable_sets(eager, short):
        assert _findings(FAST, plan) == _findings(WALKED, plan)


@pytest.fixture
def passes(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """One item for each pass over the components (`Reachability.best_below`)."""
    made: list[int] = []
    original = Reachability.best_below

    def counted(self: Reachability, *args: Any) -> list[Any]:
        made.append(1)
        return original(self, *args)

    monkeypatch.setattr(Reachability, "best_below", counted)
    return made


def test_the_rules_above_take_the_per_component_way(
    monkeypatch: pytest.MonkeyPatch, passes: list[int]
) -> None:
    # Each rule's closure, whose set is not made, is answered by one pass over the components.
    monkeypatch.setattr(runtime, "EAGER_REACH", 0)
    plan = "kind: Initiative\nid: a\ndepends_on: [a]\nuses: [system:s]\n---\nkind: System\nid: s\ndepends_on: [s]\n"
    _findings(FAST, plan)
    assert len(passes) == len(RULES)
    passes.clear()
    _findings(WALKED, plan)
    assert passes == []


def test_a_long_chain_makes_reachable_sets_of_linear_size(monkeypatch: pytest.MonkeyPatch) -> None:
    # A chain of n dependencies reaches n²/2 entities in all (2 million here): when
    # every initiative passes, the sets made hold a few times n; one that fails
    # gets its own.
    made: list[int] = []
    original = Reachability._make

    def counted(self: Reachability, comp: int) -> Any:
        found = original(self, comp)
        made.append(len(found))
        return found

    monkeypatch.setattr(Reachability, "_make", counted)
    links = "".join(
        f"---\nkind: Initiative\nid: c{n:04}\npriority: P1\ndepends_on: [c{n + 1:04}]\n" for n in range(2000)
    )
    plan = links + "---\nkind: Initiative\nid: c2000\npriority: P1\n"
    assert _findings(FAST[:1], plan) == []
    assert 0 < sum(made) <= runtime.EAGER_REACH * (2001 + 2000) + 2000
    plan = plan.replace("id: c2000\npriority: P1", "id: c2000\npriority: P2")
    findings = _findings(FAST[:1], plan)
    assert len(findings) == 2000 and findings[0][1:3] == (
        "initiative:c0000",
        "c0000 (P1) waits on c2000 (P2)",
    )


def test_a_big_cycle_is_decided_per_component(passes: list[int]) -> None:
    # Every member of a cycle of n reaches all n: walked, that is n² for the rule.
    size = runtime.SHORT_REACH + 1
    plan = "".join(
        f"---\nkind: Initiative\nid: r{n:03}\npriority: P1\ndepends_on: [r{(n + 1) % size:03}]\n"
        for n in range(size)
    )
    assert _findings(FAST[:1], plan) == []
    assert passes == [1]
    [(_, subject, message, *_)] = _findings(
        FAST[:1], plan.replace("id: r000\npriority: P1", "id: r000\npriority: P0")
    )
    assert (subject, message) == ("initiative:r000", "r000 (P0) waits on r001 (P1)")
    assert (
        len(_findings(FAST[:1], plan.replace("id: r000\npriority: P1", "id: r000\npriority: P2"))) == size - 1
    )
