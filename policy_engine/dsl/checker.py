"""Names and types: every policy is checked against the plan model before it runs.

The checker resolves each name (variable, parameter, kind, relation, helper,
built-in) and types each expression, recording what it found per node for
the compiler. It reports every problem it finds; a node it cannot type gets
`any` so that one mistake does not cascade into many.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from policy_engine.diagnostics import Diagnostic, a_or_an, closest, did_you_mean, severity_hint
from policy_engine.dsl import ast
from policy_engine.dsl import types as t
from policy_engine.dsl.builtins import BUILTINS, Builtin
from policy_engine.dsl.regexes import RegexProblem, compile_safe
from policy_engine.plan.graph import relations
from policy_engine.plan.model import ID_RE, KINDS, MODELS, PERIOD_PATTERN, Duration, id_hint, id_meant
from policy_engine.report import SEVERITIES, counted, noun
from policy_engine.source import Span

# Helpers are inlined where they are called, so a chain of them, or one that calls
# another twice at every level, is as deep and as large as it is once written out.
MAX_WRITTEN_OUT_DEPTH = 150
MAX_WRITTEN_OUT_SIZE = 20_000

# Stable diagnostic codes; docs/language.md lists them with examples.
CODES = {
    "E100": "syntax error",
    "E102": "duplicate clause or declaration",
    "E103": "unclosed brace in a message",
    "E104": "invalid literal",
    "E105": "limit exceeded",
    "E200": "unknown name",
    "E201": "unknown kind",
    "E202": "unknown field or relation",
    "E203": "unknown function",
    "E204": "duplicate rule id",
    "E205": "name already defined",
    "E206": "unused parameter",
    "E207": "recursive helper",
    "E208": "invalid rule metadata",
    "E300": "type mismatch",
    "E301": "value outside the enumeration",
    "E302": "wrong arguments",
    "E303": "ordering an unordered value",
    "E304": "condition expected",
    "E305": "closure of something that is not a relation",
    "E306": "unsafe regular expression",
    "E307": "field of a set",
}


@dataclass(frozen=True, slots=True)
class FieldInfo:
    """How the compiler reads one `target.name`."""

    how: str  # field, relation, inverse, derived, pseudo, custom, struct
    name: str  # the field, or the relation's dotted name
    on_set: bool = False  # the target is a set: follow the relation from every member
    base: ast.Expr | None = None  # for decision.decides: the entity the block is on


@dataclass(frozen=True, slots=True)
class HelperSig:
    node: ast.Helper
    params: tuple[t.Type, ...]
    returns: t.Type
    depth: int = 0  # of its body once the helpers it calls are written out in it (the compiler inlines them)
    size: int = 0  # operations in that body


@dataclass(frozen=True, slots=True)
class RuleShape:
    """What a rule iterates over and which names its clauses see."""

    kinds: tuple[str, ...]  # subject kinds; empty for a rule over sets (cycles)
    witness: str | None  # the variable of a top-level `no`/`all` in require
    params: dict[str, t.Type]
    # A text parameter compared with an enumeration (`i.priority == top`): the values it may take.
    choices: dict[str, tuple[str, ...]]


@dataclass
class Checked:
    """Everything the compiler needs to know, keyed by node identity."""

    types: dict[int, t.Type] = field(default_factory=dict)
    fields: dict[int, FieldInfo] = field(default_factory=dict)
    names: dict[int, tuple[str, Any]] = field(default_factory=dict)
    calls: dict[int, Builtin | HelperSig] = field(default_factory=dict)
    regexes: dict[int, re.Pattern[str]] = field(default_factory=dict)
    helpers: dict[HelperKey, HelperSig] = field(default_factory=dict)
    shapes: dict[str, RuleShape] = field(default_factory=dict)
    # Keep the checked trees alive: the tables above are keyed by id(node).
    files: list[ast.PolicyFile] = field(default_factory=list)


Scope = dict[str, tuple[str, t.Type]]  # name -> ("var" | "param", type)
HelperKey = tuple[str, str]  # (pack, name): a helper belongs to the pack that defines it


def pack_of(tree: ast.PolicyFile) -> str:
    """The pack a file's rules and helpers belong to."""
    return tree.pack.name if tree.pack else "local"


