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

import networkx as nx

from policy_engine.plan.graph import Graph
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
    _closures: dict[tuple[str, bool], dict[int, Entities]] = field(default_factory=dict)
    _cycles: dict[tuple[str, str], list[Entities]] = field(default_factory=dict)

    def closure(self, relation: str, reflexive: bool) -> Callable[[PlanEntity], Entities]:
        """`e.relation+` (or `*`): every entity reachable, sorted by kind and id."""
        key = (relation, reflexive)
        table = self._closures.get(key)
        if table is None:
            table = self._closures[key] = _reachable(self.graph.entities, relation, reflexive)
        get = table.get

        def reach(e: PlanEntity) -> Entities:
            return get(id(e), ())

        return reach

    def cycles(self, kind: str, relation: str) -> list[Entities]:
        """Each strongly connected set of `kind` along `relation` that is a cycle.

        Members are in cycle order, starting from the smallest id; a
        self-dependency is a cycle of one.
        """
        key = (kind, relation)
        if key not in self._cycles:
            graph = self.graph.digraph(kind, relation)
            by_id = {id(e): e for e in self.graph.by_kind[kind]}
            found = []
            for component in nx.strongly_connected_components(graph):
                if len(component) == 1:
                    (only,) = component
                    if not graph.has_edge(only, only):
                        continue
                members = sorted((by_id[n] for n in component), key=entity_key)
                found.append(_cycle_order(graph, members, by_id))
            found.sort(key=lambda c: entity_key(c[0]))
            self._cycles[key] = found
        return self._cycles[key]

    def path(self, start: PlanEntity, end: PlanEntity, relation: str) -> Entities:
        """A shortest path from `start` to `end` along `relation`, or () when none."""
        graph = _relation_graph(self.graph, start.kind, end.kind, relation)
        try:
            nodes = nx.shortest_path(graph, id(start), id(end))
        except (nx.NetworkXNoPath, nx.NodeNotFound):
            return ()
        by_id = {id(e): e for e in self.graph.entities}
        return tuple(by_id[n] for n in nodes)


def _relation_graph(graph: Graph, start_kind: str, end_kind: str, relation: str) -> Any:
    if start_kind == end_kind:
        return graph.digraph(start_kind, relation)
    full = nx.DiGraph()
    full.add_edges_from((id(e), id(t)) for e in graph.entities for t in e.links.get(relation, ()))
    return full


def _cycle_order(graph: Any, members: list[PlanEntity], by_id: dict[int, PlanEntity]) -> Entities:
    """The members of a strongly connected set, walked as a cycle from the smallest id."""
    start = id(members[0])
    inside = {id(m) for m in members}
    if len(members) == 1:
        return (members[0],)
    # A shortest way back to the start through the set is a cycle through it;
    # members it does not pass are appended in id order so none is lost.
    successors = sorted(
        (n for n in graph.successors(start) if n in inside), key=lambda n: entity_key(by_id[n])
    )
    best: list[int] = []
    sub = graph.subgraph(inside)
    for nxt in successors:
        try:
            back = nx.shortest_path(sub, nxt, start)
        except nx.NetworkXNoPath:
            continue
        candidate = [start, *back[:-1]]
        if not best or len(candidate) < len(best):
            best = candidate
    seen = set(best)
    rest = [m for m in members if id(m) not in seen]
    return tuple(by_id[n] for n in best) + tuple(rest)


def _reachable(entities: list[PlanEntity], relation: str, reflexive: bool) -> dict[int, Entities]:
    """Reachable sets for every entity, computed once over the condensation."""
    graph = nx.DiGraph()
    graph.add_nodes_from(id(e) for e in entities)
    graph.add_edges_from((id(e), id(t)) for e in entities for t in e.links.get(relation, ()))
    by_id = {id(e): e for e in entities}
    condensed = nx.condensation(graph)
    members: dict[int, list[int]] = {c: list(condensed.nodes[c]["members"]) for c in condensed}
    below: dict[int, frozenset[int]] = {}
    # Reverse topological order: successors are done before their predecessors.
    for comp in reversed(list(nx.topological_sort(condensed))):
        reach: set[int] = set()
        cyclic = len(members[comp]) > 1 or graph.has_edge(members[comp][0], members[comp][0])
        if cyclic:
            reach.update(members[comp])
        for succ in condensed.successors(comp):
            reach.update(members[succ])
            reach.update(below[succ])
        below[comp] = frozenset(reach)
    result: dict[int, Entities] = {}
    mapping = condensed.graph["mapping"]
    cache: dict[int, Entities] = {}
    for e in entities:
        comp = mapping[id(e)]
        reach_ids = below[comp]
        if reflexive and id(e) not in reach_ids:
            result[id(e)] = tuple(sorted((by_id[n] for n in reach_ids | {id(e)}), key=entity_key))
            continue
        if comp not in cache:
            cache[comp] = tuple(sorted((by_id[n] for n in reach_ids), key=entity_key))
        result[id(e)] = cache[comp]
    return result


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
