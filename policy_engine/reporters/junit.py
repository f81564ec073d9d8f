"""JUnit XML, as Jenkins and GitLab read it: a testsuite per rule, a testcase per subject."""

from __future__ import annotations

import re
from collections import defaultdict
from xml.sax.saxutils import escape, quoteattr

from policy_engine.report import Finding, Report

# Characters XML 1.0 cannot carry at all, even escaped.
_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _text(value: str) -> str:
    return escape(_INVALID.sub("\ufffd", value))


def _attr(value: str) -> str:
    return quoteattr(_INVALID.sub("\ufffd", value), {"\n": "&#10;", "\r": "&#13;", "\t": "&#9;"})


def _testcase(rule: str, f: Finding) -> str:
    name = f.subject or f.group or "(plan)"
    where = str(f.location) if f.location else "(plan)"
    head = f"    <testcase name={_attr(name)} classname={_attr(rule)}>"
    if f.suppressed_by:
        body = f"      <skipped message={_attr(f'waived by {f.suppressed_by}')}/>"
    else:
        body = (
            f"      <failure type={_attr(f.severity)} message={_attr(f.message)}>"
            f"{_text(f'{where}: {f.message}')}</failure>"
        )
    return f"{head}\n{body}\n    </testcase>"


def render(report: Report, color: bool = False) -> str:
    by_rule: dict[str, list[Finding]] = defaultdict(list)
    for f in report.findings:
        by_rule[f.rule].append(f)
    ids = sorted(set(report.rules) | set(by_rule))
    suites = []
    total = failed = 0
    for rule in ids:
        findings = by_rule.get(rule, [])
        failures = sum(1 for f in findings if not f.suppressed_by)
        skipped = len(findings) - failures
        cases = [_testcase(rule, f) for f in findings]
        if not findings:
            cases = [f"    <testcase name={_attr('all subjects')} classname={_attr(rule)}/>"]
        tests = len(cases)
        total += tests
        failed += failures
        suites.append(
            f'  <testsuite name={_attr(rule)} tests="{tests}" failures="{failures}" '
            f'errors="0" skipped="{skipped}">\n' + "\n".join(cases) + "\n  </testsuite>"
        )
    head = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<testsuites name="policy-engine" tests="{total}" failures="{failed}" errors="0">'
    )
    return "\n".join([head, *suites, "</testsuites>"]) + "\n"
