"""Policy source text to AST; pyparsing's ParseResults never leave this module.

A file is cut into top-level declarations (lines starting with `pack`, `def`
or `rule`) and each is parsed on its own, so that one syntax error does not
hide the problems of the other rules in the file.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator, Sequence
from datetime import date
from typing import Any

import pyparsing as pp

from policy_engine.diagnostics import Diagnostic, did_you_mean, no_such_day
from policy_engine.dsl import ast
from policy_engine.dsl.grammar import KEYWORDS, RULE_CLAUSES, build
from policy_engine.plan.model import KINDS, Duration, id_hint
from policy_engine.source import SourceFile, Span

MAX_POLICY_BYTES = 1024 * 1024
MAX_NESTING = 48  # brackets and parentheses open at once in one declaration
# Operations inside one another, after long `and`/`or` chains are balanced: every
# later stage walks the tree recursively, well within Python's recursion limit.
MAX_DEPTH = 100
_BALANCED_FROM = 16  # operands of one `and`/`or` chain; shorter ones stay left-deep, as written

_DECLARATION = re.compile(r"^(?:pack|def|rule)\b", re.MULTILINE)
_DECLARED = re.compile(r"(pack)\b|def\s+([A-Za-z_]\w*)|rule\s+([^\s#]+)")  # what a declaration names
_ESCAPES = {"n": "\n", "t": "\t", '"': '"', "'": "'", "\\": "\\", "{": "{", "}": "}"}

_CLAUSE_WORDS = (
    *RULE_CLAUSES,
    "param",
    "for",
    "where",
    "group",
    "let",
    "require",
    "else",
    "related",
    "at",
)


class _Builder:
    """Parse actions that turn tokens into AST nodes with spans in one source."""

    def __init__(self, source: SourceFile) -> None:
        self.source = source
        self.problems: list[Diagnostic] = []
        self._floor = 0  # where the text being parsed starts (a message's `{expr}`)

    def span(self, start: int, end: int) -> Span:
        # Actions of compound elements get the offset before skipped white space,
        # which in a message's expression can be the padding before it.
        text = self.source.text
        end = min(end, len(text))
        start = min(max(start, self._floor), end)
        while start < end and text[start].isspace():
            start += 1
        return Span(self.source, start, end)

    def leaf(self, loc: int, written: str) -> Span:
        """The span of a token written at `loc` or after the white space and comments there:
        an action on alternatives (`true | false`) gets the offset before them."""
        text = self.source.text
        start = _BLANK.match(text, loc).end()  # type: ignore[union-attr]
        return self.span(start, start + len(written))

    def problem(self, code: str, message: str, start: int, end: int, help: str | None = None) -> None:
        self.problems.append(Diagnostic(code, message, self.span(start, end), help))

    # ------------------------------------------------------------------ leaves
    def name(self, s: str, loc: int, toks: pp.ParseResults) -> ast.Name:
        text = toks[0]
        start = s.index(text, loc)
        return ast.Name(text, span=self.span(start, start + len(text)))

    def string(self, s: str, loc: int, toks: pp.ParseResults) -> ast.Literal:
        raw = toks[0]
        inner = raw[3:-3] if raw.startswith('"""') else raw[1:-1]
        if raw.startswith('"""'):
            inner = _dedent(inner)
        return ast.Literal(_unescape(inner), "string", span=self.leaf(loc, raw))

    def number(self, s: str, loc: int, toks: pp.ParseResults) -> ast.Literal:
        text = toks[0]
        value: int | float = float(text) if "." in text else int(text)
        return ast.Literal(value, "number", span=self.leaf(loc, text))

    def date(self, s: str, loc: int, toks: pp.ParseResults) -> ast.Literal:
        text = toks[0]
        span = self.leaf(loc, text)
        try:
            return ast.Literal(date.fromisoformat(text), "date", span=span)
        except ValueError as exc:
            reason = no_such_day(int(text[:4]), int(text[5:7]), int(text[8:10])) or exc
            self.problem("E104", f"invalid date {text}: {reason}", span.start, span.end)
            return ast.Literal(None, "date", span=span)

    def duration(self, s: str, loc: int, toks: pp.ParseResults) -> ast.Literal:
        text = toks[0]
        return ast.Literal(Duration.from_policy_text(text), "duration", span=self.leaf(loc, text))

    def bool(self, s: str, loc: int, toks: pp.ParseResults) -> ast.Literal:
        return ast.Literal(toks[0] == "true", "bool", span=self.leaf(loc, toks[0]))

    def today(self, s: str, loc: int, toks: pp.ParseResults) -> ast.Today:
        return ast.Today(span=self.leaf(loc, "today"))

    # ------------------------------------------------------------- expressions
    def call(self, s: str, loc: int, toks: pp.ParseResults) -> ast.Call:
        start, (name, args), end = toks
        return ast.Call(name.name, tuple(args), span=self.span(start, end))

    def comprehension(self, s: str, loc: int, toks: pp.ParseResults) -> ast.Comprehension:
        start, (expr, var, source, where), end = toks
        return ast.Comprehension(expr, var.name, source, where, span=self.span(start, end))

    def list(self, s: str, loc: int, toks: pp.ParseResults) -> ast.ListOf:
        start, (items,), end = toks
        return ast.ListOf(tuple(items), span=self.span(start, end))

    def quantifier(self, s: str, loc: int, toks: pp.ParseResults) -> ast.Quantifier:
        start, (op, var, source, where), end = toks
        return ast.Quantifier(op, var.name, source, where, span=self.span(start, end))

    def conditional(self, s: str, loc: int, toks: pp.ParseResults) -> ast.Conditional:
        start, (test, then, otherwise), end = toks
        return ast.Conditional(test, then, otherwise, span=self.span(start, end))

    def paren(self, s: str, loc: int, toks: pp.ParseResults) -> Any:
        return toks[1][0]

    def postfix(self, s: str, loc: int, toks: pp.ParseResults) -> Any:
        start, parts, _ = toks
        node = parts[0]
        for access in parts[1:]:
            fstart, (fname,), fend, closure = access
            end = fend + len(closure)
            node = ast.Field(
                node,
                fname,
                closure,
                span=self.span(start, end),
                name_span=self.span(fstart, end),
            )
        return node

    def binary(self, s: str, loc: int, toks: pp.ParseResults) -> Any:
        items = list(toks[0])
        ops = set(items[1::2])
        if len(items) >= 2 * _BALANCED_FROM - 1 and ops in ({"and"}, {"or"}):
            return self._balanced(ops.pop(), items[0::2])  # a long allowlist as a chain of `or`
        node = items[0]
        for op, right in zip(items[1::2], items[2::2], strict=True):
            node = ast.Binary(op, node, right, span=self.span(node.span.start, right.span.end))
        return node

    def _balanced(self, op: str, operands: Sequence[Any]) -> Any:
        """`a or b or c or d` as `(a or b) or (c or d)`: the same terms in the same order, and
        the same short-circuit, but as deep as the logarithm of their number."""
        if len(operands) == 1:
            return operands[0]
        middle = len(operands) // 2
        left, right = self._balanced(op, operands[:middle]), self._balanced(op, operands[middle:])
        return ast.Binary(op, left, right, span=self.span(left.span.start, right.span.end))

    def unary(self, s: str, loc: int, toks: pp.ParseResults) -> Any:
        op, operand = toks[0]
        return ast.Unary(op, operand, span=self.span(loc, operand.span.end))

    # ------------------------------------------------------------ declarations
    def pack(self, s: str, loc: int, toks: pp.ParseResults) -> ast.Pack:
        start, (name, title), end = toks
        return ast.Pack(name, title.value if title else None, span=self.span(start, end))

    def helper(self, s: str, loc: int, toks: pp.ParseResults) -> ast.Helper:
        start, (name, params, body), end = toks
        built = tuple(
            ast.HelperParam(
                pname.name,
                tuple(k.name for k in kinds),
                span=self.span(pname.span.start, kinds[-1].span.end),
            )
            for pname, kinds in params
        )
        return ast.Helper(name.name, built, body, span=self.span(start, end))

    def meta(self, s: str, loc: int, toks: pp.ParseResults) -> ast.Meta:
        start, (key, value), end = toks
        value_span = value.span if isinstance(value, ast.Node) else None
        if isinstance(value, pp.ParseResults):
            value = tuple(item.value for item in value)
        elif isinstance(value, ast.Name):
            value = value.name
        elif isinstance(value, ast.Literal):
            value = value.value
        return ast.Meta(key, value, value_span, span=self.span(start, end))

    def param_value(self, s: str, loc: int, toks: pp.ParseResults) -> ast.Literal:
        start, parts, end = toks
        literal: ast.Literal = parts[-1]
        if len(parts) == 2 and isinstance(literal.value, int | float):  # a negative number
            literal = ast.Literal(-literal.value, literal.type, span=self.span(start, end))
        return literal

    def param(self, s: str, loc: int, toks: pp.ParseResults) -> ast.Param:
        start, (name, default), end = toks
        return ast.Param(name.name, default, span=self.span(start, end))

    def group(self, s: str, loc: int, toks: pp.ParseResults) -> ast.GroupBy:
        start, parts, end = toks
        if len(parts) == 1:
            return ast.GroupBy(None, None, span=self.span(start, end))
        key, name = parts
        return ast.GroupBy(key, name.name if name else None, span=self.span(start, end))

    def _group_names(self, variables: pp.ParseResults, group: ast.GroupBy | None) -> tuple[str, Any]:
        """The rule's variable and its group, named as the `for` line and `group by` write them.

        `for i in … group by i.period` names the key after its field (`period`);
        `for period, group in … group by period`, as DSL.md writes it, names the
        key and the set, and the subject goes without a name (ast.SUBJECT).
        """
        var, *members = variables
        if not members:
            if group is not None and group.key is not None and group.name is None:
                if named := _field_named(group.key):
                    return var.name, dataclasses.replace(group, name=named)
                key = group.key.span.text
                hint = f"group by {key} as NAME"
                self.problem("E100", "a group is named", group.key.span.start, group.key.span.end, hint)
            return var.name, group
        members_name = members[0]
        if group is None or group.key is None:
            self.problem(
                "E100",
                f"'for {var.name}, {members_name.name} in' names a group's key and its members:"
                " it needs group by",
                var.span.start,
                members_name.span.end,
                "add group by FIELD, or write one variable: for x in …",
            )
            span = group.span if group else members_name.span  # checked as a group all, told once
            return var.name, ast.GroupBy(None, None, members_name.name, span=span)
        if group.name is not None and group.name != var.name:
            self.problem(
                "E100",
                f"the group's key is named twice: {var.name}, then {group.name}",
                group.span.start,
                group.span.end,
                f"leave out 'as {group.name}': the for line names the key",
            )
        return ast.SUBJECT, dataclasses.replace(group, name=var.name, members=members_name.name)

    def let(self, s: str, loc: int, toks: pp.ParseResults) -> ast.Let:
        start, (name, expr), end = toks
        return ast.Let(name.name, expr, span=self.span(start, end))

    def rule(self, s: str, loc: int, toks: pp.ParseResults) -> ast.Rule:
        start, parts, end = toks
        rule_id, head, variables, source, where, group, lets, clauses = parts
        var, group = self._group_names(variables, group)
        id_start = s.index(rule_id, start)
        values: dict[str, Any] = {}
        for keyword, value in clauses:
            if keyword in values:
                self.problem(
                    "E102",
                    f"rule {rule_id} has more than one '{keyword}' clause",
                    value_span(value).start if not isinstance(value, pp.ParseResults) else start,
                    value_span(value).end if not isinstance(value, pp.ParseResults) else start + 4,
                )
            if keyword == "else":
                value = self.template(value)
            elif keyword == "at":
                value = tuple(
                    ast.AtPath(tuple(path.split(".")), span=self.span(pstart, pend))
                    for pstart, (path,), pend in value
                )
            values[keyword] = value
        return ast.Rule(
            rule_id,
            tuple(item for item in head if isinstance(item, ast.Meta)),
            tuple(item for item in head if isinstance(item, ast.Param)),
            var,
            source,
            where,
            group,
            tuple(lets),
            values.get("require"),
            values.get("else"),
            values.get("related"),
            values.get("at", ()),
            span=self.span(start, end),
            id_span=self.span(id_start, id_start + len(rule_id)),
        )

    def template(self, literal: ast.Literal) -> ast.Template:
        """Split a message into text and `{expr}` parts, each expr parsed in place."""
        quote = 3 if literal.span.text.startswith('"""') else 1  # a long message in triple quotes
        raw_start = literal.span.start + quote
        raw = literal.span.text[quote:-quote]
        parts: list[str | ast.Expr] = []
        text: list[str] = []
        i = 0
        while i < len(raw):
            ch = raw[i]
            if ch == "\\" and i + 1 < len(raw):
                text.append(_escaped(raw[i + 1]))
                i += 2
            elif raw.startswith("{{", i) or raw.startswith("}}", i):
                text.append(ch)
                i += 2
            elif ch == "\n" and quote == 3:
                # A long message wraps in the source, not in the report: a line break and
                # the indentation around it read as one space.
                while text and text[-1] in " \t":
                    text.pop()
                text.append(" ")
                i += 1
                while i < len(raw) and raw[i] in " \t":
                    i += 1
            elif ch == "{":
                close = raw.find("}", i)
                if close == -1:
                    self.problem(
                        "E103",
                        "'{' in a message is never closed",
                        raw_start + i,
                        raw_start + i + 1,
                        self._unclosed_brace_hint(literal.span.end, quote),
                    )
                    break
                if text:
                    parts.append("".join(text))
                    text = []
                expr = self.sub_expression(raw_start + i + 1, raw_start + close)
                if expr is not None:
                    parts.append(expr)
                i = close + 1
            else:
                text.append(ch)
                i += 1
        if text:
            parts.append("".join(text))
        return ast.Template(tuple(parts), span=literal.span)

    def _unclosed_brace_hint(self, end: int, quote: int) -> str:
        line_end = self.source.text.find("\n", end)
        rest = self.source.text[end : None if line_end == -1 else line_end]
        inner = _QUOTED_IN_BRACES.match(rest) if quote == 1 else None
        if inner:  # `"… {x.type == "feature"} …"`: the message ended at the inner quote
            word = inner.group(1)
            if word.strip() and len(word) <= 40 and "{" not in word and "}" not in word:
                return f"the message ends at the quote before {word}; in its braces, write '{word}'"
            return "the message ends at the next quote; a text in its braces is written in single quotes"
        return "close it with '}' after the expression, or write '\\{' for a literal brace"

    def sub_expression(self, start: int, end: int) -> ast.Expr | None:
        if not self.source.text[start:end].strip():
            hint = "write an expression in them, or \\{ for a brace"
            self.problem("E100", "empty braces in a message", start - 1, end + 1, hint)
            return None
        inside = self.source.text[start:end]
        spec = _FORMAT_SPEC.search(inside)
        if spec:  # `{i.effort:.2f}`, as Python's f-strings write it
            message = f"a message shows a value as it is: no format such as '{spec.group()}'"
            hint = f"write {{{inside[: spec.start()].strip()}}}"
            self.problem("E100", message, start + spec.start(), end, hint)
            return None
        padded = " " * start + inside  # offsets as in the file
        self._floor = start
        try:
            result = _grammar_for(self).template_expression.parse_string(padded, parse_all=True)
        except pp.ParseBaseException as exc:
            self.problem(
                "E100", f"invalid expression in message: {_expected(exc)}", start, max(end, start + 1)
            )
            return None
        finally:
            self._floor = 0
        node: ast.Expr = result[0]
        return node


