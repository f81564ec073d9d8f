"""JSON Schemas (draft 2020-12) of the plan entities and the config, from the models."""

from __future__ import annotations

import json
from typing import Any

from policy_engine.plan.model import ID_MAX, ID_PATTERN, MODELS

SCHEMA_BASE = "https://policy-engine.dev/schemas"
DRAFT = "https://json-schema.org/draft/2020-12/schema"


def entity_schema(kind: str) -> dict[str, Any]:
    """One kind's schema: its fields, `kind` and `id` required, x- fields allowed."""
    schema = MODELS[kind].model_json_schema(ref_template="#/$defs/{model}")
    defs = schema.pop("$defs", {})
    properties = {
        "kind": {"const": kind},
        "id": {"type": "string", "pattern": ID_PATTERN, "maxLength": ID_MAX},
        **schema.get("properties", {}),
    }
    for prop in properties.values():
        prop.pop("default", None)  # a default of () reads as a value to write
    out: dict[str, Any] = {
        "title": kind,
        "description": (MODELS[kind].__doc__ or "").strip() or f"A {kind} of the plan.",
        "type": "object",
        "properties": properties,
        "patternProperties": {"^x-": {"description": "custom data"}},
        "required": ["kind", "id"],
        "additionalProperties": False,
    }
    return {"out": out, "defs": defs}


def plan_schema() -> dict[str, Any]:
    """A plan document: one entity of any kind (a JSON file may hold an array of them)."""
    defs: dict[str, Any] = {}
    for kind in MODELS:
        part = entity_schema(kind)
        defs.update(part["defs"])
        defs[kind] = part["out"]
    entity = {"oneOf": [{"$ref": f"#/$defs/{kind}"} for kind in MODELS]}
    return {
        "$schema": DRAFT,
        "$id": f"{SCHEMA_BASE}/plan.schema.json",
        "title": "policy-engine plan entity",
        "description": "One entity of a policy-engine plan (contract v1); "
        "a JSON file may hold an array of them.",
        "anyOf": [entity, {"type": "array", "items": entity}],
        "$defs": dict(sorted(defs.items())),
    }


def config_schema() -> dict[str, Any]:
    from policy_engine.config import Config

    schema = Config.model_json_schema()
    return {"$schema": DRAFT, "$id": f"{SCHEMA_BASE}/config.schema.json", **schema}


def schema_files() -> dict[str, str]:
    """File name -> text of every schema we publish."""
    return {
        "plan.schema.json": json.dumps(plan_schema(), indent=2) + "\n",
        "config.schema.json": json.dumps(config_schema(), indent=2, default=str) + "\n",
    }
