"""GitHub Actions workflow commands: one annotation per unsuppressed finding."""

from __future__ import annotations

from collections.abc import Sequence

from policy_engine.diagnostics import Diagnostic
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


def render_diagnostics(diagnostics: Sequence[Diagnostic]) -> str:
    """Policies that do not compile, as error annotations on the lines to fix."""
    lines = []
    for d in diagnostics:
        loc = d.span.location
        props = [f"file={escape_property(loc.path)}", f"line={loc.line}", f"col={loc.column}"]
        props.append(f"title={escape_property(d.code)}")
        message = d.message + (f" ({d.help})" if d.help else "")
        lines.append(f"::error {','.join(props)}::{escape_data(message)}")
    return "".join(line + "\n" for line in lines)
