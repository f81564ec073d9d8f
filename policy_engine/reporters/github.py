"""GitHub Actions workflow commands: one annotation per unsuppressed finding."""

from __future__ import annotations

from policy_engine.report import Report

COMMANDS = {"error": "error", "warning": "warning", "info": "notice"}


def escape_data(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(value: str) -> str:
    return escape_data(value).replace(":", "%3A").replace(",", "%2C")


def render(report: Report, color: bool = False) -> str:
    lines = []
    for f in report.shown():
        props = []
        if f.location is not None:
            props += [
                f"file={escape_property(f.location.path)}",
                f"line={f.location.line}",
                f"col={f.location.column}",
            ]
        props.append(f"title={escape_property(f.rule)}")
        lines.append(f"::{COMMANDS[f.severity]} {','.join(props)}::{escape_data(f.message)}")
    return "".join(line + "\n" for line in lines)
