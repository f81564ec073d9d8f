"""A check makes only the inverse relations its rules follow; the findings are the same."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from policy_engine.dsl.compiler import compile_sources
from policy_engine.engine import RunOptions, followed_by, run_rules
from policy_engine.plan.graph import build_graph, inverse_names
from policy_engine.plan.loader import load_texts
from policy_engine.report import Finding
from policy_engine.source import SourceFile

# Every way a rule can follow an inverse relation: a helper (has_member), a
# closure and a message (child_of), a relation of a set (owner_of) and a
# related clause (team_of); cycles() and path() take relations followed forwards.
POLICY = """
def staffed(t: Team) = any p in t.has_member where p.status == "active"

rule staffed-teams
  for t in Team
  require staffed(t)
  related t.team_of

rule small-subtrees
  for t in Team
  require count(t.child_of*) < 3
  else "{t.id} heads {count(t.child_of+)} teams: {path(first(t.child_of+), t, parent)}"

rule people-below
  for t in Team
  require count(t.child_of.owner_of) < 1

rule no-team-cycles
  for c in cycles(Team, parent)
  require false
"""

PLAN = """
kind: Person
id: ann
member_of: [team:a]
status: left
---
kind: Person
id: bob
member_of: [team:b, team:c]
---
kind: Team
id: a
---
kind: Team
id: b
parent: team:a
---
kind: Team
id: c
parent: team:b
---
kind: Team
id: d
parent: team:e
---
kind: Team
id: e
parent: team:d
---
kind: Initiative
id: i
owner: team:b
team: team:a
depends_on: [j]
---
kind: Initiative
id: j
"""


def _check(inverses: str) -> tuple[list[Finding], set[str]]:
    """Findings and the inverses made, with a graph of every inverse, the rules' or none."""
    rules = compile_sources([SourceFile("p.policy", POLICY)])
    wanted = {"every": None, "the rules'": followed_by(rules), "no": set()}[inverses]
    graph = build_graph(load_texts([("plan.yaml", PLAN)]), wanted)
    made = {name for e in graph.entities for name in e.links if name in inverse_names()}
    return run_rules(graph, rules, RunOptions(as_of=date(2027, 1, 15))), made


def test_the_rules_name_the_inverse_relations_they_follow() -> None:
    rules = compile_sources([SourceFile("p.policy", POLICY)])
    assert followed_by(rules) & inverse_names() == {"has_member", "child_of", "owner_of", "team_of"}


def test_a_graph_of_the_inverses_the_rules_follow_gives_the_same_findings() -> None:
    everything, all_made = _check("every")
    assert {"dependency_of", "has_member", "child_of", "owner_of", "team_of"} <= all_made
    assert len(everything) == 8  # every rule fires, so that each inverse is read
    for inverses in ("the rules'", "no"):  # with none, run_rules makes what the rules follow
        findings, made = _check(inverses)
        assert findings == everything
        assert "dependency_of" not in made


def test_the_public_check_gives_what_a_graph_of_every_inverse_gives() -> None:
    import policy_engine
    from policy_engine.api import check_graph, compile_policy, load_plan

    acme = Path(__file__).resolve().parent.parent / "examples" / "acme"
    options = RunOptions(as_of=date(2027, 1, 15))
    report = policy_engine.check([acme], options=options)
    assert report == check_graph(load_plan([acme]), compile_policy(), options)
    assert sum(f.severity == "error" and f.suppressed_by is None for f in report.findings) == 8