_FORMAT_SPEC = re.compile(r"(?<![:=!<>])![rsa]?(?::[^'\"]*)?$|(?<![:=!<>]):[<>^=+\- #0-9,_.%a-zA-Z]*$")


def value_span(value: Any) -> Span:
    return value.span  # type: ignore[no-any-return]


def _escaped(char: str) -> str:
    """What a backslash before `char` means. Any other backslash stays, as in
    Python: `"^\\d+$"` is the regular expression it looks like, not `^d+$`."""
    return _ESCAPES.get(char, "\\" + char)


def _unescape(text: str) -> str:
    return re.sub(r"\\(.)", lambda m: _escaped(m.group(1)), text, flags=re.S)


def _field_named(key: ast.Expr) -> str | None:
    """The name a group key goes by without `as`: the field it reads (`i.period`, `period`)."""
    if isinstance(key, ast.Field) and not key.closure:
        return key.name
    return key.name if isinstance(key, ast.Name) else None


def _dedent(text: str) -> str:
    lines = text.strip("\n").splitlines()
    indents = [len(line) - len(line.lstrip()) for line in lines if line.strip()]
    cut = min(indents, default=0)
    return "\n".join(line[cut:] for line in lines).rstrip()


def _expected(exc: pp.ParseBaseException) -> str:
    found = exc.line[exc.column - 1 :].split()[:1] if exc.line else []
    message = str(exc.msg)
    return f"{message}, found {found[0]!r}" if found else f"{message}, found end of text"


