"""Policies to compiled rules: parse → check names and types → lower to closures.

The stages run in that order because each trusts the one before: the
checker needs complete trees, and lowering relies on every name being
resolved and every operator typed. Each stage collects all of its problems;
compilation stops after the first stage that found any.

Lowered code is Python closures over the checked tree; policy text is never
handed to eval or exec, and a closure can only do what the language offers.
Variables live in a flat list (`env`): env[0] is the evaluation context,
env[1] the rule's parameters, and every binding has its own slot.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, TypeVar

from pydantic import BaseModel

from policy_engine.diagnostics import CompileError, Diagnostic
from policy_engine.dsl import ast
from policy_engine.dsl import types as t
from policy_engine.dsl.builtins import Builtin
from policy_engine.dsl.checker import Checked, Checker, HelperSig, pack_of
from policy_engine.dsl.runtime import EvalContext, entity_key, format_value
from policy_engine.plan.loader import PlanEntity
from policy_engine.plan.model import Duration, review_expires_on, rice_score
from policy_engine.source import SourceFile

Env = list[Any]
Fn = Callable[[Env], Any]
FIRST_SLOT = 2


# Given a group's label and members (sorted), whether to judge it (see recheck.py).
GroupFilter = Callable[[str, list[PlanEntity]], bool]


@dataclass(frozen=True, slots=True)
class RawFinding:
    """A rule's verdict before the engine locates it and applies waivers."""

    rule: CompiledRule
    message: str
    subject: PlanEntity | None
    group: str | None
    related: tuple[PlanEntity, ...]
    located_on: PlanEntity | None
    failed: bool = False  # the rule raised on this subject


@dataclass(eq=False)
class CompiledRule:
    """A rule ready to evaluate against any number of graphs."""

    id: str
    title: str
    severity: str
    pack: str
    path: str
    waivable: bool
    fails_from: date | None
    rationale: str
    doc: str
    link: str | None
    tags: tuple[str, ...]
    params: dict[str, Any]
    at: tuple[tuple[str, ...], ...]
    source_text: str
    run: Callable[
        [EvalContext, dict[str, Any], Collection[PlanEntity] | None, GroupFilter | None], Iterator[RawFinding]
    ] = field(repr=False)
    walks: tuple[str, ...] = ()  # relations whose closures (`x.rel+`, `x.rel*`) it follows
    follows: tuple[str, ...] = ()  # every relation it may follow, forwards or back (`i.reviewed_by`)
    # Whether its findings may read more than its subjects and what their
    # relations reach (`cycles(Initiative, depends_on)`): see recheck.py.
    plan_wide: bool = True
    subject_kinds: tuple[str, ...] = ()  # the kinds its `for` line names
    # (kind, relation) when its `for` line is `cycles(Kind, relation)` and the
    # rest reads no more than what the cycles' members reach: see recheck.py.
    cycles_of: tuple[str, str] | None = None
    grouped: bool = False  # whether it has `group by`: its verdicts are on groups of subjects
    helpers: tuple[tuple[str, str], ...] = ()  # (where, source) of each helper it calls, for explain
    # A text parameter compared with an enumeration: the values the config and case files may give it.
    choices: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def evaluate(
        self,
        ctx: EvalContext,
        params: dict[str, Any] | None = None,
        only: Collection[PlanEntity] | None = None,
        groups: GroupFilter | None = None,
    ) -> list[RawFinding]:
        """The rule's findings; with `only`, those of these subjects alone (a rule without `group by`);
        with `groups`, those of the groups it wants judged (given each group's label and members)."""
        # A list from the config file or a case file reads as the tuple a default is.
        given = {k: tuple(v) if isinstance(v, list) else v for k, v in (params or {}).items()}
        values = {**self.params, **given}
        return list(self.run(ctx, values, only, groups))


def compile_sources(sources: Sequence[SourceFile]) -> list[CompiledRule]:
    """Compile policy files together; raises CompileError with every problem found."""
    return compile_trees(parse_sources(sources))


def parse_sources(sources: Sequence[SourceFile]) -> list[ast.PolicyFile]:
    """Stage 1, parse. A file with syntax errors fails, but the declarations
    that did parse are still checked, so that a typo in one rule is reported
    with a syntax error in another, rather than after it is fixed."""
    from policy_engine.dsl.parser import parse  # pyparsing only when there is text to parse

    trees: list[ast.PolicyFile] = []
    problems: list[Diagnostic] = []
    broken: set[str] = set()
    for source in sources:
        tree, found, unparsed = parse(source)
        trees.append(tree)
        problems.extend(found)
        broken |= unparsed
    if problems:
        if "pack" not in broken:  # without its pack line, a file's helpers and rules are misplaced
            checker = Checker()
            checker.check(trees)
            problems += [d for d in checker.problems if not _calls_unparsed(d, broken)]
        raise CompileError(_sorted(problems))
    return trees


