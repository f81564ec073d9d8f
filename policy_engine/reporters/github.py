"""GitHub Actions workflow commands: an annotation per finding shown, or per problem that stops a check."""

from __future__ import annotations

from collections import Counter

from policy_engine.diagnostics import CompileError, ConfigError
from policy_engine.report import Report
from policy_engine.source import Location

COMMANDS = {"error": "error", "warning": "warning", "info": "notice"}
# Annotations of each kind that GitHub shows for a step; it drops the rest without a word.
PER_STEP = 10
_NOUNS = {"error": "errors", "warning": "warnings", "notice": "info findings"}


def escape_data(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(value: str) -> str:
    return escape_data(value).replace(":", "%3A").replace(",", "%2C")


def render(report: Report, color: bool = False) -> str:
    """An annotation per finding, as many of each kind as GitHub shows for a step.

    Past that, the last annotation GitHub shows of the kind says how many
    more there are, and they follow as plain lines of the log, which GitHub
    keeps in full.
    """
    from policy_engine.reporters.text import render_finding

    shown = report.shown()
    of_kind = Counter(COMMANDS[f.severity] for f in shown)
    made: Counter[str] = Counter()
    annotations, lines = [], []
    for f in shown:
        command = COMMANDS[f.severity]
        if of_kind[command] > PER_STEP and made[command] == PER_STEP - 1:
            more, noun = of_kind[command] - made[command], _NOUNS[command]
            message = (
                f"{more} more {noun} are in this step's log: GitHub shows {PER_STEP} annotations of a kind"
            )
            annotations.append(_annotation(command, "policy-engine", message))
            made[command] += 1
        if made[command] >= PER_STEP:
            lines.append(render_finding(f, None) + "\n")
            continue
        made[command] += 1
        annotations.append(_annotation(command, f.rule, f.message, *_place(f.location)))
    return "".join(annotations + lines)


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
