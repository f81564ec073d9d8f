"""Every reporter renders one shared report with awkward strings; outputs are golden files.

Regenerate the golden files after an intended change with UPDATE_GOLDEN=1.
"""

from __future__ import annotations

import json
import os
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from policy_engine import jsontext
from policy_engine.report import Finding, Report, RuleInfo
from policy_engine.reporters import FORMATS, renderer
from policy_engine.source import Location, SourceFile

from conftest import SHARED

GOLDEN = Path(__file__).parent / "golden"
AWKWARD = 'a <b> & "c" ]]> 100% done,\nsecond line: ünïcödé ✓'


def shared_report() -> Report:
    findings = (
        Finding(
            rule="outcome-single-owner",
            severity="error",
            message=AWKWARD,
            location=Location("plan/out comes.yaml", 3, 8),
            subject="outcome:reduce-churn",
            related=("team:growth", "team:platform"),
        ),
        Finding(
            rule="top-priorities-limit",
            severity="error",
            message="4 open P0 initiatives in 2027-Q1; the limit is 3",
            location=Location("plan/roadmap.yaml", 20, 1),
            group="2027-Q1",
            related=("initiative:a", "initiative:b", "initiative:c", "initiative:d"),
        ),
        Finding(
            rule="outcome-review-cadence",
            severity="warning",
            message="outcome churn was last reviewed 2026-08-01; its cadence is P31D",
            location=Location("plan/roadmap.yaml", 41, 16),
            subject="outcome:churn",
        ),
        Finding(
            rule="initiative-approved-vendor",
            severity="error",
            message="copilot uses vendor acme-llm, whose status is proposed",
            location=Location("plan/roadmap.yaml", 50, 7),
            subject="initiative:copilot",
            related=("vendor:acme-llm",),
            suppressed_by="waiver:pilot",
        ),
        Finding(
            rule="plan/unknown-field",
            severity="error",
            message="unknown field 'titel'; did you mean 'title'? (custom fields start with x-)",
            location=Location("plan/roadmap.yaml", 60, 1),
            subject="initiative:x",
        ),
    )
    infos = {
        "outcome-single-owner": RuleInfo(
            "outcome-single-owner", "Every outcome has exactly one owner", "error", "governance",
            rationale="If everyone owns the priority, no one owns the tradeoff.",
            doc="What it checks: <owners> & more", link="https://example.com/rules/outcome-single-owner",
        ),
        "top-priorities-limit": RuleInfo("top-priorities-limit", "At most three P0s", "error", "governance"),
        "outcome-review-cadence": RuleInfo("outcome-review-cadence", "Review on cadence", "warning", "governance"),
        "initiative-approved-vendor": RuleInfo("initiative-approved-vendor", "Approved vendors", "error", "governance"),
        "plan/unknown-field": RuleInfo("plan/unknown-field", "Known fields", "error", "plan", waivable=False),
        "waiver-expired": RuleInfo("waiver-expired", "Waivers expire", "error", "governance", waivable=False),
    }  # fmt: skip
    glance = {
        "open_p0": [("2027-Q1", [{"id": i, "owner": ["team:growth"], "decides": [] if i == "d" else ["person:maria"]} for i in "abcd"])],
        "outcomes": [{"id": "reduce-churn", "status": "active", "owner": ["team:growth", "team:platform"], "decides": ["person:maria"]}],
    }  # fmt: skip
    rules = ("initiative-approved-vendor", "outcome-review-cadence", "outcome-single-owner", "top-priorities-limit", "waiver-expired")  # fmt: skip
    # The plan lines under the findings, which the text reporter shows.
    lines = {
        "plan/out comes.yaml": {3: "owner: [team:growth, team:platform]"},
        "plan/roadmap.yaml": {
            20: "kind: Initiative",
            41: "last_reviewed: 2026-08-01",
            60: "titel: Single sign-on",
        },
    }
    sources = {
        path: SourceFile(path, "\n".join(at.get(n, "") for n in range(1, max(at) + 1)) + "\n")
        for path, at in lines.items()
    }
    return Report(
        "0.1.0", "2027-01-15", findings, 41, rules, infos, extra={"glance": glance}, sources=sources
    )


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_reporter_matches_its_golden_file(fmt: str) -> None:
    text = renderer(fmt)(shared_report(), False)
    golden = GOLDEN / f"report.{fmt}"
    if os.environ.get("UPDATE_GOLDEN"):
        golden.write_text(text, encoding="utf-8")
    assert text == golden.read_text(encoding="utf-8")


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_reporters_are_deterministic(fmt: str) -> None:
    assert renderer(fmt)(shared_report(), False) == renderer(fmt)(shared_report(), False)