def _calls_unparsed(problem: Diagnostic, broken: set[str]) -> bool:
    """A call of a helper whose `def` has a syntax error: that error says it already."""
    return problem.code == "E203" and problem.span.text.split("(")[0].strip() in broken


def compile_trees(trees: Sequence[ast.PolicyFile]) -> list[CompiledRule]:
    """Stages 2 and 3: check names and types across all files, then lower to closures."""
    checker = Checker()
    checked = checker.check(list(trees))
    if checker.problems:
        raise CompileError(_sorted(checker.problems))
    rules = []
    for tree in checked.files:  # as checked: the `for` line's short forms written out
        for rule in tree.rules:
            rules.append(_Lowerer(checked).rule(rule, pack_of(tree), tree.span.source))
    return rules


def _definition(helper: ast.Helper) -> str:
    """A helper's source as written, without the comments and blank lines after it."""
    lines = helper.span.text.splitlines()
    while lines and (not lines[-1].strip() or lines[-1].lstrip().startswith("#")):
        lines.pop()
    return "\n".join(lines)


def _sorted(problems: list[Diagnostic]) -> list[Diagnostic]:
    return sorted(problems, key=lambda d: (d.span.source.path, d.span.start, d.code))


class _Lowerer:
    def __init__(self, checked: Checked) -> None:
        self.checked = checked
        self.slots = FIRST_SLOT
        self.walks: set[str] = set()
        self.helpers: dict[int, ast.Helper] = {}  # in the order first called

    def slot(self) -> int:
        self.slots += 1
        return self.slots - 1

    # ------------------------------------------------------------------ rules
    def rule(self, rule: ast.Rule, pack: str, source: SourceFile) -> CompiledRule:
        shape = self.checked.shapes[rule.id]
        scope: dict[str, int] = {}
        var_slot = self.slot()
        scope[rule.var] = var_slot
        where = self.expr(rule.where, scope) if rule.where is not None else None
        group_key = group_slot = key_slot = None
        inner = dict(scope)
        if rule.group is not None:
            inner = {}
            if rule.group.key is not None and rule.group.name is not None:
                group_key = self.expr(rule.group.key, scope)
                key_slot = self.slot()
                inner[rule.group.name] = key_slot
            group_slot = self.slot()
            inner[rule.group.members] = group_slot
        lets = []
        for let in rule.lets:
            fn = self.expr(let.expr, inner)
            let_slot = self.slot()
            inner = {**inner, let.name: let_slot}
            lets.append((let_slot, fn))
        require = violators = None
        outer = inner
        if rule.require is not None:
            req = rule.require
            if shape.witness is not None and isinstance(req, ast.Quantifier):
                witness_slot = self.slot()
                violators = self._violators(req, inner, witness_slot)
                outer = {**inner, req.var: witness_slot}
            else:
                require = self.expr(req, inner)
        message = self.template(rule.message, outer) if rule.message else None
        related = self.expr(rule.related, outer) if rule.related is not None else None
        title = rule.meta_value("title", rule.id)
        n_slots = self.slots
        kinds = shape.kinds
        witness_at = outer.get(shape.witness) if shape.witness else None
        source_fn = None if kinds else self.expr(rule.source, {})

        def subjects(ctx: EvalContext, env: Env) -> Iterator[Any]:
            if kinds:
                for kind in kinds:
                    yield from ctx.graph.by_kind[kind]
            else:
                assert source_fn is not None
                yield from source_fn(env)

        def judge(env: Env) -> tuple[bool, list[Any]]:
            """Whether the subject passes, and the violators of a `no`/`all` require."""
            for let_slot, fn in lets:
                env[let_slot] = fn(env)
            if violators is not None:
                found = violators(env)
                if found and witness_at is not None:
                    env[witness_at] = found[0]
                return not found, found
            if require is not None:
                return bool(require(env)), []
            return False, []

        def report(
            env: Env,
            compiled: CompiledRule,
            subject: PlanEntity | None,
            group: str | None,
            default_related: Sequence[Any],
            located: PlanEntity | None,
            keep_order: bool,
        ) -> RawFinding:
            text = message(env) if message else f"{title}"
            if related is not None:
                found = related(env)
                entities = [found] if isinstance(found, PlanEntity) else list(found or ())
            else:
                entities = [e for e in default_related if isinstance(e, PlanEntity)]
            entities = list(dict.fromkeys(entities))
            if not keep_order:
                entities.sort(key=entity_key)
            return RawFinding(compiled, text, subject, group, tuple(entities), located)

        def failure(
            compiled: CompiledRule, subject: PlanEntity | None, group: str | None, exc: Exception
        ) -> RawFinding:
            what = str(exc) if isinstance(exc, ValueProblem) else f"{type(exc).__name__}: {exc}"
            text = f"rule {compiled.id} failed here: {what}"
            return RawFinding(compiled, text, subject, group, (), subject, failed=True)

        compiled = CompiledRule(
            id=rule.id,
            title=title,
            severity=rule.meta_value("severity", "error"),
            pack=pack,
            path=source.path,
            waivable=rule.meta_value("waivable", True),
            fails_from=rule.meta_value("fails_from"),
            rationale=rule.meta_value("why", ""),
            doc=rule.meta_value("doc", ""),
            link=rule.meta_value("link"),
            tags=tuple(rule.meta_value("tags", ())),
            params={p.name: p.value for p in rule.params},
            choices=shape.choices,
            at=tuple(a.path for a in rule.at) or (_fields_read(rule) if kinds and rule.group is None else ()),
            source_text=rule.span.text,
            run=lambda ctx, params, only, groups: iter(()),
        )

        def run_subjects(
            ctx: EvalContext,
            params: dict[str, Any],
            only: Collection[PlanEntity] | None,
            wanted: GroupFilter | None,
        ) -> Iterator[RawFinding]:
            env: Env = [None] * n_slots
            env[0], env[1] = ctx, params
            for subject in subjects(ctx, env):
                if only is not None and subject not in only:
                    continue
                env[var_slot] = subject
                try:
                    if where is not None and not where(env):
                        continue
                    ok, found = judge(env)
                    if ok:
                        continue
                    if kinds:
                        yield report(env, compiled, subject, None, found, subject, False)
                    else:  # a rule over sets (cycles): the smallest id speaks for the set
                        first = min(subject, key=entity_key)
                        yield report(env, compiled, first, None, subject, first, True)
                except Exception as exc:
                    yield failure(compiled, subject if kinds else None, None, exc)

        def run_groups(
            ctx: EvalContext,
            params: dict[str, Any],
            only: Collection[PlanEntity] | None,
            wanted: GroupFilter | None,
        ) -> Iterator[RawFinding]:
            assert only is None, "a group is judged whole"
            env: Env = [None] * n_slots
            env[0], env[1] = ctx, params
            groups: dict[str, tuple[Any, list[PlanEntity]]] = {}
            for subject in subjects(ctx, env):
                env[var_slot] = subject
                try:
                    if where is not None and not where(env):
                        continue
                    key = group_key(env) if group_key is not None else "plan"
                except Exception as exc:
                    yield failure(compiled, subject, None, exc)
                    continue
                label = key if key.__class__ is str else format_value(key)  # text reads as itself
                group = groups.get(label)
                if group is None:
                    groups[label] = group = (key, [])
                group[1].append(subject)
            if group_key is None and not groups:
                groups["plan"] = ("plan", [])  # `group all` judges the plan even when nothing is selected
            for label in sorted(groups):
                key, members = groups[label]
                members.sort(key=entity_key)
                if wanted is not None and not wanted(label, members):
                    continue
                if key_slot is not None:
                    env[key_slot] = key
                env[group_slot] = tuple(members)  # type: ignore[index]
                try:
                    ok, _ = judge(env)
                    if ok:
                        continue
                    yield report(env, compiled, None, label, members, members[0] if members else None, False)
                except Exception as exc:
                    yield failure(compiled, None, label, exc)

        compiled.run = run_groups if rule.group is not None else run_subjects
        compiled.walks = tuple(sorted(self.walks))
        compiled.follows = tuple(sorted(self._relations_named(rule)))
        reads_plan_wide = self._reads_plan_wide(rule)
        compiled.plan_wide = not kinds or reads_plan_wide
        compiled.cycles_of = None if reads_plan_wide else self._cycles_of(rule.source)
        compiled.subject_kinds = tuple(kinds)
        compiled.grouped = rule.group is not None
        compiled.helpers = tuple((str(h.span.location), _definition(h)) for h in self.helpers.values())
        return compiled

    def _violators(self, node: ast.Quantifier, scope: dict[str, int], witness_slot: int) -> Fn:
        """The members that break a top-level `no` or `all`, sorted; the first is the witness."""
        source = self.expr(node.source, scope)
        unordered = self._unordered(node.source, scope)
        slot = self.slot()
        where = self.expr(node.where, {**scope, node.var: slot}) if node.where else None
        breaks_when = node.op == "no"

        def collect(env: Env, items: Iterable[Any]) -> list[Any]:
            found = []
            for item in items:
                env[slot] = item
                holds = True if where is None else bool(where(env))
                if holds is breaks_when:
                    found.append(item)
            return found

        def violators(env: Env) -> list[Any]:
            found = _in_any_order(collect, env, source, unordered)
            if found and isinstance(found[0], PlanEntity):
                found.sort(key=entity_key)
            return found

        fast = self._some_member(node, scope)
        if fast is None:
            return violators
        return lambda env: [] if fast(env) is False else violators(env)

    def _free_names(self, node: Any) -> set[str]:
        """The variables (and lets) an expression reads that it does not bind itself."""
        if isinstance(node, ast.Name):
            origin = self.checked.names.get(id(node), ("", ""))[0]
            return set() if origin in ("param", "kind", "relation") else {node.name}
        if isinstance(node, ast.Quantifier | ast.Comprehension):
            inside = set().union(*(self._free_names(n) for n in ast.children(node) if n is not node.source))
            return self._free_names(node.source) | (inside - {node.var})
        return set().union(*(self._free_names(n) for n in ast.children(node)))

    def _some_member(self, node: ast.Quantifier, scope: dict[str, int]) -> Fn | None:
        """Whether some member of a closure decides the quantifier, without walking the closure.

        That is, for `any` and `no`, some member meets `where`; for `all`,
        some member does not. For `x.rel+` and `x.rel*` (of an entity or a
        set) when `where` is a conjunction of tests of the member alone and,
        but for `all`, at most one ordering of the member against the
        subject (`d.priority < i.priority`): the member that orders lowest
        (or highest) among those that pass the tests is found once per run
        for every strongly connected component, in one linear pass
        (`EvalContext.best_below`). A subject then costs the size of its
        source, not of its closure: a chain of n dependencies no longer costs
        n² for the rule. The function gives None where the members are few
        (`Reachability.short`) or the pass could not be made: the caller then
        walks them.
        """
        source = node.source
        info = self.checked.fields.get(id(source)) if isinstance(source, ast.Field) else None
        if info is None or info.how not in ("relation", "inverse") or node.where is None:
            return None
        assert isinstance(source, ast.Field)
        tests: list[ast.Expr] = []
        orderings: list[ast.Binary] = []
        for term in _conjuncts(node.where):
            free = self._free_names(term)
            if free <= {node.var}:
                tests.append(term)
            elif isinstance(term, ast.Binary) and term.op in _ORDER:
                orderings.append(term)
            else:
                return None
        breaks_all = node.op == "all"
        if not source.closure or len(orderings) > (0 if breaks_all else 1):
            return None
        slot = self.slot()
        inner = {**scope, node.var: slot}
        passes = [self.expr(term, inner) for term in tests]
        key: Callable[[Any], Any] = _same
        pick: Callable[[Any, Any], Any] = max  # without an ordering, any member that passes will do
        member = outer = compare = None
        if orderings:
            (term,) = orderings
            left_free, right_free = self._free_names(term.left), self._free_names(term.right)
            if left_free <= {node.var} and node.var not in right_free:
                member_side, outer_side, op = term.left, term.right, term.op
            elif right_free <= {node.var} and node.var not in left_free:
                member_side, outer_side, op = term.right, term.left, _FLIPPED[term.op]
            else:
                return None
            lt, rt = self.type_of(term.left), self.type_of(term.right)
            enum = lt if lt.name == "enum" else rt if rt.name == "enum" else None
            if enum is not None and enum.order:
                key = {v: len(enum.order) - i for i, v in enumerate(enum.order)}.get  # as _ordering ranks
            elif self.type_of(member_side).name not in ("number", "date"):
                return None  # an x- field may hold values that do not order among themselves
            member, outer = self.expr(member_side, inner), self.expr(outer_side, scope)
            compare = _ORDER[op]
            pick = min if op in ("<", "<=") else max
        target = self.expr(info.base if info.base is not None else source.target, scope)
        relation, reflexive, on_set = info.name, source.closure == "*", info.on_set
        site = object()

        def value_of(env: Env, entity: PlanEntity) -> Any:
            env[slot] = entity
            if all(test(env) for test in passes) is breaks_all:
                return None
            return True if member is None else key(member(env))

        def some(env: Env) -> bool | None:
            ctx: EvalContext = env[0]
            table = ctx.reachability(relation)
            if table.all_short:
                return None
            try:
                sources = [e for e in (target(env) if on_set else (target(env),)) if e is not None]
                comps = [table.component(e) for e in sources]
                if all(comp is None or table.short(comp) for comp in comps):
                    return None
                best = ctx.best_below(site, env[1], relation, lambda e: value_of(env, e), pick)
                if best is None:
                    return None
                found = None
                for e, comp in zip(sources, comps, strict=True):
                    for value in (
                        best[comp] if comp is not None else None,
                        value_of(env, e) if reflexive else None,
                    ):
                        if value is not None:
                            found = value if found is None else pick(found, value)
                if found is None or compare is None or outer is None:
                    return found is not None
                bound = key(outer(env))
                return bound is not None and bool(compare(found, bound))
            except Exception:  # fail, if at all, where the walk over the members fails
                return None

        return some

    def _relations_named(self, rule: ast.Rule) -> set[str]:
        """Every relation the rule and the helpers it calls name, as the checker resolved them.

        Read from the tree rather than gathered while lowering, so that no
        way of lowering a relation can leave one out: the graph makes only
        the inverse relations that some rule names.
        """
        found: set[str] = set()
        stack: list[ast.Node] = [rule, *self.helpers.values()]
        while stack:
            node = stack.pop()
            info = self.checked.fields.get(id(node)) if isinstance(node, ast.Field) else None
            if info is not None and info.how in ("relation", "inverse"):
                found.add(info.name)
            named = self.checked.names.get(id(node)) if isinstance(node, ast.Name) else None
            if named is not None and named[0] == "relation":
                found.add(named[1])
            stack.extend(ast.children(node))
        return found

    def _cycles_of(self, source: ast.Expr) -> tuple[str, str] | None:
        """(kind, relation) when `source` is `cycles(Kind, relation)`."""
        if not (isinstance(source, ast.Call) and source.function == "cycles" and len(source.args) == 2):
            return None
        kind, relation = (self.checked.names.get(id(arg)) for arg in source.args)
        if kind is None or relation is None or kind[0] != "kind" or relation[0] != "relation":
            return None
        return kind[1][0], relation[1]

    def _reads_plan_wide(self, rule: ast.Rule) -> bool:
        """Whether the rule, past its `for` line's kinds, reads more than what its subjects' relations reach.

        A kind named as a value (`cycles(Initiative, depends_on)`) or a path
        along every relation reads the plan at large: a re-check evaluates
        such a rule again after any edit (see recheck.py).
        """
        parts: list[ast.Node | None] = [rule.where, rule.group.key if rule.group else None, rule.message]
        parts += [*(let.expr for let in rule.lets), rule.require, rule.related]
        stack = [part for part in parts + [h.body for h in self.helpers.values()] if part is not None]
        while stack:
            node = stack.pop()
            if isinstance(node, ast.Call) and (
                node.function == "cycles" or (node.function == "path" and len(node.args) < 3)
            ):
                return True
            if isinstance(node, ast.Name) and self.checked.names.get(id(node), ("",))[0] == "kind":
                return True
            stack.extend(ast.children(node))
        return False

    def _unordered(self, node: ast.Expr, scope: dict[str, int]) -> Fn | None:
        """A closure (`x.rel+`, `x.rel*`) as a set, for who needs its members in no order.

        Sorting every reachable set costs more than the rule that reads it;
        `no`, `all` and `any` only test each member, and sort what they keep.
        """
        info = self.checked.fields.get(id(node)) if isinstance(node, ast.Field) and node.closure else None
        if info is None or info.how not in ("relation", "inverse"):
            return None
        assert isinstance(node, ast.Field)
        target = self.expr(info.base if info.base is not None else node.target, scope)
        relation, reflexive = info.name, node.closure == "*"
        self.walks.add(relation)
        if info.on_set:

            def members_of_set(env: Env) -> frozenset[PlanEntity]:
                table = env[0].reachability(relation)
                return frozenset().union(*(table.members(e, reflexive) for e in target(env)))

            return members_of_set

        def members(env: Env) -> frozenset[PlanEntity]:
            e = target(env)
            return env[0].reachability(relation).members(e, reflexive) if e is not None else frozenset()

        return members

    def template(self, node: ast.Template, scope: dict[str, int]) -> Fn:
        parts: list[str | Fn] = [p if isinstance(p, str) else self.expr(p, scope) for p in node.parts]

        def render(env: Env) -> str:
            return "".join(p if isinstance(p, str) else format_value(p(env)) for p in parts)

        return render

    # ------------------------------------------------------------- expressions
    def expr(self, node: ast.Expr, scope: dict[str, int]) -> Fn:
        method = getattr(self, f"_{type(node).__name__.lower()}")
        fn: Fn = method(node, scope)
        return fn

    def type_of(self, node: ast.Expr) -> t.Type:
        return self.checked.types.get(id(node), t.ANY)

    def _literal(self, node: ast.Literal, scope: dict[str, int]) -> Fn:
        value = node.value
        return lambda env: value

    def _today(self, node: ast.Today, scope: dict[str, int]) -> Fn:
        return lambda env: env[0].as_of

    def _name(self, node: ast.Name, scope: dict[str, int]) -> Fn:
        origin, value = self.checked.names[id(node)]
        if origin == "param":
            name = value
            return lambda env: env[1][name]
        if origin in ("kind", "relation"):
            const = value[0] if origin == "kind" else value
            return lambda env: const
        slot = scope[node.name]
        return operator.itemgetter(slot)

    def _field(self, node: ast.Field, scope: dict[str, int]) -> Fn:
        info = self.checked.fields.get(id(node))
        name = node.name
        if info is None:
            return lambda env: None
        base_node = info.base if info.base is not None else node.target
        target = self.expr(base_node, scope)
        how = info.how
        if how in ("relation", "inverse"):
            relation = info.name
            if node.closure:
                reflexive = node.closure == "*"
                self.walks.add(relation)
                if info.on_set:

                    def closure_of_set(env: Env) -> tuple[PlanEntity, ...]:
                        reach = env[0].closure(relation, reflexive)
                        return tuple(dict.fromkeys(x for e in target(env) for x in reach(e)))

                    return closure_of_set

                def closure_of(env: Env) -> tuple[PlanEntity, ...]:
                    e = target(env)
                    return env[0].closure(relation, reflexive)(e) if e is not None else ()

                return closure_of
            if info.on_set:

                def follow_set(env: Env) -> tuple[PlanEntity, ...]:
                    return tuple(dict.fromkeys(x for e in target(env) for x in e.links.get(relation, ())))

                return follow_set

            def follow(env: Env) -> tuple[PlanEntity, ...]:
                e = target(env)
                return e.links.get(relation, ()) if e is not None else ()

            return follow
        # Field values are read from the model's __dict__, where pydantic keeps
        # them: getattr() on a model that lacks the field (p.status when p is
        # a Team) costs 3.6 µs in pydantic's __getattr__, a dict miss 0.1 µs.
        if how == "field":

            def read(env: Env) -> Any:
                e = target(env)
                return e.model.__dict__.get(name) if e is not None else None

            return read
        if how == "struct":

            def read_block(env: Env) -> Any:
                block = target(env)
                return block.__dict__.get(name) if isinstance(block, BaseModel) else None

            return read_block
        if how == "pseudo":
            getter = operator.attrgetter(name)
            return lambda env: getter(e) if (e := target(env)) is not None else None
        if how == "derived":
            kind, derive = _DERIVED[name]

            def derived(env: Env) -> Any:
                e = target(env)
                return derive(e.model) if e is not None and e.kind == kind else None

            return derived

        def custom(env: Env) -> Any:  # an x- field, or a value of unknown type
            value = target(env)
            if isinstance(value, PlanEntity):
                return value.extras.get(name)
            if isinstance(value, dict):
                return value.get(name)
            return None

        return custom

    def _call(self, node: ast.Call, scope: dict[str, int]) -> Fn:
        target = self.checked.calls[id(node)]
        args = [self.expr(arg, scope) for arg in node.args]
        if isinstance(target, Builtin):
            impl = target.impl
            if target.needs_context:
                return lambda env: impl(env[0], *[a(env) for a in args])
            if len(args) == 1:
                (only,) = args
                return lambda env: impl(only(env))
            return lambda env: impl(*[a(env) for a in args])
        return self._inline(target, args)

    def _inline(self, helper: HelperSig, args: list[Fn]) -> Fn:
        """A helper call: its body is lowered at the call site with fresh slots."""
        self.helpers.setdefault(id(helper.node), helper.node)
        slots = [self.slot() for _ in helper.node.params]
        body = self.expr(
            helper.node.body, {p.name: s for p, s in zip(helper.node.params, slots, strict=True)}
        )
        if len(slots) == 1:
            (slot,), (arg,) = slots, args

            def call_one(env: Env) -> Any:
                env[slot] = arg(env)
                return body(env)

            return call_one
        pairs = list(zip(slots, args, strict=True))

        def call(env: Env) -> Any:
            for s, a in pairs:
                env[s] = a(env)
            return body(env)

        return call

    def _listof(self, node: ast.ListOf, scope: dict[str, int]) -> Fn:
        if all(isinstance(i, ast.Literal) for i in node.items):
            values = tuple(i.value for i in node.items)  # type: ignore[union-attr]
            return lambda env: values
        items = [self.expr(i, scope) for i in node.items]
        return lambda env: tuple(i(env) for i in items)

    def _comprehension(self, node: ast.Comprehension, scope: dict[str, int]) -> Fn:
        source = self.expr(node.source, scope)
        slot = self.slot()
        inner = {**scope, node.var: slot}
        where = self.expr(node.where, inner) if node.where else None
        expr = self.expr(node.expr, inner)
        as_set = self.type_of(node).name == "set"

        def comprehend(env: Env) -> tuple[Any, ...]:
            out = []
            for item in source(env):
                env[slot] = item
                if where is None or where(env):
                    out.append(expr(env))
            if as_set:
                return tuple(dict.fromkeys(x for x in out if x is not None))
            return tuple(out)

        return comprehend

    def _quantifier(self, node: ast.Quantifier, scope: dict[str, int]) -> Fn:
        source = self.expr(node.source, scope)
        slot = self.slot()
        where = self.expr(node.where, {**scope, node.var: slot}) if node.where else None
        op = node.op
        if where is None:
            if op == "any":
                return lambda env: len(source(env)) > 0
            if op == "no":
                return lambda env: len(source(env)) == 0
            return lambda env: True

        if op == "all":

            def every(env: Env, items: Iterable[Any]) -> bool:
                for item in items:
                    env[slot] = item
                    if not where(env):
                        return False
                return True

            test = every
        else:
            wanted = op == "any"

            def some(env: Env, items: Iterable[Any]) -> bool:
                for item in items:
                    env[slot] = item
                    if where(env):
                        return wanted
                return not wanted

            test = some
        unordered = self._unordered(node.source, scope)

        def quantified(env: Env) -> bool:
            return _in_any_order(test, env, source, unordered)

        fast = self._some_member(node, scope)
        if fast is None:
            return quantified
        decides = op == "any"  # what a member that decides makes of the quantifier

        def quantified_fast(env: Env) -> bool:
            found = fast(env)
            return quantified(env) if found is None else found is decides

        return quantified_fast

    def _conditional(self, node: ast.Conditional, scope: dict[str, int]) -> Fn:
        test, then, otherwise = (self.expr(n, scope) for n in (node.test, node.then, node.otherwise))
        return lambda env: then(env) if test(env) else otherwise(env)

    def _unary(self, node: ast.Unary, scope: dict[str, int]) -> Fn:
        operand = self.expr(node.operand, scope)
        if node.op == "not":
            return lambda env: not operand(env)
        return lambda env: -v if isinstance(v := operand(env), int | float) else None

    def _binary(self, node: ast.Binary, scope: dict[str, int]) -> Fn:
        op = node.op
        left = self.expr(node.left, scope)
        right = self.expr(node.right, scope)
        if op == "and":
            return lambda env: bool(left(env)) and bool(right(env))
        if op == "or":
            return lambda env: bool(left(env)) or bool(right(env))
        lt, rt = self.type_of(node.left), self.type_of(node.right)
        if op in (*_ORDER, "==", "!=", "+", "-"):
            left, right = _as_time_where_expected(left, lt, rt), _as_time_where_expected(right, rt, lt)
        if op in ("==", "!="):
            return _equality(op, left, right, node.right)
        if op in _ORDER:
            return _ordering(_ORDER[op], left, right, lt, rt, node)
        if op in ("in", "not in"):
            return _membership(op == "in", left, right, node.right)
        if op == "contains":
            if t.is_collection(lt):
                return _membership(True, right, left, None)
            return _strings(operator.contains, left, right)
        if op == "starts with":
            return _strings(str.startswith, left, right)
        if op == "ends with":
            return _strings(str.endswith, left, right)
        if op == "matches":
            pattern = self.checked.regexes[id(node)]
            search = pattern.search
            return lambda env: isinstance(v := left(env), str) and search(v) is not None
        if op == "|":
            return _union(left, right)
        return _arithmetic(op, left, right)