_ACTIONS = [
    "name",
    "string",
    "number",
    "date",
    "duration",
    "bool",
    "today",
    "call",
    "comprehension",
    "list",
    "quantifier",
    "conditional",
    "paren",
    "postfix",
    "binary",
    "unary",
    "pack",
    "helper",
    "meta",
    "param_value",
    "param",
    "group",
    "let",
    "rule",
]
_active: list[_Builder] = []  # the builder of the file being parsed


def _dispatch(name: str) -> Any:
    def action(s: str, loc: int, toks: pp.ParseResults) -> Any:
        return getattr(_active[-1], name)(s, loc, toks)

    return action


class _Furthest:
    """The furthest place where a token of the grammar failed, and the tokens tried there.

    pyparsing reports where its outermost alternative failed, which for a
    broken condition is the `where` or `require` before it; the furthest
    failure is where the text stops making sense, as PEG parsers report it.
    """

    def __init__(self) -> None:
        self.loc = -1
        self.tried: list[pp.ParserElement] = []

    def __call__(self, s: str, loc: int, token: pp.ParserElement, exc: Exception) -> None:
        at = exc.loc if isinstance(exc, pp.ParseBaseException) else loc
        if at > self.loc:
            self.loc, self.tried = at, [token]
        elif at == self.loc:
            self.tried.append(token)


