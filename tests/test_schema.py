"""The committed JSON Schemas are the ones the models generate, and they validate real plans."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from policy_engine.plan.yamlread import read_documents
from policy_engine.schemas import schema_files

from conftest import EXAMPLES, ROOT


@pytest.mark.parametrize("name", sorted(schema_files()))
def test_committed_schema_is_not_stale(name: str) -> None:
    committed = (ROOT / "schemas" / name).read_text()
    assert committed == schema_files()[name], (
        f"schemas/{name} is stale: run `policy-engine schema -o schemas`"
    )


def _validator() -> Any:
    schema = json.loads((ROOT / "schemas" / "plan.schema.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def test_the_examples_are_valid_against_the_schema() -> None:
    validator = _validator()
    for path in sorted(
        p for p in EXAMPLES.rglob("*.yaml") if "cases" not in p.parts
    ):  # plans, not case files
        for doc in read_documents(path.read_text()):
            errors = [e.message for e in validator.iter_errors(doc.value)]
            assert errors == [], (path, errors)
    for path in sorted(EXAMPLES.rglob("*.json")):
        assert list(validator.iter_errors(json.loads(path.read_text()))) == []


def test_the_schema_rejects_unknown_fields_and_allows_custom_ones() -> None:
    validator = _validator()
    assert not validator.is_valid({"kind": "Initiative", "id": "x", "titel": "typo"})
    assert validator.is_valid({"kind": "Initiative", "id": "x", "x-cost-center": 12})
    assert validator.is_valid({"kind": "Vendor", "id": "v", "due_diligence": {"x-portal": "https://p"}})
    assert not validator.is_valid({"kind": "Vendor", "id": "v", "due_diligence": {"portal": "https://p"}})
    assert not validator.is_valid({"kind": "Initiative", "id": "x", "priority": "P5"})


def test_the_schema_allows_an_empty_value_wherever_the_loader_does() -> None:
    validator = _validator()
    for field in ("title", "owner", "uses", "tags", "links", "decision", "effort"):
        assert validator.is_valid({"kind": "Initiative", "id": "x", field: None}), field
    assert validator.is_valid({"kind": "Initiative", "id": "x", "decision": {"decides": None}})
    assert not validator.is_valid({"kind": "Initiative", "id": None})


def test_schema_command_writes_the_files(run_cli: Any, tmp_path: Path) -> None:
    result = run_cli("schema", "-o", str(tmp_path))
    assert result.exit_code == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.schema.json", "plan.schema.json"]
    assert json.loads(run_cli("schema").output)["$schema"] == "https://json-schema.org/draft/2020-12/schema"
