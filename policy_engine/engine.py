"""Runs compiled rules over the graph: findings, locations, waivers, the report."""

from __future__ import annotations

import dataclasses
import fnmatch
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from policy_engine.dsl.compiler import CompiledRule, RawFinding
from policy_engine.dsl.runtime import EvalContext
from policy_engine.plan.graph import Graph
from policy_engine.plan.loader import PlanEntity, gc_paused
from policy_engine.plan.twocores import map_on_two_cores
from policy_engine.recheck import GroupChoice, Recheck, walk_roots
from policy_engine.report import Finding, Report, RuleInfo
from policy_engine.source import Location
from policy_engine.timings import Timings

# Entities in a plan from which its rules are shared with a second core: the
# 10k-initiative plan (16,100 entities) evaluates in 0.24-0.32 s on two cores
# against 0.36-0.46 s on one; much below that, the fork and its copied pages
# would cost what the second core saves.
TWO_CORES_ENTITIES = 10_000

# A rule's findings, the seconds they took, and its groups' digests (see recheck.GroupChoice).
Evaluated = tuple[list[Finding], float, dict[str, str] | None]

PLAN_RULES = {
    "plan/syntax": "The plan file can be read as YAML 1.2 or JSON",
    "plan/unknown-field": "Every field is one the plan format defines (or starts with x-)",
    "plan/invalid-value": "Every value has the type and range its field takes",
    "plan/duplicate-id": "Every id is unique within its kind",
    "plan/unresolved-reference": "Every reference names an entity of the plan",
    "plan/ambiguous-reference": "A bare id stands only where the field admits one kind",
}


@dataclass
class RunOptions:
    """What the caller (CLI or config) decides about a run."""

    as_of: date
    params: dict[str, dict[str, Any]] = field(default_factory=dict)  # rule -> name -> value
    severities: dict[str, str] = field(default_factory=dict)  # rule -> severity
    disabled: set[str] = field(default_factory=set)
    select: Sequence[str] = ()
    ignore: Sequence[str] = ()
    fail_on: str = "error"


def selected(rule_id: str, options: RunOptions) -> bool:
    if rule_id in options.disabled:
        return False
    if options.select and not any(fnmatch.fnmatchcase(rule_id, p) for p in options.select):
        return False
    return not any(fnmatch.fnmatchcase(rule_id, p) for p in options.ignore)


def run_rules(
    graph: Graph,
    rules: Sequence[CompiledRule],
    options: RunOptions,
    timings: Timings | None = None,
    recheck: Recheck | None = None,
) -> list[Finding]:
    """Evaluate every selected rule; waivers suppress what they validly cover.

    `timings` gets each rule's time, locating its findings included. With
    `recheck`, the findings of the previous check of the plan that an edit
    cannot have changed are kept rather than evaluated again.
    """
    with gc_paused():  # evaluation makes short-lived tuples, no cycles
        return _run_rules(graph, rules, options, timings or Timings(), recheck)


def _run_rules(
    graph: Graph,
    rules: Sequence[CompiledRule],
    options: RunOptions,
    timings: Timings,
    recheck: Recheck | None,
) -> list[Finding]:
    chosen = [rule for rule in rules if selected(rule.id, options)]
    graph.link_inverses(followed_by(chosen))  # a graph made with fewer, by whoever made it
    spared = recheck.reuse(graph, chosen) if recheck is not None else {}
    if spared:
        again = sum(len(reuse.again) for reuse in spared.values() if reuse.evaluates)
        timings.notes.append(
            f"re-check: {len(spared)} of {len(chosen)} rules kept the last check's findings where the"
            f" edit cannot reach; {again} subjects evaluated again, {len(chosen) - len(spared)} rules whole"
        )
    ctx = EvalContext(
        graph, options.as_of, {r.id: r.waivable for r in rules}, roots=walk_roots(chosen, spared)
    )

    remembers = recheck is not None and recheck.applies(graph)

    def evaluate(rule: CompiledRule) -> Evaluated:
        severity = options.severities.get(rule.id, rule.severity)
        note = ""
        if rule.fails_from is not None and options.as_of < rule.fails_from:
            severity = "info"  # advisory until the rule's start date; the message says why
            note = f" (advisory: fails from {rule.fails_from})"
        start = time.perf_counter()
        reuse = spared.get(rule.id)
        if reuse is not None and not reuse.evaluates:
            return list(reuse.kept), time.perf_counter() - start, reuse.groups
        choice = GroupChoice(reuse) if rule.grouped and remembers else None
        again = reuse.again if reuse is not None and not rule.grouped else None
        found = [
            _finding(raw, "error") if raw.failed else _finding(raw, severity, note)
            for raw in rule.evaluate(ctx, options.params.get(rule.id), again, choice)
        ]
        if choice is not None:
            found = choice.kept() + found
        elif reuse is not None:
            found = reuse.kept + found
        return found, time.perf_counter() - start, choice.held if choice is not None else None

    # Rules are independent: a big plan's are shared with a second core, unless
    # a re-check spares most of them (the fork's copied pages would cost more).
    worth_a_fork = len(graph.entities) >= TWO_CORES_ENTITIES and len(spared) < len(chosen) / 2
    units = _work_units(chosen)

    def evaluate_unit(unit: list[int]) -> list[Evaluated]:
        return [evaluate(chosen[index]) for index in unit]

    results: dict[int, Evaluated] = {}
    for unit, evaluated in zip(units, map_on_two_cores(evaluate_unit, units, worth_a_fork), strict=True):
        results.update(zip(unit, evaluated, strict=True))
    findings: list[Finding] = []
    for index, rule in enumerate(chosen):
        found, seconds, _ = results[index]
        findings.extend(found)
        timings.add_rule(rule.id, seconds)
    if recheck is not None:
        by_rule = {rule.id: results[index][0] for index, rule in enumerate(chosen)}
        groups = {
            rule.id: held for index, rule in enumerate(chosen) if (held := results[index][2]) is not None
        }
        recheck.remember(graph, by_rule, groups)
    waivers = effective_waivers(graph, {r.id: r.waivable for r in rules}, options.as_of)
    return [_suppress(f, waivers) for f in findings]


