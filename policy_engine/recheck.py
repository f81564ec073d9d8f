"""Re-checks that evaluate again only what an edit can have changed.

A check of a big plan remembers, in the cache folder, each rule's findings
(before waivers), the SHA-256 of every plan file, and for each file its
entities: their refs, a digest of what each holds, and the refs each refers
to. The next check of the same plan paths, with the same rules and options,
compares: the entities of the changed files that are new, gone or hold
something else, and what the changed ones referred to before, are the seeds
of the edit. An entity that only moved within its file (a comment written
above it) is no seed.

A rule reads its subject and what the subject's relations reach, along the
relations the rule names (`follows`), and nothing else, unless it reads the
plan at large (`cycles(Initiative, depends_on)`: `plan_wide`). So a subject
from which no seed can be reached along those relations has the findings it
had: they are kept, located again when the subject's file changed. The
other subjects are evaluated again. A rule with `group by` groups every
subject again but judges only the groups that changed (GroupChoice). A rule
over `cycles(Kind, relation)` keeps its findings while no link of that
relation among that kind changed and no member of a cycle reaches a seed.
Any other plan-wide rule is evaluated again after any edit of an entity.

The state is written like the parse cache (plan/cache.py): after the output,
by a detached process, and read back by the same checked unpickler; a state
that is missing, damaged or made by other rules or options is no state.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, NamedTuple

from policy_engine import __version__
from policy_engine.dsl.compiler import CompiledRule
from policy_engine.files import cache_dir
from policy_engine.plan import cache as plan_cache
from policy_engine.plan.graph import Graph, relations
from policy_engine.plan.loader import PlanEntity
from policy_engine.plan.model import KIND_BY_LOWER
from policy_engine.report import Finding

# Entities from which a check remembers its findings: below, evaluating every
# rule costs less than a tenth of a second, and a state file would only cost
# the cache folder its space.
RECHECK_ENTITIES = 10_000

# The state: (digest by file, the file's entities as JSON by file, findings by
# rule, and for each `group by` rule a digest of each group's members by label).
# An entity is [ref, digest of its content, {relation: [the refs it refers to]}];
# JSON, so that only the changed files' are decoded.
State = tuple[dict[str, str], dict[str, str], dict[str, list[Finding]], dict[str, dict[str, str]]]


class Reuse(NamedTuple):
    """For one rule: the findings kept from the previous check, and the subjects to evaluate again."""

    kept: list[Finding]
    again: Collection[PlanEntity]
    # A `group by` rule: what each group held, and whether some must be judged again.
    groups: dict[str, str] | None = None
    regroup: bool = False
    files: Collection[str] = ()  # the files the edit changed

    @property
    def evaluates(self) -> bool:
        return bool(self.again) or self.regroup


class Recheck:
    """The state of the previous check of these plan paths with these rules and options.

    (Plain classes here: a dataclass costs every start-up a millisecond to make.)
    """

    def __init__(self, entry: Path, background: bool = True) -> None:
        self.entry = entry
        self.background = background

    @classmethod
    def default(
        cls, plan_paths: Sequence[Any], rules: Sequence[CompiledRule], settings: object
    ) -> Recheck | None:
        """In the user's cache folder, written in the background; None when caching is off.

        `settings` is everything else a finding depends on (the run's
        options); its repr is part of the key.
        """
        folder = cache_dir()
        return cls(entry(folder / "checks", plan_paths, rules, settings)) if folder else None

    def reuse(self, graph: Graph, rules: Sequence[CompiledRule]) -> dict[str, Reuse]:
        """By rule id, what the previous check's findings spare; a rule not named is evaluated whole."""
        if not self.applies(graph):
            return {}
        state = plan_cache.read_entry(self.entry)
        if not _is_state(state):
            return {}
        digests, contents, findings, groups = state
        try:
            edit = _Edit(graph, digests, contents)
        except (ValueError, TypeError, AttributeError):  # not the JSON this module writes
            return {}
        reach = _Reach(graph)
        plan = {}
        for rule in rules:
            old = findings.get(rule.id)
            if old is None or (rule.plan_wide and rule.cycles_of is None and edit.changed):
                continue
            reached = reach.along(edit.seeds_for(rule.follows), rule.follows)
            if rule.cycles_of is not None:
                members = {ref for finding in old for ref in finding.related}
                if not edit.reshaped(graph, *rule.cycles_of) and not any(e.ref in members for e in reached):
                    plan[rule.id] = Reuse([_moved(f, graph, rule, edit.files) for f in old], ())
                continue
            kinds = set(rule.subject_kinds)
            again = {e for e in reached if e.kind in kinds}
            if rule.grouped:
                if rule.id not in groups:
                    continue
                lower = {kind.lower() for kind in kinds}
                went = any(ref.partition(":")[0] in lower and ref not in graph.by_ref for ref in edit.changed)
                moved = any(f.location is not None and f.location.path in edit.files for f in old)
                regroup = bool(again) or went or moved  # a group's place is its first member's
                plan[rule.id] = Reuse(old, again, groups[rule.id], regroup, edit.files)
                continue
            gone = edit.changed | {e.ref for e in again}
            kept = [_moved(f, graph, rule, edit.files) for f in old if f.subject not in gone]
            plan[rule.id] = Reuse(kept, again)
        return plan

    def applies(self, graph: Graph) -> bool:
        """Whether the plan is big enough to be worth a state (RECHECK_ENTITIES)."""
        return len(graph.entities) >= RECHECK_ENTITIES

    def remember(
        self, graph: Graph, findings: dict[str, list[Finding]], groups: dict[str, dict[str, str]]
    ) -> None:
        """Keep this check's findings (by rule, before waivers) and groups (GroupChoice) for the next one."""
        if not self.applies(graph):
            return
        plan_cache.write_entries([(self.entry, lambda: _state(graph, findings, groups))], self.background)