def test_json_is_exactly_the_contract() -> None:
    data = json.loads(renderer("json")(shared_report(), False))
    assert list(data) == ["version", "tool", "as_of", "summary", "findings"]
    assert data["summary"] == {
        "error": 3,
        "warning": 1,
        "info": 0,
        "suppressed": 1,
        "entities": 41,
        "rules": 5,
    }
    first = data["findings"][0]
    assert list(first) == [
        "rule", "severity", "subject", "group", "related", "message", "location", "fingerprint", "suppressed_by",
    ]  # fmt: skip
    assert first["message"] == AWKWARD
    assert data["findings"][1]["subject"] is None and data["findings"][1]["group"] == "2027-Q1"


def test_sarif_is_valid_against_the_schema() -> None:
    import jsonschema

    schema = json.loads((SHARED / "external" / "sarif-schema-2.1.0.json").read_text())
    sarif = json.loads(renderer("sarif")(shared_report(), False))
    jsonschema.Draft7Validator(schema).validate(sarif)
    run = sarif["runs"][0]
    results = run["results"]
    assert [r["ruleId"] for r in results][:2] == ["outcome-single-owner", "top-priorities-limit"]
    assert all("policyEngineFingerprint/v1" in r["partialFingerprints"] for r in results)
    assert results[3]["suppressions"][0]["kind"] == "external"
    rules = run["tool"]["driver"]["rules"]
    assert rules[results[0]["ruleIndex"]]["id"] == "outcome-single-owner"
    assert rules[results[0]["ruleIndex"]]["helpUri"] == "https://example.com/rules/outcome-single-owner"
    location = results[0]["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == "plan/out%20comes.yaml"
    assert location["region"] == {"startLine": 3, "startColumn": 8, "endLine": 3, "endColumn": 36}


def test_junit_is_valid_against_the_xsd() -> None:
    from lxml import etree

    schema = etree.XMLSchema(etree.parse(str(SHARED / "external" / "junit-10.xsd")))
    document = etree.fromstring(renderer("junit")(shared_report(), False).encode())
    schema.assertValid(document)
    suites = {s.get("name"): s for s in document.iter("testsuite")}
    assert suites["outcome-single-owner"].get("failures") == "1"
    assert suites["initiative-approved-vendor"].get("skipped") == "1"
    assert suites["waiver-expired"].get("tests") == "1" and suites["waiver-expired"].get("failures") == "0"
    failure = suites["outcome-single-owner"].find("testcase/failure")
    assert failure is not None and failure.get("message") == AWKWARD


def test_github_annotations_escape_as_documented() -> None:
    lines = renderer("github")(shared_report(), False).splitlines()
    assert len(lines) == 4  # the waived finding is not annotated
    assert lines[0] == (
        "::error file=plan/out comes.yaml,line=3,col=8,title=outcome-single-owner::"
        'a <b> & "c" ]]> 100%25 done,%0Asecond line: ünïcödé ✓'
    )
    assert lines[2].startswith(
        "::warning file=plan/roadmap.yaml,line=41,col=16,title=outcome-review-cadence::"
    )
    assert "title=plan/unknown-field::" in lines[3]


def test_text_colour_only_when_asked() -> None:
    plain = renderer("text")(shared_report(), False)
    assert "\033[" not in plain
    assert "\033[31m" in renderer("text")(shared_report(), True)


def test_markdown_escapes_table_cells() -> None:
    text = renderer("markdown")(shared_report(), False)
    assert 'a &lt;b&gt; &amp; "c" ]]&gt; 100% done,<br>second line' in text
    assert "[plan/out comes.yaml:3](plan/out%20comes.yaml#L3)" in text
    assert "| 2027-Q1 (4) | a | team:growth | person:maria |" in text


def _json_values(scalars: st.SearchStrategy[object]) -> st.SearchStrategy[object]:
    return st.recursive(
        scalars,
        lambda inner: (
            st.lists(inner, max_size=4)
            | st.tuples(inner, inner)
            | st.dictionaries(st.text(max_size=5), inner, max_size=4)
            | st.dictionaries(st.integers(), inner, max_size=2)
        ),  # non-text keys, and integers beyond 64 bits: the standard library writes them
        max_leaves=20,
    )


REPORT_LIKE = _json_values(st.none() | st.booleans() | st.integers() | st.text())


@settings(max_examples=500, deadline=None)
@given(REPORT_LIKE)
def test_json_text_is_what_the_standard_library_writes(value: object) -> None:
    assert jsontext.dumps(value) == json.dumps(value, indent=2, ensure_ascii=False)


@settings(max_examples=300, deadline=None)
@given(_json_values(st.floats(allow_nan=False, allow_infinity=False) | st.text()))
def test_floats_read_back_as_the_same_numbers(value: object) -> None:
    assert json.loads(jsontext.dumps(value)) == json.loads(json.dumps(value))


def test_floats_are_written_shortest_and_non_numbers_as_null() -> None:
    assert (
        jsontext.dumps([1e-7, 0.25, float("nan"), float("-inf")]) == "[\n  1e-7,\n  0.25,\n  null,\n  null\n]"
    )


def test_what_json_cannot_hold_is_refused_as_the_standard_library_refuses_it() -> None:
    with pytest.raises(TypeError, match="not JSON serializable"):
        jsontext.dumps({"when": date(2027, 1, 15)})
