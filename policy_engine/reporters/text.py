"""Text for a person at a terminal: grouped by file, source line and caret, summary."""

from __future__ import annotations

import re

from policy_engine.report import Finding, Report, counted
from policy_engine.source import underline

_COLORS = {"error": "\033[31m", "warning": "\033[33m", "info": "\033[36m"}
_BOLD, _DIM, _RESET = "\033[1m", "\033[2m", "\033[0m"
_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|\'[^\']*\'|[^\s,\]\}#]+')


def caret_width(excerpt: str, column: int, yaml: bool = True) -> int:
    """How much of the line the caret underlines: the value (or key) at the column."""
    start = column - 1
    if excerpt[start : start + 1] in ("[", "{"):
        close = excerpt.find("]" if excerpt[start] == "[" else "}", start)
        return close - start + 1 if close != -1 else 1  # not closed on this line: the opening alone
    match = _TOKEN.match(excerpt, start)
    if match is None:
        return 1
    token = match.group()
    if token[0] in "\"'" and (len(token) == 1 or token[-1] != token[0]):
        return 1  # quotes not closed on this line: the opening alone
    if token.endswith(":") and excerpt[match.end() : match.end() + 1] in ("", " ", "\t"):
        return max(1, len(token) - 1)  # a key: underline its name, not the colon after it
    before = excerpt[:start]
    in_flow = before.count("[") + before.count("{") > before.count("]") + before.count("}")
    if yaml and token[0] not in "\"'":
        # A plain YAML scalar runs to a comment or the end of the line (`3 months`); in a flow
        # collection, to the next `,`, `]` or `}` as well (`[Big Bang, x]`).
        ends = (" #", ",", "]", "}") if in_flow else (" #",)
        found = [i for i in (excerpt.find(e, start) for e in ends) if i != -1]
        return max(1, len(excerpt[start : min(found, default=len(excerpt))].rstrip()))
    return max(1, len(token))


def render_finding(
    f: Finding,
    excerpt: str | None,
    color: bool = False,
    show_severity: bool = True,
    change: str | None = None,
) -> str:
    """`path:line:col: severity rule message`, then the source line and a caret."""
    loc = f.location
    where = f"{loc.path}:{loc.line}:{loc.column}" if loc else "(plan)"
    label = f"{f.severity} " if show_severity else ""
    if color:
        where = f"{_BOLD}{where}{_RESET}"
        label = f"{_COLORS[f.severity]}{label}{_RESET}" if label else label
    message = f.message.replace("\n", "\n    ")  # continuation lines stay with their finding
    lines = [f"{where}: {label}{f.rule} {message}"]
    if change:
        lines[0] += f" [{change}]"
    if loc is not None and excerpt:
        width = caret_width(excerpt, loc.column, yaml=not loc.path.endswith(".json"))
        caret = underline(excerpt, loc.column, width)
        if color:
            pad = caret.rstrip("^")
            caret = f"{pad}{_COLORS[f.severity]}{caret[len(pad) :]}{_RESET}"
        lines += [f"  {excerpt}", f"  {caret}"]
    return "\n".join(lines)


def summary(report: Report) -> str:
    counts = report.counts()
    errors, warnings = counted(counts["error"], "error"), counted(counts["warning"], "warning")
    text = f"{errors}, {warnings}, {counts['info']} info"
    if counts["suppressed"]:
        text += f" ({counts['suppressed']} waived)"
    text = f"{text} in {counted(report.entities, 'entity', 'entities')}, {counted(len(report.rules), 'rule')}"
    changes = report.extra.get("changes")
    if changes:
        new = sum(1 for f in report.findings if report.change_of(f) == "new")
        text += f"; against {changes['base']}: {new} new, {len(changes['fixed'])} fixed"
    return text


def render(report: Report, color: bool = False) -> str:
    shown = report.shown()
    out: list[str] = []
    current_path: str | None = None
    for f in shown:
        path = f.location.path if f.location else "(plan)"
        if path != current_path:
            if current_path is not None:
                out.append("")
            out.append(f"{_BOLD}{path}{_RESET}" if color else path)
            current_path = path
        out.append(render_finding(f, report.excerpt(f), color, change=report.change_of(f)))
    if out:
        out.append("")
    changes = report.extra.get("changes")
    if changes and changes["fixed"]:
        # Gone from the plan, so no line to point at: the rule, what it was about, what it said.
        out.append(f"fixed since {changes['base']}:")
        out += [f"  {f.rule} {f.subject or f.group}: {f.message}" for f in changes["fixed"]]
        out.append("")
    if shown:
        out.append(summary(report))
    else:
        out.append(f"No {'new ' if report.new_only else ''}problems found. {summary(report)}")
    return "\n".join(out) + "\n"