def followed_by(rules: Iterable[CompiledRule]) -> set[str]:
    """The relations that rules may follow: a graph for them needs no other inverse relation."""
    return {name for rule in rules for name in rule.follows}


def _work_units(rules: Sequence[CompiledRule]) -> list[list[int]]:
    """The rules (their indices) in units that one process evaluates together.

    Rules that follow one relation's closure (priority-inversion and
    retired-system-use both walk depends_on) share a unit, so that one
    process makes the walk, once, while the other evaluates other rules; the
    walk counts in the time of the unit's first rule that follows it. Such
    units are likely the longest and go first, so that neither process is
    left with one at the end. A rule whose walks lie in two units joins the
    first: the other walk is then made in both processes, which costs time,
    not correctness.
    """
    walking: list[list[int]] = []
    others: list[list[int]] = []
    unit_of: dict[str, list[int]] = {}
    for index, rule in enumerate(rules):
        unit = next((unit_of[walk] for walk in rule.walks if walk in unit_of), None)
        if unit is None:
            unit = []
            (walking if rule.walks else others).append(unit)
        unit.append(index)
        for walk in rule.walks:
            unit_of.setdefault(walk, unit)
    return walking + others


def _finding(raw: RawFinding, severity: str, note: str = "") -> Finding:
    return Finding(
        rule=raw.rule.id,
        severity=severity,
        message=raw.message + note,
        location=raw.located_on.first_written(raw.rule.at) if raw.located_on is not None else None,
        subject=raw.subject.ref if raw.subject is not None else None,
        group=raw.group,
        related=tuple(e.ref for e in raw.related),
    )


def effective_waivers(graph: Graph, waivable: dict[str, bool], as_of: date) -> dict[tuple[str, str], str]:
    """(rule, subject) -> the waiver that suppresses it, for every valid, unexpired waiver."""
    table: dict[tuple[str, str], str] = {}
    for waiver in graph.by_kind["Waiver"]:  # sorted by id: the first waiver wins
        model: Any = waiver.model
        subjects = waiver.links.get("subjects", ())
        valid = (
            model.rule
            and subjects
            and model.reason
            and model.expires is not None
            and model.expires >= as_of
            and waivable.get(model.rule, False)
        )
        if not valid:
            continue
        for subject in subjects:
            table.setdefault((model.rule, subject.ref), waiver.ref)
    return table


def _suppress(finding: Finding, waivers: dict[tuple[str, str], str]) -> Finding:
    if finding.subject is None:
        return finding
    waiver = waivers.get((finding.rule, finding.subject))
    return finding.with_(suppressed_by=waiver) if waiver else finding


def rule_infos(rules: Sequence[CompiledRule]) -> dict[str, RuleInfo]:
    infos = {
        rule_id: RuleInfo(rule_id, title, "error", "plan", waivable=False)
        for rule_id, title in PLAN_RULES.items()
    }
    for rule in rules:
        infos[rule.id] = RuleInfo(
            rule.id,
            rule.title,
            rule.severity,
            rule.pack,
            rule.waivable,
            rule.rationale,
            rule.doc,
            rule.link,
            rule.tags,
        )
    return infos


def build_report(
    findings: list[Finding],
    *,
    graph: Graph,
    rules: Sequence[CompiledRule],
    options: RunOptions,
    version: str,
) -> Report:
    """Sort, and wrap everything in one report with the sources excerpts come from.

    A finding about the whole plan with no member to point at (a `group all`
    rule that selected nothing) is located at the start of the plan's first
    file: every report format, and GitHub code scanning, wants a place.
    """
    if graph.plan.files:
        start = Location(graph.plan.files[0], 1, 1)
        findings = [f if f.location else dataclasses.replace(f, location=start) for f in findings]
    ordered = sorted(findings, key=Finding.sort_key)
    ran = tuple(sorted(r.id for r in rules if selected(r.id, options)))
    return Report(
        tool_version=version,
        as_of=options.as_of.isoformat(),
        findings=tuple(ordered),
        entities=len(graph.entities),
        rules=ran,
        rule_info=rule_infos(rules),
        fail_on=options.fail_on,
        extra={"glance": plan_glance(graph)},
        sources=graph.plan.sources,
    )


def plan_glance(graph: Graph) -> dict[str, Any]:
    """What a reader of the report wants to see of the plan: open P0s, who owns what."""
    open_p0: dict[str, list[dict[str, Any]]] = {}
    for i in graph.by_kind["Initiative"]:
        model: Any = i.model
        if model.priority == "P0" and model.status not in ("done", "cancelled"):
            open_p0.setdefault(model.period or "unscheduled", []).append(_who(i))
    outcomes = [{**_who(o), "status": o.model.status} for o in graph.by_kind["Outcome"]]  # type: ignore[attr-defined]
    return {"open_p0": sorted(open_p0.items()), "outcomes": outcomes}


def _who(entity: PlanEntity) -> dict[str, Any]:
    """An entity's id, who owns it and who decides for it."""
    return {
        "id": entity.id,
        "owner": [e.ref for e in entity.links.get("owner", ())],
        "decides": [e.ref for e in entity.links.get("decision.decides", ())],
    }
