"""The built-in rules hand-written in Python over the same graph, straight from
GOVERNANCE-RULES.md: the reference the compiled pack is compared with, for
correctness (tests/test_differential.py) and speed (benchmarks/run.py).

Each verdict is (rule, subject, group, related).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import date
from typing import Any

import networkx as nx

from policy_engine.plan.graph import Graph
from policy_engine.plan.loader import PlanEntity
from policy_engine.plan.model import review_expires_on

Verdict = tuple[str, str | None, str | None, tuple[str, ...]]
WAIVABLE = {
    "outcome-single-owner", "decision-single-decider", "owner-active", "initiative-has-outcome",
    "top-priorities-limit", "priority-inversion", "ai-pilot-acceptable-use", "vendor-due-diligence",
    "initiative-approved-vendor", "ai-vendor-data-training", "retired-system-use",
    "restricted-data-review", "outcome-review-cadence", "sustainment-capacity",
}  # fmt: skip
RANK = {"P0": 4, "P1": 3, "P2": 2, "P3": 1}


def _open(i: PlanEntity) -> bool:
    return getattr(i.model, "status", None) not in ("done", "cancelled")


def _active(i: PlanEntity) -> bool:
    return getattr(i.model, "status", None) in ("approved", "in-progress", "paused")


def _current(r: PlanEntity, as_of: date) -> bool:
    m: Any = r.model
    if m.status not in ("approved", "approved-with-conditions"):
        return False
    expires = review_expires_on(m)
    return expires is None or expires >= as_of


def _refs(entities: Any) -> tuple[str, ...]:
    return tuple(sorted(e.ref for e in entities))


def _key(e: PlanEntity) -> tuple[str, str]:
    return (e.kind, e.id)


def _reach(graph: Graph, relation: str) -> Callable[[PlanEntity], set[PlanEntity]]:
    """Everything reachable by one or more steps, memoised per strongly connected component."""
    g = nx.DiGraph()
    g.add_nodes_from(graph.entities)
    g.add_edges_from((e, t) for e in graph.entities for t in e.links.get(relation, ()))
    cond = nx.condensation(g)
    members = {c: cond.nodes[c]["members"] for c in cond}
    below: dict[int, set[PlanEntity]] = {}
    for c in reversed(list(nx.topological_sort(cond))):
        reach: set[PlanEntity] = set()
        m = members[c]
        if len(m) > 1 or any(g.has_edge(x, x) for x in m):
            reach |= m
        for s in cond.successors(c):
            reach |= members[s] | below[s]
        below[c] = reach
    mapping = cond.graph["mapping"]
    return lambda e: below[mapping[e]]


def evaluate(graph: Graph, as_of: date, max_top: int = 3, min_share: float = 0.2) -> list[Verdict]:
    out: list[Verdict] = []
    initiatives = graph.by_kind["Initiative"]
    rules = WAIVABLE | {"dependency-cycle", "waiver-expired", "waiver-not-allowed"}

    for o in graph.by_kind["Outcome"]:
        m: Any = o.model
        owners = o.links.get("owner", ())
        if m.status != "dropped" and len(owners) != 1:
            out.append(("outcome-single-owner", o.ref, None, _refs(owners)))

    for x in (*graph.by_kind["Outcome"], *initiatives):
        if getattr(x.model, "decision", None) is None:
            continue
        deciders = x.links.get("decision.decides", ())
        if len(deciders) != 1 or any(d.kind != "Person" for d in deciders):
            out.append(("decision-single-decider", x.ref, None, _refs(deciders)))

    for kind in ("Outcome", "Initiative", "System", "Vendor", "Waiver"):
        for e in graph.by_kind[kind]:
            named = {*e.links.get("owner", ()), *e.links.get("decision.decides", ())}
            left = [p for p in named if p.kind == "Person" and getattr(p.model, "status", None) == "left"]
            if left:
                out.append(("owner-active", e.ref, None, _refs(left)))

    for i in initiatives:
        if _open(i) and not i.links.get("contributes_to"):
            out.append(("initiative-has-outcome", i.ref, None, ()))

    p0: dict[str, list[PlanEntity]] = defaultdict(list)
    for i in initiatives:
        m = i.model
        if m.priority == "P0" and _open(i):
            p0[m.period or "unscheduled"].append(i)
    for period, members in p0.items():
        if len(members) > max_top:
            out.append(("top-priorities-limit", None, period, _refs(members)))

    reach = _reach(graph, "depends_on")
    for i in initiatives:
        m = i.model
        if not _open(i) or m.priority is None:
            continue
        lower = [
            d
            for d in reach(i)
            if _open(d) and d.model.priority is not None and RANK[d.model.priority] < RANK[m.priority]  # type: ignore[attr-defined]
        ]
        if lower:
            out.append(("priority-inversion", i.ref, None, _refs(lower)))

    g = graph.digraph("Initiative", "depends_on")
    by_id = {id(e): e for e in initiatives}
    for component in nx.strongly_connected_components(g):
        if len(component) == 1 and not g.has_edge(next(iter(component)), next(iter(component))):
            continue
        members = sorted((by_id[n] for n in component), key=_key)
        out.append(("dependency-cycle", members[0].ref, None, _refs(members)))

    for i in initiatives:
        m = i.model
        if m.type == "ai-pilot" and _active(i):
            reviews = [r for r in i.links.get("reviewed_by", ()) if r.model.type == "acceptable-use"]  # type: ignore[attr-defined]
            if not any(_current(r, as_of) for r in reviews):
                out.append(("ai-pilot-acceptable-use", i.ref, None, _refs(reviews)))

    for v in graph.by_kind["Vendor"]:
        m = v.model
        if m.status != "approved":
            continue
        completed = m.due_diligence.completed if m.due_diligence else None
        if completed is None or m.approved_on is None or completed > m.approved_on:
            out.append(("vendor-due-diligence", v.ref, None, ()))

    for i in initiatives:
        if not _active(i):
            continue
        bad = [u for u in i.links.get("uses", ()) if u.kind == "Vendor" and u.model.status != "approved"]  # type: ignore[attr-defined]
        if bad:
            out.append(("initiative-approved-vendor", i.ref, None, _refs(bad)))

    for v in graph.by_kind["Vendor"]:
        m = v.model
        users = [i for i in v.links.get("used_by", ()) if i.kind == "Initiative" and _active(i)]
        if m.ai is True and users:
            trains = m.due_diligence.trains_on_customer_data if m.due_diligence else None
            if trains is not False:
                out.append(("ai-vendor-data-training", v.ref, None, _refs(users)))

    system_reach = reach  # depends_on links initiatives to initiatives and systems to systems

    def reached_systems(i: PlanEntity) -> set[PlanEntity]:
        used = set(i.links.get("uses", ()))
        for u in list(used):
            used |= system_reach(u)
        return used

    for i in initiatives:
        if not _open(i):
            continue
        retired = [s for s in reached_systems(i) if s.kind == "System" and s.model.lifecycle == "retired"]  # type: ignore[attr-defined]
        if retired:
            out.append(("retired-system-use", i.ref, None, _refs(retired)))

    for i in initiatives:
        if not _active(i):
            continue
        restricted = [
            s
            for s in reached_systems(i)
            if s.kind == "System" and s.model.data_classification == "restricted"  # type: ignore[attr-defined]
        ]
        if not restricted:
            continue
        reviews = i.links.get("reviewed_by", ())
        if not any(r.model.type in ("security", "privacy") and _current(r, as_of) for r in reviews):  # type: ignore[attr-defined]
            out.append(("restricted-data-review", i.ref, None, _refs(restricted)))

    for o in graph.by_kind["Outcome"]:
        m = o.model
        if m.status != "active" or m.review_cadence is None:
            continue
        if m.last_reviewed is None or m.review_cadence.add_to(m.last_reviewed) < as_of:
            out.append(("outcome-review-cadence", o.ref, None, ()))

    effort: dict[str, list[PlanEntity]] = defaultdict(list)
    for i in initiatives:
        if _open(i):
            effort[i.model.period or "unscheduled"].append(i)  # type: ignore[attr-defined]
    for period, members in effort.items():
        total = sum(m.model.effort or 0 for m in members)  # type: ignore[attr-defined]
        upkeep = sum(m.model.effort or 0 for m in members if m.model.type in ("tech-debt", "sustainment"))  # type: ignore[attr-defined]
        if total and upkeep / total < min_share:
            out.append(("sustainment-capacity", None, period, _refs(members)))

    for w in graph.by_kind["Waiver"]:
        m = w.model
        subjects = _refs(w.links.get("subjects", ()))
        if m.expires is not None and m.expires < as_of:
            out.append(("waiver-expired", w.ref, None, subjects))
        complete = m.rule and subjects and (m.reason or "").strip() and m.expires is not None
        if not (complete and m.rule in rules and m.rule in WAIVABLE):
            out.append(("waiver-not-allowed", w.ref, None, subjects))
    return out
