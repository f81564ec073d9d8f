"""Parsing on two cores: the same results, in the same order, whatever the child does."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest

from policy_engine.plan import twocores
from policy_engine.plan.loader import load_files
from policy_engine.plan.twocores import map_on_two_cores

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "acme"

needs_fork = pytest.mark.skipif(
    not sys.platform.startswith("linux") or len(os.sched_getaffinity(0)) < 2,
    reason="the split needs Linux and two cores",
)


@pytest.fixture
def always_split(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(twocores, "MIN_BYTES", 0)


def _square_with_pid(n: int) -> tuple[int, int]:
    return n * n, os.getpid()


@needs_fork
def test_the_tail_is_worked_in_a_child_and_comes_back_in_order(always_split: None) -> None:
    results = map_on_two_cores(_square_with_pid, list(range(10)), [1] * 10)
    assert [square for square, _ in results] == [n * n for n in range(10)]
    workers = [pid for _, pid in results]
    assert workers[:6] == [os.getpid()] * 6  # the parent keeps about 63% of the weight
    assert os.getpid() not in workers[6:]


def test_small_work_stays_in_this_process() -> None:
    results = map_on_two_cores(_square_with_pid, [1, 2, 3], [100, 100, 100])
    assert results == [(1, os.getpid()), (4, os.getpid()), (9, os.getpid())]


@needs_fork
def test_a_child_that_fails_leaves_its_part_to_the_parent(always_split: None) -> None:
    parent = os.getpid()

    def fails_in_child(n: int) -> tuple[int, int]:
        if os.getpid() != parent:
            raise RuntimeError("the child breaks")
        return _square_with_pid(n)

    assert map_on_two_cores(fails_in_child, [1, 2, 3, 4], [1] * 4) == [(n * n, parent) for n in [1, 2, 3, 4]]


@needs_fork
def test_a_child_that_is_killed_leaves_its_part_to_the_parent(always_split: None) -> None:
    parent = os.getpid()

    def dies_in_child(n: int) -> tuple[int, int]:
        if os.getpid() != parent:
            os.kill(os.getpid(), 9)
        return _square_with_pid(n)

    assert map_on_two_cores(dies_in_child, [1, 2, 3, 4], [1] * 4) == [(n * n, parent) for n in [1, 2, 3, 4]]


@needs_fork
def test_a_failure_in_the_parent_is_raised_and_the_child_reaped(always_split: None) -> None:
    parent = os.getpid()

    def fails_in_parent(n: int) -> int:
        if os.getpid() == parent:
            raise ValueError("the parent breaks")
        return n

    with pytest.raises(ValueError, match="the parent breaks"):
        map_on_two_cores(fails_in_parent, [1, 2, 3, 4], [1] * 4)
    with pytest.raises(ChildProcessError):
        os.waitpid(-1, os.WNOHANG)  # no child left behind, not even a zombie


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
    monkeypatch.setattr(twocores, "MIN_BYTES", 1 << 60)
    assert _everything(load_files(["plan"])) == split
    assert len(split[1]) >= 4


@needs_fork
def test_no_fork_to_be_had_means_one_process(always_split: None, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_fork() -> int:
        raise BlockingIOError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(os, "fork", no_fork)
    assert map_on_two_cores(_square_with_pid, [1, 2, 3], [1] * 3) == [(n * n, os.getpid()) for n in [1, 2, 3]]


@needs_fork
def test_no_temporary_file_to_be_had_means_one_process(
    always_split: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_file() -> Any:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(twocores.tempfile, "TemporaryFile", no_file)
    assert map_on_two_cores(_square_with_pid, [1, 2, 3], [1] * 3) == [(n * n, os.getpid()) for n in [1, 2, 3]]
