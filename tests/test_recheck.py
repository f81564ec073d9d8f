"""Re-checks reuse the findings an edit cannot have changed, and give the report a full check gives."""

from __future__ import annotations

import json
import random
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from benchmarks.generate import generate
from policy_engine import recheck
from policy_engine.api import check_graph, compile_policy, load_plan
from policy_engine.dsl.runtime import EvalContext
from policy_engine.engine import RunOptions, followed_by
from policy_engine.recheck import GroupChoice, Recheck
from policy_engine.reporters import renderer

OPTIONS = RunOptions(as_of=date(2027, 1, 15))
PER_FILE = 100


@pytest.fixture(autouse=True)
def _every_plan_rechecks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(recheck, "RECHECK_ENTITIES", 0)
    monkeypatch.setenv("POLICY_ENGINE_CACHE_DIR", "")  # no parse cache: each load reads the files


@pytest.fixture(scope="module")
def rules() -> list[Any]:
    return compile_policy()


def _write(folder: Path, files: list[list[dict[str, Any]]]) -> None:
    for old in folder.glob("*.json"):
        old.unlink()
    for n, entities in enumerate(files):
        (folder / f"part-{n:02}.json").write_text(json.dumps(entities, indent=1))


def _report(folder: Path, rules: list[Any], state: Recheck | None) -> str:
    graph = load_plan([folder], wanted_inverses=followed_by(rules))
    report = check_graph(graph, rules, OPTIONS, recheck=state)
    return renderer("json")(report, False)


def _plan(tmp_path: Path) -> tuple[Path, list[list[dict[str, Any]]]]:
    entities = generate(300, seed=11)
    files = [entities[i : i + PER_FILE] for i in range(0, len(entities), PER_FILE)]
    folder = tmp_path / "plan"
    folder.mkdir()
    _write(folder, files)
    return folder, files


def _of_kind(files: list[list[dict[str, Any]]], kind: str, rng: random.Random) -> dict[str, Any]:
    return rng.choice([e for entities in files for e in entities if e["kind"] == kind])


def _edit(files: list[list[dict[str, Any]]], rng: random.Random) -> str:
    """One edit of the kinds people make, in place; its name."""
    which = rng.choice(
        [
            "priority",
            "status",
            "depends_on",
            "cycle",
            "review",
            "owner",
            "left",
            "remove",
            "add",
            "move",
            "retire",
            "rename",
        ]
    )
    initiative = _of_kind(files, "Initiative", rng)
    ids = [e["id"] for entities in files for e in entities if e["kind"] == "Initiative"]
    if which == "priority":
        initiative["priority"] = rng.choice(["P0", "P1", "P2", "P3"])
    elif which == "status":
        initiative["status"] = rng.choice(["proposed", "approved", "in-progress", "done", "cancelled"])
    elif which == "depends_on":
        initiative["depends_on"] = rng.sample(ids, 2)
    elif which == "cycle":  # the initiative and one it depends on, on each other
        other = rng.choice(ids)
        initiative["depends_on"] = [other]
        for entities in files:
            for e in entities:
                if e["kind"] == "Initiative" and e["id"] == other:
                    e["depends_on"] = [initiative["id"]]
    elif which == "review":
        _of_kind(files, "Review", rng)["subject"] = f"initiative:{initiative['id']}"
    elif which == "owner":
        initiative["owner"] = f"team:{_of_kind(files, 'Team', rng)['id']}"
    elif which == "left":
        _of_kind(files, "Person", rng)["status"] = "left"
    elif which == "rename":  # what referred to it now refers to nothing
        initiative["id"] = f"{initiative['id']}-renamed"
    elif which == "retire":
        _of_kind(files, "System", rng)["lifecycle"] = "retired"
    elif which == "remove":
        entities = rng.choice(files)
        entities.remove(rng.choice(entities))
    elif which == "add":
        rng.choice(files).append({**initiative, "id": f"{initiative['id']}-copy-{rng.randrange(10**6)}"})
    else:  # an entity moves to another file
        source, target = rng.sample(files, 2)
        target.insert(0, source.pop(rng.randrange(len(source))))
    return which


def test_a_recheck_after_any_edit_gives_the_full_check_s_report(tmp_path: Path, rules: list[Any]) -> None:
    folder, files = _plan(tmp_path)
    state = Recheck(tmp_path / "checks" / "state.pickle", background=False)
    assert _report(folder, rules, state) == _report(folder, rules, None)
    rng = random.Random(5)
    done = []
    for _ in range(40):
        done.append(_edit(files, rng))
        _write(folder, files)
        assert _report(folder, rules, state) == _report(folder, rules, None), done


