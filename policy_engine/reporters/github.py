"""GitHub Actions workflow commands: one annotation per unsuppressed finding."""

from __future__ import annotations

from collections.abc import Sequence

from policy_engine.diagnostics import Diagnostic
from policy_engine.report import Report
from policy_engine.source import Location

COMMANDS = {"error": "error", "warning": "warning", "info": "notice"}


def escape_data(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(value: str) -> str:
    return escape_data(value).replace(":", "%3A").replace(",", "%2C")


def render(report: Report, color: bool = False) -> str:
    return "".join(_annotation(COMMANDS[f.severity], f.location, f.rule, f.message) for f in report.shown())


def render_diagnostics(diagnostics: Sequence[Diagnostic]) -> str:
    """Policies that do not compile, as error annotations on the lines to fix."""
    return "".join(
        _annotation("error", d.span.location, d.code, d.message + (f" ({d.help})" if d.help else ""))
        for d in diagnostics
    )


def _annotation(command: str, location: Location | None, title: str, message: str) -> str:
    props = []
    if location is not None:
        props += [f"file={escape_property(location.path)}", f"line={location.line}", f"col={location.column}"]
    props.append(f"title={escape_property(title)}")
    return f"::{command} {','.join(props)}::{escape_data(message)}\n"
