"""The bad-input corpus: every malformed plan, policy and config gets its located answer."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from policy_engine.plan.yamlread import read_documents

from conftest import EXAMPLES

CORPUS = Path(__file__).parent / "corpus"
EXPECTED: dict[str, dict[str, dict[str, Any]]] = next(
    read_documents((CORPUS / "expected.yaml").read_text())
).value


def test_the_corpus_has_at_least_60_inputs_and_every_one_is_expected() -> None:
    for kind in ("plans", "policies", "configs"):
        assert sorted(p.name for p in (CORPUS / kind).iterdir()) == sorted(EXPECTED[kind])
    assert sum(len(v) for v in EXPECTED.values()) >= 60


@pytest.fixture(autouse=True)
def in_corpus(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(CORPUS)


@pytest.mark.parametrize("name", sorted(EXPECTED["plans"]))
def test_bad_plan(run_cli: Any, name: str) -> None:
    want = EXPECTED["plans"][name]
    result = run_cli("validate", "--format", "json", f"plans/{name}")
    assert result.exit_code == want["exit"]
    first = json.loads(result.output)["findings"][0]
    assert (first["rule"], first["location"]) == (
        want["rule"],
        {"path": want["path"], "line": want["line"], "column": want["column"]},
    )
    text = run_cli("validate", f"plans/{name}").output
    assert (
        "Traceback" not in text and f"{want['path']}:{want['line']}:{want['column']}: {want['rule']}" in text
    )


@pytest.mark.parametrize("name", sorted(EXPECTED["policies"]))
def test_bad_policy(run_cli: Any, name: str) -> None:
    want = EXPECTED["policies"][name]
    result = run_cli("compile", "--no-builtin", f"policies/{name}")
    assert result.exit_code == want["exit"] == 2
    assert f"policies/{name}:{want['line']}:{want['column']}: {want['code']}" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize("name", sorted(EXPECTED["configs"]))
def test_bad_config(run_cli: Any, name: str) -> None:
    want = EXPECTED["configs"][name]
    result = run_cli("check", str(EXAMPLES / "clean"), "--config", f"configs/{name}")
    assert result.exit_code == want["exit"] == 2
    where = f"configs/{name}:{want['line']}: " if want["line"] else f"configs/{name}: "
    assert result.output.startswith(where)
    assert "Traceback" not in result.output