class Checker:
    """Checks a set of policy files together.

    Rule ids are global. A helper belongs to its pack: a call finds the
    caller's own pack's helper first, else the one other pack that defines
    the name, so a project may define its own `open` beside the built-in
    pack's, and still call the built-in `current` without defining it.
    """

    def __init__(self) -> None:
        self.out = Checked()
        self.problems: list[Diagnostic] = []
        self._helper_nodes: dict[HelperKey, ast.Helper] = {}
        self._helper_names: set[str] = set()
        self._pack = "local"  # the pack of the rule or helper being checked
        self._checking: list[HelperKey] = []
        self._used_params: set[str] = set()
        self._param_nodes: dict[str, ast.Param] = {}  # the parameters of the rule being checked
        self._param_choices: dict[str, tuple[str, ...]] = {}  # see RuleShape.choices
        self._named_inside: dict[str, str] = {}  # quantified in `require`, unknown to the message: var -> op
        self._too_big: set[HelperKey] = set()  # helpers told E105

    def problem(self, code: str, message: str, span: Span, help: str | None = None) -> None:
        self.problems.append(Diagnostic(code, message, span, help))

    # ------------------------------------------------------------------ files
    def check(self, files: list[ast.PolicyFile], known_rules: set[str] | None = None) -> Checked:
        seen_rules: dict[str, ast.Rule] = {}
        for tree in files:
            for helper in tree.helpers:
                key = (pack_of(tree), helper.name)
                if key in self._helper_nodes or helper.name in BUILTINS:
                    first = self._helper_nodes.get(key)
                    where = (
                        f"first defined at {first.span.location}"
                        if first
                        else "a built-in function has that name"
                    )
                    self.problem("E205", f"function '{helper.name}' is already defined", helper.span, where)
                else:
                    self._helper_nodes[key] = helper
                    self._helper_names.add(helper.name)
        for tree in files:  # every helper before any rule, each after the helpers it calls
            for helper in tree.helpers:
                for key in self._callees_first((pack_of(tree), helper.name)):
                    self.helper(key)
        files = [self._short_forms(tree) for tree in files]
        self.out.files.extend(files)
        for tree in files:
            for rule in tree.rules:
                self._pack = pack_of(tree)
                span = rule.id_span or rule.span
                if rule.id in seen_rules or (known_rules and rule.id in known_rules):
                    earlier = seen_rules.get(rule.id)
                    hint = (
                        f"first defined at {(earlier.id_span or earlier.span).location}" if earlier else None
                    )
                    self.problem("E204", f"rule id '{rule.id}' is defined twice", span, hint)
                seen_rules[rule.id] = rule
                self.rule(rule)
        return self.out

    def _short_forms(self, tree: ast.PolicyFile) -> ast.PolicyFile:
        """DSL.md's short forms in a rule's `for` line, written out: in its `where` and
        `group by`, a bare field name is the subject's field (`priority`: `i.priority`)
        and a bare helper name is the helper called on the subject (`open`: `open(i)`)."""
        self._pack = pack_of(tree)
        helpers = {
            name
            for _, name in self._helper_nodes
            if (key := self._resolve(self._pack, name)) and len(self._helper_nodes[key].params) == 1
        }
        rules = []
        for rule in tree.rules:
            kinds = [closest(n.name, KINDS) or n.name for n in _kind_names(rule.source)]
            short = _ShortForms(
                rule.var,
                {name for kind in kinds if kind in MODELS for name in t.names_on(kind)},
                helpers,
                {rule.var, *(param.name for param in rule.params)},
            )
            where = short.written_out(rule.where) if rule.where is not None else None
            group = rule.group
            if group is not None and group.key is not None:
                group = dataclasses.replace(group, key=short.written_out(group.key))
            rules.append(dataclasses.replace(rule, where=where, group=group))
        return dataclasses.replace(tree, rules=tuple(rules))

    def _callees_first(self, root: HelperKey) -> list[HelperKey]:
        """`root` and the helpers it calls, each after those it calls: checked in this order, a
        chain of helpers is checked without recursion (a cycle is left to helper(), which tells it)."""
        order: list[HelperKey] = []
        state = {root}
        stack = [(root, iter(self._calls_of(root)))]
        while stack:
            key, callees = stack[-1]
            for callee in callees:
                if callee not in state:
                    state.add(callee)
                    stack.append((callee, iter(self._calls_of(callee))))
                    break
            else:
                stack.pop()
                order.append(key)
        return order

    def _calls_of(self, key: HelperKey) -> list[HelperKey]:
        if key not in self._helper_nodes:  # named as a built-in function: told E205, never checked
            return []
        body = self._helper_nodes[key].body
        calls = [n.function for n in _nodes(body) if isinstance(n, ast.Call) and n.function not in BUILTINS]
        return [callee for name in calls if (callee := self._resolve(key[0], name)) is not None]

    def _resolve(self, pack: str, name: str) -> HelperKey | None:
        """The helper a call to `name` from `pack` means: the pack's own, else the first other pack's."""
        if (pack, name) in self._helper_nodes:
            return (pack, name)
        return min((key for key in self._helper_nodes if key[1] == name), default=None)

    def _helper_key(self, name: str, span: Span) -> HelperKey | None:
        """The helper a call to `name` means: the caller's pack's, else another pack's."""
        if (self._pack, name) not in self._helper_nodes:
            others = sorted(key for key in self._helper_nodes if key[1] == name)
            if len(others) > 1:  # _resolve takes the first
                packs = " and ".join(pack for pack, _ in others)
                self.problem(
                    "E205",
                    f"function '{name}' is defined by packs {packs}",
                    span,
                    f"define it in pack {self._pack} to say which one this pack means",
                )
        return self._resolve(self._pack, name)

    def helper(self, key: HelperKey) -> HelperSig | None:
        if key in self.out.helpers:
            return self.out.helpers[key]
        node = self._helper_nodes.get(key)
        if node is None:
            return None
        if key in self._checking:
            names = [name for _, name in self._checking[self._checking.index(key) :]]
            chain = " -> ".join([*names, key[1]])
            self.problem("E207", f"helper '{key[1]}' calls itself ({chain})", node.span)
            return None
        if key in self._too_big:
            return None  # told once
        caller = self._pack
        self._pack = key[0]  # a helper's body calls its own pack's helpers first
        self._checking.append(key)
        scope: Scope = {}
        params = []
        for param in node.params:
            kinds = self.kinds(param.kinds, param.span)
            ptype = t.entity(kinds)
            params.append(ptype)
            if param.name in scope:
                self.problem("E205", f"parameter '{param.name}' is listed twice", param.span)
            scope[param.name] = ("var", ptype)
        returns = self.expr(node.body, scope)
        self._checking.pop()
        self._pack = caller
        depth, size = self._written_out(node.body)
        if self._too_large(depth, size, f"helper '{key[1]}'", node.span):
            self._too_big.add(key)
            return None
        sig = HelperSig(node, tuple(params), returns, depth, size)
        self.out.helpers[key] = sig
        return sig

    def _written_out(self, node: ast.Node) -> tuple[int, int]:
        """The depth and size of `node` once the helpers it calls are written out in it."""
        depth = size = 0
        stack = [(node, 1)]
        while stack:
            current, level = stack.pop()
            size += 1
            callee = self.out.calls.get(id(current)) if isinstance(current, ast.Call) else None
            if isinstance(callee, HelperSig):
                depth, size = max(depth, level + callee.depth), size + callee.size
            depth = max(depth, level)
            stack.extend((child, level + 1) for child in ast.children(current))
        return depth, size

    def _too_large(self, depth: int, size: int, what: str, span: Span) -> bool:
        """Past these the compiler, which inlines every helper call, would recurse or grow without end."""
        written_out = "once its helpers are written out"
        if depth > MAX_WRITTEN_OUT_DEPTH:
            message = f"{what} is more than {MAX_WRITTEN_OUT_DEPTH} operations deep {written_out}"
            hint = "fewer helpers calling one another in a chain"
        elif size > MAX_WRITTEN_OUT_SIZE:
            message = f"{what} is more than {MAX_WRITTEN_OUT_SIZE:,} operations {written_out}"
            hint = "a helper calls another more than once at each step: call it once"
        else:
            return False
        self.problem("E105", message, span, hint)
        return True

    def kinds(self, names: tuple[str, ...], span: Span) -> tuple[str, ...]:
        return tuple(k for k in (self._known_kind(name, span) for name in names) if k) or KINDS

    def _known_kind(self, name: str, span: Span) -> str | None:
        """`name` if it is a kind; else E201, and the kind it most likely means.

        The rest of the rule is then checked against the kind meant, so that
        `Initiatve` does not make every field read on it an error on all kinds.
        """
        if name in MODELS:
            return name
        meant = closest(name, KINDS)
        self.problem("E201", f"unknown kind '{name}'", span, f"did you mean '{meant}'?" if meant else None)
        return meant

    # ------------------------------------------------------------------ rules
    def rule(self, rule: ast.Rule) -> None:
        self._meta(rule)
        self._used_params = set()
        self._param_nodes = {param.name: param for param in rule.params}
        self._param_choices = {}
        params: dict[str, t.Type] = {}
        scope: Scope = {}
        for param in rule.params:
            if param.name in params:
                self.problem("E205", f"parameter '{param.name}' is defined twice", param.span)
            ptype = self.expr(param.default, {})
            if isinstance(param.default, ast.ListOf) and ptype.item == t.ANY and param.default.items:
                # The config file overrides a list with a list of the same type of value.
                self.problem("E300", "a list parameter holds values of one type", param.default.span)
            params[param.name] = ptype
            scope[param.name] = ("param", ptype)
        kinds = self._source_kinds(rule.source)
        if kinds:
            subject = t.entity(kinds)
            self.out.types[id(rule.source)] = t.kind_type(kinds)
        else:
            source_type = self.expr(rule.source, scope)
            if source_type.name == "list" and source_type.item and source_type.item.name == "set":
                subject = source_type.item
            else:
                if source_type.name != "any":
                    self.problem(
                        "E300",
                        f"a rule runs over a kind (for x in Initiative) or over cycles(...), "
                        f"not over {source_type}",
                        rule.source.span,
                    )
                subject = t.ANY
        inner = self._bind(scope, rule.var, subject, rule.span)
        if rule.where is not None:
            self.condition(rule.where, inner, "where")
            inner = narrowed(rule.where, inner)
            subject = inner[rule.var][1]
        if rule.group is not None:
            inner = dict(scope)
            if rule.group.key is not None and rule.group.name is not None:
                key_type = self.expr(rule.group.key, self._bind(scope, rule.var, subject, rule.span))
                if t.is_collection(key_type):
                    key = rule.group.key.span
                    # A subject is in one group: of a set or a list, the key can be one member.
                    help = f"group by one value, such as first({key.text})"
                    self.problem("E300", f"cannot group by a {key_type}", key, help)
                inner = self._bind(inner, rule.group.name, key_type, rule.group.span)
            inner = self._bind(inner, rule.group.members, t.entity_set(subject.kinds), rule.group.span)
        for let in rule.lets:
            inner = self._bind(inner, let.name, self.expr(let.expr, inner), let.span)
        witness = None
        outer = inner
        if rule.require is not None:
            self.condition(rule.require, inner, "require")
            req = rule.require
            if isinstance(req, ast.Quantifier) and req.op in ("no", "all"):
                witness = req.var
                item = t.item_type(self.out.types.get(id(req.source), t.ANY))
                outer = {**inner, req.var: ("var", item)}
                if req.where is not None and req.op == "no":  # the witness of `all` fails its condition
                    outer = narrowed(req.where, outer)
        if rule.message is not None:
            self._named_inside = {q.var: q.op for q in _quantifiers(rule.require) if q.var not in outer}
            for part in rule.message.parts:
                if not isinstance(part, str):
                    self.expr(part, outer)
            self._named_inside = {}
        if rule.related is not None:
            related = self.expr(rule.related, outer)
            if related.name not in ("set", "entity", "any"):
                self.problem("E300", f"related must name entities, not {related}", rule.related.span)
        at_kinds = subject.kinds if subject.name in ("entity", "set") else frozenset()
        for at in rule.at:
            self._check_at(at, at_kinds)
        for param in rule.params:
            if param.name not in self._used_params:
                self.problem("E206", f"parameter '{param.name}' is never used", param.span)
        self._too_large(*self._written_out(rule), f"rule {rule.id}", rule.id_span or rule.span)
        self.out.shapes[rule.id] = RuleShape(tuple(sorted(kinds)), witness, params, self._param_choices)

    def _meta(self, rule: ast.Rule) -> None:
        seen: set[str] = set()
        for meta in rule.meta:
            if meta.key in seen:
                self.problem("E102", f"rule {rule.id} sets '{meta.key}' twice", meta.span)
            seen.add(meta.key)
            if meta.key == "severity" and meta.value not in SEVERITIES:
                self.problem(
                    "E208",
                    f"severity must be error, warning or info, not '{meta.value}'",
                    meta.value_span or meta.span,
                    severity_hint(str(meta.value)),
                )

    def _source_kinds(self, source: ast.Expr) -> tuple[str, ...]:
        """The kinds of `for x in Kind | Kind`, or () when the source is an expression."""
        names = _kind_names(source)
        if not names:
            return ()
        kinds = []
        for name in names:
            kind = self._known_kind(name.name, name.span)
            if kind is not None:
                kinds.append(kind)
                self.out.names[id(name)] = ("kind", (kind,))
        return tuple(kinds) or KINDS

    def _check_at(self, at: ast.AtPath, kinds: frozenset[str]) -> None:
        if not kinds:
            return
        first, rest = at.path[0], at.path[1:]
        found = [a for a in (t.kind_access(k, first) for k in sorted(kinds)) if a is not None]
        if not found:
            names = [n for k in kinds for n in t.names_on(k)]
            self.problem(
                "E202",
                f"no field '{first}' on {' | '.join(sorted(kinds))}",
                at.span,
                did_you_mean(first, names),
            )
            return
        current = t.merge([a.type for a in found])
        for part in rest:
            fields = t.model_fields(current.model) if current.name == "struct" and current.model else {}
            if part not in fields:
                self.problem("E202", f"no field '{part}' in {current}", at.span, did_you_mean(part, fields))
                return
            current = fields[part]

    def _bind(self, scope: Scope, name: str, type_: t.Type, span: Span) -> Scope:
        if name in scope and scope[name][0] == "var":
            self.problem("E205", f"'{name}' is already bound here; choose another name", span)
        return {**scope, name: ("var", type_)}

    def condition(self, node: ast.Expr, scope: Scope, clause: str, before: ast.Expr | None = None) -> None:
        """`node` must be a condition; `before` is the left of the `and`/`or` it is the right of."""
        found = self.expr(node, scope)
        if found.name not in ("bool", "any"):
            written = node.span.text
            if isinstance(node, ast.Literal) and isinstance(before, ast.Binary) and before.op in _TESTS:
                # `i.title contains "AI" or "ML"`: the test is written again for each value
                again = f"{before.left.span.text} {before.op} {written}"
                hint = f"did you mean {before.span.text} {clause} {again}?"
                if before.op == "==" and clause == "or":  # one of several values
                    hint = f"did you mean {before.left.span.text} in [{before.right.span.text}, {written}]?"
            elif t.is_collection(found):  # `require i.owner`: "it has some"
                hint = f"to say it has some: count({written}) > 0, or any x in {written} where …"
            else:  # `require i.effort`: "it is written"
                hint = f"to say it is written: exists({written})"
            self.problem("E304", f"'{clause}' needs a condition, got {found}", node.span, hint)

    # ------------------------------------------------------------- expressions
    def expr(self, node: ast.Expr, scope: Scope) -> t.Type:
        method = getattr(self, f"_{type(node).__name__.lower()}")
        result: t.Type = method(node, scope)
        self.out.types[id(node)] = result
        return result

    def _literal(self, node: ast.Literal, scope: Scope) -> t.Type:
        return {
            "number": t.NUMBER,
            "string": t.STRING,
            "date": t.DATE,
            "duration": t.DURATION,
            "bool": t.BOOL,
        }[node.type]

    def _today(self, node: ast.Today, scope: Scope) -> t.Type:
        return t.DATE

    def _name(self, node: ast.Name, scope: Scope) -> t.Type:
        if node.name in scope:
            origin, type_ = scope[node.name]
            self.out.names[id(node)] = (origin, node.name)
            if origin == "param":
                self._used_params.add(node.name)
            return type_
        if node.name in MODELS:
            self.problem(
                "E300",
                f"'{node.name}' is a kind; use it as `for x in {node.name}` or as a function argument",
                node.span,
            )
            return t.ANY
        if node.name in self._helper_names or node.name in BUILTINS:
            variables = [name for name, (what, _) in scope.items() if what == "var" and name != ast.SUBJECT]
            call = f"{node.name}({variables[-1] if variables else '…'})"
            self.problem("E200", f"'{node.name}' is a function: call it, as in {call}", node.span)
            return t.ANY
        hint: str | None
        owner = next(
            (
                name
                for name, (what, type_) in reversed(scope.items())
                if what == "var"
                and type_.name == "entity"
                and any(node.name in t.model_fields(MODELS[kind]) for kind in type_.kinds)
            ),
            None,
        )
        if owner is not None:  # `where priority == "P0"`: a field of the rule's variable
            hint = f"did you mean {owner}.{node.name}?"
        elif node.name in _enum_values():
            hint = f'a value is written in quotes: "{node.name}"'
        elif _HALF_OR_QUARTER.fullmatch(node.name) and (
            year := _YEAR_BEFORE.search(node.span.source.text, max(0, node.span.start - 6), node.span.start)
        ):
            hint = f'a period is written in quotes: "{year.group(1)}-{node.name}"'
        elif node.name.lower() in ("null", "none", "nil", "undefined"):
            hint = "a value that is not written is tested with missing(x), one that is with exists(x)"
        elif (op := self._named_inside.get(node.name)) is not None:
            hint = f"'{node.name}' is named only inside `{op} {node.name} in …` in require"
            if op == "any":
                hint += ", which has no member to name when it fails"
            else:
                hint += (
                    f"; a message names it when require is that `{op}` alone: move the other tests to `where`"
                )
                hint += " or to a rule of their own"
        else:
            hint = did_you_mean(node.name, [*scope, *KINDS])
        self.problem("E200", f"unknown name '{node.name}'", node.span, hint)
        return t.ANY

    def _field(self, node: ast.Field, scope: Scope) -> t.Type:
        target = self.expr(node.target, scope)
        name = node.name
        span = node.name_span or node.span
        if target.name == "any":
            self.out.fields[id(node)] = FieldInfo("custom", name)
            return t.ANY
        if target.name in ("entity", "set"):
            on_set = target.name == "set"
            accesses = [(k, t.kind_access(k, name)) for k in sorted(target.kinds)]
            found = [(k, a) for k, a in accesses if a is not None]
            if not found:
                names = [n for k in target.kinds for n in t.names_on(k)]
                self.problem(
                    "E202",
                    f"no field or relation '{name}' on {' | '.join(sorted(target.kinds))}",
                    span,
                    did_you_mean(name, names),
                )
                return t.ANY
            hows = {a.how for _, a in found}
            how = "relation" if hows <= {"relation", "inverse"} else found[0][1].how
            result = t.merge([a.type for _, a in found])
            if on_set and how not in ("relation", "inverse"):
                of = _written(node.target)
                member = next((v for v in ("x", "m", "e") if v not in scope), "each")
                fix = f"[{member}.{name} for {member} in {of}]"
                self.problem("E307", f"'{name}' is a field, and this is a set: use any/all or {fix}", span)
                return t.ANY
            if how in ("relation", "inverse") and len(hows) > 1:
                how = "relation"  # forwards on some kinds, inverse on others: both are links
            self.out.fields[id(node)] = FieldInfo(how, name, on_set)
            if node.closure:
                if how not in ("relation", "inverse"):
                    self.problem(
                        "E305",
                        f"'{name}{node.closure}' needs a relation; '{name}' is a field",
                        span,
                    )
                    return t.ANY
                return result
            return result
        if target.name == "struct" and target.model is not None:
            fields = t.model_fields(target.model)
            if name not in fields:
                self.problem("E202", f"no field '{name}' in {target}", span, did_you_mean(name, fields))
                return t.ANY
            result = fields[name]
            if result.name == "set":
                base = node.target
                if not (isinstance(base, ast.Field) and id(base) in self.out.fields):
                    self.problem("E300", f"'{name}' can only be read on an entity's block", span)
                    return t.ANY
                block = self.out.fields[id(base)]
                relation = f"{block.name}.{name}"
                self.out.fields[id(node)] = FieldInfo("relation", relation, block.on_set, base.target)
            else:
                self.out.fields[id(node)] = FieldInfo("struct", name)
            if node.closure:
                self.problem("E305", f"closure '{node.closure}' is only for relations", span)
            return result
        self.problem("E300", f"a {target} has no field '{name}'", span)
        return t.ANY

    def _call(self, node: ast.Call, scope: Scope) -> t.Type:
        builtin = BUILTINS.get(node.function)
        if builtin is not None:
            self.out.calls[id(node)] = builtin
            return self._builtin(node, builtin, scope)
        key = self._helper_key(node.function, node.span)
        helper = self.helper(key) if key else None
        if helper is None:
            if key is None:
                names = [*BUILTINS, *sorted(self._helper_names)]
                ours = _OTHER_LANGUAGES.get(node.function.lower())
                hint = f"did you mean {ours}?" if ours else did_you_mean(node.function, names)
                if (example := _CONVERSIONS.get(node.function.lower())) is not None:
                    hint = _conversion_hint(node.args[0] if node.args else None, example)
                self.problem("E203", f"unknown function '{node.function}'", node.span, hint)
            for arg in node.args:
                self.expr(arg, scope)
            return t.ANY
        self.out.calls[id(node)] = helper
        if len(node.args) != len(helper.params):
            self.problem(
                "E302",
                f"{node.function}() takes {counted(len(helper.params), 'argument')}, got {len(node.args)}",
                node.span,
            )
        for arg, expected in zip(node.args, helper.params, strict=False):
            got = self.expr(arg, scope)
            if got.name == "any":
                continue
            if got.name != "entity" or not got.kinds <= expected.kinds:
                self.problem("E302", f"{node.function}() takes {expected}, got {got}", arg.span)
        return helper.returns

    def _builtin(self, node: ast.Call, builtin: Builtin, scope: Scope) -> t.Type:
        if not builtin.takes(len(node.args)):
            needed = len(builtin.params) - builtin.optional
            most = len(builtin.params)
            count = f"{needed} to {most}" if builtin.optional else str(needed)
            self.problem(
                "E302",
                f"{builtin.signature} takes {count} {noun(most, 'argument')}, got {len(node.args)}",
                node.span,
            )
            for arg, param in zip(node.args, builtin.params, strict=False):  # checked still
                self._argument(arg, param, builtin, scope)
            for arg in node.args[len(builtin.params) :]:
                self.expr(arg, scope)
            return t.ANY
        types = []
        for arg, param in zip(node.args, builtin.params, strict=False):
            types.append(self._argument(arg, param, builtin, scope))
        if isinstance(builtin.returns, t.Type):
            return builtin.returns
        return builtin.returns(types)

    def _argument(self, arg: ast.Expr, param: str, builtin: Builtin, scope: Scope) -> t.Type:
        if param == "kind":
            if isinstance(arg, ast.Name) and arg.name in MODELS:
                self.out.names[id(arg)] = ("kind", (arg.name,))
                found = t.kind_type((arg.name,))
                self.out.types[id(arg)] = found
                return found
            name = arg.name if isinstance(arg, ast.Name) else arg.span.text
            self.problem(
                "E201",
                f"{builtin.name}() takes a kind here, got '{name}'",
                arg.span,
                did_you_mean(name, KINDS),
            )
            return t.ANY
        if param == "relation":
            all_relations = {r for rels in relations().values() for r in rels}
            if isinstance(arg, ast.Name) and arg.name in all_relations:
                self.out.names[id(arg)] = ("relation", arg.name)
                self.out.types[id(arg)] = t.RELATION
                return t.RELATION
            name = arg.name if isinstance(arg, ast.Name) else arg.span.text
            self.problem(
                "E202",
                f"{builtin.name}() takes a relation here, got '{name}'",
                arg.span,
                did_you_mean(name, all_relations),
            )
            return t.ANY
        got = self.expr(arg, scope)
        if got.name == "any":
            return got
        ok = {
            "collection": t.is_collection(got),
            "value": not t.is_collection(got),
            "any": True,
            "entity": got.name == "entity",
            "string": t.is_stringish(got),
            "date": got.name == "date",
        }[param]
        if not ok:
            self.problem("E302", f"{builtin.signature}: argument must be a {param}, got {got}", arg.span)
        return got

    def _listof(self, node: ast.ListOf, scope: Scope) -> t.Type:
        items = [self.expr(item, scope) for item in node.items]
        if not items:
            return t.list_of(t.ANY)
        if all(i.name == "entity" for i in items):
            return t.entity_set(k for i in items for k in i.kinds)
        return t.list_of(t.merge(items))

    def _each(self, node: ast.Comprehension | ast.Quantifier, scope: Scope, what: str) -> Scope:
        """Bind the variable of `VAR in SOURCE where CONDITION`; the scope inside it."""
        source = self.expr(node.source, scope)
        if not t.is_collection(source) and source.name != "any":
            self.problem("E300", f"{what} runs over a set or list, not {source}", node.source.span)
        inner = self._bind(scope, node.var, t.item_type(source), node.span)
        if node.where is not None:
            self.condition(node.where, inner, "where")
            inner = narrowed(node.where, inner)
        return inner

    def _comprehension(self, node: ast.Comprehension, scope: Scope) -> t.Type:
        item = self.expr(node.expr, self._each(node, scope, "a comprehension"))
        if item.name == "entity":
            return t.entity_set(item.kinds)
        return t.list_of(item)

    def _quantifier(self, node: ast.Quantifier, scope: Scope) -> t.Type:
        self._each(node, scope, f"'{node.op}'")
        return t.BOOL

    def _conditional(self, node: ast.Conditional, scope: Scope) -> t.Type:
        self.condition(node.test, scope, "if")
        then, otherwise = self.expr(node.then, narrowed(node.test, scope)), self.expr(node.otherwise, scope)
        # Branches of different types (a date, or "never") give a value of either.
        return then if then == otherwise else t.ANY

    def _unary(self, node: ast.Unary, scope: Scope) -> t.Type:
        if node.op == "not":
            self.condition(node.operand, scope, "not")
            return t.BOOL
        operand = self.expr(node.operand, scope)
        if operand.name not in ("number", "any"):
            self.problem("E300", f"cannot negate a {operand}", node.span)
        return t.NUMBER

    def _binary(self, node: ast.Binary, scope: Scope) -> t.Type:
        op = node.op
        if op == "-" and "x" not in scope and (custom := _custom_field(node)):  # `x-cost`, not x minus cost
            owner = next((name for name, (what, _) in reversed(scope.items()) if what == "var"), "i")
            self.problem(
                "E200",
                f"unknown name '{custom}'",
                node.span,
                f"a custom field is read from its entity: {owner}.{custom}",
            )
            return t.ANY
        if op in ("and", "or"):
            self.condition(node.left, scope, op)
            # `x.kind == "Initiative" and open(x)`: the right side runs only where the left holds.
            self.condition(node.right, narrowed(node.left, scope) if op == "and" else scope, op, node.left)
            return t.BOOL
        left = self.expr(node.left, scope)
        right = self.expr(node.right, scope)
        if "any" in (left.name, right.name) and op not in ("in", "not in", "matches"):
            return t.BOOL if op in _COMPARISONS else t.ANY
        if op in ("==", "!="):
            self._comparable(node, left, right)
            return t.BOOL
        if op in ("<", "<=", ">", ">="):
            self._ordered(node, left, right)
            return t.BOOL
        if op in ("in", "not in"):
            if right.name == "any":
                return t.BOOL
            if not t.is_collection(right):
                hint = None
                if isinstance(node.right, ast.Literal) and node.right.type == "string":
                    hint = f"a list is written in square brackets: [{node.right.span.text}]"
                elif right.name == "string" and op == "in":
                    hint = f"for a part of a text: {node.right.span.text} contains {node.left.span.text}"
                message = f"'{op}' needs a set or list on its right, got {right}"
                self.problem("E300", message, node.right.span, hint)
                return t.BOOL
            self._member(node.left, left, node.right, right)
            return t.BOOL
        if op in ("starts with", "ends with"):
            if not (t.is_stringish(left) and t.is_stringish(right)):
                self.problem("E300", f"'{op}' compares strings, got {left} and {right}", node.span)
            self._lowered_against_capitals(node)
            return t.BOOL
        if op == "contains":
            self._lowered_against_capitals(node)
            if t.is_collection(left):
                if not t.comparable(t.item_type(left), right):
                    self.problem("E300", f"{_a(left)} never contains {_a(right)}", node.span)
            elif not (t.is_stringish(left) and t.is_stringish(right)):
                self.problem("E300", f"'contains' needs a string or a collection, got {left}", node.left.span)
            return t.BOOL
        if op == "matches":
            if not t.is_stringish(left):
                self.problem("E300", f"'matches' tests a string, got {left}", node.left.span)
            if not (isinstance(node.right, ast.Literal) and node.right.type == "string"):
                self.problem("E300", "'matches' takes a pattern written as a string", node.right.span)
                return t.BOOL
            try:
                self.out.regexes[id(node)] = compile_safe(node.right.value)
            except RegexProblem as exc:
                self.problem("E306", str(exc), node.right.span, exc.hint)
            return t.BOOL
        if op == "|":
            if left.name == "set" and right.name == "set":
                return t.entity_set(left.kinds | right.kinds)
            if left.name == "list" and right.name == "list" and left.item and right.item:
                return t.list_of(t.merge([left.item, right.item]))
            self.problem("E300", f"'|' joins two sets or two lists, got {left} and {right}", node.span)
            return t.ANY
        return self._arithmetic(node, left, right)

    def _arithmetic(self, node: ast.Binary, left: t.Type, right: t.Type) -> t.Type:
        op = node.op
        pair = (left.name, right.name)
        if pair == ("number", "number"):
            return t.NUMBER
        if op in ("+", "-") and pair == ("date", "duration"):
            return t.DATE
        if op == "+" and pair == ("duration", "date"):
            return t.DATE
        if op == "-" and pair == ("date", "date"):
            return t.NUMBER
        if op == "+" and t.is_stringish(left) and t.is_stringish(right):
            return t.STRING  # texts joined: `i.period + " / " + i.id`, a group key of two fields
        hint = None
        if op in ("+", "-") and "date" in pair and "number" in pair:
            hint = "a duration has a unit: 30d, 4w, P3M or P1Y"
        self.problem("E300", f"cannot compute {left} {op} {right}", node.span, hint)
        return t.ANY

    def _comparable(self, node: ast.Binary, left: t.Type, right: t.Type) -> None:
        if not t.comparable(left, right):
            hint = (
                _unquote_hint(node, left, right)
                or _reference_hint(node, left, right)
                or _days_hint(node, left, right)
                or _membership_hint(node, left, right)
            )
            self.problem("E300", f"cannot compare {_a(left)} with {_a(right)}", node.span, hint)
            return
        self._enum_literal(left, node.right)
        self._enum_literal(right, node.left)
        self._shaped_literal(node.left, node.right)
        self._shaped_literal(node.right, node.left)
        self._lowered_against_capitals(node)

    def _lowered_against_capitals(self, node: ast.Binary) -> None:
        """`lower(i.title) == "AI"` (or `contains "AI"`) can never hold: say so where the capitals are."""
        sides = [(node.left, node.right)]
        if node.op in ("==", "!="):  # the one test that reads both ways
            sides.append((node.right, node.left))
        for lowered, other in sides:
            text = other.value if isinstance(other, ast.Literal) and isinstance(other.value, str) else ""
            if isinstance(lowered, ast.Call) and lowered.function == "lower" and text != text.lower():
                never = f"is never {text!r}" if node.op in ("==", "!=") else f"never {node.op} {text!r}"
                message = f"{lowered.span.text} is lower-case text: it {never}"
                self.problem("E301", message, other.span, f"did you mean {text.lower()!r}?")

    def _enum_literal(self, enum: t.Type, other: ast.Expr) -> None:
        """A text written against an enumeration must be one of its values (so must a parameter's default)."""
        if enum.name != "enum":
            return
        self._note_choices(other, enum)
        other = self._written_value(other)
        if not isinstance(other, ast.Literal) or other.type != "string":
            return
        if other.value not in enum.values:
            choices = [str(v) for v in enum.values]
            self.problem(
                "E301",
                f"{other.value!r} is not one of {', '.join(map(repr, choices))}",
                other.span,
                did_you_mean(str(other.value), choices),
            )

    def _ordered(self, node: ast.Binary, left: t.Type, right: t.Type) -> None:
        for side, other in ((left, node.right), (right, node.left)):
            if side.name == "enum" and not side.order:
                self.problem("E303", f"{side} has no order; compare with == or in", node.span)
                return
            self._enum_literal(side, other)
        pair = {left.name, right.name}
        if pair <= {"number"} or pair <= {"date"} or pair <= {"duration"}:
            return
        if pair == {"enum"} and left.order == right.order:
            return
        if pair == {"enum", "string"}:
            return
        if pair == {"string"}:
            self.problem(
                "E300",
                "texts have no order: < and > compare numbers, dates, durations and priorities",
                node.span,
                "compare texts with ==, in, starts with, ends with, contains or matches",
            )
            return
        hint = _unquote_hint(node, left, right) or _days_hint(node, left, right)
        self.problem("E300", f"cannot order {_a(left)} against {_a(right)}", node.span, hint)

    def _member(self, left_node: ast.Expr, left: t.Type, right_node: ast.Expr, right: t.Type) -> None:
        item = t.item_type(right)
        if not t.comparable(left, item):
            self.problem("E300", f"{_a(left)} is never in {_a(right)}", right_node.span)
            return
        if left.name == "enum":
            self._note_choices(right_node, left)
            for literal in self._written_items(right_node):
                self._enum_literal(left, literal)
        for literal in self._written_items(right_node):
            self._shaped_literal(left_node, literal)

    def _shaped_literal(self, side: ast.Expr, other: ast.Expr) -> None:
        """A text written against a period, an id or a reference must be one (`"2027-Q5"` never matches)."""
        shape = _SHAPES.get(side.name) if isinstance(side, ast.Field) and not side.closure else None
        other = self._written_value(other)
        if shape and isinstance(other, ast.Literal) and other.type == "string":
            pattern, what, meant = shape
            if not pattern.fullmatch(other.value):
                self.problem("E301", f"{other.value!r} is not {what}", other.span, meant(other.value))

    def _param_name(self, node: ast.Expr) -> str | None:
        """The rule parameter `node` names, if it names one."""
        if isinstance(node, ast.Name) and self.out.names.get(id(node), ("",))[0] == "param":
            return node.name
        return None

    def _note_choices(self, node: ast.Expr, enum: t.Type) -> None:
        """A parameter compared with an enumeration: the config and case files may set only its values."""
        name = self._param_name(node)
        if name is not None:
            self._param_choices[name] = tuple(str(v) for v in enum.values)

    def _written_value(self, node: ast.Expr) -> ast.Expr:
        """What an expression is as written: a parameter's default (`param top = "P1"`), else itself."""
        name = self._param_name(node)
        return node if name is None else self._param_nodes[name].default

    def _written_items(self, node: ast.Expr) -> tuple[ast.Expr, ...]:
        """The items of a list written in the policy: a list literal, or a list parameter's default."""
        written = self._written_value(node)
        return written.items if isinstance(written, ast.ListOf) else ()


