"""The policy language's grammar: pyparsing elements only.

`build(actions)` returns the grammar with a parse action attached to each
construct by name; the parser passes the actions that build the AST. Called
with no actions it returns plain ParseResults, so the grammar can be tested
on its own. Nothing else of the package is imported here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pyparsing as pp

Action = Callable[[str, int, pp.ParseResults], Any]

KEYWORDS = frozenset(
    [
        "pack",
        "rule",
        "def",
        "title",
        "severity",
        "why",
        "doc",
        "link",
        "tags",
        "waivable",
        "fails_from",
        "param",
        "for",
        "in",
        "where",
        "all",
        "let",
        "require",
        "else",
        "related",
        "at",
        "and",
        "or",
        "not",
        "any",
        "no",
        "true",
        "false",
        "today",
        "starts",
        "ends",
        "with",
        "contains",
        "matches",
        "if",
        "then",
    ]
)
RULE_CLAUSES = ("title", "severity", "why", "doc", "link", "tags", "waivable", "fails_from")


@dataclass(frozen=True)
class Grammar:
    policy_file: pp.ParserElement
    chunk: pp.ParserElement  # one top-level declaration: pack, def or rule
    expression: pp.ParserElement
    template_expression: pp.ParserElement  # an expression inside `{…}` of a message
    # The keywords that fail wherever a name is tried (`~reserved + name`): they
    # say nothing of what a place expects (see the parser's furthest failure).
    reserved: tuple[pp.ParserElement, ...]


def build(actions: Mapping[str, Action] | None = None) -> Grammar:
    """The grammar, with `actions[name]` attached to the construct `name`."""
    acts = dict(actions or {})

    def named(element: pp.ParserElement, name: str) -> pp.ParserElement:
        element = element.set_name(name)
        if name in acts:
            element = element.add_parse_action(acts[name])
        return element

    def kw(word: str) -> pp.ParserElement:
        return pp.Keyword(word)

    def sym(text: str) -> pp.ParserElement:
        return pp.Suppress(pp.Literal(text))

    reserved = [pp.Keyword(k) for k in sorted(KEYWORDS, key=len, reverse=True)]
    ident = named(~pp.MatchFirst(reserved) + pp.Regex(r"[A-Za-z_][A-Za-z0-9_]*").set_name("name"), "name")
    field_name = pp.Regex(r"x-[a-z0-9]+(?:-[a-z0-9]+)*|[A-Za-z_][A-Za-z0-9_]*").set_name("field")
    rule_id = pp.Regex(r"[a-z0-9]+(?:-[a-z0-9]+)*").set_name("rule id")
    string = named(
        pp.Regex(r'"""(?:[^"\\]|\\.|"(?!""))*"""|"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\''),
        "string",
    ).set_name("string")
    date = named(pp.Regex(r"\d{4}-\d{2}-\d{2}(?![\w-])"), "date").set_name("date")
    duration = named(
        pp.Regex(r"\d+[dw](?!\w)|P(?=\d)(?:\d+Y)?(?:\d+M)?(?:\d+W)?(?:\d+D)?(?!\w)"), "duration"
    ).set_name("duration")
    number = named(pp.Regex(r"\d+(?:\.\d+)?(?![\w.])"), "number").set_name("number")
    boolean = named(kw("true") | kw("false"), "bool")
    today = named(kw("today"), "today")
    literal = (date | duration | number | string | boolean).set_name("literal")

    expr = pp.Forward().set_name("expression")
    set_expr = pp.Forward().set_name("set expression")

    call = named(
        pp.Located(ident + sym("(") + pp.Group(pp.Optional(pp.DelimitedList(expr))) + sym(")")),
        "call",
    )
    # `cycles(Initiative via depends_on)`, as DSL.md writes it: the same call
    # as `cycles(Initiative, depends_on)`.
    cycles_via = named(
        pp.Located(
            pp.FollowedBy(pp.Keyword("cycles"))
            + ident
            + sym("(")
            + pp.Group(expr + pp.Keyword("via").suppress() + expr)
            + sym(")")
        ),
        "call",
    )
    comprehension = named(
        pp.Located(
            sym("[")
            + expr
            + kw("for").suppress()
            + ident
            + kw("in").suppress()
            + set_expr
            + pp.Optional(kw("where").suppress() + expr, default=None)
            + sym("]")
        ),
        "comprehension",
    )
    list_literal = named(
        pp.Located(sym("[") + pp.Group(pp.Optional(pp.DelimitedList(expr))) + sym("]")), "list"
    )
    quantifier = named(
        pp.Located(
            (kw("any") | kw("all") | kw("no"))
            + ident
            + kw("in").suppress()
            + set_expr
            + pp.Optional(kw("where").suppress() + expr, default=None)
        ),
        "quantifier",
    )
    paren = named(pp.Located(sym("(") + expr + sym(")")), "paren")
    # Like a quantifier, it reaches as far right as it can: its `else` branch is
    # a whole expression, so that `if a then 1 else 2 + 3` adds to the 2.
    conditional = named(
        pp.Located(kw("if").suppress() + expr + kw("then").suppress() + expr + kw("else").suppress() + expr),
        "conditional",
    )
    primary = (
        paren
        | conditional
        | comprehension
        | list_literal
        | quantifier
        | literal
        | today
        | cycles_via
        | call
        | ident
    ).set_name("value")

    # `+` / `*` right after a relation name is its transitive closure; `x.effort+1`
    # stays arithmetic because an operand follows.
    closure = pp.Regex(
        r"[+*](?!\s*(?:\d|\(|\"|\[|(?!(?:" + "|".join(sorted(KEYWORDS)) + r")\b)[A-Za-z_]))"
    ).leave_whitespace()
    access = pp.Group(sym(".") + pp.Located(field_name) + pp.Optional(closure, default="")).set_name(
        "field access"
    )
    postfix = named(pp.Located(primary + pp.ZeroOrMore(access)), "postfix")

    compare_op = (
        (kw("not") + kw("in")).set_parse_action(lambda: "not in")
        | (kw("starts") + kw("with")).set_parse_action(lambda: "starts with")
        | (kw("ends") + kw("with")).set_parse_action(lambda: "ends with")
        | kw("contains")
        | kw("matches")
        | kw("in")
        | pp.one_of("== != <= >= < >")
    ).set_name("comparison")
    binary = acts.get("binary")
    unary = acts.get("unary")
    arith = pp.infix_notation(  # type: ignore[no-untyped-call]
        postfix,
        [
            (pp.Literal("-"), 1, pp.OpAssoc.RIGHT, unary),
            (pp.one_of("* /"), 2, pp.OpAssoc.LEFT, binary),
            (pp.one_of("+ -"), 2, pp.OpAssoc.LEFT, binary),
            (pp.Literal("|"), 2, pp.OpAssoc.LEFT, binary),
        ],
    )
    set_expr <<= arith
    expr <<= pp.infix_notation(  # type: ignore[no-untyped-call]
        postfix,
        [
            (pp.Literal("-"), 1, pp.OpAssoc.RIGHT, unary),
            (pp.one_of("* /"), 2, pp.OpAssoc.LEFT, binary),
            (pp.one_of("+ -"), 2, pp.OpAssoc.LEFT, binary),
            (pp.Literal("|"), 2, pp.OpAssoc.LEFT, binary),
            (compare_op, 2, pp.OpAssoc.LEFT, binary),
            (kw("not"), 1, pp.OpAssoc.RIGHT, unary),
            (kw("and"), 2, pp.OpAssoc.LEFT, binary),
            (kw("or"), 2, pp.OpAssoc.LEFT, binary),
        ],
    )

    # ---------------------------------------------------------------- declarations
    pack_name = rule_id.copy().set_name("pack name")  # written as a rule id is
    pack = named(pp.Located(kw("pack").suppress() + pack_name + pp.Optional(string, default=None)), "pack")
    kinds = pp.Group(ident + pp.ZeroOrMore(sym("|") + ident))
    helper_param = pp.Group(ident + sym(":") + kinds)
    helper = named(
        pp.Located(
            kw("def").suppress()
            + ident
            + sym("(")
            + pp.Group(pp.Optional(pp.DelimitedList(helper_param)))
            + sym(")")
            + sym("=")
            + expr
        ),
        "helper",
    )
    string_list = pp.Group(sym("[") + pp.Optional(pp.DelimitedList(string)) + sym("]"))
    meta = named(
        pp.Located(
            (kw("title") | kw("why") | kw("doc") | kw("link")) + string
            | kw("severity") + ident
            | kw("tags") + string_list
            | kw("waivable") + boolean
            | kw("fails_from") + date
        ),
        "meta",
    )
    param_value = named(pp.Located(pp.Literal("-")[0, 1] + literal), "param_value")
    param_list = named(
        pp.Located(sym("[") + pp.Group(pp.Optional(pp.DelimitedList(param_value))) + sym("]")), "list"
    )
    param = named(
        pp.Located(kw("param").suppress() + ident + sym("=") + (param_list | param_value)),
        "param",
    )
    group = named(
        pp.Located(
            kw("group").suppress()
            + (
                kw("all")
                | kw("by").suppress() + expr + pp.Optional(kw("as").suppress() + ident, default=None)
            )
        ),
        "group",
    )
    let = named(pp.Located(kw("let").suppress() + ident + sym("=") + expr), "let")
    at_paths = pp.Group(
        pp.DelimitedList(pp.Group(pp.Located(pp.Combine(field_name + pp.ZeroOrMore("." + field_name)))))
    )
    clause = pp.MatchFirst(
        [
            kw("require") + expr,
            kw("else") + string,
            kw("related") + expr,
            kw("at") + at_paths,
        ]
    )
    rule = named(
        pp.Located(
            kw("rule").suppress()
            + rule_id
            + pp.Group(pp.ZeroOrMore(meta | param))
            + kw("for").suppress()
            + pp.Group(ident + pp.Optional(sym(",") + ident))  # `for period, group in`: a group's key and set
            + kw("in").suppress()
            + expr
            + pp.Optional(kw("where").suppress() + expr, default=None)
            + pp.Optional(group, default=None)
            + pp.Group(pp.ZeroOrMore(let))
            + pp.Group(pp.ZeroOrMore(pp.Group(clause)))
        ),
        "rule",
    )
    chunk = (pack | helper | rule).set_name("declaration")
    comment = pp.Regex(r"#[^\n]*")
    policy_file = pp.ZeroOrMore(chunk) + pp.StringEnd()
    single = chunk + pp.StringEnd()
    template_expression = expr + pp.StringEnd()
    for element in (policy_file, single, template_expression):
        element.ignore(comment)
    for element in (policy_file, single, expr, template_expression):
        # pyparsing expands tabs before parsing unless told not to: every
        # offset after a tab would then point past what it names.
        element.parse_with_tabs()
    return Grammar(policy_file, single, expr, template_expression, tuple(reserved))


pp.ParserElement.enable_packrat()