_DERIVED: dict[str, tuple[str, Callable[[Any], Any]]] = {
    "expires_on": ("Review", review_expires_on),
    "rice_score": ("Initiative", rice_score),
}
_ORDER = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}
_FLIPPED = {"<": ">", "<=": ">=", ">": "<", ">=": "<="}  # `a < b` is `b > a`


def _same(value: Any) -> Any:
    return value


def _conjuncts(node: ast.Expr) -> list[ast.Expr]:
    """`a and (b and c)` as [a, b, c]."""
    if isinstance(node, ast.Binary) and node.op == "and":
        return [*_conjuncts(node.left), *_conjuncts(node.right)]
    return [node]


def _equality(op: str, left: Fn, right: Fn, right_node: ast.Expr) -> Fn:
    if isinstance(right_node, ast.Literal) and right_node.value is not None:
        const = right_node.value
        if op == "==":
            return lambda env: left(env) == const
        return lambda env: (v := left(env)) is not None and v != const
    compare = operator.eq if op == "==" else operator.ne

    def equality(env: Env) -> bool:
        a = left(env)
        if a is None:
            return False
        b = right(env)
        return b is not None and bool(compare(a, b))

    return equality


def _ordering(
    compare: Callable[[Any, Any], bool],
    left: Fn,
    right: Fn,
    lt: t.Type,
    rt: t.Type,
    node: ast.Binary,
) -> Fn:
    enum = lt if lt.name == "enum" else rt if rt.name == "enum" else None
    if enum is not None and enum.order:
        # Ordered enumerations compare by rank: the first value is the highest.
        rank = {v: len(enum.order) - i for i, v in enumerate(enum.order)}.get

        def ranked(env: Env) -> bool:
            a = rank(left(env))
            if a is None:
                return False
            b = rank(right(env))
            return b is not None and compare(a, b)

        return ranked

    def ordering(env: Env) -> bool:
        a = left(env)
        if a is None:
            return False
        b = right(env)
        if b is None:
            return False
        try:
            return compare(a, b)
        except TypeError:  # values of an x- field can be of any type
            return False

    return ordering