@dataclass(frozen=True, slots=True)
class _ShortForms:
    """Writes out the bare names of a rule's `for` line (see Checker._short_forms)."""

    var: str  # the rule's subject
    fields: set[str]  # the names readable on its kinds
    helpers: set[str]  # helpers of one parameter
    bound: set[str]  # the rule's variable and parameters

    def written_out(self, node: Any) -> Any:
        if "x" not in self.bound and (custom := _custom_field(node)):
            return ast.Field(ast.Name(self.var, span=node.span), custom, name_span=node.span, span=node.span)
        if isinstance(node, ast.Name) and node.name not in self.bound:
            subject = ast.Name(self.var, span=node.span)
            if node.name in self.fields:
                return ast.Field(subject, node.name, name_span=node.span, span=node.span)
            if node.name in self.helpers:
                return ast.Call(node.name, (subject,), span=node.span)
        if isinstance(node, ast.Quantifier | ast.Comprehension):  # names inside are the member's
            return dataclasses.replace(node, source=self.written_out(node.source))
        if isinstance(node, ast.Call) and node.function in BUILTINS:  # `path(a, b, depends_on)`
            kinds = BUILTINS[node.function].params
            args = [
                a if n < len(kinds) and kinds[n] in ("kind", "relation") else self.written_out(a)
                for n, a in enumerate(node.args)
            ]
            return dataclasses.replace(node, args=tuple(args))
        changed = {
            name: self.written_out(value)
            if isinstance(value, ast.Node)
            else tuple(self.written_out(v) if isinstance(v, ast.Node) else v for v in value)
            for name in node.__dataclass_fields__
            if isinstance(value := getattr(node, name), ast.Node | tuple)
        }
        return dataclasses.replace(node, **changed) if changed else node