class GroupChoice:
    """For a `group by` rule: which groups to judge, and what each group holds, for the next check.

    A group is judged again when it is new, holds other members than it did,
    holds a member evaluated again, or its first member (where its finding
    is) is in a changed file; the findings of the others are kept.
    """

    def __init__(self, reuse: Reuse | None) -> None:
        self._reuse = reuse
        self.held: dict[str, str] = {}
        self.judged: set[str] = set()

    def __call__(self, label: str, members: list[PlanEntity]) -> bool:
        digest = hashlib.blake2b("\n".join(m.ref for m in members).encode(), digest_size=8).hexdigest()
        self.held[label] = digest
        reuse = self._reuse
        if (
            reuse is None
            or reuse.groups is None
            or reuse.groups.get(label) != digest
            or any(m in reuse.again for m in members)
            or (members and members[0].path in reuse.files)
        ):
            self.judged.add(label)
            return True
        return False

    def kept(self) -> list[Finding]:
        """The findings of the groups that were not judged again."""
        if self._reuse is None:
            return []
        return [f for f in self._reuse.kept if f.group in self.held and f.group not in self.judged]


def walk_roots(rules: Sequence[CompiledRule], spared: dict[str, Reuse]) -> dict[str, list[PlanEntity]]:
    """Where each closure's walk may start, when only subjects evaluated again walk it.

    They ask about what they reach along their rules' relations; anything
    else asked about is walked then (runtime.Reachability), so this only
    spares a walk of the whole plan, never changes an answer.
    """
    if any(rule.plan_wide and rule.cycles_of is None and rule.id not in spared for rule in rules):
        return {}
    found: dict[str, set[PlanEntity]] = {}
    whole: set[str] = set()
    for rule in rules:
        walked = {*rule.walks, *(rule.cycles_of[1:] if rule.cycles_of else ())}
        reuse = spared.get(rule.id)
        if reuse is None or (rule.grouped and reuse.evaluates):  # every subject, to group them
            whole |= walked
        elif reuse.again and walked:
            near = _forwards(reuse.again, rule.follows)
            for relation in walked:
                found.setdefault(relation, set()).update(near)
    return {
        rel: sorted(near, key=lambda e: (e.kind, e.id)) for rel, near in found.items() if rel not in whole
    }


def _forwards(entities: Iterable[PlanEntity], names: Iterable[str]) -> set[PlanEntity]:
    """The entities and everything they reach along these relations."""
    wanted = tuple(names)
    found = set(entities)
    todo = list(found)
    while todo:
        entity = todo.pop()
        for name in wanted:
            for target in entity.links.get(name, ()):
                if target not in found:
                    found.add(target)
                    todo.append(target)
    return found


def entry(folder: Path, plan_paths: Sequence[Any], rules: Sequence[CompiledRule], settings: object) -> Path:
    """One entry per plan paths; its name changes with the engine, the rules and the settings."""
    where = hashlib.sha256(repr([str(Path(p).resolve()) for p in plan_paths]).encode()).hexdigest()[:16]
    described = [
        (r.id, r.path, r.pack, r.severity, r.waivable, r.source_text, r.helpers, sorted(r.params.items()))
        for r in rules
    ]
    what = hashlib.sha256(repr((__version__, plan_cache.FORMAT, described, settings)).encode())
    return folder / f"{where}-{what.hexdigest()[:32]}.pickle"


def _is_state(value: object) -> bool:
    return (
        isinstance(value, tuple)
        and len(value) == 4
        and all(isinstance(part, dict) for part in value)
        and all(isinstance(found, list) for found in value[2].values())
        and all(isinstance(held, dict) for held in value[3].values())
    )


def _content(entity: PlanEntity) -> str:
    """A digest of everything a rule can read of the entity itself (not where it is written)."""
    text = repr((entity.kind, entity.id, entity.model, entity.extras))
    return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


