"""JSON: exactly the report contract (v1)."""

from __future__ import annotations

import json

from policy_engine.report import Report


def render(report: Report, color: bool = False) -> str:
    return json.dumps(report.to_json(), indent=2, ensure_ascii=False) + "\n"