_CUSTOM_FIELD = re.compile(r"x-[a-z0-9]+(?:-[a-z0-9]+)*")


def _custom_field(node: ast.Node) -> str | None:
    """`x-cost-center` written without its entity, which parses as x minus cost minus center."""
    left = node
    while isinstance(left, ast.Binary) and left.op == "-":
        left = left.left
    if left is node or not (isinstance(left, ast.Name) and left.name == "x"):
        return None
    return node.span.text if _CUSTOM_FIELD.fullmatch(node.span.text) else None


def _kind_names(source: ast.Expr) -> list[ast.Name]:
    """The names of `for x in Kind | Kind`, in order, or [] when the source is an expression."""
    names: list[ast.Name] = []
    node: ast.Expr = source
    while isinstance(node, ast.Binary) and node.op == "|" and isinstance(node.right, ast.Name):
        names.append(node.right)
        node = node.left
    if not isinstance(node, ast.Name):
        return []
    names.append(node)
    if not all(n.name[:1].isupper() for n in names):
        return []
    return names[::-1]


def narrowed(condition: ast.Expr, scope: Scope) -> Scope:
    """The scope where `condition` holds: a variable whose kind it tests has that kind.

    `x.kind == "Initiative"` and `x.kind in ["Initiative", "Outcome"]`, alone
    or among the terms of an `and`, narrow `x` (of `p.owner_of`, say, which
    holds several kinds) so that a helper taking an Initiative accepts it.
    """
    if isinstance(condition, ast.Binary) and condition.op == "and":
        return narrowed(condition.right, narrowed(condition.left, scope))
    tested = _kind_test(condition)
    if tested is None:
        return scope
    name, kinds = tested
    origin, type_ = scope.get(name, ("", t.ANY))
    if origin != "var" or type_.name != "entity" or not type_.kinds & kinds:
        return scope
    return {**scope, name: (origin, t.entity(type_.kinds & kinds))}


