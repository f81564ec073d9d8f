"""Rule case files: small plans with the findings a rule must and must not give.

A case file is YAML; pydantic validates it. Each case is checked with only
its rule enabled, and the result names the case and every missing or
unexpected finding.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from policy_engine.diagnostics import UsageError, did_you_mean
from policy_engine.dsl.compiler import CompiledRule
from policy_engine.engine import RunOptions
from policy_engine.files import display_path, files_under, read_regular
from policy_engine.plan.graph import build_graph
from policy_engine.plan.loader import load_texts
from policy_engine.plan.yamlread import KEY, Document, YamlProblem, read_documents
from policy_engine.report import Finding
from policy_engine.source import not_utf8

DEFAULT_AS_OF = date(2027, 1, 15)


class Expected(BaseModel):
    """A finding a case must give; fields left out are not compared."""

    model_config = ConfigDict(extra="forbid")

    subject: str | None = None
    group: str | None = None
    related: list[str] | None = None
    line: int | None = None
    column: int | None = None
    severity: str | None = None
    suppressed_by: str | None = None
    message: str | None = None

    def matches(self, f: Finding) -> bool:
        loc = f.location
        return (
            (self.subject is None or self.subject == f.subject)
            and (self.group is None or self.group == f.group)
            and (self.related is None or self.related == list(f.related))
            and (self.line is None or (loc is not None and loc.line == self.line))
            and (self.column is None or (loc is not None and loc.column == self.column))
            and (self.severity is None or self.severity == f.severity)
            and (self.suppressed_by is None or self.suppressed_by == f.suppressed_by)
            and (self.message is None or self.message == f.message)
        )

    @classmethod
    def of(cls, f: Finding) -> Expected:
        """What a case would write to expect `f` (severity left out: the rule's own)."""
        loc = f.location
        return cls(
            subject=f.subject,
            group=f.group,
            related=list(f.related) or None,
            line=loc.line if loc else None,
            column=loc.column if loc else None,
            suppressed_by=f.suppressed_by,
            message=f.message,
        )

    def describe(self) -> str:
        parts = [f"{k}={v}" for k, v in self.model_dump(exclude_none=True).items()]
        return ", ".join(parts)


class Case(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    plan: str
    as_of: date | None = None
    params: dict[str, Any] = Field(default_factory=dict)
    expect: list[Expected] = Field(default_factory=list)


class CaseFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rule: str
    as_of: date | None = None
    params: dict[str, Any] = Field(default_factory=dict)  # for every case; a case's own win
    cases: list[Case]


@dataclass(frozen=True, slots=True)
class CaseResult:
    path: str
    rule: str
    name: str
    problems: tuple[str, ...]  # empty when the case passed

    @property
    def passed(self) -> bool:
        return not self.problems


def case_files(paths: Sequence[Path]) -> list[Path]:
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(files_under(path, ".yaml"))
        elif path.is_file():
            found.append(path)
        else:
            raise UsageError(f"no such case file or folder: {path}")
    return found


def policy_folders_of(case_paths: Sequence[Path]) -> list[Path]:
    """The policy folders that the given case files or folders sit in (`POLICIES/cases/...`).

    `policy-engine test governance/cases` is about governance's rules, so they
    are loaded whether or not the config names them.
    """
    found: list[Path] = []
    for path in case_paths:
        absolute = path.absolute()
        for folder in [absolute, *absolute.parents]:
            if folder.name == "cases" and folder.is_dir():
                policies = Path(display_path(folder.parent))  # shown as a plan file's path is
                if any(folder.parent.glob("*.policy")) and policies not in found:
                    found.append(policies)
                break
    return found


def read_case_file(path: Path) -> CaseFile:
    try:
        data = read_regular(path)
        docs = list(read_documents(data.decode("utf-8-sig")))
    except OSError as exc:
        raise UsageError(f"{path}: cannot read case file: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        line, column, message = not_utf8(data, exc)
        raise UsageError(f"{path}:{line}:{column}: case {message}") from None
    except YamlProblem as exc:
        raise UsageError(f"{path}:{exc.line}:{exc.column}: {exc.text}") from None
    if len(docs) != 1:
        raise UsageError(f"{path}: a case file holds one YAML document")
    try:
        return CaseFile.model_validate(docs[0].value)
    except ValidationError as exc:
        raise UsageError(_describe(exc, docs[0], path)) from None


_NESTED: dict[str, type[BaseModel]] = {"cases": Case, "expect": Expected}


def _describe(exc: ValidationError, doc: Document, path: Path) -> str:
    """Every problem of a case file, at its line and column, in a case writer's words."""
    told: list[tuple[int, int, str]] = []
    for error in exc.errors():
        loc = tuple(error["loc"])
        model: type[BaseModel] = CaseFile  # the block that holds the offending value
        for part in loc[:-1]:
            model = _NESTED.get(part, model) if isinstance(part, str) else model
        message = str(error["msg"])
        at = loc
        if error["type"] == "extra_forbidden":
            hint = did_you_mean(str(loc[-1]), model.model_fields)
            message = f"unknown field '{loc[-1]}'" + (f"; {hint}" if hint else "")
            at = (*loc, KEY)
        elif error["type"] == "missing":  # located at the block that lacks it
            message = f"missing '{loc[-1]}'"
            at = loc[:-1]
        elif loc[-1] == "plan" and error["type"] == "string_type":  # the plan's YAML, unquoted
            message = "a case's plan is text: write `plan: |`, and the plan's YAML indented below it"
        elif error["type"] == "model_type":
            block = _NESTED.get(str(loc[-2]), model) if len(loc) > 1 else model
            message = f"expected a mapping of {', '.join(block.model_fields)} (got {error['input']!r})"
            if block is Expected and isinstance(error["input"], str):  # `expect: [initiative:a]`
                key = "subject" if ":" in error["input"] else "group"
                message += f"; an expected finding is written - {key}: {error['input']}"
        position = None
        while position is None and at:
            position, at = doc.positions.get(at), at[:-1]
        line, column = position or (doc.line, doc.column)
        where = ".".join(str(p) for p in loc)
        told.append((line, column, f"{path}:{line}:{column}: invalid case file at {where}: {message}"))
    return "\n".join(text for _, _, text in sorted(told))


def run_case_file(path: Path, rules: Sequence[CompiledRule]) -> list[CaseResult]:
    from policy_engine.api import check_graph

    spec = read_case_file(path)
    if spec.rule not in {r.id for r in rules}:
        raise UsageError(
            f"{path}: no loaded rule has the id '{spec.rule}'; load its policy with --policy PATH"
            " or the config's `policies`, or keep the case file in a `cases/` folder beside it"
        )
    from policy_engine.config import typed_param

    rule = next(r for r in rules if r.id == spec.rule)
    for where, params in [("", spec.params), *((f"case '{c.name}': ", c.params) for c in spec.cases)]:
        for name, value in params.items():
            typed, why = typed_param(rule, name, value)
            if why:  # a case of a parameter that does not exist would test the defaults
                raise UsageError(f"{path}: {where}params.{name}: {why}")
            params[name] = typed
    results = []
    for case in spec.cases:
        graph = build_graph(load_texts([(f"{path.stem}/{_slug(case.name)}.yaml", case.plan)]))
        as_of = case.as_of or spec.as_of or DEFAULT_AS_OF
        params = {**spec.params, **case.params}
        options = RunOptions(as_of=as_of, params={spec.rule: params}, select=[spec.rule])
        report = check_graph(graph, rules, options)
        problems: list[str] = []
        plan_problems = [f for f in report.findings if f.rule.startswith("plan/")]
        problems += [
            f"the case's plan has a problem: {f.location}: {f.rule} {f.message}" for f in plan_problems
        ]
        actual = [f for f in report.findings if f.rule == spec.rule]
        unmatched = list(actual)
        missing: list[Expected] = []
        for expected in case.expect:
            hit = next((f for f in unmatched if expected.matches(f)), None)
            if hit is None:
                missing.append(expected)
                line = f"missing finding: {expected.describe()}"
                refs = [e.ref for e in graph.entities]
                if expected.subject is not None and expected.subject not in refs:  # a typo in the case
                    hint = did_you_mean(expected.subject, refs)
                    line += f" (the case's plan has no {expected.subject}{'; ' + hint if hint else ''})"
                problems.append(line)
            else:
                unmatched.remove(hit)
        problems += [f"unexpected finding: {Expected.of(f).describe()}" for f in unmatched]
        problems += _differences(missing, unmatched)
        results.append(CaseResult(str(path), spec.rule, case.name, tuple(problems)))
    return results


def _differences(missing: list[Expected], unexpected: list[Finding]) -> list[str]:
    """For a missing finding and an unexpected one about the same subject or group, what differs."""
    told: list[str] = []
    left = list(unexpected)
    for expected in missing:
        if expected.subject is None and expected.group is None:
            continue
        found = next((f for f in left if (expected.subject, expected.group) == (f.subject, f.group)), None)
        if found is None:
            continue
        left.remove(found)
        got = Expected.of(found).model_dump()
        got["severity"] = found.severity
        wanted = expected.model_dump(exclude_none=True)
        differing = [f"{k} {got[k]!r}, not {v!r}" for k, v in wanted.items() if got[k] != v]
        told.append(f"{found.subject or found.group} has {'; '.join(differing)}")
    return told


def _slug(name: str) -> str:
    return "".join(ch if ch.isalnum() else "-" for ch in name.lower()).strip("-") or "case"