def test_a_layout_edit_evaluates_nothing_again_and_moves_the_findings(
    tmp_path: Path, rules: list[Any]
) -> None:
    folder, _ = _plan(tmp_path)
    state = Recheck(tmp_path / "state.pickle", background=False)
    first = _report(folder, rules, state)
    edited = folder / "part-00.json"
    edited.write_text("\n\n" + edited.read_text())  # every entity of the file two lines lower
    graph = load_plan([folder], wanted_inverses=followed_by(rules))
    spared = state.reuse(graph, rules)
    assert sorted(spared) == sorted(r.id for r in rules)
    assert all(not reuse.again for reuse in spared.values())
    moved = [
        f
        for reuse in spared.values()
        for f in reuse.kept
        if f.location and f.location.path.endswith("part-00.json")
    ]
    assert moved, "the plan has findings in the edited file"
    located = [(f, f["location"]) for f in json.loads(first)["findings"] if f["location"]]
    before = {
        (f["rule"], f["subject"]): at["line"] for f, at in located if at["path"].endswith("part-00.json")
    }
    assert all(before[(f.rule, f.subject)] + 2 == f.location.line for f in moved if f.location)
    assert _report(folder, rules, state) == _report(folder, rules, None)


def test_a_value_edit_evaluates_again_only_the_subjects_that_reach_it(
    tmp_path: Path, rules: list[Any]
) -> None:
    folder, files = _plan(tmp_path)
    state = Recheck(tmp_path / "state.pickle", background=False)
    _report(folder, rules, state)
    initiatives = [e for entities in files for e in entities if e["kind"] == "Initiative"]
    depended = next(i for i in initiatives if any(i["id"] in o.get("depends_on", ()) for o in initiatives))
    depended["priority"] = "P3" if depended.get("priority") != "P3" else "P2"
    _write(folder, files)
    graph = load_plan([folder], wanted_inverses=followed_by(rules))
    spared = state.reuse(graph, rules)
    again = {e.id for e in spared["priority-inversion"].again}
    dependents = {i["id"] for i in initiatives if depended["id"] in i.get("depends_on", ())}
    assert {depended["id"], *dependents} <= again
    assert len(again) < len(initiatives) // 4
    assert sorted(r.id for r in rules if r.id not in spared) == []
    # A group's subject changed: its group is judged again, the others' findings kept.
    by_id = {r.id: r for r in rules}
    choice = GroupChoice(spared["sustainment-capacity"])
    found = by_id["sustainment-capacity"].evaluate(EvalContext(graph, OPTIONS.as_of), groups=choice)
    period = str(depended.get("period") or "unscheduled")
    edited = next(
        str(p)
        for p in graph.plan.files
        if any(e["id"] == depended["id"] for e in json.loads(Path(p).read_text()))
    )
    first_in_edited = {  # a group's finding is at its first member: perhaps lines lower now
        label
        for label in choice.held
        if min(
            (
                e
                for e in graph.by_kind["Initiative"]
                if str(e.model.period or "unscheduled") == label
                and e.model.status not in ("done", "cancelled")
            ),
            key=lambda e: e.id,
        ).path
        == edited
    }
    assert choice.judged == {period} | first_in_edited
    assert {f.group for f in found} <= choice.judged < set(choice.held)
    assert not spared["vendor-due-diligence"].again  # no vendor can reach an initiative
    # No cycle goes through the edited initiative, nor does any link change: cycles are as they were.
    assert not spared["dependency-cycle"].again


def test_a_new_link_evaluates_the_cycles_again(tmp_path: Path, rules: list[Any]) -> None:
    folder, files = _plan(tmp_path)
    state = Recheck(tmp_path / "state.pickle", background=False)
    _report(folder, rules, state)
    initiatives = [e for entities in files for e in entities if e["kind"] == "Initiative"]
    initiatives[0]["depends_on"] = [*initiatives[0].get("depends_on", ()), initiatives[1]["id"]]
    _write(folder, files)
    graph = load_plan([folder], wanted_inverses=followed_by(rules))
    assert "dependency-cycle" not in state.reuse(graph, rules)


@pytest.mark.parametrize("damage", [b"", b"not a pickle", None])
def test_a_missing_or_damaged_state_is_no_state(
    tmp_path: Path, rules: list[Any], damage: bytes | None
) -> None:
    folder, files = _plan(tmp_path)
    state = Recheck(tmp_path / "state.pickle", background=False)
    _report(folder, rules, state)
    if damage is None:
        state.entry.unlink()
    else:
        state.entry.write_bytes(state.entry.read_bytes()[:50] + damage)
    files[0][0]["title"] = "edited"
    _write(folder, files)
    graph = load_plan([folder], wanted_inverses=followed_by(rules))
    assert state.reuse(graph, rules) == {}
    assert _report(folder, rules, state) == _report(folder, rules, None)


def test_other_rules_or_options_keep_a_state_of_their_own(tmp_path: Path, rules: list[Any]) -> None:
    plan = [tmp_path]
    one = recheck.entry(tmp_path, plan, rules, OPTIONS)
    assert recheck.entry(tmp_path, plan, rules, OPTIONS) == one
    assert recheck.entry(tmp_path, plan, rules[1:], OPTIONS) != one
    assert recheck.entry(tmp_path, plan, rules, RunOptions(as_of=date(2027, 1, 16))) != one
    # One entry per plan paths: a new key replaces the old one there.
    assert recheck.entry(tmp_path, plan, rules[1:], OPTIONS).name.split("-")[0] == one.name.split("-")[0]