def _kind_test(node: ast.Expr) -> tuple[str, frozenset[str]] | None:
    """`x.kind == "K"` or `x.kind in ["K", …]` as (x, its kinds); None for anything else."""
    if not isinstance(node, ast.Binary):
        return None
    pairs: list[tuple[ast.Expr, tuple[ast.Expr, ...]]]
    if node.op == "==":
        pairs = [(node.left, (node.right,)), (node.right, (node.left,))]
    elif node.op == "in" and isinstance(node.right, ast.ListOf):
        pairs = [(node.left, node.right.items)]
    else:
        return None
    for read, values in pairs:
        if not (isinstance(read, ast.Field) and read.name == "kind" and not read.closure):
            continue
        if not isinstance(read.target, ast.Name):
            continue
        texts = [v.value for v in values if isinstance(v, ast.Literal) and v.type == "string"]
        if len(texts) == len(values):
            return read.target.name, frozenset(texts)
    return None


_COMPARISONS = {
    "==",
    "!=",
    "<",
    "<=",
    ">",
    ">=",
    "in",
    "not in",
    "starts with",
    "ends with",
    "contains",
}
# Tests of a value against another, the value on the left: `x.title contains "AI"`.
_TESTS = (_COMPARISONS - {"in", "not in"}) | {"matches"}


