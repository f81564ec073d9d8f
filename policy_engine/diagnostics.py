"""Diagnostics: one error type hierarchy and one renderer with a caret."""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from policy_engine.report import SEVERITIES
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


def a_or_an(word: str) -> str:
    """`a date`, `an Initiative`: the word after the article a sentence gives it."""
    return f"an {word}" if word[:1].lower() in "aeiou" else f"a {word}"


def did_you_mean(word: str, choices: Iterable[str]) -> str | None:
    """The hint "did you mean 'x'?" for a misspelt name, or None."""
    found = closest(word, choices)
    return f"did you mean '{found}'?" if found else None


# Other tools' severity words (SARIF's note, linters' critical and warn), and ours.
_SEVERITY_WORDS = {
    **dict.fromkeys(("critical", "fatal", "blocker", "high"), "error"),
    **dict.fromkeys(("warn", "medium", "moderate"), "warning"),
    **dict.fromkeys(("note", "notice", "low", "minor", "information", "informational"), "info"),
}


def severity_hint(word: str) -> str | None:
    """The hint "did you mean 'info'?" for a severity written another way (`note`, `critical`)."""
    meant = _SEVERITY_WORDS.get(word.lower())
    return f"did you mean '{meant}'?" if meant else did_you_mean(word, SEVERITIES)


def date_hint(value: str) -> str | None:
    """`2027/01/15` and `2027-1-5` are read as meant; a date written day or month first is not.

    A date with a time of day (`2027-01-15T10:00:00`, as an export writes it) is the day.
    """
    timed = re.fullmatch(r"(.+?)[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?", value)
    if timed:
        day = timed.group(1)
        hint = date_hint(day)
        if hint is None and re.fullmatch(r"\d{4}-\d{2}-\d{2}", day):
            return f"a date has no time of day: write {day}"
        if hint is not None and hint.startswith("did you mean"):
            return f"a date has no time of day: {hint}"
        return hint  # a day that does not exist, told so
    year_first = re.fullmatch(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})", value)
    if year_first:
        year, month, day = map(int, year_first.groups())
    elif year_last := re.fullmatch(r"(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})", value):
        first, second, year = map(int, year_last.groups())
        if first <= 12 and second <= 12:  # 05/03/2027 is May or March
            return "write the year first: YYYY-MM-DD"
        month, day = (second, first) if first > 12 else (first, second)  # 15-03-2027, 03/15/2027
    else:
        return None
    missing = no_such_day(year, month, day)
    if missing:  # 2027-02-30 is no date however it is written
        return missing
    meant = date(year, month, day).isoformat()
    return f"did you mean '{meant}'?" if meant != value else None


def no_such_day(year: int, month: int, day: int) -> str | None:
    """Why year, month and day make no date (`2027-02 has 28 days`); None when they make one."""
    if not 1 <= year <= 9999:
        return f"there is no year {year}"
    if not 1 <= month <= 12:
        return f"there is no month {month}"
    if day < 1:
        return f"there is no day {day}"
    last = calendar.monthrange(year, month)[1]
    return f"{year:04}-{month:02} has {last} days" if day > last else None


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
