"""JSON: exactly the report contract (v1)."""

from __future__ import annotations

from policy_engine import jsontext
from policy_engine.report import Report


def render(report: Report, color: bool = False) -> str:
    return jsontext.dumps(report.to_json()) + "\n"