_furthest = _Furthest()
_grammar: Any = None


def _grammar_for(builder: _Builder) -> Any:
    """The grammar, built once; its actions call the builder of the current parse."""
    global _grammar
    if _grammar is None:
        _grammar = build({name: _dispatch(name) for name in _ACTIONS})
        _watch_tokens(_grammar.chunk, set())
    return _grammar


def _watch_tokens(element: pp.ParserElement, seen: set[int]) -> None:
    if id(element) in seen:
        return
    seen.add(id(element))
    if isinstance(element, pp.Token):
        element.set_fail_action(_furthest)
    for inner in element.recurse():
        _watch_tokens(inner, seen)


def parse(source: SourceFile) -> tuple[ast.PolicyFile, list[Diagnostic], frozenset[str]]:
    """Parse one policy file: its declarations, every syntax problem found,
    and what the declarations that did not parse declared (`pack`, a helper's
    name, a rule's id)."""
    builder = _Builder(source)
    _active.append(builder)
    try:
        return _parse(builder)
    finally:
        _active.pop()


def _parse(builder: _Builder) -> tuple[ast.PolicyFile, list[Diagnostic], frozenset[str]]:
    source = builder.source
    text = source.text
    if len(text.encode()) > MAX_POLICY_BYTES:
        builder.problem("E105", f"policy file is larger than {MAX_POLICY_BYTES // 1024} KiB", 0, 1)
        return ast.PolicyFile(None, (), (), span=builder.span(0, 0)), builder.problems, frozenset(["pack"])
    grammar = _grammar_for(builder)
    starts = [m.start() for m in _DECLARATION.finditer(text)]
    lead = text[: starts[0]] if starts else text
    _stray_text(builder, lead, 0)
    pack: ast.Pack | None = None
    helpers: list[ast.Helper] = []
    rules: list[ast.Rule] = []
    unparsed: set[str] = set()
    ends = [*starts[1:], len(text)] if starts else []
    for start, end in zip(starts, ends, strict=True):
        node = _declaration(builder, grammar, start, end)
        if node is None:
            declared = _DECLARED.match(text, start, end)
            unparsed.add(next(name for name in declared.groups() if name) if declared else "pack")
        elif isinstance(node, ast.Pack):
            if pack is not None:
                builder.problem("E102", "a file declares its pack once", node.span.start, node.span.end)
            pack = node
        elif isinstance(node, ast.Helper):
            helpers.append(node)
        else:
            rules.append(node)
    tree = ast.PolicyFile(pack, tuple(helpers), tuple(rules), span=builder.span(0, len(text)))
    unique = {(d.code, d.span.start, d.message): d for d in builder.problems}  # packrat may repeat
    return tree, list(unique.values()), frozenset(unparsed)


def _declaration(builder: _Builder, grammar: Any, start: int, end: int) -> Any:
    """The node of the declaration at text[start:end], or None after reporting why not."""
    text = builder.source.text
    if _too_deep(builder, start, end):
        return None
    padded = "".join("\n" if ch == "\n" else " " for ch in text[:start]) + text[start:end]
    _furthest.loc = -1
    try:
        (node,) = grammar.chunk.parse_string(padded, parse_all=True)
    except pp.ParseBaseException as exc:
        _syntax_problem(builder, exc, start, end)
        return None
    except RecursionError:
        builder.problem("E105", "declaration is nested too deeply", start, start + 1)
        return None
    deep = _deeper_than(node, MAX_DEPTH)
    if deep is not None:
        message = f"more than {MAX_DEPTH} operations inside one another"
        builder.problem("E105", message, deep.span.start, deep.span.end, "split it with let, or into helpers")
        return None
    return node


