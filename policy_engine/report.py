"""Findings and the report every reporter renders (the JSON report contract, v1)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from typing import Any

from policy_engine.source import Location, SourceFile

SEVERITIES = ("error", "warning", "info")
SEVERITY_RANK = {"error": 3, "warning": 2, "info": 1, "never": 4}


def noun(n: int, one: str, many: str | None = None) -> str:
    """The noun for `n` things: `warning`, `warnings`; `many` where adding an s is wrong."""
    return one if n == 1 else many or one + "s"


def counted(n: int, one: str, many: str | None = None) -> str:
    """`1 warning`, `2 warnings`, `3 entities`."""
    return f"{n} {noun(n, one, many)}"


def fingerprint(rule: str, subject: str | None, group: str | None, related: tuple[str, ...]) -> str:
    """Identifies a finding across edits that move lines: never from positions."""
    key = "\x1f".join([rule, subject or "", group or "", *sorted(related)])
    return hashlib.sha256(key.encode()).hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem: a rule's verdict on a subject (an entity) or a group (a set)."""

    rule: str
    severity: str
    message: str
    location: Location | None
    subject: str | None = None
    group: str | None = None
    related: tuple[str, ...] = ()
    suppressed_by: str | None = None

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.rule, self.subject, self.group, self.related)

    def sort_key(self) -> tuple[str, int, int, str, str, str]:
        loc = self.location
        path, line, column = (loc.path, loc.line, loc.column) if loc else ("", 0, 0)
        return (path, line, column, self.rule, self.subject or self.group or "", self.message)

    def with_(self, **changes: Any) -> Finding:
        return replace(self, **changes)

    def __reduce__(self) -> tuple[Any, ...]:
        # Pickled as a call with the fields (a second core's findings come back
        # pickled): a frozen dataclass's own state is set one field at a time,
        # 2.5 times as slow to pickle and read back.
        fields = (self.rule, self.severity, self.message, self.location, self.subject, self.group)
        return (Finding, (*fields, self.related, self.suppressed_by))


@dataclass(frozen=True, slots=True)
class Report:
    """Everything a check found; every reporter renders this and only this."""

    tool_version: str
    as_of: str
    findings: tuple[Finding, ...]
    entities: int
    rules: tuple[str, ...]  # the ids of the rules that ran
    rule_info: dict[str, RuleInfo] = field(default_factory=dict)
    fail_on: str = "error"
    extra: dict[str, Any] = field(default_factory=dict)  # plan at a glance; changes with --base
    new_only: bool = False  # with --base --new-only: only new findings fail
    # The plan's files, for the excerpts of the reporters that show them.
    sources: dict[str, SourceFile] = field(default_factory=dict, compare=False, repr=False)

    def excerpt(self, f: Finding) -> str | None:
        """The source line under a finding's location; looked up only by who shows it."""
        loc = f.location
        source = self.sources.get(loc.path) if loc is not None else None
        if source is None or loc is None:
            return None
        return source.line_text(loc.line) or None

    def change_of(self, f: Finding) -> str | None:
        """`new` or `unchanged` when the report was compared with a base revision."""
        changes = self.extra.get("changes")
        return changes["labels"].get(f.fingerprint) if changes else None

    def counts(self) -> dict[str, int]:
        counts = {"error": 0, "warning": 0, "info": 0, "suppressed": 0}
        for f in self.findings:
            if f.suppressed_by:
                counts["suppressed"] += 1
            else:
                counts[f.severity] += 1
        return counts

    def shown(self) -> list[Finding]:
        """What a person should see: unsuppressed findings, only the new ones with --new-only."""
        return [
            f
            for f in self.findings
            if not f.suppressed_by and (not self.new_only or self.change_of(f) == "new")
        ]

    def failing(self) -> list[Finding]:
        """Unsuppressed findings at or above the fail level."""
        level = SEVERITY_RANK[self.fail_on]
        return [
            f
            for f in self.findings
            if not f.suppressed_by
            and SEVERITY_RANK[f.severity] >= level
            and (not self.new_only or self.change_of(f) == "new")
        ]

    def to_json(self) -> dict[str, Any]:
        """The JSON report contract, v1."""
        summary: dict[str, int] = {
            **self.counts(),
            "entities": self.entities,
            "rules": len(self.rules),
        }
        out: dict[str, Any] = {
            "version": 1,
            "tool": {"name": "policy-engine", "version": self.tool_version},
            "as_of": self.as_of,
            "summary": summary,
            "findings": [finding_json(f) for f in self.findings],
        }
        changes = self.extra.get("changes")
        if changes:  # an extension of the contract, present only with --base
            for item, f in zip(out["findings"], self.findings, strict=True):
                item["change"] = self.change_of(f)
            out["changes"] = {
                "base": changes["base"],
                "new": sum(1 for f in self.findings if self.change_of(f) == "new"),
                "unchanged": sum(1 for f in self.findings if self.change_of(f) == "unchanged"),
                "fixed": [finding_json(f) for f in changes["fixed"]],
            }
        return out


def finding_json(f: Finding) -> dict[str, Any]:
    loc = f.location
    return {
        "rule": f.rule,
        "severity": f.severity,
        "subject": f.subject,
        "group": f.group,
        "related": list(f.related),
        "message": f.message,
        "location": ({"path": loc.path, "line": loc.line, "column": loc.column} if loc else None),
        "fingerprint": f.fingerprint,
        "suppressed_by": f.suppressed_by,
    }


@dataclass(frozen=True, slots=True)
class RuleInfo:
    """What reporters need to know about a rule: its metadata and docs."""

    id: str
    title: str
    severity: str
    pack: str
    waivable: bool = True
    rationale: str = ""
    doc: str = ""
    link: str | None = None
    tags: tuple[str, ...] = ()
