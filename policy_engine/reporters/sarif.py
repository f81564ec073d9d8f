"""SARIF 2.1.0, as GitHub code scanning reads it."""

from __future__ import annotations

from functools import lru_cache
from typing import Any
from urllib.parse import quote

from policy_engine import jsontext
from policy_engine.report import Finding, Report, RuleInfo
from policy_engine.reporters.text import caret_width
from policy_engine.ruledocs import doc_markdown

LEVELS = {"error": "error", "warning": "warning", "info": "note"}
INFO_URI = "https://github.com/policy-engine/policy-engine"


def _rule(info: RuleInfo) -> dict[str, Any]:
    help_text = info.doc or info.rationale or info.title
    rule: dict[str, Any] = {
        "id": info.id,
        "name": "".join(part.capitalize() for part in info.id.replace("/", "-").split("-")),
        "shortDescription": {"text": info.title},
        "fullDescription": {"text": info.rationale or info.title},
        "help": {"text": help_text, "markdown": doc_markdown(help_text)},
        "defaultConfiguration": {"level": LEVELS[info.severity]},
        "properties": {"tags": ["governance", *info.tags], "pack": info.pack},
    }
    if info.link:
        rule["helpUri"] = info.link
    return rule


@lru_cache(maxsize=4096)
def _uri(path: str) -> str:
    # A plan has few files and a big report many findings: quote each path once.
    return quote(path)


def _result(f: Finding, index: int, change: str | None, excerpt: str | None) -> dict[str, Any]:
    result: dict[str, Any] = {
        "ruleId": f.rule,
        "ruleIndex": index,
        "level": LEVELS[f.severity],
        "message": {"text": f.message},
        "partialFingerprints": {"policyEngineFingerprint/v1": f.fingerprint},
        "properties": {"subject": f.subject, "group": f.group, "related": list(f.related)},
    }
    if f.location is not None:
        loc = f.location
        region = {"startLine": loc.line, "startColumn": loc.column}
        if excerpt:  # the value the text report underlines; SARIF's end column is past it
            width = caret_width(excerpt, loc.column, yaml=not loc.path.endswith(".json"))
            region |= {"endLine": loc.line, "endColumn": loc.column + width}
        result["locations"] = [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": _uri(loc.path), "uriBaseId": "%SRCROOT%"},
                    "region": region,
                }
            }
        ]
    if change is not None:  # compared with --base: SARIF's own word for it, "new" or "unchanged"
        result["baselineState"] = change
    if f.suppressed_by:
        result["suppressions"] = [
            {
                "kind": "external",
                "status": "accepted",
                "justification": f"waived by {f.suppressed_by}",
            }
        ]
    return result


def render(report: Report, color: bool = False) -> str:
    ids = sorted(set(report.rules) | {f.rule for f in report.findings})
    infos = [report.rule_info.get(i) or RuleInfo(i, i, "error", "unknown") for i in ids]
    index = {info.id: n for n, info in enumerate(infos)}
    sarif = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "policy-engine",
                        "version": report.tool_version,
                        "semanticVersion": report.tool_version,
                        "informationUri": INFO_URI,
                        "rules": [_rule(info) for info in infos],
                    }
                },
                "columnKind": "unicodeCodePoints",
                "properties": {"asOf": report.as_of},
                "results": [
                    _result(f, index[f.rule], report.change_of(f), report.excerpt(f)) for f in report.findings
                ],
            }
        ],
    }
    return jsontext.dumps(sarif) + "\n"