def _deeper_than(node: ast.Node, limit: int) -> ast.Node | None:
    """The first node more than `limit` levels below `node`, found without recursion."""
    stack = [(node, 0)]
    while stack:
        current, depth = stack.pop()
        if depth > limit:
            return current
        stack.extend((child, depth + 1) for child in ast.children(current))
    return None


def _stray_text(builder: _Builder, text: str, offset: int) -> None:
    for match in re.finditer(r"^[ \t]*([^\s#].*)$", text, re.MULTILINE):
        word = match.group(1).split()[0]
        hint = did_you_mean(word, ("pack", "def", "rule"))
        builder.problem(
            "E100",
            f"expected 'pack', 'def' or 'rule' at the start of a line, found {word!r}",
            offset + match.start(1),
            offset + match.start(1) + len(word),
            hint,
        )
        return


def _too_deep(builder: _Builder, start: int, end: int) -> bool:
    depth = 0
    for i in range(start, end):
        ch = builder.source.text[i]
        if ch in "([":
            depth += 1
            if depth > MAX_NESTING:
                builder.problem("E105", f"more than {MAX_NESTING} nested brackets", i, i + 1)
                return True
        elif ch in ")]":
            depth -= 1
    return False


def _functions() -> frozenset[str]:
    from policy_engine.dsl.builtins import BUILTINS  # only on the error path

    return frozenset(BUILTINS)


# `for a, b, c in …`: more variables than a rule names, up to the comma too many.
_FOR_VARIABLE = re.compile(r"\bfor\s+[A-Za-z_]\w*(?:\s*,\s*[A-Za-z_]\w*)?\s*$")
_STRING_METHODS = {
    "startswith": "starts with",
    "endswith": "ends with",
    "contains": "contains",
    "includes": "contains",
}
# `x.count()` or `today()` just before a failing `(`: a call written as other languages write it.
_METHOD_CALL = re.compile(r"(?:([\w.]*\w)\.)?\b([A-Za-z_]\w*)\s*\($")
# The rest of a message's line when a text in its braces was double-quoted: `feature"]) …}`.
_QUOTED_IN_BRACES = re.compile(r'([^"\n]*)"[^\n]*\}')
# Python's generator in a call: `sum(x.effort for x in group)`.
_GENERATOR = re.compile(r"\(([^()\[\]\n]*?\bfor\s+[A-Za-z_]\w*\s+in\b[^()\[\]\n]*?)\)")
_GLUED_UNIT = re.compile(r"(?<![\w.-])(\d+)([A-Za-z]+)\b")
# What a unit of other tools is in ours: a number of days or weeks, else ISO months and years.
_UNITS = {
    **dict.fromkeys(("d", "day", "days"), "{}d"),
    **dict.fromkeys(("w", "wk", "week", "weeks"), "{}w"),
    **dict.fromkeys(("m", "mo", "month", "months"), "P{}M"),
    **dict.fromkeys(("y", "yr", "yrs", "year", "years"), "P{}Y"),
}


# A message joined to a value with `+`.
_AFTER_MESSAGE = re.compile(r"\belse\s+(\"[^\"\n]*\"|'[^'\n]*')\s*$")

# Words of SQL and Python that a condition says another way; the operand before them.
_SQL_WORDS = ("is", "between", "like")
_OTHER_OPERATORS = {
    "≥": "did you mean '>='?",
    "≤": "did you mean '<='?",
    "≠": "did you mean '!='?",
    ";": "a condition ends with its line: remove the ';'",
    "?": "a choice is written: if TEST then VALUE else VALUE",
}
_THOUSANDS = re.compile(r"(?<![\w.])\d{1,3}((?:,\d{3})+)(?![\w.])")
_GROUPED_DIGITS = re.compile(r"\d+(?:_\d+)+")
_FIELD_PATH = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_][\w-]*[+*]?)*")
# `i.owner == person:ann`: a plan's reference written as the plan writes it, without quotes.
_KIND_BEFORE = re.compile(rf"(?<![\w.\"'-])({'|'.join(kind.lower() for kind in KINDS)})$")
_REFERENCE_ID = re.compile(r"[\w-]*")
# `param cutoff = today`: a name where a parameter's default, a literal, belongs.
_PARAM_NAMED = re.compile(r"param\s+[A-Za-z_][\w-]*[ \t]*=[ \t]*(?!true\b|false\b)([A-Za-z_][\w.]*)")
_OPERAND = re.compile(r"([A-Za-z_][\w.]*)\s*$")


def _operand_before(text: str, start: int, at: int) -> str:
    """The name or field just before `at` (`i.title` in `i.title like …`), else `x`."""
    found = _OPERAND.search(text, max(start, at - 200), at)  # a bounded window: once per error, not per line
    return found.group(1) if found else "x"


def _sql_hint(word: str, x: str, rest: str) -> str:
    if word == "is":
        absent = re.match(r"is\s+(not\s+)?(missing|null|none|nil)\b", rest, re.IGNORECASE)
        if absent:
            return f"write {'exists' if absent.group(1) else 'missing'}({x})"
        return "did you mean '=='?" + (" ('is not' is '!=')" if re.match(r"is\s+not\b", rest) else "")
    if word == "between":
        bounds = re.match(r"between\s+(\S+)\s+and\s+(\S+)", rest)
        low, high = bounds.groups() if bounds else ("LOW", "HIGH")
        return f"write {x} >= {low} and {x} <= {high}"
    return f'for a pattern: {x} matches "regex", or {x} starts with, ends with or contains "text"'