# Functions of other languages that a policy writes another way.
_OTHER_LANGUAGES = {
    "len": "'count'",
    "length": "'count'",
    "size": "'count'",
    "str": "'text'",
    "coalesce": "'default'",
    "isnull": "'missing'",
    "is_null": "'missing'",
    "now": "'today', without parentheses",
    "lowercase": "'lower'",
    "tolower": "'lower'",
}
# Conversions of other languages: a policy writes the value itself (`date("2027-01-15")`).
_CONVERSIONS = {"date": "2027-01-15", "duration": "30d or P3M", "int": "3", "float": "0.5", "number": "3"}


def _conversion_hint(argument: ast.Expr | None, example: str) -> str:
    if isinstance(argument, ast.Literal) and isinstance(argument.value, str):
        return f"write the value itself, without quotes: {argument.value}"
    if argument is not None:
        return f"use {argument.span.text} as it is: a value needs no conversion"
    return f"write the value itself: {example}"


_WRITTEN_BARE = {
    "date": re.compile(r"\d{4}-\d{2}-\d{2}"),
    "duration": re.compile(r"P(\d+[YMWD])+|\d+[dw]"),
    "number": re.compile(r"-?\d+(\.\d+)?"),
}


@functools.cache
def _enum_values() -> frozenset[str]:
    """Every value of an enumeration of the plan schema (`active`, `P1`): written bare, a mistake."""
    return frozenset(
        str(v) for model in MODELS.values() for f in t.model_fields(model).values() for v in f.values
    )


