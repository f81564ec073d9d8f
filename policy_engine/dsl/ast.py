"""The policy language's syntax tree: frozen dataclasses, spans out of equality."""

from __future__ import annotations

import typing
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from policy_engine.source import Span


@dataclass(frozen=True, slots=True)
class Node:
    span: Span = field(compare=False, repr=False, kw_only=True)


def children(node: Node) -> Iterator[Node]:
    """The expressions directly inside a node, in source order."""
    for name in node.__dataclass_fields__:
        value = getattr(node, name)
        if isinstance(value, Node):
            yield value
        elif isinstance(value, tuple):
            yield from (item for item in value if isinstance(item, Node))


# ----------------------------------------------------------------- expressions


@dataclass(frozen=True, slots=True)
class Literal(Node):
    """A number, string, date, duration or boolean written in the policy."""

    value: Any
    type: str  # "number", "string", "date", "duration", "bool"


@dataclass(frozen=True, slots=True)
class Today(Node):
    """The date the check runs as of."""


@dataclass(frozen=True, slots=True)
class Name(Node):
    """A variable, parameter, kind or relation name."""

    name: str


@dataclass(frozen=True, slots=True)
class Field(Node):
    """`target.name`, with `+` or `*` for the transitive closure of a relation."""

    target: Expr
    name: str
    closure: str = ""
    name_span: Span | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Call(Node):
    function: str
    args: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class ListOf(Node):
    items: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class Comprehension(Node):
    """`[expr for var in source where condition]`."""

    expr: Expr
    var: str
    source: Expr
    where: Expr | None


@dataclass(frozen=True, slots=True)
class Quantifier(Node):
    """`any|all|no var in source where condition`."""

    op: str
    var: str
    source: Expr
    where: Expr | None


@dataclass(frozen=True, slots=True)
class Binary(Node):
    op: str
    left: Expr
    right: Expr


@dataclass(frozen=True, slots=True)
class Unary(Node):
    op: str  # "-" or "not"
    operand: Expr


@dataclass(frozen=True, slots=True)
class Conditional(Node):
    """`if TEST then THEN else OTHERWISE`; a missing test counts as false."""

    test: Expr
    then: Expr
    otherwise: Expr


@dataclass(frozen=True, slots=True)
class Template(Node):
    """A message: text with `{expr}` parts."""

    parts: tuple[str | Expr, ...]


Expr = (
    Literal | Today | Name | Field | Call | ListOf | Comprehension | Quantifier | Binary | Unary | Conditional
)

# ---------------------------------------------------------------- declarations

# The subject's variable in `for period, group in Initiative …`, which names none:
# not a name a policy can write, so only the `for` line's bare field names reach it.
SUBJECT = "(subject)"


@dataclass(frozen=True, slots=True)
class Pack(Node):
    name: str
    title: str | None


@dataclass(frozen=True, slots=True)
class HelperParam(Node):
    name: str
    kinds: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Helper(Node):
    """`def name(param: Kind, ...) = expr`: a predicate rules reuse."""

    name: str
    params: tuple[HelperParam, ...]
    body: Expr


@dataclass(frozen=True, slots=True)
class Meta(Node):
    key: str
    value: Any
    value_span: Span | None = field(default=None, compare=False, repr=False)  # a diagnostic's caret


@dataclass(frozen=True, slots=True)
class Param(Node):
    name: str
    default: Literal | ListOf  # a list of literals

    @property
    def value(self) -> Any:
        """The default's value; a list's is a tuple."""
        if isinstance(self.default, ListOf):
            return tuple(typing.cast(Literal, item).value for item in self.default.items)
        return self.default.value


@dataclass(frozen=True, slots=True)
class GroupBy(Node):
    """`group by key as name`, or `group all` (key None); `members` names the group's set."""

    key: Expr | None
    name: str | None
    members: str = "group"


@dataclass(frozen=True, slots=True)
class Let(Node):
    name: str
    expr: Expr


@dataclass(frozen=True, slots=True)
class AtPath(Node):
    path: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Rule(Node):
    """A rule; `var` is SUBJECT when the `for` line names a group's key and members instead."""

    id: str
    meta: tuple[Meta, ...]
    params: tuple[Param, ...]
    var: str
    source: Expr
    where: Expr | None
    group: GroupBy | None
    lets: tuple[Let, ...]
    require: Expr | None
    message: Template | None
    related: Expr | None
    at: tuple[AtPath, ...]
    id_span: Span | None = field(default=None, compare=False, repr=False)

    def meta_value(self, key: str, default: Any = None) -> Any:
        for item in self.meta:
            if item.key == key:
                return item.value
        return default


@dataclass(frozen=True, slots=True)
class PolicyFile(Node):
    pack: Pack | None
    helpers: tuple[Helper, ...]
    rules: tuple[Rule, ...]