def _code(text: str, start: int, end: int) -> Iterator[int]:
    """The offsets of the characters outside strings and comments."""
    i = start
    while i < end:
        ch = text[i]
        if ch in "\"'":
            close = text.find(ch, i + 1)
            while close != -1 and text[close - 1] == "\\":
                close = text.find(ch, close + 1)
            i = end if close == -1 else close + 1
            continue
        if ch == "#":
            newline = text.find("\n", i)
            i = end if newline == -1 else newline
            continue
        yield i
        i += 1


def _unbalanced(text: str, start: int, end: int) -> tuple[int, str] | None:
    """The first bracket never closed (or closing nothing), outside strings and comments."""
    pairs = {")": "(", "]": "["}
    stack: list[int] = []
    for i in _code(text, start, end):
        ch = text[i]
        if ch in "([":
            stack.append(i)
        elif ch in ")]":
            if not stack or text[stack[-1]] != pairs[ch]:
                return i, f"'{ch}' closes nothing"
            stack.pop()
    return (stack[-1], f"'{text[stack[-1]]}' is never closed") if stack else None


def _foreign_operator(text: str, start: int, end: int) -> tuple[int, str, str] | None:
    """An operator of other languages (`&&`, `||`, `!`), outside strings: its place, it, ours."""
    for i in _code(text, start, end):
        two = text[i : i + 2]
        if two in ("&&", "||"):
            return i, two, "and" if two == "&&" else "or"
        if text[i] == "!" and text[i + 1 : i + 2] != "=":
            return i, "!", "not"
    return None


def _bare_fraction(text: str, start: int, end: int) -> tuple[int, str] | None:
    """A number written without its leading zero (`.5`), outside strings: its place, it."""
    for i in _code(text, start, end):
        if text[i] == "." and text[i + 1 : i + 2].isdigit() and not re.match(r"[\w)\]]", text[i - 1 : i]):
            digits = re.match(r"\.\d+", text[i:end])
            assert digits is not None
            return i, digits.group()
    return None


def _glued_unit(text: str, start: int, end: int) -> tuple[int, str, str | None] | None:
    """A duration with a unit the language does not write (`1m`, `2y`, `30D`): its place, it, ours."""
    code = set(_code(text, start, end))
    for found in _GLUED_UNIT.finditer(text, start, end):
        number, unit = found.groups()
        if found.start() not in code or unit in ("d", "w"):
            continue
        ours = _UNITS.get(unit.lower())
        return found.start(), found.group(), ours.format(number) if ours else None
    return None


_TEST_OP = r"==|!=|<=|>=|<|>|contains|starts with|ends with|matches"
# `i.status != "done" and != "cancelled"`: the second test lacks what it tests, as English leaves it out.
_ELIDED = re.compile(
    rf"([A-Za-z_][\w.-]*)\s*({_TEST_OP})\s*(\"[^\"\n]*\"|'[^'\n]*'|[\w.-]+)\s+(and|or)\s+({_TEST_OP})\s*"
    rf"(\"[^\"\n]*\"|'[^'\n]*'|[\w.-]+)"
)


def _elided_operand(text: str, start: int, end: int) -> tuple[int, int, str] | None:
    """A test after `and`/`or` that leaves out what it tests: where its operator is, its width, the fix."""
    code = set(_code(text, start, end))
    for found in _ELIDED.finditer(text, start, end):
        subject, op, value, joint, op2, value2 = found.groups()
        if found.start(5) in code:
            fix = f"{subject} {op} {value} {joint} {subject} {op2} {value2}"
            return found.start(5), len(op2), f"each side of '{joint}' is a whole test: {fix}"
    return None


def _keyword_as_name(text: str, start: int, end: int) -> tuple[int, str] | None:
    """A keyword where a name is given (`for all in`, `let at =`), outside strings: its place, it."""
    code = set(_code(text, start, end))
    masked = "".join(text[i] if i in code else " " for i in range(start, end))
    found = _BINDING.search(masked)
    if found is None:
        return None
    group = found.lastindex or 0
    return start + found.start(group), found.group(group)


_KEYWORD = "(" + "|".join(sorted(KEYWORDS, key=len, reverse=True)) + r")\b"
# Where a name is given: a variable, a let, a parameter, a group's key, a helper and its parameters.
_BINDING = re.compile(
    rf"\b(?:for|any|all|no)\s+{_KEYWORD}\s*in\b|\blet\s+{_KEYWORD}\s*=|\bparam\s+{_KEYWORD}\s*="
    rf"|\bas\s+{_KEYWORD}|\bdef\s+{_KEYWORD}\s*\(|\bdef\s+\w+\s*\((?:[^)]*,)?\s*{_KEYWORD}\s*:"
)


def _unclosed_text(text: str, start: int, end: int) -> tuple[int, str] | None:
    """The first text never closed (on its line; triple quotes anywhere) and its quote."""
    i = start
    while i < end:
        ch = text[i]
        if ch == "#":
            newline = text.find("\n", i, end)
            i = end if newline == -1 else newline
        elif ch in "\"'":
            quote = ch * 3 if text[i : i + 3] == ch * 3 else ch
            newline = text.find("\n", i, end)
            stop = end if len(quote) == 3 or newline == -1 else newline
            close = i + len(quote)
            while close < stop and text[close : close + len(quote)] != quote:
                close += 2 if text[close] == "\\" else 1
            if close >= stop:
                return i, quote
            i = close + len(quote)
            continue
        i += 1
    return None


_IN_BEFORE = re.compile(r"\bin\s*$")


