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

from policy_engine.plan.graph import Graph, relations
from policy_engine.plan.loader import PlanEntity
from policy_engine.plan.model import Duration

Entities = tuple[PlanEntity, ...]


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

    def closure(self, relation: str, reflexive: bool) -> Callable[[PlanEntity], Entities]:
        """`e.relation+` (or `*`): every entity reachable, sorted by kind and id."""
        table = self.reachability(relation)
        return table.reflexive if reflexive else table.strict

    def reachability(self, relation: str) -> Reachability:
        """The walk of one relation over the whole plan, made on first use."""
        table = self._closures.get(relation)
        if table is None:
            table = self._closures[relation] = Reachability(self.graph.entities, relation)
        return table

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
        """
        forwards = relations()
        previous: dict[int, PlanEntity | None] = {id(start): None}
        frontier = [start]
        while frontier:
            following = []
            for node in frontier:
                names = (relation,) if relation is not None else forwards[node.kind]
                for nxt in (t for name in names for t in node.links.get(name, ())):
                    if id(nxt) in previous:
                        continue
                    previous[id(nxt)] = node
                    if nxt is end:
                        steps = [end]
                        back = previous[id(end)]
                        while back is not None:
                            steps.append(back)
                            back = previous[id(back)]
                        return tuple(reversed(steps))
                    following.append(nxt)
            frontier = following
        return ()


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
    """Everything reachable along one relation, computed once over strongly connected components.

    An iterative Tarjan walk over the links: it finishes each component after
    every component it reaches, so one pass fills every reachable set. Sets
    are sorted lazily, once per component. An entity without links is never
    a root of the walk: it reaches nothing and is in no cycle.
    """

    def __init__(self, entities: list[PlanEntity], relation: str, same_kind: bool = False) -> None:
        self._cyclic: list[list[PlanEntity]] = []

        def links(e: PlanEntity) -> tuple[PlanEntity, ...]:
            found = e.links.get(relation, ())
            return tuple(t for t in found if t.kind == e.kind) if same_kind else found

        # Entities hash by identity, so they key these tables directly.
        comp_of: dict[PlanEntity, int] = {}  # entity -> component number
        below: list[frozenset[PlanEntity]] = []  # component number -> what it reaches
        index: dict[PlanEntity, int] = {}
        low: dict[PlanEntity, int] = {}
        stack: list[PlanEntity] = []
        on_stack: set[PlanEntity] = set()
        counter = 0
        for root in entities:
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
                number = len(below)
                inside = set(members)
                reach: set[PlanEntity] = set()
                for member in members:
                    comp_of[member] = number
                cyclic = False
                for member in members:
                    for nxt in links(member):
                        if nxt in inside:
                            cyclic = True  # an edge inside the component
                        else:
                            reach.add(nxt)
                            reach.update(below[comp_of[nxt]])
                if cyclic:
                    reach.update(inside)
                    self._cyclic.append(members)
                below.append(frozenset(reach))
        self._below = below
        self._mapping = comp_of
        self._sorted: dict[int, Entities] = {}

    def cycles(self) -> list[list[PlanEntity]]:
        """The strongly connected components that hold a cycle (a self-edge counts)."""
        return [list(members) for members in self._cyclic]

    def strict(self, e: PlanEntity) -> Entities:
        """`e.relation+`, sorted by kind and id."""
        comp = self._mapping.get(e)
        if comp is None:
            return ()
        found = self._sorted.get(comp)
        if found is None:
            found = self._sorted[comp] = tuple(sorted(self._below[comp], key=entity_key))
        return found

    def reflexive(self, e: PlanEntity) -> Entities:
        """`e.relation*`: `e` and everything reachable from it, sorted by kind and id."""
        comp = self._mapping.get(e)
        if comp is None:
            return (e,)
        if e in self._below[comp]:
            return self.strict(e)
        return tuple(sorted(self._below[comp] | {e}, key=entity_key))

    def members(self, e: PlanEntity, reflexive: bool) -> frozenset[PlanEntity]:
        """The same entities as `strict` or `reflexive`, in no order: for who sorts what it keeps."""
        comp = self._mapping.get(e)
        reach = self._below[comp] if comp is not None else frozenset()
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
    if isinstance(value, tuple | list):
        return ", ".join(format_value(v) for v in value)
    return str(value)