class _Edit:
    """What changed between the remembered check and this one."""

    def __init__(self, graph: Graph, digests: dict[str, str], contents: dict[str, str]) -> None:
        now = graph.plan.digests
        self.files = {path for path in digests.keys() | now.keys() if digests.get(path) != now.get(path)}
        # The changed files' entities as they were: ref -> (digest, relation -> refs).
        before: dict[str, tuple[str, dict[str, list[str]]]] = {}
        for path in self.files:
            for ref, digest, referred in json.loads(contents.get(path, "[]")):
                before[str(ref)] = (str(digest), {str(k): [str(r) for r in v] for k, v in referred.items()})
        self.before = before
        # The entities that are new, gone or hold something else, and those that lost a link.
        changed: set[str] = set()
        for entity in graph.entities:
            if entity.path in self.files:
                old = before.get(entity.ref)
                if old is None or old[0] != _content(entity):
                    changed.add(entity.ref)
        changed.update(
            ref for ref in before if ref not in graph.by_ref or graph.by_ref[ref].path not in self.files
        )
        for problem in graph.problems:  # a reference to one now gone no longer resolves
            if (
                problem.rule == "plan/unresolved-reference"
                and problem.subject
                and problem.related[0] in changed
            ):
                changed.add(problem.subject)
        self.changed = changed

    def seeds_for(self, follows: Iterable[str]) -> set[str]:
        """Where a rule following these relations may see the edit: the changed entities, and
        the entities a changed one referred to before along a relation whose inverse the rule
        follows (a review whose subject moved on changed what its old subject is `reviewed_by`)."""
        wanted = set(follows)
        seeds = set(self.changed)
        for ref in self.changed:
            kind = KIND_BY_LOWER.get(ref.partition(":")[0])
            if ref in self.before and kind is not None:
                forward = relations()[kind]
                for name, targets in self.before[ref][1].items():
                    if name in forward and forward[name].inverse in wanted:
                        seeds.update(targets)
        return seeds

    def reshaped(self, graph: Graph, kind: str, relation: str) -> bool:
        """Whether the edit may have changed which entities of `kind` link to which along `relation`
        (a reference field of `kind`'s own: the only relation `cycles()` takes)."""
        prefix = f"{kind.lower()}:"
        for ref in self.changed:
            if not ref.startswith(prefix):
                continue
            entity, old = graph.by_ref.get(ref), self.before.get(ref)
            if entity is None or old is None:  # came, went, or lost a link
                return True
            if old[1].get(relation, []) != [target.ref for target in entity.links.get(relation, ())]:
                return True
        return False


def _moved(finding: Finding, graph: Graph, rule: CompiledRule, changed: set[str]) -> Finding:
    """A kept finding, located again when its subject's file changed (lines above it may have)."""
    subject = graph.by_ref.get(finding.subject) if finding.subject is not None else None
    if finding.location is None or finding.location.path not in changed or subject is None:
        return finding
    return replace(finding, location=subject.first_written(rule.at))


class _Reach:
    """Who can reach given entities along given relations: the subjects whose findings may have changed.

    Links are kept forwards on every entity; going back along a forward
    relation needs an index of who links to whom, made for one relation the
    first time a walk needs it, over the kinds that have that relation.
    Going back along an inverse relation (`reviewed_by`) is going forwards
    along the relation it inverts (a review's `subject`).
    """

    def __init__(self, graph: Graph) -> None:
        self._graph = graph
        self._back: dict[str, dict[PlanEntity, list[PlanEntity]]] = {}  # relation -> target -> sources

    def along(self, refs: set[str], names: Iterable[str]) -> set[PlanEntity]:
        by_ref = self._graph.by_ref
        found = {by_ref[ref] for ref in refs if ref in by_ref}
        todo = list(found)
        wanted = tuple(names)
        while todo:
            entity = todo.pop()
            for name in wanted:
                for source in self._sources(entity, name):
                    if source not in found:
                        found.add(source)
                        todo.append(source)
        return found

    def _sources(self, entity: PlanEntity, name: str) -> list[PlanEntity]:
        """The entities that reach `entity` in one step along `name`."""
        # `name` inverts relations of this kind: those that reach it are what these link to.
        found = [
            s
            for r in relations()[entity.kind].values()
            if r.inverse == name
            for s in entity.links.get(r.name, ())
        ]
        if any(entity.kind in rels[name].targets for rels in relations().values() if name in rels):
            back = self._back.get(name)
            if back is None:
                back = self._back[name] = defaultdict(list)
                for kind, rels in relations().items():
                    if name in rels:
                        for source in self._graph.by_kind[kind]:
                            for target in source.links.get(name, ()):
                                back[target].append(source)
            found.extend(back.get(entity, ()))
        return found


def _state(graph: Graph, findings: dict[str, list[Finding]], groups: dict[str, dict[str, str]]) -> State:
    """What the next check compares with, made by the writer after this check's output."""
    forward = relations()
    entities: dict[str, list[list[Any]]] = defaultdict(list)
    for entity in graph.entities:
        referred = {
            name: [t.ref for t in entity.links[name]] for name in forward[entity.kind] if name in entity.links
        }
        entities[entity.path].append([entity.ref, _content(entity), referred])
    contents = {path: json.dumps(held) for path, held in entities.items()}
    return dict(graph.plan.digests), contents, findings, groups
