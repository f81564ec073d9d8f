"""Built-in functions, each declared once: signature, documentation, implementation.

The checker reads `params` and `returns` to type a call; the compiler calls
`impl`. Parameter kinds: `collection` (a set or list), `value` (anything that
is not a collection), `any`, `entity`, `string`, `date`, and `kind` and
`relation`, which take a bare kind or relation name written in the call.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from policy_engine.diagnostics import closest
from policy_engine.dsl import types as t
from policy_engine.dsl.runtime import EvalContext, format_value
from policy_engine.plan.model import PERIOD_PATTERN

Returns = t.Type | Callable[[list[t.Type]], t.Type]


@dataclass(frozen=True, slots=True)
class Builtin:
    name: str
    params: tuple[str, ...]
    returns: Returns
    doc: str
    impl: Callable[..., Any]
    needs_context: bool = False
    optional: int = 0  # how many of the last params a call may leave out

    @property
    def signature(self) -> str:
        ret = self.returns if isinstance(self.returns, t.Type) else "same as its argument"
        needed = len(self.params) - self.optional
        params = ", ".join(self.params[:needed]) + "".join(f"[, {p}]" for p in self.params[needed:])
        return f"{self.name}({params}) -> {ret}"

    def takes(self, count: int) -> bool:
        return len(self.params) - self.optional <= count <= len(self.params)


def _numbers(values: Any) -> list[Any]:
    return [v for v in values if isinstance(v, int | float) and not isinstance(v, bool)]


def _extreme(pick: Callable[[list[Any]], Any]) -> Callable[[Any], Any]:
    """min or max over the values that are there; none when nothing is, or they do not compare."""

    def extreme(values: Any) -> Any:
        present = [v for v in values if v is not None]
        try:
            return pick(present) if present else None
        except TypeError:
            return None

    return extreme


def _exists(value: Any) -> bool:
    if isinstance(value, tuple | list):
        return len(value) > 0
    return value is not None


def _path(ctx: EvalContext, start: Any, end: Any, relation: str | None = None) -> str | None:
    if start is None or end is None:
        return None
    steps = ctx.path(start, end, relation)
    return " -> ".join(e.id for e in steps) if steps else None


def _days_between(start: Any, end: Any) -> Any:
    if isinstance(start, date) and isinstance(end, date):
        return (end - start).days
    return None


_PERIOD = re.compile(PERIOD_PATTERN)  # what a plan's `period` takes


def _period(value: Any, end: bool) -> date | None:
    """The first or last day of a period (`2027`, `2027-Q1`, `2027-H2`); none for anything else."""
    if not (isinstance(value, str) and _PERIOD.fullmatch(value)) or value[:4] == "0000":
        return None
    year, part = int(value[:4]), value[5:]  # part: "", "Q1"…"Q4", "H1" or "H2"
    months = 3 if part[:1] == "Q" else 6 if part else 12
    first = (int(part[1]) - 1) * months + 1 if part else 1
    if not end:
        return date(year, first, 1)
    last = first + months - 1
    return date(year, last, calendar.monthrange(year, last)[1])


def _lower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else None


def _item(types: list[t.Type]) -> t.Type:
    return t.item_type(types[0])


def _first(types: list[t.Type]) -> t.Type:
    return types[0]


BUILTINS: dict[str, Builtin] = {
    b.name: b
    for b in [
        Builtin("count", ("collection",), t.NUMBER, "How many members a set or list has.", len),
        Builtin(
            "sum",
            ("collection",),
            t.NUMBER,
            "The sum of a list of numbers; missing values count as 0.",
            lambda values: sum(_numbers(values)),
        ),
        Builtin(
            "first",
            ("collection",),
            _item,
            "The first member of a list or set, in its order, or none when it is empty.",
            lambda values: values[0] if values else None,
        ),
        Builtin("min", ("collection",), _item, "The smallest value of a list, or none.", _extreme(min)),
        Builtin("max", ("collection",), _item, "The largest value of a list, or none.", _extreme(max)),
        Builtin(
            "exists",
            ("any",),
            t.BOOL,
            "Whether a value is there (a set or list: whether it has members).",
            _exists,
        ),
        Builtin(
            "missing",
            ("any",),
            t.BOOL,
            "Whether a value is not there (a set or list: whether it is empty).",
            lambda value: not _exists(value),
        ),
        Builtin(
            "default",
            ("value", "value"),
            _first,
            "The first value, or the second where the first is missing.",
            lambda value, fallback: fallback if value is None else value,
        ),
        Builtin(
            "days_between",
            ("date", "date"),
            t.NUMBER,
            "Days from the first date to the second (negative when the second is earlier).",
            _days_between,
        ),
        Builtin(
            "period_start",
            ("string",),
            t.DATE,
            "The first day of a period (2027-Q1 gives 2027-01-01), or none.",
            lambda value: _period(value, end=False),
        ),
        Builtin(
            "period_end",
            ("string",),
            t.DATE,
            "The last day of a period (2027-Q1 gives 2027-03-31), or none.",
            lambda value: _period(value, end=True),
        ),
        Builtin("lower", ("string",), t.STRING, "A string in lower case.", _lower),
        Builtin(
            "join",
            ("collection", "string"),
            t.STRING,
            "The members of a list or set as text, joined by a separator.",
            lambda values, sep: sep.join(format_value(v) for v in values),
        ),
        Builtin(
            "text",
            ("any",),
            t.STRING,
            "A value as the text a message would show.",
            format_value,
        ),
        Builtin(
            "path",
            ("entity", "entity", "relation"),
            t.STRING,
            "A shortest path from the first entity to the second along a relation, or "
            "without one along every relation followed forwards, as ids joined by ' -> ', "
            "for messages; none when there is no path.",
            _path,
            needs_context=True,
            optional=1,
        ),
        Builtin(
            "cycles",
            ("kind", "relation"),
            lambda types: t.list_of(t.entity_set(types[0].kinds)),
            "The cycles of a kind along a relation: one set per strongly connected "
            "group (a self-reference is a cycle of one), members in cycle order "
            "from the smallest id.",
            lambda ctx, kind, relation: ctx.cycles(kind, relation),
            needs_context=True,
        ),
        Builtin(
            "rule_defined",
            ("string",),
            t.BOOL,
            "Whether a loaded policy defines a rule with this id.",
            lambda ctx, rule: rule in ctx.rules,
            needs_context=True,
        ),
        Builtin(
            "rule_waivable",
            ("string",),
            t.BOOL,
            "Whether a loaded rule with this id may be waived.",
            lambda ctx, rule: bool(ctx.rules.get(rule, False)),
            needs_context=True,
        ),
        Builtin(
            "similar_rule",
            ("string",),
            t.STRING,
            "The loaded rule id closest to this one, for a 'did you mean', or missing.",
            lambda ctx, rule: _closest(rule, ctx.rules),
            needs_context=True,
        ),
    ]
}


def _closest(word: Any, choices: Iterable[str]) -> str | None:
    return closest(word, choices) if isinstance(word, str) else None
