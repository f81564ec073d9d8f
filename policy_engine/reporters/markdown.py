"""Markdown: a one-page summary for a pull request or a leadership review."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any, TypeVar
from urllib.parse import quote

from policy_engine.report import Finding, Report, counted, noun

MAX_ROWS = 100  # rows of one table; the rest are counted (see table_rows)
EVERY_FINDING = ": the JSON and SARIF reports list them all"
T = TypeVar("T")


def cell(value: Any) -> str:
    """Text safe inside a Markdown table cell."""
    text = str(value)
    for raw, safe in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ("|", "\\|"), ("`", "\\`")):
        text = text.replace(raw, safe)
    return text.replace("\r\n", "<br>").replace("\n", "<br>").replace("\r", "<br>")


def _where(f: Finding, link_base: str | None) -> str:
    """The finding's file and line, linked: relative to the report, or under `link_base`.

    A summary posted to a pull request or a CI run page is not beside the
    files, so relative links lead nowhere there; `check --link-base URL`
    makes them absolute (a repository's blob URL at the commit checked).
    """
    if f.location is None:
        return "(plan)"
    loc = f.location
    target = quote(loc.path)
    if link_base and not loc.path.startswith("/"):
        target = f"{link_base.rstrip('/')}/{target}"
    return f"[{cell(loc.path)}:{loc.line}]({cell(target)}#L{loc.line})"


def _shown(report: Report) -> list[Finding]:
    """The findings the page lists: unwaived, and with --base only the new ones."""
    return [f for f in report.findings if not f.suppressed_by and report.change_of(f) != "unchanged"]


def summary_section(report: Report) -> list[str]:
    """The verdict, the counts and the findings by rule: what a reader sees first."""
    counts = report.counts()
    status = "fails" if report.failing() else "passes"
    judged = "the change" if report.new_only else "the plan"  # --new-only fails on what the change adds
    lines = [
        f"## policy-engine: {judged} {status}",
        "",
        f"**{counts['error']}** {noun(counts['error'], 'error')}, "
        f"**{counts['warning']}** {noun(counts['warning'], 'warning')}, **{counts['info']}** info, "
        f"**{counts['suppressed']}** waived; {counted(report.entities, 'entity', 'entities')} checked by "
        f"{counted(len(report.rules), 'rule')} as of {report.as_of}.",
        "",
    ]
    by_rule = Counter((f.rule, f.severity) for f in _shown(report))
    if by_rule:
        counted_as = "new findings" if report.extra.get("changes") else "findings"
        lines += [f"| rule | severity | {counted_as} |", "| --- | --- | ---: |"]
        for (rule, severity), n in sorted(by_rule.items()):
            lines.append(f"| `{cell(rule)}` | {severity} | {n} |")
        lines.append("")
    return lines


def findings_section(report: Report) -> list[str]:
    lines: list[str] = []
    link_base = report.extra.get("link_base")
    shown = _shown(report)
    if shown:
        title = "New findings" if report.extra.get("changes") else "Findings"
        lines += [
            f"### {title}",
            "",
            "| severity | rule | subject | where | message |",
            "| --- | --- | --- | --- | --- |",
        ]
        lines += table_rows(
            shown,
            lambda f: (
                f"| {f.severity} | `{cell(f.rule)}` | {cell(f.subject or f.group or '')} "
                f"| {_where(f, link_base)} | {cell(f.message)} |"
            ),
            "findings",
            EVERY_FINDING,
        )
        lines.append("")
    waived = [f for f in report.findings if f.suppressed_by]
    if waived:
        lines += [
            "<details><summary>Waived findings</summary>",
            "",
            "| rule | subject | waiver |",
            "| --- | --- | --- |",
        ]
        lines += table_rows(
            waived,
            lambda f: f"| `{cell(f.rule)}` | {cell(f.subject or f.group or '')} | {cell(f.suppressed_by)} |",
            "waived findings",
            EVERY_FINDING,
        )
        lines += ["", "</details>", ""]
    return lines


def glance_section(report: Report) -> list[str]:
    glance = report.extra.get("glance")
    if not glance:
        return []
    lines = ["### The plan at a glance", "", "| period | open P0 initiative | owner | decides |"]
    lines.append("| --- | --- | --- | --- |")
    # Each period's name (and count) stands on its first initiative's row only.
    p0 = [
        (f"{cell(period)} ({len(rows)})" if n == 0 else "", row)
        for period, rows in glance["open_p0"]
        for n, row in enumerate(rows)
    ]
    p0_rows = table_rows(
        p0, lambda item: f"| {item[0]} | {cell(item[1]['id'])} | {_who(item[1])} |", "open P0 initiatives"
    )
    lines += p0_rows or ["| - | none | | |"]
    lines += ["", "| outcome | status | owner | decides |", "| --- | --- | --- | --- |"]
    lines += table_rows(
        glance["outcomes"],
        lambda row: f"| {cell(row['id'])} | {cell(row['status'] or '')} | {_who(row)} |",
        "outcomes",
    )
    return [*lines, ""]


def table_rows(items: Sequence[T], row: Callable[[T], str], what: str, elsewhere: str = "") -> list[str]:
    """The rows of a table's first MAX_ROWS items, and how many more there are.

    A pull-request comment holds 65,536 characters and a step summary 1 MiB:
    a plan's whole backlog would not fit, and the page could not be posted.
    """
    rows = [row(item) for item in items[:MAX_ROWS]]
    if len(items) > MAX_ROWS:
        rows += ["", f"… and {len(items) - MAX_ROWS:,} more {what}{elsewhere}."]
    return rows


def _who(row: dict[str, Any]) -> str:
    """The owner and decides cells of a glance row."""
    return f"{cell(', '.join(row['owner']) or 'nobody')} | {cell(', '.join(row['decides']) or '-')}"


def changes_section(report: Report) -> list[str]:
    """With --base: what the change does to the plan, and what it fixed."""
    from policy_engine.changes import diff_markdown

    diff = report.extra.get("plan_diff")
    changes = report.extra.get("changes")
    if diff is None or changes is None:
        return []
    lines = [diff_markdown(diff)]
    fixed = changes["fixed"]
    if fixed:
        lines += ["#### Fixed by this change", "", "| rule | subject | message |", "| --- | --- | --- |"]
        lines += table_rows(
            fixed,
            lambda f: f"| `{cell(f.rule)}` | {cell(f.subject or f.group or '')} | {cell(f.message)} |",
            "fixed findings",
            EVERY_FINDING,
        )
        lines.append("")
    return lines


def render(report: Report, color: bool = False) -> str:
    sections = (summary_section, changes_section, findings_section, glance_section)
    body = [line for section in sections for line in section(report)]
    return "\n".join(body).rstrip("\n") + "\n"
