"""Work on two cores: the same results, in the same order, whatever the child does."""

from __future__ import annotations

import os
import pickle
import shutil
import sys
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from policy_engine import api, engine
from policy_engine.engine import RunOptions
from policy_engine.plan import loader, twocores
from policy_engine.plan.loader import load_files
from policy_engine.plan.twocores import map_on_two_cores
from policy_engine.timings import Timings

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "acme"

needs_fork = pytest.mark.skipif(
    not sys.platform.startswith("linux") or len(os.sched_getaffinity(0)) < 2,
    reason="the split needs Linux and two cores",
)


@pytest.fixture
def always_split(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(loader, "TWO_CORES_BYTES", 0)
    monkeypatch.setattr(engine, "TWO_CORES_ENTITIES", 0)


def _square_with_pid(n: int) -> tuple[int, int]:
    return n * n, os.getpid()


def _slow_square_with_pid(n: int) -> tuple[int, int]:
    time.sleep(0.05)  # long enough for the child to be up and take its share
    return _square_with_pid(n)


@needs_fork
def test_both_processes_take_from_the_queue_and_results_come_back_in_order() -> None:
    results = map_on_two_cores(_slow_square_with_pid, list(range(8)))
    assert [square for square, _ in results] == [n * n for n in range(8)]
    workers = {pid for _, pid in results}
    assert os.getpid() in workers
    assert len(workers) == 2  # the child took some


@needs_fork
def test_a_queue_entry_holds_several_items_when_there_are_many(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(twocores, "_MAX_RECORDS", 3)
    results = map_on_two_cores(_slow_square_with_pid, list(range(10)))
    assert [square for square, _ in results] == [n * n for n in range(10)]
    assert len({pid for _, pid in results}) == 2


def test_work_not_worth_a_fork_stays_in_this_process() -> None:
    results = map_on_two_cores(_square_with_pid, [1, 2, 3], worth_a_fork=False)
    assert results == [(1, os.getpid()), (4, os.getpid()), (9, os.getpid())]


@needs_fork
def test_a_child_that_fails_leaves_its_part_to_the_parent(always_split: None) -> None:
    parent = os.getpid()

    def fails_in_child(n: int) -> tuple[int, int]:
        if os.getpid() != parent:
            raise RuntimeError("the child breaks")
        return _square_with_pid(n)

    assert map_on_two_cores(fails_in_child, [1, 2, 3, 4]) == [(n * n, parent) for n in [1, 2, 3, 4]]


@needs_fork
def test_a_child_that_is_killed_leaves_its_part_to_the_parent(always_split: None) -> None:
    parent = os.getpid()

    def dies_in_child(n: int) -> tuple[int, int]:
        if os.getpid() != parent:
            os.kill(os.getpid(), 9)
        return _square_with_pid(n)

    assert map_on_two_cores(dies_in_child, [1, 2, 3, 4]) == [(n * n, parent) for n in [1, 2, 3, 4]]


@needs_fork
def test_a_failure_in_the_parent_is_raised_and_the_child_reaped(always_split: None) -> None:
    parent = os.getpid()

    def fails_in_parent(n: int) -> int:
        if os.getpid() == parent:
            raise ValueError("the parent breaks")
        time.sleep(0.05)  # the child is slow: the parent takes an item too
        return n

    with pytest.raises(ValueError, match="the parent breaks"):
        map_on_two_cores(fails_in_parent, [1, 2, 3, 4])
    with pytest.raises(ChildProcessError):
        os.waitpid(-1, os.WNOHANG)  # no child left behind, not even a zombie


@needs_fork
def test_what_the_child_announced_before_it_was_killed_is_kept(always_split: None) -> None:
    parent = os.getpid()
    taken: list[int] = []

    def dies_on_its_second_item(n: int) -> tuple[int, int]:
        if os.getpid() != parent:
            taken.append(n)  # the child's own copy of the list
            if len(taken) == 2:
                os.kill(os.getpid(), 9)
        return _slow_square_with_pid(n)

    results = map_on_two_cores(dies_on_its_second_item, list(range(8)))
    assert [square for square, _ in results] == [n * n for n in range(8)]
    by_child = [n for n, (_, pid) in enumerate(results) if pid != parent]
    assert len(by_child) == 1  # its first item came back; the second was worked here


class _ChildOutput:
    """What a child leaves for the checker to read: its output file and its announcements."""

    def __init__(self, folder: Path) -> None:
        self.out = os.open(folder / "out", os.O_RDWR | os.O_CREAT)
        self.ends, self._announce = os.pipe()
        self._open = [self.out, self.ends, self._announce]

    def write(self, *entries: bytes, announced: bool = True) -> None:
        end = os.lseek(self.out, 0, os.SEEK_END)
        for data in entries:
            os.write(self.out, data)
            end += len(data)
            if announced:
                os.write(self._announce, end.to_bytes(twocores._END, "little"))

    def end(self) -> None:
        """The child has gone: its announcements read as ended."""
        os.close(self._announce)
        self._open.remove(self._announce)

    def close(self) -> None:
        for fd in self._open:
            os.close(fd)


@pytest.fixture
def child_output(tmp_path: Path) -> Iterator[_ChildOutput]:
    output = _ChildOutput(tmp_path)
    yield output
    output.close()


def test_results_are_read_back_as_they_are_announced(child_output: _ChildOutput) -> None:
    results = twocores._Results(child_output.out, child_output.ends, count=5)
    done: dict[int, Any] = {}
    results.read_finished(done)  # nothing announced: returns at once
    assert done == {}
    child_output.write(pickle.dumps((0, ["a", "b"])), pickle.dumps((3, ["d"])))
    child_output.write(pickle.dumps((4, ["e"])), announced=False)
    results.read_finished(done)
    assert done == {0: "a", 1: "b", 3: "d"}
    child_output.end()  # without announcing its last entry
    results.read_finished(done, until_the_child_ends=True)
    assert done == {0: "a", 1: "b", 3: "d"}


@pytest.mark.parametrize(
    "entries",
    [
        [pickle.dumps((0, ["a"])), b"not a pickle", pickle.dumps((2, ["c"]))],
        [pickle.dumps((0, ["a"])), pickle.dumps((3, ["d", "e"])), pickle.dumps((1, ["b"]))],
    ],
    ids=["unreadable", "out of range"],
)
def test_a_bad_entry_leaves_it_and_the_rest_to_the_checker(
    child_output: _ChildOutput, entries: list[bytes]
) -> None:
    results = twocores._Results(child_output.out, child_output.ends, count=4)
    done: dict[int, Any] = {}
    child_output.write(*entries)
    results.read_finished(done)
    assert done == {0: "a"}


def _everything(plan: Any) -> Any:
    return (
        [
            (e.ref, e.path, e.model, e.extras, e.kept_refs, [e.positions.get(p) for p in _PATHS])
            for e in plan.entities
        ],
        plan.problems,
        plan.files,
        {shown: source.text for shown, source in plan.sources.items()},
    )


_PATHS = [(), ("id",), ("owner",), ("status",), ("kind", "<key>"), ("depends_on", 0), ("x-cost",)]


@needs_fork
def test_a_plan_loads_the_same_on_two_cores(
    always_split: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan = tmp_path / "plan"
    shutil.copytree(EXAMPLE, plan)
    # Problems of every stage, spread over both halves of the file list.
    (plan / "a-empty.yaml").write_text("")
    (plan / "b-latin1.yaml").write_bytes(b"kind: Team\nid: caf\xe9\n")
    (plan / "y-broken.yaml").write_text("kind: Team\nid: [unclosed\n")
    (plan / "z-invalid.json").write_text('[{"kind": "Team", "id": "t1", "title": 3}]')
    monkeypatch.chdir(tmp_path)
    split = _everything(load_files(["plan"]))
    monkeypatch.setattr(loader, "TWO_CORES_BYTES", 1 << 60)
    assert _everything(load_files(["plan"])) == split
    assert len(split[1]) >= 4


@needs_fork
def test_no_fork_to_be_had_means_one_process(always_split: None, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_fork() -> int:
        raise BlockingIOError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(os, "fork", no_fork)
    assert map_on_two_cores(_square_with_pid, [1, 2, 3]) == [(n * n, os.getpid()) for n in [1, 2, 3]]


@needs_fork
def test_no_temporary_file_to_be_had_means_one_process(
    always_split: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_file() -> Any:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(twocores.tempfile, "TemporaryFile", no_file)
    assert map_on_two_cores(_square_with_pid, [1, 2, 3]) == [(n * n, os.getpid()) for n in [1, 2, 3]]


@needs_fork
def test_rules_evaluate_the_same_on_two_cores(always_split: None, monkeypatch: pytest.MonkeyPatch) -> None:
    rules = api.compile_policy()
    graph = api.load_plan([EXAMPLE])
    options = RunOptions(as_of=date(2026, 11, 21))
    timings = Timings()
    split = engine.run_rules(graph, rules, options, timings)
    monkeypatch.setattr(engine, "TWO_CORES_ENTITIES", 1 << 60)
    assert engine.run_rules(graph, rules, options) == split
    assert len({finding.rule for finding in split}) >= 5
    assert sorted(timings.rules) == sorted(rule.id for rule in rules)  # the child's rules too


def test_rules_name_the_closures_they_follow() -> None:
    walks = {rule.id: rule.walks for rule in api.compile_policy()}
    assert walks["priority-inversion"] == ("depends_on",)  # i.depends_on+
    assert walks["retired-system-use"] == ("depends_on",)  # i.uses.depends_on*
    assert walks["owner-active"] == ()


def test_rules_that_walk_one_closure_are_evaluated_together_and_first() -> None:
    rules = api.compile_policy()
    units = [[rules[index].id for index in unit] for unit in engine._work_units(rules)]
    walkers = [rule.id for rule in rules if "depends_on" in rule.walks]
    assert units[0] == walkers and {"priority-inversion", "retired-system-use"} <= set(walkers)
    assert sorted(rule for unit in units for rule in unit) == sorted(rule.id for rule in rules)


def test_a_finding_comes_back_from_the_child_with_every_field() -> None:
    from policy_engine.report import Finding
    from policy_engine.source import Location

    sent = Finding(
        rule="top-priorities-limit",
        severity="warning",
        message="4 P0 initiatives",
        location=Location("plan/a.yaml", 3, 7),
        subject=None,
        group="2027-Q1",
        related=("initiative:a", "initiative:b"),
        suppressed_by="waiver:w",
    )
    back = pickle.loads(pickle.dumps(sent, protocol=pickle.HIGHEST_PROTOCOL))
    assert back == sent and type(back.location) is Location
