"""`check --timings`: what it measures and how it shows it."""

from __future__ import annotations

import pytest

from policy_engine.timings import Timings


def test_the_table_lists_phases_as_they_ran_then_rules_slowest_first() -> None:
    timings = Timings(phases={"load": 1.5, "graph": 0.25}, rules={"b": 0.1, "a": 0.1, "slow-rule": 0.3})
    assert timings.render() == (
        "timings (seconds):\n"
        "  load          1.500\n"
        "  graph         0.250\n"
        "  in all        1.750\n"
        "rules, slowest first (seconds, share of the rules' time):\n"
        "  slow-rule     0.300   60.0%\n"
        "  a             0.100   20.0%\n"  # a tie goes by id
        "  b             0.100   20.0%\n"
    )


def test_a_phase_run_twice_adds_up_and_counts_when_it_fails() -> None:
    timings = Timings()
    with timings.phase("evaluate"):
        pass
    first = timings.phases["evaluate"]
    with pytest.raises(ValueError), timings.phase("evaluate"):
        raise ValueError
    assert timings.phases["evaluate"] > first
    assert list(timings.phases) == ["evaluate"]


def test_no_rules_no_rule_table() -> None:
    expected = "timings (seconds):\n  load       0.000\n  in all     0.000\n"
    assert Timings(phases={"load": 0.0}).render() == expected