def _parenthesised_list(text: str, start: int, end: int) -> tuple[int, int] | None:
    """`in ("a", "b")`, as SQL and Python write a list: where its brackets are."""
    code = list(_code(text, start, end))
    for n, i in enumerate(code):
        if text[i] != "(" or not _IN_BEFORE.search(text, max(start, i - 80), i):
            continue
        depth, comma = 0, False
        for j in code[n:]:
            depth += {"(": 1, "[": 1, ")": -1, "]": -1}.get(text[j], 0)
            comma = comma or (depth == 1 and text[j] == ",")
            if depth == 0:
                if comma:
                    return i, j
                break
    return None


def _syntax_problem(builder: _Builder, exc: pp.ParseBaseException, start: int, end: int) -> None:
    text = builder.source.text
    unclosed = _unclosed_text(text, start, end)
    if unclosed is not None:  # everything after it reads differently: the first thing to fix
        at, quote = unclosed
        spans = ' on its line; a text in """ may span lines' if len(quote) == 1 else ""
        closing = f"close it with {quote}{spans}"
        builder.problem("E100", "syntax error: this text is never closed", at, at + len(quote), closing)
        return
    # pyparsing stops where its last alternative failed; an unbalanced bracket
    # is usually the real mistake, and its place is known exactly.
    bracket = _unbalanced(builder.source.text, start, end)
    if bracket is not None:
        builder.problem("E100", f"syntax error: {bracket[1]}", bracket[0], bracket[0] + 1)
        return
    named = _keyword_as_name(text, start, end)
    if named is not None:  # pyparsing says only what it expected, or lists every keyword
        at, word = named
        message = f"syntax error: '{word}' is a word of the policy language, not a name"
        builder.problem("E100", message, at, at + len(word), f"choose another name, such as {word[0]}")
        return
    foreign = _foreign_operator(text, start, end)
    if foreign is not None:  # pyparsing may fail well before it, where an alternative began
        at, written, ours = foreign
        builder.problem(
            "E100",
            f"syntax error: '{written}' is not an operator of the policy language",
            at,
            at + len(written),
            f"did you mean '{ours}'?",
        )
        return
    elided = _elided_operand(text, start, end)
    if elided is not None:
        at, width, advice = elided
        builder.problem("E100", "syntax error: a test needs a value on its left", at, at + width, advice)
        return
    glued = _glued_unit(text, start, end)
    if glued is not None:
        at, written, meant = glued
        message = f"syntax error: a duration is not written '{written}'"
        advice = f"write {meant}" if meant else "a duration is whole days or more: 30d, 2w, P3M, P1Y"
        builder.problem("E100", message, at, at + len(written), advice)
        return
    fraction = _bare_fraction(text, start, end)
    if fraction is not None:
        at, written = fraction
        builder.problem(
            "E100", "syntax error: a number starts with a digit", at, at + len(written), f"write 0{written}"
        )
        return
    brackets = _parenthesised_list(text, start, end)
    if brackets is not None:
        opened, closed = brackets
        written = f"write [{text[opened + 1 : closed]}]"
        builder.problem(
            "E100", "syntax error: a list is written in square brackets", opened, closed + 1, written
        )
        return
    loc = min(exc.loc, end)
    match = re.match(r"[A-Za-z_][\w-]*|\S", text[loc:end])
    width = len(match.group()) if match else 1
    hint = None
    words = (*_CLAUSE_WORDS, *KEYWORDS)
    before = text[start:loc].split()
    if match and match.group() in (*RULE_CLAUSES, "param") and "for" in before:
        hint = "a rule's title, severity, other metadata and params come before its `for`"
    elif match and before and before[-1].isdigit() and match.group().lower() in _UNITS:
        hint = f"a duration is written as one word: {_UNITS[match.group().lower()].format(before[-1])}"
    elif match and match.group() == "param" and (default := _PARAM_NAMED.match(text, loc, end)):
        value = default.group(1)
        message = "syntax error: a parameter's default is a value written out, not a name"
        advice = f'a text is written in quotes: "{value}"'
        if value == "today":  # the check's date, which a config could not set per rule
            advice = "compare with today in the rule itself: i.start < today + grace"
        builder.problem("E100", message, default.start(1), default.end(1), advice)
        return
    elif match and match.group() == ":" and (kind := _KIND_BEFORE.search(text, max(start, loc - 20), loc)):
        id_ = _REFERENCE_ID.match(text, loc + 1, end).group()  # type: ignore[union-attr]
        width = len(kind.group(1)) + 1 + len(id_)
        advice = f'write "{kind.group(1)}:{id_ or "ID"}", and compare it with an entity\'s reference (x.ref)'
        builder.problem(
            "E100",
            "syntax error: a reference is a text, written in quotes",
            kind.start(1),
            kind.start(1) + width,
            advice,
        )
        return
    elif match and match.group() in _OTHER_OPERATORS:  # `≥`, `;`, `? :`: another notation's
        hint = _OTHER_OPERATORS[match.group()]
    elif match and match.group() == "[" and (indexed := _OPERAND.search(text, max(start, loc - 200), loc)):
        hint = f'a list has no positions: first({indexed.group(1)}), or "x" in {indexed.group(1)}'
    elif match and match.group() == "," and (grouped := _THOUSANDS.search(text, max(start, loc - 40), end)):
        if grouped.start(1) == loc:  # `1,000`
            hint = f"a number is written without separators: {grouped.group().replace(',', '')}"
    elif match and match.group() == "=" and text[loc + 1 : loc + 2] == "~":
        hint = f'did you mean {_operand_before(text, start, loc)} matches "regex"?'
    elif match and match.group() == "=" and text[loc + 1 : loc + 2] != "=":
        hint = "did you mean '=='? (= only gives a parameter, let or helper its value)"
        builder.problem("E100", "syntax error: '=' does not compare", loc, loc + width, hint)
        return
    elif match and match.group() == "+" and _AFTER_MESSAGE.search(text, max(start, loc - 400), loc):
        hint = 'a message puts values inside it in braces: "… {i.id}"'
    elif match and match.group() in _SQL_WORDS:
        hint = _sql_hint(match.group(), _operand_before(text, start, loc), text[loc:end])
    elif match and match.group() == "(" and (generator := _GENERATOR.match(text, loc, end)):
        callee = _METHOD_CALL.search(text, start, loc + 1)
        written = f"{callee.group(2) if callee else ''}([{generator.group(1).strip()}])"
        hint = f"a list of values is written in square brackets: {written}"
    elif match and match.group() == "(" and (call := _METHOD_CALL.search(text, start, loc + 1)):
        subject, name = call.groups()
        if name == "today":
            hint = "today is written without parentheses"
        elif subject and name in _functions():
            hint = f"did you mean {name}({subject})?"
        elif subject and name.lower() in _STRING_METHODS:
            close = text.find(")", loc, end)
            argument = text[loc + 1 : close].strip() if close != -1 else "…"
            hint = f"did you mean {subject} {_STRING_METHODS[name.lower()]} {argument}?"
    elif match and match.group() == "," and _FOR_VARIABLE.search(text, max(start, loc - 80), loc):
        hint = "a rule names one variable (for i in …), or a group's key and members (for period, group in …)"
    elif match and (id_kind := re.search(r"rule id|pack name", exc.msg)):  # written as plan ids are
        hint = f"a {id_kind.group()} is lower-case words joined by hyphens" + id_hint(match.group())
    elif match and before and before[-1] in _functions() and (called := _FIELD_PATH.match(text, loc, end)):
        hint = f"a function is called with parentheses: {before[-1]}({called.group()})"  # `exists i.owner`
    elif match and _furthest.loc == loc and _FIELD_READ.match(text, loc, end):  # a second test, not a typo
        expected = _expected_at_furthest(_grammar_for(builder)) or ""
        condition = text[loc:end].split("\n")[0].strip()
        if "'where'" in expected:
            hint = f"a condition starts with 'where': where {condition}"
        else:
            hint = f"two tests are joined by 'and' or 'or': and {condition}"
    elif match and match.group()[0].isalpha() and match.group() not in words:  # misspelt, not misplaced
        hint = did_you_mean(match.group(), words)
    if hint is None and _furthest.loc > loc and _furthest_problem(builder, start, end):
        return
    found = repr(match.group()) if match else "end of text"
    builder.problem("E100", f"syntax error: {exc.msg}, found {found}", loc, loc + width, hint)


