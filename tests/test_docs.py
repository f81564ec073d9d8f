"""Every policy example in the docs compiles; examples with a plan give the findings they say."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from policy_engine.api import builtin_policy_dir, policy_files
from policy_engine.dsl.compiler import compile_sources
from policy_engine.engine import RunOptions, run_rules
from policy_engine.plan.graph import build_graph
from policy_engine.plan.loader import load_texts
from policy_engine.source import SourceFile

from conftest import ROOT

BLOCK = re.compile(r"```policy\n(.*?)```(?:\s*```yaml\n(# expect: (.*?)\n.*?)```)?", re.S)
DOCS = [*sorted((ROOT / "docs").glob("*.md")), ROOT / "README.md"]


def _examples() -> list[object]:
    found = []
    for path in DOCS:
        for n, match in enumerate(BLOCK.finditer(path.read_text())):
            found.append(pytest.param(path, *match.groups(), id=f"{path.name}#{n + 1}"))
    return found


EXAMPLES = _examples()


def test_the_language_reference_has_examples() -> None:
    assert sum(1 for e in EXAMPLES if "language.md" in str(e.values[0])) >= 7  # type: ignore[attr-defined]


@pytest.mark.parametrize(("path", "policy", "plan", "expect"), EXAMPLES)
def test_doc_example(path: Path, policy: str, plan: str | None, expect: str | None) -> None:
    # Beside the built-in pack, as a project's own policy is compiled by default.
    builtin = [SourceFile(str(f), f.read_text()) for f in policy_files([builtin_policy_dir()])]
    rules = compile_sources([*builtin, SourceFile(f"{path.name}.policy", policy)])
    rules = [r for r in rules if r.pack != "governance"]
    if plan is None or expect is None:
        return
    graph = build_graph(load_texts([("plan.yaml", plan)]))
    assert graph.plan.problems == [] and graph.problems == []
    findings = run_rules(graph, rules, RunOptions(as_of=date(2027, 1, 15)))
    got = sorted(f.subject or f.group or "" for f in findings)
    assert got == sorted(e.strip() for e in expect.split(","))


def test_the_documented_case_file_runs_and_passes(tmp_path: Path) -> None:
    from policy_engine.cases import run_case_file

    section = (ROOT / "docs" / "language.md").read_text().split("## Testing a policy")[1]
    policy, case = re.findall(r"```(?:policy|yaml)\n(.*?)```", section, re.S)[:2]
    (tmp_path / "initiative-has-team.yaml").write_text(case)
    rules = compile_sources([SourceFile("acme.policy", policy)])
    results = run_case_file(tmp_path / "initiative-has-team.yaml", rules)
    assert [(r.name, r.problems) for r in results] == [
        ("an open initiative without a team fires at its kind line", ()),
        ("a finished initiative is skipped", ()),
    ]
    # The documented failure is what the case gives with the wrong line.
    told = re.search(r"```\nFAIL [^\n]*\n(.*?)```", section, re.S)
    assert told is not None
    wrong = case.replace("line: 1", "line: 2").replace(
        "        severity: warning\n        message: initiative sso names 0 teams\n", ""
    )
    (tmp_path / "initiative-has-team.yaml").write_text(wrong)
    failed = run_case_file(tmp_path / "initiative-has-team.yaml", rules)[0]
    assert [f"  {problem}" for problem in failed.problems] == told.group(1).splitlines()


def test_the_reserved_words_are_listed() -> None:
    from policy_engine.dsl.grammar import KEYWORDS

    text = (ROOT / "docs" / "language.md").read_text()
    listed = re.search(r"a field may still be called so: `x\.title`\): (.*?)\.\n", text)
    assert listed is not None
    assert sorted(re.findall(r"`([^`]+)`", listed.group(1))) == sorted(KEYWORDS)


TOML = [
    pytest.param(path, match.group(1), id=f"{path.name}#toml{n + 1}")
    for path in DOCS
    for n, match in enumerate(re.finditer(r"```toml\n(.*?)```", path.read_text(), re.S))
]


@pytest.mark.parametrize(("path", "text"), TOML)
def test_a_documented_config_is_accepted(
    path: Path, text: str, run_cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = "pyproject.toml" if "[tool.policy-engine" in text else "policy-engine.toml"
    (tmp_path / name).write_text(text)
    for folder in ("plan", "governance"):  # the folders the examples name
        (tmp_path / folder).mkdir()
    (tmp_path / "plan" / "p.yaml").write_text("kind: Team\nid: t\n")
    monkeypatch.chdir(tmp_path)
    result = run_cli("check")
    assert result.exit_code == 0, result.output
    assert "in 1 entity" in result.output


# DSL.md's sketch as it is written there, but for its pack name and rule ids,
# which the built-in pack has already.
DSL_SKETCH = """pack sketch "Technology governance basics"

rule sketch-outcome-single-owner
  title "Every outcome has exactly one accountable owner"
  severity error
  why "If everyone owns the priority, no one owns the tradeoff."
  for o in Outcome where o.status != "dropped"
  require count(o.owner) == 1
  else "outcome {o.id} has {count(o.owner)} owners; name exactly one"

rule sketch-top-priorities-limit
  title "No more than three top priorities per period"
  severity error
  param max_top = 3
  for period, group in Initiative where priority == "P0" and open group by period
  require count(group) <= max_top
  else "{count(group)} P0 initiatives in {period}; the limit is {max_top}"

rule sketch-ai-pilot-acceptable-use
  title "AI pilots need a current acceptable-use review"
  severity error
  for i in Initiative where i.type == "ai-pilot" and active
  require any r in i.reviewed_by
          where r.type == "acceptable-use" and current(r)
  else "AI pilot {i.id} has no current acceptable-use review"

rule sketch-priority-inversion
  severity error
  for i in Initiative where open
  require no d in i.depends_on+ where open(d) and d.priority > i.priority
  else "{i.id} ({i.priority}) waits on {d.id} ({d.priority}) via {path(i, d)}"
"""


def test_the_sketch_in_dsl_md_runs_as_written(run_cli: Any, tmp_path: Path) -> None:
    policy = tmp_path / "sketch.policy"
    policy.write_text(DSL_SKETCH)
    plan, as_of = str(ROOT / "examples" / "acme"), "--as-of=2027-01-15"
    result = run_cli("check", plan, "--policy", str(policy), as_of, "--format", "json")
    findings = json.loads(result.output)["findings"]
    found: dict[str, list[str]] = {}
    for finding in findings:
        found.setdefault(finding["rule"], []).append(finding["subject"] or finding["group"])
    for rule in ("outcome-single-owner", "top-priorities-limit", "ai-pilot-acceptable-use"):
        assert found[f"sketch-{rule}"] == found[rule]
    assert found["top-priorities-limit"] == ["2027-Q1"]
    messages = [f["message"] for f in findings if f["rule"] == "sketch-top-priorities-limit"]
    assert messages == ["4 P0 initiatives in 2027-Q1; the limit is 3"]
    # P0 is above P3 (docs/decisions.md): the sketch's `>` asks for a higher-priority dependency.
    assert "sketch-priority-inversion" not in found and found["priority-inversion"] == [
        "initiative:sso-rollout"
    ]
