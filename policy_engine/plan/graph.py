"""The entity graph: one node per entity, one typed edge per reference.

References resolve to entities here. Every relation can be followed forwards
(`initiative.depends_on`) and backwards by its inverse name
(`initiative.dependency_of`); both are kept on the entities as tuples, so
that following a relation costs a dict lookup. The networkx view of the whole
graph, and per-relation digraphs for cycles and paths, are built on first use.
"""

from __future__ import annotations

import dataclasses
import typing
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any

from pydantic import BaseModel

from policy_engine.diagnostics import did_you_mean
from policy_engine.plan.loader import LoadedPlan, PlanEntity, gc_paused
from policy_engine.plan.model import KIND_BY_LOWER, MODELS, Ref, RefSpec
from policy_engine.report import Finding

MAX_HINTS = 100  # "did you mean" costs a scan of the kind's ids; only for the first few


@dataclass(frozen=True, slots=True)
class Relation:
    """A reference field of a kind: where it is, what it admits, its inverse."""

    name: str  # dotted: "owner", "decision.decides"
    path: tuple[str, ...]
    targets: tuple[str, ...]  # kinds, capitalised
    inverse: str | None


def _ref_spec(annotation: Any) -> RefSpec | None:
    for meta in getattr(annotation, "__metadata__", ()):
        if isinstance(meta, RefSpec):
            return meta
    return None


def _relations_of(model: type[BaseModel], prefix: tuple[str, ...] = ()) -> list[Relation]:
    found = []
    hints = typing.get_type_hints(model, include_extras=True)
    for name in model.model_fields:
        annotation = hints[name]
        spec = _ref_spec(annotation)
        if spec is not None:
            path = (*prefix, name)
            targets = tuple(KIND_BY_LOWER[k] for k in spec.kinds)
            found.append(Relation(".".join(path), path, targets, spec.inverse))
            continue
        for arg in typing.get_args(annotation) or (annotation,):
            if isinstance(arg, type) and issubclass(arg, BaseModel) and not prefix:
                found.extend(_relations_of(arg, (name,)))  # decision.decides, ...
    return found


@cache
def relations() -> dict[str, dict[str, Relation]]:
    """kind -> relation name -> Relation, for every reference field of the model."""
    return {kind: {r.name: r for r in _relations_of(model)} for kind, model in MODELS.items()}


@cache
def inverses() -> dict[str, dict[str, list[tuple[str, Relation]]]]:
    """target kind -> inverse name -> the (source kind, relation) pairs it follows back."""
    table: dict[str, dict[str, list[tuple[str, Relation]]]] = defaultdict(lambda: defaultdict(list))
    for kind, rels in relations().items():
        for rel in rels.values():
            if rel.inverse:
                for target in rel.targets:
                    table[target][rel.inverse].append((kind, rel))
    return {k: dict(v) for k, v in table.items()}


@cache
def inverse_names() -> frozenset[str]:
    """The name of every inverse relation (`owner_of`, `dependency_of`, …)."""
    return frozenset(name for by_name in inverses().values() for name in by_name)


@cache
def _fields_to_link(
    kind: str,
) -> tuple[list[tuple[str, Relation]], list[tuple[str, list[tuple[str, Relation]]]]]:
    """A kind's reference fields: those of the entity, and those of each block (`decision`)."""
    direct: list[tuple[str, Relation]] = []
    blocks: dict[str, list[tuple[str, Relation]]] = {}
    for rel in relations()[kind].values():
        if len(rel.path) == 1:
            direct.append((rel.path[0], rel))
        else:  # relations are at most one block deep (_relations_of)
            blocks.setdefault(rel.path[0], []).append((rel.path[1], rel))
    return direct, list(blocks.items())