_TOKEN = re.compile(r"#[^\n]*|\"[^\"\n]*\"|'[^'\n]*'|[A-Za-z_][\w-]*|\d[\w.]*|[=!<>]=|\S")  # comments too
# What a place expects, told by the first of these tokens that failed there
# (grammar.py names them); a value can start with a number, among others.
_EXPECTED = (("number", "a value"), ("name", "a name"), ("string", "a text in quotes"), ("field", "a field"))
_FIELD_READ = re.compile(r"[A-Za-z_]\w*\s*\.\s*[A-Za-z_]")
_BLANK = re.compile(r"(?:\s|#[^\n]*)*")
# What was written where another operator was meant: (before, found) -> the operator.
_SPLIT_OPERATORS = {("==", "="): "==", ("<", ">"): "!=", ("=", "="): "==", ("!", "="): "!="}


def _furthest_problem(builder: _Builder, start: int, end: int) -> bool:
    """Report the furthest failure, where the text stops making sense; false if it says nothing."""
    text = builder.source.text
    far = _furthest.loc
    expected = _expected_at_furthest(_grammar_for(builder))
    before = [m for m in _TOKEN.finditer(text, start, far) if not m.group().startswith("#")]
    if expected is None or not before:
        return False
    previous, at = before[-1].group(), before[-1].start()
    # The declaration, or its line, ends too soon: show where.
    if _BLANK.fullmatch(text, far, end) or "\n" in text[at:far]:
        message = f"syntax error: expected {expected} after {previous!r}"
        builder.problem("E100", message, at, at + len(previous))
        return True
    found = _TOKEN.match(text, far, end)
    written = found.group() if found else text[far]
    hint = None
    if (previous, written) in _SPLIT_OPERATORS:
        hint = f"did you mean '{_SPLIT_OPERATORS[previous, written]}'?"
    elif written == ":" and previous in _CLAUSE_WORDS:  # YAML's habit
        hint = f"a clause takes no colon: {previous} {text[far + 1 : end].split(chr(10))[0].strip()}"
    elif "','" in expected and written[0] in "\"'0123456789":
        hint = "separate the items with commas"
    elif _GROUPED_DIGITS.fullmatch(written):
        hint = f"a number is written without separators: {written.replace('_', '')}"
    message = f"syntax error: expected {expected} after {previous!r}, found {written!r}"
    builder.problem("E100", message, far, far + len(written), hint)
    return True


def _expected_at_furthest(grammar: Any) -> str | None:
    """What the tokens that failed furthest expected: a value, a name, a text, or words."""
    tried = {id(token): token for token in _furthest.tried}
    names = {str(token) for token in tried.values()}  # by name: pyparsing copies some tokens
    for name, what in _EXPECTED:
        if name in names:
            return what
    reserved = {id(word) for word in grammar.reserved}
    words = sorted(
        {
            f"'{token.match}'"
            for token in tried.values()
            if isinstance(token, pp.Literal | pp.Keyword) and id(token) not in reserved and token.match != "."
        }
    )
    if not words:
        return None
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]
