"""Diagnostics: one error type hierarchy and one renderer with a caret."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from policy_engine.source import Location, Span, underline


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """A problem in a policy or config file, with a stable code."""

    code: str
    message: str
    span: Span
    help: str | None = None

    @property
    def location(self) -> Location:
        return self.span.location

    def render(self) -> str:
        """`path:line:col: CODE message`, the source line, a caret under the span, a hint."""
        source, start, end = self.span.source, self.span.start, self.span.end
        line, column = source.line_col(start)
        lines = [f"{source.path}:{line}:{column}: {self.code} {self.message}"]
        text = source.line_text(line)
        if text:
            width = max(1, min(end - start, len(text) - column + 1))
            lines += [f"  {text}", f"  {underline(text, column, width)}"]
        if self.help:
            lines.append(f"  help: {self.help}")
        return "\n".join(lines)


def closest(word: str, choices: Iterable[str]) -> str | None:
    """The choice a misspelt `word` most likely meant, or None when nothing is close.

    A choice that differs only in case comes first (`p0` -> `P0`, which
    difflib alone finds too far apart), then one the word begins (`prio` ->
    `priority`, which difflib puts behind `period`).
    """
    import difflib  # only when something is misspelt: not on a check's start-up

    options = sorted(set(choices))
    lower = word.lower()
    same = [c for c in options if c.lower() == lower and c != word]
    if same:
        return same[0]
    if len(word) >= 3:
        begun = [c for c in options if c.lower().startswith(lower) and c != word]
        if begun:
            return difflib.get_close_matches(word, begun, n=1, cutoff=0.0)[0]
    matches = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    return matches[0] if matches else None


def did_you_mean(word: str, choices: Iterable[str]) -> str | None:
    """The hint "did you mean 'x'?" for a misspelt name, or None."""
    found = closest(word, choices)
    return f"did you mean '{found}'?" if found else None


class PolicyEngineError(Exception):
    """An error the CLI reports as a clear message with exit code 2."""


class CompileError(PolicyEngineError):
    """Policies that do not compile; carries every diagnostic found."""

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        self.diagnostics = diagnostics
        super().__init__("\n".join(d.render() for d in diagnostics))


@dataclass(frozen=True, slots=True)
class ConfigProblem:
    """A problem in the config file: TOML keeps no columns, so mostly a line."""

    path: str
    line: int | None
    message: str
    column: int | None = None

    def render(self) -> str:
        where = self.path
        if self.line:
            where += f":{self.line}" + (f":{self.column}" if self.column else "")
        return f"{where}: config: {self.message}"


class ConfigError(PolicyEngineError):
    """A config file that cannot be used; carries every problem found, in the file's order."""

    def __init__(self, problems: list[ConfigProblem]) -> None:
        self.problems = problems
        super().__init__("\n".join(p.render() for p in problems))


class UsageError(PolicyEngineError):
    """Bad usage of the command line or the API."""