class Graph:
    """The plan as a graph, with constant-time lookups by kind and by id."""

    def __init__(self, plan: LoadedPlan, wanted_inverses: Iterable[str] | None = None) -> None:
        self.plan = plan
        self.entities = plan.entities
        self.by_ref: dict[str, PlanEntity] = {e.ref: e for e in plan.entities}
        by_kind: dict[str, list[PlanEntity]] = {kind: [] for kind in MODELS}
        for entity in plan.entities:
            by_kind[entity.kind].append(entity)
        for members in by_kind.values():
            members.sort(key=lambda e: e.id)
        self.by_kind = by_kind
        self.problems: list[Finding] = []
        self._hints_left = MAX_HINTS
        self._nx: Any = None
        self._digraphs: dict[tuple[str, str], Any] = {}
        self._inverses_linked: set[str] = set()
        self._link()
        self._say_which_exist()
        self.link_inverses(inverse_names() if wanted_inverses is None else wanted_inverses)

    def get(self, kind: str, ident: str) -> PlanEntity | None:
        return self.by_ref.get(f"{kind.lower()}:{ident}")

    def _link(self) -> None:
        """Every reference followed forwards; what does not resolve is a problem."""
        by_ref = self.by_ref
        for kind in sorted(self.by_kind):
            direct, blocks = _fields_to_link(kind)
            for entity in self.by_kind[kind]:
                fields = entity.model.__dict__
                for name, rel in direct:
                    refs = fields.get(name)
                    if not refs:
                        continue
                    # Most reference fields name one entity that exists: linked here, without a loop.
                    target = by_ref.get(refs[0].key) if len(refs) == 1 else None
                    if target is None:
                        self._link_refs(entity, rel, refs)
                    else:
                        entity.links[rel.name] = (target,)
                for block_name, members in blocks:  # decision.decides, ...: the block is read once
                    block = fields.get(block_name)
                    if block is None:
                        continue
                    for name, rel in members:
                        refs = block.__dict__.get(name)
                        if refs:
                            self._link_refs(entity, rel, refs)

    def link_inverses(self, names: Iterable[str]) -> None:
        """Make the inverse relations among `names` followable (`dependency_of`, …); others are ignored.

        A check makes only those its rules read: the rest are most of the
        links of a big plan. Sources are listed by kind and id.
        """
        table = inverses()
        for name in sorted((set(names) & inverse_names()) - self._inverses_linked):
            self._inverses_linked.add(name)
            sources_of: dict[PlanEntity, list[PlanEntity]] = {}
            # (source kind, relation): listed once per kind the relation may point at
            followed = {(kind, rel.name) for by_name in table.values() for kind, rel in by_name.get(name, ())}
            for kind, relation in sorted(followed):
                for entity in self.by_kind[kind]:
                    for target in entity.links.get(relation, ()):
                        sources_of.setdefault(target, []).append(entity)
            for target, sources in sources_of.items():
                target.links[name] = tuple(sources)

    def _link_refs(
        self,
        entity: PlanEntity,
        rel: Relation,
        refs: tuple[Ref, ...],
    ) -> None:
        """Link one reference field; report what does not resolve."""
        targets: list[PlanEntity] = []
        for index, ref in enumerate(refs):
            target = self.by_ref.get(ref.key)
            if target is None:
                if ref in refs[:index]:
                    continue  # reported at its first place
                hint = None
                left_out = self.plan.left_out.get(ref.key)
                if left_out is not None:  # `id: Maria` means person:maria, and was left out
                    hint = f"the entity at {left_out} would be {ref}, but is left out (see the problem there)"
                elif self._hints_left > 0:
                    self._hints_left -= 1
                    ids = (e.id for e in self.by_kind[KIND_BY_LOWER[ref.kind]])
                    hint = did_you_mean(ref.id, ids)
                self._unresolved(entity, rel, index, len(refs), ref, hint)
                continue
            if target in targets:
                continue  # naming an entity twice names it once
            targets.append(target)
        entity.links[rel.name] = tuple(targets)

    def _say_which_exist(self) -> None:
        """An ambiguous bare id: say which of the entities it could mean exist.

        The loader's message (RefSpec) ends "; write kind:id or …"; `related`
        holds every meaning, of which the graph alone knows which exist.
        """
        problems = self.plan.problems
        for n, f in enumerate(problems):
            if f.rule != "plan/ambiguous-reference" or not f.related:
                continue
            existing = tuple(ref for ref in f.related if ref in self.by_ref)
            head = f.message.split("; write ")[0]
            if len(existing) == 1:
                message = f"{head}; {existing[0]} is the only one that exists: write {existing[0]}"
            elif existing:
                message = f"{head}; write one of {', '.join(existing)}"
            else:
                message = f"{f.message} (no entity has this id)"
            problems[n] = dataclasses.replace(f, message=message, related=existing)

    def _unresolved(
        self, entity: PlanEntity, rel: Relation, index: int, count: int, ref: Ref, hint: str | None
    ) -> None:
        raw = _raw_is_single(entity, rel.path)
        location = entity.ref_location(rel.path, index, single=raw and count == 1)
        message = f"{rel.name}: {ref} does not exist"
        if hint:
            message += f"; {hint}"
        self.problems.append(
            Finding(
                rule="plan/unresolved-reference",
                severity="error",
                message=message,
                location=location,
                subject=entity.ref,
                related=(str(ref),),
            )
        )

    @property
    def nx(self) -> Any:
        """The whole plan as a networkx multigraph: nodes are `kind:id`, edge keys relations."""
        if self._nx is None:
            import networkx as nx  # only for callers who want the networkx view

            graph = nx.MultiDiGraph()
            graph.add_nodes_from((e.ref, {"entity": e}) for e in self.entities)
            rels = relations()
            graph.add_edges_from(
                (e.ref, t.ref, name)
                for e in self.entities
                for name in rels[e.kind]
                for t in e.links.get(name, ())
            )
            self._nx = graph
        return self._nx

    def digraph(self, kind: str, relation: str) -> Any:
        """The entities of `kind` and the edges of one relation among them."""
        key = (kind, relation)
        if key not in self._digraphs:
            import networkx as nx

            graph = nx.DiGraph()
            members = self.by_kind[kind]
            graph.add_nodes_from(id(e) for e in members)
            graph.add_edges_from(
                (id(e), id(t)) for e in members for t in e.links.get(relation, ()) if t.kind == kind
            )
            self._digraphs[key] = graph
        return self._digraphs[key]


def _raw_is_single(entity: PlanEntity, path: tuple[str, ...]) -> bool:
    """Whether the field was written as one reference rather than a list."""
    return entity.positions.get((*path, 0)) is None


def build_graph(plan: LoadedPlan, wanted_inverses: Iterable[str] | None = None) -> Graph:
    """Resolve every reference of a loaded plan into the graph.

    Every inverse relation is made, or only those in `wanted_inverses` (more on
    demand with `Graph.link_inverses`).
    """
    with gc_paused():
        return Graph(plan, wanted_inverses)
