"""Regular expressions in policies that cannot hang.

Python's `re` backtracks, so a pattern such as `(a+)+$` can take exponential
time. We reject at compile time the constructs that make that possible: a
repeated group that itself contains a repeat or an alternation, and back
references; and matching only ever sees strings of bounded length (the plan
loader caps every string).
"""

from __future__ import annotations

import re

# The parser `re` itself uses (Python >= 3.11).
from re import _constants as sre_constants  # type: ignore[attr-defined]
from re import _parser as sre_parse  # type: ignore[attr-defined]
from typing import Any

MAX_PATTERN = 1000

_REPEATS = {
    sre_constants.MAX_REPEAT,
    sre_constants.MIN_REPEAT,
    getattr(sre_constants, "POSSESSIVE_REPEAT", None),
}


class RegexProblem(ValueError):
    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint


def compile_safe(pattern: str) -> re.Pattern[str]:
    """Compile `pattern`, or raise RegexProblem when it is invalid or could backtrack badly."""
    if len(pattern) > MAX_PATTERN:
        raise RegexProblem(f"pattern is longer than {MAX_PATTERN} characters")
    try:
        parsed = sre_parse.parse(pattern)
    except re.error as exc:
        raise RegexProblem(f"invalid regular expression: {exc}") from None
    _walk(parsed, inside_repeat=False)
    return re.compile(pattern)


def _walk(items: Any, inside_repeat: bool) -> None:
    for op, arg in items:
        if op in _REPEATS:
            _, high, sub = arg
            unbounded = high == sre_constants.MAXREPEAT or high > 100
            if inside_repeat and unbounded:
                raise RegexProblem(
                    "nested repetition such as (a+)+ can take exponential time",
                    "repeat the inner part only, e.g. (ab)+ or a+",
                )
            _walk(sub, inside_repeat or unbounded)
        elif op == sre_constants.SUBPATTERN:
            _walk(arg[-1], inside_repeat)
        elif op == sre_constants.BRANCH:
            if inside_repeat:
                raise RegexProblem(
                    "alternation inside a repetition such as (a|ab)* can take exponential time",
                    "use a character class such as [ab]* where you can",
                )
            for branch in arg[1]:
                _walk(branch, inside_repeat)
        elif op in (sre_constants.GROUPREF, sre_constants.GROUPREF_EXISTS):
            raise RegexProblem("back references are not allowed in policy patterns")
        elif op in (sre_constants.ASSERT, sre_constants.ASSERT_NOT):
            _walk(arg[1], inside_repeat)
