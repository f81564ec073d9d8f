"""What compiled rules evaluate against: the context of one run, and its caches.

Transitive relations are computed once per run and relation, over strongly
connected components, so that `i.depends_on+` costs about linear time for a
whole rule, not per subject.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from pydantic import BaseModel

from policy_engine.plan.graph import Graph, relations
from policy_engine.plan.loader import PlanEntity
from policy_engine.plan.model import Duration, Ref

Entities = tuple[PlanEntity, ...]

# Reachable sets are made with the walk while they hold at most this many
# entities per entity and link of the walk (see Reachability).
EAGER_REACH = 4
# A subject walks a reachable set of at most this many members; a rule that
# can decide a bigger one per component (`best_below`) does so instead.
SHORT_REACH = 64


def entity_key(e: PlanEntity) -> tuple[str, str]:
    return (e.kind, e.id)


@dataclass(eq=False)
class EvalContext:
    """One evaluation: the graph, the as-of date, the rules loaded, shared caches."""

    graph: Graph
    as_of: date
    rules: dict[str, bool] = field(default_factory=dict)  # rule id -> waivable
    _closures: dict[str, Reachability] = field(default_factory=dict)
    _cycles: dict[tuple[str, str], list[Entities]] = field(default_factory=dict)
    _bests: dict[object, tuple[object, list[Any] | None]] = field(default_factory=dict)
    # Relation -> where its walk may start: only these and what they reach are asked about
    # (a re-check's subjects); an entity outside is walked to all the same (Reachability).
    roots: dict[str, list[PlanEntity]] = field(default_factory=dict)

    def closure(self, relation: str, reflexive: bool) -> Callable[[PlanEntity], Entities]:
        """`e.relation+` (or `*`): every entity reachable, sorted by kind and id."""
        table = self.reachability(relation)
        return table.reflexive if reflexive else table.strict

    def reachability(self, relation: str) -> Reachability:
        """The walk of one relation over the whole plan, made on first use."""
        table = self._closures.get(relation)
        if table is None:
            walk = Reachability(self.graph.entities, relation, roots=self.roots.get(relation))
            table = self._closures[relation] = walk
        return table

    def best_below(
        self,
        site: object,
        params: object,
        relation: str,
        value_of: Callable[[PlanEntity], Any],
        pick: Callable[[Any, Any], Any],
    ) -> list[Any] | None:
        """`Reachability.best_below` for one place in a rule, made once per run and parameters.

        None when `value_of` raised on some entity: the caller then tests
        each subject's members itself, and fails where that fails.
        """
        made = self._bests.get(site)
        if made is None or made[0] is not params:
            try:
                best = self.reachability(relation).best_below(value_of, pick)
            except Exception:
                best = None
            made = self._bests[site] = (params, best)
        return made[1]

    def cycles(self, kind: str, relation: str) -> list[Entities]:
        """Each strongly connected set of `kind` along `relation` that is a cycle.

        Members are in cycle order, starting from the smallest id; a
        self-dependency is a cycle of one.
        """
        key = (kind, relation)
        if key not in self._cycles:
            forward = relations()[kind].get(relation)  # None for an inverse name
            if forward is not None and forward.targets == (kind,):
                # The relation stays within the kind: its cycles are those of the
                # whole relation's walk, which `e.relation+` needs anyway.
                table = self.reachability(relation)
                cyclic = [m for m in table.cycles() if m[0].kind == kind]
            else:
                cyclic = Reachability(self.graph.by_kind[kind], relation, same_kind=True).cycles()
            found = [_cycle_order(members, relation) for members in cyclic]
            found.sort(key=lambda c: entity_key(c[0]))
            self._cycles[key] = found
        return self._cycles[key]

    def path(self, start: PlanEntity, end: PlanEntity, relation: str | None) -> Entities:
        """A shortest path from `start` to `end` along `relation`, or () when none.

        Without a relation, along every relation followed forwards, in the
        order of the kind's fields. Breadth-first over the links,
        neighbours in the order written, so the witness is the same on every run.
        From an entity to itself it is the shortest cycle through it (why it
        is in its own `x.rel+`), else the entity alone (in `x.rel*` by no step).
        """
        forwards = relations()
        previous: dict[int, PlanEntity | None] = {id(start): None}
        frontier = [start]
        while frontier:
            following = []
            for node in frontier:
                names = (relation,) if relation is not None else forwards[node.kind]
                for nxt in (t for name in names for t in node.links.get(name, ())):
                    if nxt is end:
                        steps = [end]
                        back: PlanEntity | None = node
                        while back is not None:
                            steps.append(back)
                            back = previous[id(back)]
                        return tuple(reversed(steps))
                    if id(nxt) in previous:
                        continue
                    previous[id(nxt)] = node
                    following.append(nxt)
            frontier = following
        return (start,) if start is end else ()


def _cycle_order(members: list[PlanEntity], relation: str) -> Entities:
    """A strongly connected set walked as a cycle from its smallest id.

    Breadth-first from the start, neighbours in id order, until an edge leads
    back to it: a shortest cycle through the start. Members it does not pass
    are appended in id order, so none is lost.
    """
    ordered = sorted(members, key=entity_key)
    start = ordered[0]
    inside = {id(m) for m in ordered}
    previous: dict[int, PlanEntity | None] = {id(start): None}
    frontier = [start]
    best: list[PlanEntity] = [start]
    while frontier:
        following: list[PlanEntity] = []
        closing = None
        for node in frontier:
            targets = sorted((t for t in node.links.get(relation, ()) if id(t) in inside), key=entity_key)
            if any(t is start for t in targets):
                closing = node
                break
            for nxt in targets:
                if id(nxt) not in previous:
                    previous[id(nxt)] = node
                    following.append(nxt)
        if closing is not None:
            walk: list[PlanEntity] = []
            back: PlanEntity | None = closing
            while back is not None:
                walk.append(back)
                back = previous[id(back)]
            best = list(reversed(walk))
            break
        frontier = following
    seen = {id(m) for m in best}
    return (*best, *(m for m in ordered if id(m) not in seen))


class Reachability:
    """Everything reachable along one relation, over its strongly connected components.

    An iterative Tarjan walk over the links numbers each component after
    every component it reaches, in linear time. What each component reaches
    is made then too, as long as the sets stay within a few times the size
    of the walk; past that, only when a rule asks for one. A chain of n
    entities reaches n²/2 entities in all, which a rule that only asks
    whether some of them qualify (`best_below`) never pays for. An entity
    without links is never a root of the walk: it reaches nothing and is in
    no cycle.
    """

    def __init__(
        self,
        entities: list[PlanEntity],
        relation: str,
        same_kind: bool = False,
        roots: list[PlanEntity] | None = None,
    ) -> None:
        """The walk of `entities`; with `roots`, of what they reach only, widened to all
        `entities` the first time an entity outside it is asked about (see EvalContext)."""

        def links(e: PlanEntity) -> tuple[PlanEntity, ...]:
            found = e.links.get(relation, ())
            return tuple(t for t in found if t.kind == e.kind) if same_kind else found

        self._whole = (entities, relation, same_kind) if roots is not None else None
        self._links = links

        # Entities hash by identity, so they key these tables directly.
        comp_of: dict[PlanEntity, int] = {}  # entity -> component number
        self._members: list[list[PlanEntity]] = []  # component number -> its entities
        self._next: list[frozenset[int]] = []  # component number -> the components it links to
        self._is_cycle: list[bool] = []
        index: dict[PlanEntity, int] = {}
        low: dict[PlanEntity, int] = {}
        stack: list[PlanEntity] = []
        on_stack: set[PlanEntity] = set()
        counter = 0
        for root in entities if roots is None else roots:
            if root in index:
                continue
            first = links(root)
            if not first:
                continue
            work = [(root, iter(first))]
            index[root] = low[root] = counter
            counter += 1
            stack.append(root)
            on_stack.add(root)
            while work:
                node, successors = work[-1]
                advanced = False
                for nxt in successors:
                    if nxt not in index:
                        index[nxt] = low[nxt] = counter
                        counter += 1
                        stack.append(nxt)
                        on_stack.add(nxt)
                        work.append((nxt, iter(links(nxt))))
                        advanced = True
                        break
                    if nxt in on_stack:
                        low[node] = min(low[node], index[nxt])
                if advanced:
                    continue
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] != index[node]:
                    continue
                members: list[PlanEntity] = []
                while True:
                    top = stack.pop()
                    on_stack.discard(top)
                    members.append(top)
                    if top is node:
                        break
                number = len(self._members)
                for member in members:
                    comp_of[member] = number
                # Every component linked to is finished already, with a smaller number.
                targets = {comp_of[nxt] for member in members for nxt in links(member)}
                self._is_cycle.append(number in targets)  # an edge inside the component
                targets.discard(number)
                self._members.append(members)
                self._next.append(frozenset(targets))
        self._mapping = comp_of
        self._below: list[frozenset[PlanEntity] | None] = [None] * len(self._members)
        self._sorted: dict[int, Entities] = {}
        # What the components reach, made now while it stays linear in the walk:
        # a plan's closures are short, and made before the rules fork, both
        # processes share them. Past the budget (a long chain) they are made
        # only when read.
        budget = EAGER_REACH * (len(comp_of) + sum(map(len, self._next)))
        for number in range(len(self._members)):
            if budget <= 0:
                break
            budget -= len(self._make(number))
        # As in most plans: every set made, each short enough to walk.
        self.all_short = all(made is not None and len(made) <= SHORT_REACH for made in self._below)

    def _widen(self) -> None:
        """Walk every entity, when the walk was of some roots only."""
        if self._whole is not None:
            self.__init__(*self._whole)  # type: ignore[misc]  # the same walk a whole one makes

    def _comp(self, e: PlanEntity) -> int | None:
        comp = self._mapping.get(e)
        if comp is None and self._whole is not None and self._links(e):  # outside the roots' walk
            self._widen()
            comp = self._mapping.get(e)
        return comp

    def cycles(self) -> list[list[PlanEntity]]:
        """The strongly connected components that hold a cycle (a self-edge counts)."""
        self._widen()
        return [list(m) for m, cyclic in zip(self._members, self._is_cycle, strict=True) if cyclic]

    def _reach(self, comp: int) -> frozenset[PlanEntity]:
        """What a component reaches, made with what the components it reaches reach."""
        made = self._below[comp]
        if made is not None:
            return made
        wanted, todo = {comp}, [comp]
        while todo:
            for nxt in self._next[todo.pop()]:
                if nxt not in wanted and self._below[nxt] is None:
                    wanted.add(nxt)
                    todo.append(nxt)
        for number in sorted(wanted):  # a component after every one it reaches
            self._make(number)
        return self._below[comp] or frozenset()

    def _make(self, number: int) -> frozenset[PlanEntity]:
        """What a component reaches, once every component it links to has been made."""
        reach: set[PlanEntity] = set(self._members[number]) if self._is_cycle[number] else set()
        for nxt in self._next[number]:
            reach.update(self._members[nxt])
            reach.update(self._below[nxt] or ())
        made = self._below[number] = frozenset(reach)
        return made

    def short(self, comp: int) -> bool:
        """Whether what a component reaches is made and short enough to walk."""
        made = self._below[comp]
        return made is not None and len(made) <= SHORT_REACH

    def best_below(self, value_of: Callable[[PlanEntity], Any], pick: Callable[[Any, Any], Any]) -> list[Any]:
        """Per component, the pick (min or max) of `value_of` over all it reaches; None for nothing.

        `value_of` gives None for an entity that does not count. One pass over
        the components, each after those it reaches: linear in the links.
        """
        self._widen()
        own: list[Any] = []  # per component, the pick over its own members
        best: list[Any] = []
        for number, members in enumerate(self._members):
            mine = None
            for member in members:
                value = value_of(member)
                if value is not None:
                    mine = value if mine is None else pick(mine, value)
            own.append(mine)
            found = mine if self._is_cycle[number] else None
            for nxt in self._next[number]:
                for value in (own[nxt], best[nxt]):
                    if value is not None:
                        found = value if found is None else pick(found, value)
            best.append(found)
        return best

    def component(self, e: PlanEntity) -> int | None:
        """`e`'s component, an index of `best_below`; None if it links to nothing and nothing to it.

        The walk is widened first: `best_below` numbers the components of the whole walk.
        """
        self._widen()
        return self._mapping.get(e)

    def strict(self, e: PlanEntity) -> Entities:
        """`e.relation+`, sorted by kind and id."""
        comp = self._comp(e)
        if comp is None:
            return ()
        found = self._sorted.get(comp)
        if found is None:
            found = self._sorted[comp] = tuple(sorted(self._reach(comp), key=entity_key))
        return found

    def reflexive(self, e: PlanEntity) -> Entities:
        """`e.relation*`: `e` and everything reachable from it, sorted by kind and id."""
        comp = self._comp(e)
        if comp is None:
            return (e,)
        if e in self._reach(comp):
            return self.strict(e)
        return tuple(sorted(self._reach(comp) | {e}, key=entity_key))

    def members(self, e: PlanEntity, reflexive: bool) -> frozenset[PlanEntity]:
        """The same entities as `strict` or `reflexive`, in no order: for who sorts what it keeps."""
        comp = self._comp(e)
        reach = self._reach(comp) if comp is not None else frozenset()
        return reach | {e} if reflexive and e not in reach else reach


def format_value(value: Any) -> str:
    """How a value reads inside a message."""
    if value is None:
        return "none"
    if isinstance(value, PlanEntity):
        return value.ref
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else f"{value:.4g}"
    if isinstance(value, date | Duration):
        return str(value)
    if isinstance(value, Ref):  # a tuple, but one reference: as written
        return str(value)
    if isinstance(value, tuple | list):
        return ", ".join(format_value(v) for v in value)
    if isinstance(value, BaseModel):  # a block, as written: {completed: 2026-10-01, dpa_signed: true}
        return "{" + ", ".join(f"{name}: {_in_block(v)}" for name, v in _written(value)) + "}"
    return str(value)


def _written(block: BaseModel) -> list[tuple[str, Any]]:
    fields = block.__dict__
    return [(n, fields[n]) for n in type(block).model_fields if fields.get(n) not in (None, ())]


def _in_block(value: Any) -> str:
    if isinstance(value, tuple | list) and not isinstance(value, Ref):
        return "[" + ", ".join(_in_block(v) for v in value) + "]"
    return format_value(value)