def _reference_hint(node: ast.Binary, left: t.Type, right: t.Type) -> str | None:
    """An entity compared with the text of its reference: say how to compare references."""
    for side, entity_node, other in ((left, node.left, node.right), (right, node.right, node.left)):
        if side.name not in ("entity", "set") or not isinstance(other, ast.Literal) or other.type != "string":
            continue
        written, ref = entity_node.span.text, json.dumps(other.value)
        if side.name == "entity":
            return f"compare its reference: {written}.ref == {ref}"
        return f"compare the references of its members: {ref} in [x.ref for x in {written}]"
    return None


def _days_hint(node: ast.Binary, left: t.Type, right: t.Type) -> str | None:
    """A number of days (`i.target - i.start`) against a duration: say what each is."""
    if {left.name, right.name} != {"number", "duration"}:
        return None
    number, duration = (node.left, node.right) if left.name == "number" else (node.right, node.left)
    days = "a number of days"
    if isinstance(duration, ast.Literal) and isinstance(duration.value, Duration):
        value = duration.value
        if not (value.years or value.months):  # a month has no fixed number of days
            days = str(value.weeks * 7 + value.days)
    counts_days = (isinstance(number, ast.Binary) and number.op == "-") or (
        isinstance(number, ast.Call) and number.function == "days_between"
    )
    if counts_days:
        return f"{number.span.text} is a number of days: compare it with {days}"
    return "a duration is added to a date or taken from one (i.start + 30d); it is not a number"