def test_rules_that_read_the_plan_at_large_are_told_apart(rules: list[Any]) -> None:
    from policy_engine.dsl.compiler import compile_sources
    from policy_engine.source import SourceFile

    wide = {r.id for r in rules if r.plan_wide}
    assert wide == {"dependency-cycle"}
    text = (
        "pack p\n"
        "rule any-path\n  for i in Initiative\n  require count(i.depends_on) == 0\n"
        '  else "{path(i, first(i.depends_on))}"\n'
        "rule by-relation\n  for i in Initiative\n  require count(i.depends_on) == 0\n"
        '  else "{path(i, first(i.depends_on), depends_on)}"\n'
    )
    compiled = {r.id: r for r in compile_sources([SourceFile("p.policy", text)])}
    assert compiled["any-path"].plan_wide  # along every relation: not only those it names
    assert not compiled["by-relation"].plan_wide


def test_a_walk_from_some_roots_answers_for_any_entity_as_the_whole_walk_does() -> None:
    from policy_engine.dsl.runtime import Reachability
    from policy_engine.plan.graph import build_graph
    from policy_engine.plan.loader import load_texts

    def initiative(name: str, *needs: str) -> str:
        return f"kind: Initiative\nid: {name}\ndepends_on: [{', '.join(needs)}]\n"

    text = "---\n".join(
        [
            initiative("a", "b"),
            initiative("b", "c"),
            initiative("c", "b"),
            initiative("x", "y"),
            initiative("y"),
        ]
    )
    graph = build_graph(load_texts([("p.yaml", text)]))
    a, b, x = (graph.by_ref[f"initiative:{n}"] for n in "abx")
    whole = Reachability(graph.entities, "depends_on")
    rooted = Reachability(graph.entities, "depends_on", roots=[a])
    assert rooted.strict(a) == whole.strict(a)
    assert [e.id for e in rooted.strict(x)] == ["y"] == [e.id for e in whole.strict(x)]  # outside: widened
    assert sorted(e.id for c in rooted.cycles() for e in c) == ["b", "c"]
    assert rooted.members(b, reflexive=False) == whole.members(b, reflexive=False)


def test_the_console_script_rechecks_a_big_plan_from_the_state_it_left(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys
    import time

    from policy_engine.plan.cache import read_entry

    entities = generate(6300, seed=3)  # 10,143 entities: enough for a state
    files = [entities[i : i + 1000] for i in range(0, len(entities), 1000)]
    folder = tmp_path / "plan"
    folder.mkdir()
    _write(folder, files)
    states = tmp_path / "cache" / "checks"

    def check(cache: bool, *more: str) -> str:
        env = {**os.environ, "POLICY_ENGINE_CACHE_DIR": str(tmp_path / "cache") if cache else ""}
        command = [
            sys.executable,
            "-m",
            "policy_engine",
            "check",
            str(folder),
            "--as-of",
            "2027-01-15",
            *more,
        ]
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, cwd=tmp_path)
        return done.stdout + done.stderr + str(done.returncode)

    def state_written(since: float) -> Path:
        for _ in range(400):  # by a detached process once the check is done: 20 s at most
            found = [p for p in states.glob("*.pickle") if p.stat().st_mtime >= since]
            if found and recheck._is_state(read_entry(found[0])):
                return found[0]
            time.sleep(0.05)
        raise AssertionError("no state written")

    started = time.time()
    first = check(cache=True)
    entry = state_written(started)
    assert first == check(cache=False)
    for priority in ("P0", "P3"):
        _of_kind(files, "Initiative", random.Random(priority))["priority"] = priority
        _write(folder, files)
        started = time.time()
        assert check(cache=True) == check(cache=False)
        assert state_written(started) == entry  # one state for these paths, rules and options
    assert "re-check: 17 of 17 rules kept the last check's findings" in check(True, "--timings")


def test_a_cycle_made_by_an_edit_is_found(tmp_path: Path) -> None:
    from policy_engine.dsl.compiler import compile_sources
    from policy_engine.source import SourceFile

    text = "pack p\nrule team-cycle\n  for c in cycles(Team, parent)\n  else \"{join([t.id for t in c], ' ')}\"\n"
    rules = compile_sources([SourceFile("p.policy", text)])
    folder = tmp_path / "plan"
    folder.mkdir()
    teams = [{"kind": "Team", "id": name, "title": name} for name in "abcd"]
    teams[1]["parent"] = "a"
    teams[2]["parent"] = "b"
    _write(folder, [teams[:2], teams[2:]])
    state = Recheck(tmp_path / "state.pickle", background=False)
    assert '"rule": "team-cycle"' not in _report(folder, rules, state)
    teams[0]["parent"] = "c"  # a -> c -> b -> a: a cycle, made by an edit of one file
    _write(folder, [teams[:2], teams[2:]])
    assert _report(folder, rules, state) == _report(folder, rules, None)
    assert '"rule": "team-cycle"' in _report(folder, rules, None)