def _membership(positive: bool, item: Fn, collection: Fn, collection_node: ast.Expr | None) -> Fn:
    if isinstance(collection_node, ast.ListOf) and all(
        isinstance(i, ast.Literal) for i in collection_node.items
    ):
        members = frozenset(i.value for i in collection_node.items)  # type: ignore[union-attr]
        if positive:
            return lambda env: item(env) in members
        return lambda env: (v := item(env)) is not None and v not in members

    def membership(env: Env) -> bool:
        v = item(env)
        if v is None:
            return False
        found = v in (collection(env) or ())
        return found if positive else not found

    return membership


def _strings(test: Callable[[Any, Any], bool], left: Fn, right: Fn) -> Fn:
    def strings(env: Env) -> bool:
        a, b = left(env), right(env)
        return isinstance(a, str) and isinstance(b, str) and bool(test(a, b))

    return strings


W = TypeVar("W")  # what a walk over members gives


def _in_any_order(walk: Callable[[Env, Iterable[Any]], W], env: Env, ordered: Fn, unordered: Fn | None) -> W:
    """`walk` over the unordered members when there are any, else in order.

    A walk that raises is walked again in order, so that a rule that fails
    fails on the same member, with the same message, on every run.
    """
    if unordered is None:
        return walk(env, ordered(env))
    try:
        return walk(env, unordered(env))
    except Exception:
        return walk(env, ordered(env))