def _a(type_: t.Type) -> str:
    """A type as a sentence names one: "a date", "an Initiative", "a value of 'P0', 'P1'"."""
    if type_.name == "enum":
        return "a value of " + ", ".join(map(repr, type_.values))
    return a_or_an(str(type_))


def _membership_hint(node: ast.Binary, left: t.Type, right: t.Type) -> str | None:
    """`i.tags == "x"`, a list against one of its members: membership is written with `in`."""
    if node.op not in ("==", "!="):
        return None
    sides = ((left, right, node.left, node.right), (right, left, node.right, node.left))
    for many, one, collection, member in sides:
        if t.is_collection(many) and t.comparable(t.item_type(many), one):
            test = f"{member.span.text} in {collection.span.text}"
            return f"did you mean {test if node.op == '==' else f'not ({test})'}?"
    return None


def _unquote_hint(node: ast.Binary, left: t.Type, right: t.Type) -> str | None:
    """A date or duration written in quotes is a string, a text without them a number: say how to write it."""
    for side, other in ((left, node.right), (right, node.left)):
        pattern = _WRITTEN_BARE.get(side.name)
        text = other.value if isinstance(other, ast.Literal) and other.type == "string" else None
        if pattern and isinstance(text, str) and pattern.fullmatch(text):
            return f"a {side.name} is written without quotes: {text}"
        if side.name == "string" and isinstance(other, ast.Literal) and other.type == "number":
            return f'a text is written in quotes: "{other.span.text}"'  # `i.period == 2027`
    return None


_PERIOD = re.compile(PERIOD_PATTERN)
_PERIOD_PARTS = re.compile(r"(?i)(\d{4})\W*([QH])\W*(\d)|([QH])\W*(\d)\W*(\d{4})")


def _period_hint(text: str) -> str | None:
    """`2027q1`, `Q1 2027`, `2027 - Q1`: the period meant, if it is one."""
    found = _PERIOD_PARTS.fullmatch(text.strip())
    if found is None:
        return None
    year, part, number = found.group(1, 2, 3) if found.group(1) else found.group(6, 4, 5)
    meant = f"{year}-{part.upper()}{number}"
    return f"did you mean '{meant}'?" if _PERIOD.fullmatch(meant) else None


def _id_hint(text: str) -> str | None:
    return id_hint(text).removeprefix("; ") or None  # the plan loader's hint, as a hint of its own


_REF = re.compile(f"(?:{'|'.join(kind.lower() for kind in KINDS)}):[a-z0-9]+(?:-[a-z0-9]+)*")


def _ref_hint(text: str) -> str | None:
    kind, colon, id_ = text.partition(":")
    kind, id_ = kind.strip().lower(), id_.strip()
    meant = f"{kind}:{id_meant(id_) or id_}"
    return f"did you mean '{meant}'?" if colon and meant != text and _REF.fullmatch(meant) else None


# Fields whose texts have a shape: a text of another shape compared with one never matches.
_SHAPES: dict[str, tuple[re.Pattern[str], str, Callable[[str], str | None]]] = {
    "period": (_PERIOD, "a period: a year (2027), a half (2027-H1) or a quarter (2027-Q1)", _period_hint),
    "id": (ID_RE, "an id: lower-case letters and digits, in words joined by hyphens", _id_hint),
    "ref": (_REF, "a reference: kind:id, in lower case (person:maria-lopez)", _ref_hint),
}


# `i.period == 2027-Q1`: the period written as the plan writes it, read as 2027 minus a name.
_HALF_OR_QUARTER = re.compile(r"Q[1-4]|H[12]")
_YEAR_BEFORE = re.compile(r"\b(\d{4})-\Z")


def _nodes(node: ast.Node) -> Iterator[ast.Node]:
    """`node` and every node inside it, without recursion."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(ast.children(current))


def _quantifiers(node: ast.Node | None) -> Iterator[ast.Quantifier]:
    return (n for n in (_nodes(node) if node is not None else ()) if isinstance(n, ast.Quantifier))


def _written(node: ast.Expr) -> str:
    """A name or a path of relations as the policy writes it (`i.uses.depends_on*`), else `...`."""
    if isinstance(node, ast.Name):
        return node.name
    if isinstance(node, ast.Field) and (target := _written(node.target)) != "...":
        return f"{target}.{node.name}{node.closure}"
    return "..."
