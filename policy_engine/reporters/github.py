"""GitHub Actions workflow commands: an annotation per finding shown, or per problem that stops a check."""

from __future__ import annotations

from policy_engine.diagnostics import CompileError, ConfigError
from policy_engine.report import Report
from policy_engine.source import Location

COMMANDS = {"error": "error", "warning": "warning", "info": "notice"}


def escape_data(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(value: str) -> str:
    return escape_data(value).replace(":", "%3A").replace(",", "%2C")


def render(report: Report, color: bool = False) -> str:
    return "".join(
        _annotation(COMMANDS[f.severity], f.rule, f.message, *_place(f.location)) for f in report.shown()
    )


def render_error(error: CompileError | ConfigError) -> str:
    """Policies that do not compile, or a config that cannot be used, as error annotations."""
    if isinstance(error, ConfigError):
        return "".join(
            _annotation("error", "config", p.message, p.path, p.line, p.column) for p in error.problems
        )
    return "".join(
        _annotation("error", d.code, d.message + (f" ({d.help})" if d.help else ""), *_place(d.location))
        for d in error.diagnostics
    )


def _place(location: Location | None) -> tuple[str, int, int] | tuple[()]:
    return (location.path, location.line, location.column) if location else ()


def _annotation(
    command: str,
    title: str,
    message: str,
    path: str | None = None,
    line: int | None = None,
    column: int | None = None,
) -> str:
    """One workflow command; GitHub takes file, line and col as far as they are known."""
    props = [f"file={escape_property(path)}"] if path else []
    props += [f"{name}={n}" for name, n in (("line", line), ("col", column)) if n]
    props.append(f"title={escape_property(title)}")
    return f"::{command} {','.join(props)}::{escape_data(message)}\n"