def _union(left: Fn, right: Fn) -> Fn:
    return lambda env: tuple(dict.fromkeys((*(left(env) or ()), *(right(env) or ()))))


def _as_time_where_expected(read: Fn, own: t.Type, other: t.Type) -> Fn:
    """An x- field read where it meets a date or a duration: YAML 1.2 and JSON
    give `x-decided: 2027-03-01` as a text, which the writer meant as a date."""
    if own.name != "any" or other.name not in ("date", "duration"):
        return read

    def as_time(env: Env) -> Any:
        value = read(env)
        return _time_in(value) if isinstance(value, str) else value

    return as_time


def _time_in(text: str) -> Any:
    """The date (YYYY-MM-DD) or ISO duration (P12M) a text spells, else the text."""
    try:
        if _ISO_DATE.fullmatch(text):
            return date.fromisoformat(text)
        if text.startswith("P"):
            return Duration.parse(text)
    except ValueError:
        pass
    return text


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_ARITHMETIC = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv}
_ARITHMETIC_WORDS = {"+": "add", "-": "subtract", "*": "multiply", "/": "divide"}


class ValueProblem(TypeError):
    """A value of the plan that an operation cannot take (an x- field's text in a sum)."""


def _arithmetic(op: str, left: Fn, right: Fn) -> Fn:
    compute = _ARITHMETIC[op]

    def arithmetic(env: Env) -> Any:
        a = left(env)
        if a is None:
            return None
        b = right(env)
        if b is None:
            return None
        if isinstance(a, date):
            if isinstance(b, Duration):
                return b.add_to(a, 1 if op == "+" else -1)
            if isinstance(b, date):
                return (a - b).days
        elif isinstance(b, date) and isinstance(a, Duration):
            return a.add_to(b)
        elif _is_number(a) and _is_number(b):
            return None if op == "/" and b == 0 else compute(a, b)
        elif op == "+" and isinstance(a, str) and isinstance(b, str):
            return a + b
        # Nothing else, as the checker says: an x- field's text or list times a number
        # would repeat it (`[1, 2] * 1000000000`), not fail.
        raise ValueProblem(f"cannot {_ARITHMETIC_WORDS[op]} {_described(a)} and {_described(b)}")

    return arithmetic


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _described(value: Any) -> str:
    """A value as a message names it: `the text '7'`, `the duration P1M`."""
    if isinstance(value, str):
        return f"the text {value!r}"
    if isinstance(value, bool):
        return f"the value {format_value(value)}"
    if isinstance(value, int | float):
        return f"the number {format_value(value)}"
    if isinstance(value, date | Duration):
        return f"the {'date' if isinstance(value, date) else 'duration'} {format_value(value)}"
    if isinstance(value, PlanEntity):
        return value.ref
    return "a list" if isinstance(value, list | tuple | frozenset) else "a block of fields"


def _fields_read(rule: ast.Rule) -> tuple[tuple[str, ...], ...]:
    """Where a subject rule without `at` is located: the subject's fields its test reads.

    In the order `require` (else `where`) reads them, each field path before
    its shorter prefixes: `v.due_diligence.completed`, then `v.due_diligence`;
    `i.owner.status` is located at `owner`, the field the subject wrote.
    """
    lets = {let.name: let.expr for let in rule.lets}
    paths: dict[tuple[str, ...], None] = {}

    def walk(node: ast.Node) -> None:
        if isinstance(node, ast.Field):
            names: list[str] = []
            target: ast.Expr = node
            while isinstance(target, ast.Field):
                names.append(target.name)
                target = target.target
            if isinstance(target, ast.Name) and target.name == rule.var:
                names.reverse()
                paths.update(dict.fromkeys(tuple(names[:end]) for end in range(len(names), 0, -1)))
                return
        if isinstance(node, ast.Name) and node.name in lets:
            walk(lets.pop(node.name))  # a let read twice is walked once
        for child in ast.children(node):
            walk(child)

    test = rule.require if rule.require is not None else rule.where
    if test is not None:
        walk(test)
    return tuple(paths)
