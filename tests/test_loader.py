"""The plan loader: YAML 1.2 meaning, exact positions, every bad input located."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from policy_engine.plan.graph import build_graph
from policy_engine.plan.loader import load_files, load_texts
from policy_engine.plan.model import Ref
from policy_engine.source import Location

BAD = Path(__file__).parent / "fixtures" / "bad-plans"


def validate_json(run_cli: Any, *paths: str) -> tuple[int, list[dict[str, Any]]]:
    result = run_cli("validate", "--format", "json", *paths)
    assert "Traceback" not in result.output
    return result.exit_code, json.loads(result.output)["findings"]


@pytest.mark.parametrize(
    ("fixture", "rule", "path", "line", "column", "words"),
    [
        (
            "yaml-syntax.yaml",
            "plan/syntax",
            "yaml-syntax.yaml",
            3,
            8,
            "the '[' list that starts here is not closed",
        ),
        ("tab-indent.yaml", "plan/syntax", "tab-indent.yaml", 4, 1, "tab"),
        ("wrong-type.yaml", "plan/invalid-value", "wrong-type.yaml", 3, 9, "expected a number"),
        ("enum.yaml", "plan/invalid-value", "enum.yaml", 3, 11, "'P0', 'P1', 'P2' or 'P3'"),
        ("bad-date.yaml", "plan/invalid-value", "bad-date.yaml", 3, 8, "there is no month 13"),
        ("duplicate", "plan/duplicate-id", "duplicate/b.yaml", 3, 5, "duplicate/a.yaml:1:1"),
        ("unresolved.yaml", "plan/unresolved-reference", "unresolved.yaml", 3, 8, "person:nobody"),
        (
            "ambiguous.yaml",
            "plan/ambiguous-reference",
            "ambiguous.yaml",
            3,
            8,
            "person:maria or team:maria",
        ),
        (
            "unknown-field.yaml",
            "plan/unknown-field",
            "unknown-field.yaml",
            3,
            1,
            "did you mean 'title'?",
        ),
        (
            "unknown-kind.yaml",
            "plan/invalid-value",
            "unknown-kind.yaml",
            1,
            7,
            "did you mean 'Initiative'?",
        ),
        (
            "non-utf8.yaml",
            "plan/syntax",
            "non-utf8.yaml",
            3,
            11,
            "not UTF-8: byte 0xe9 cannot be decoded; it reads as Windows-1252 ('café'): save the file as UTF-8",
        ),
        ("empty.yaml", "plan/syntax", "empty.yaml", 1, 1, "empty"),
        ("alias-bomb.yaml", "plan/syntax", "alias-bomb.yaml", 3, 4, "alias bomb"),
    ],
)
def test_bad_plan_is_reported_where_it_is(
    run_cli: Any,
    monkeypatch: pytest.MonkeyPatch,
    fixture: str,
    rule: str,
    path: str,
    line: int,
    column: int,
    words: str,
) -> None:
    monkeypatch.chdir(BAD)
    code, findings = validate_json(run_cli, fixture)
    assert code == 1
    assert len(findings) == 1, findings
    (f,) = findings
    assert (f["rule"], f["location"]) == (rule, {"path": path, "line": line, "column": column})
    assert words in f["message"]


def test_alias_bomb_is_rejected_fast(monkeypatch: pytest.MonkeyPatch) -> None:
    started = time.perf_counter()
    plan = load_files([BAD / "alias-bomb.yaml"])
    elapsed = time.perf_counter() - started
    assert [p.rule for p in plan.problems] == ["plan/syntax"]
    assert elapsed < 1.0  # a guard against expansion, not a benchmark


def test_a_50_mb_single_line_value_is_rejected_with_its_size(
    tmp_path: Path, run_cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    big = tmp_path / "huge.yaml"
    with big.open("w") as handle:
        handle.write("kind: Initiative\nid: huge\ntitle: ")
        handle.write("x" * (50 * 1024 * 1024))
        handle.write("\n")
    monkeypatch.chdir(tmp_path)
    code, findings = validate_json(run_cli, "huge.yaml")
    assert code == 1
    assert [(f["rule"], f["location"]) for f in findings] == [
        ("plan/syntax", {"path": "huge.yaml", "line": 1, "column": 1})
    ]
    assert "limit is 16 MiB" in findings[0]["message"]


def test_one_broken_file_does_not_stop_the_others(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(BAD)
    plan = load_files(["."])
    assert {"urgent", "sizing", "dated", "churn", "typo", "tabbed"} & {e.id for e in plan.entities}
    rules = sorted({p.rule for p in plan.problems})
    assert rules == [
        "plan/ambiguous-reference",
        "plan/duplicate-id",
        "plan/invalid-value",
        "plan/syntax",
        "plan/unknown-field",
    ]


def test_one_broken_document_does_not_lose_the_rest_of_its_file() -> None:
    people = (
        "kind: Person\nid: ann\n---\n"  # 1-3
        "kind: Person\nid: bob\nname: [unclosed\n---\n"  # 4-7
        "kind: Person\nid: cy\nname: x\nname: y\n---\n"  # 8-12: a duplicate key
        "# a comment\nkind: Person\nid: dee\nstatus: gone\n"  # 13-16
    )
    outcome = "kind: Outcome\nid: grow\nowner: [person:ann, person:dee]\n"
    plan = load_texts([("people.yaml", people), ("o.yaml", outcome)])
    assert [e.id for e in plan.entities] == ["ann", "dee", "grow"]
    problems = sorted(plan.problems, key=lambda p: p.location.line if p.location else 0)
    assert [(p.rule, str(p.location), p.message) for p in problems] == [
        (
            "plan/syntax",
            "people.yaml:6:7",
            "YAML syntax error: the '[' list that starts here is not closed: expected ',' or ']' at line 7, column 1",
        ),
        ("plan/syntax", "people.yaml:11:1", "duplicate key 'name'"),
        ("plan/invalid-value", "people.yaml:16:9", "status: expected 'active' or 'left' (got 'gone')"),
    ]
    # Positions after a broken document are the file's own.
    assert plan.entities[1].location(("id",)) == Location("people.yaml", 15, 5)


def test_the_documents_around_a_broken_one_keep_their_places() -> None:
    text = (Path(__file__).parent.parent / "examples" / "acme" / "roadmap" / "2027-q1.yaml").read_text()
    documents = text.split("\n---\n")
    clean = {e.ref: e for e in load_texts([("p.yaml", text)]).entities}
    for n in range(len(documents)):
        broken = [*documents[:n], 'x-note: "' + documents[n], *documents[n + 1 :]]  # a quote never closed
        plan = load_texts([("p.yaml", "\n---\n".join(broken))])
        assert len(plan.entities) == len(clean) - 1
        for entity in plan.entities:
            for field in ("kind", "id", *entity.model.model_fields_set):
                assert entity.location((field,)) == clean[entity.ref].location((field,)), (
                    n,
                    entity.ref,
                    field,
                )


@pytest.mark.parametrize(
    ("text", "where", "message"),
    [
        (
            'kind: Team\nid: a\ntitle: "never closed\n',
            "3:8",
            "the quoted value that starts here is not closed: the document ends at line 4, column 1",
        ),
        ("kind: Team\nid: a\ntitle: {x: 1\n", "3:8", "the '{' block that starts here is not closed"),
        ('kind: Team\nid: a\ntitle "x"\nlead: p\n', "3:1", "this line is not `key: value`"),
        ("kind: Team\nid: a\n  title: x\n", "3:8", "(a line indented deeper than the key before it"),
        ("kind: Team\nid: a\ntitle: x\n- lead: p\n", "4:1", "expected a key (a line indented less"),
        ("kind: Team\nid: a\ntitle: @a\n", "3:8", "(a value starting with @, ` or % is written in quotes)"),
        *(  # text after a quoted value
            (
                text,
                where,
                "(a quoted value ends at its closing quote: put all of the value inside the quotes)",
            )
            for text, where in [
                ('kind: Team\nid: a\ntitle: "Phase 2" rollout\n', "3:18"),
                ("kind: Team\nid: a\ntags:\n  - 'x' y\n", "4:9"),
            ]
        ),
        (
            "kind: Team\nid: a\nkind: Team\nid: b\n",
            "3:1",
            "duplicate key 'kind' (a line `---` goes between two",
        ),
        (
            "kind: Team\nid: a\ntitle: *x!\n",
            "3:10",
            "expected alphabetic or numeric character while scanning an alias",
        ),
    ],
)
def test_a_yaml_syntax_error_is_located_where_the_mistake_is(text: str, where: str, message: str) -> None:
    (problem,) = load_texts([("p.yaml", text)]).problems
    assert (problem.rule, str(problem.location)) == ("plan/syntax", f"p.yaml:{where}")
    assert message in problem.message


def test_an_invalid_id_gets_the_id_it_could_be() -> None:
    plan = load_texts(
        [
            (
                "p.yaml",
                "kind: Initiative\nid: SSO_Rollout\n---\nkind: Initiative\nid: a\ndepends_on: [Big Bang]\n"
                "uses: [Big Bang]\n",
            )
        ]
    )
    assert [p.message for p in plan.problems] == [
        "invalid id 'SSO_Rollout': use lower-case letters, digits and single hyphens, at most 63 characters;"
        " did you mean 'sso-rollout'?",
        "depends_on: 'Big Bang' is not a valid id; did you mean 'big-bang'?",
        # a bare id would be ambiguous where a field takes several kinds
        "uses: 'Big Bang' is not a valid id; did you mean 'system:big-bang' or 'vendor:big-bang'?",
    ]


def test_an_email_where_a_person_is_named_is_told_that_a_reference_is_an_id() -> None:
    plan = load_texts(
        [
            (
                "p.yaml",
                "kind: Outcome\nid: a\nowner: maria@acme.com\n---\nkind: Outcome\nid: b\nowner: person:li@acme.com\n",
            )
        ]
    )
    told = "is not a valid id; this is an email: a reference names a person by its id (person:ID)"
    assert [p.message for p in plan.problems] == [
        f"owner: 'maria@acme.com' {told}",
        f"owner: 'person:li@acme.com' {told}",
    ]


def test_an_id_with_accents_means_the_id_without_them() -> None:
    plan = load_texts(
        [("p.yaml", "kind: Person\nid: María-López\n---\nkind: Outcome\nid: o\nowner: person:maria-lopez\n")]
    )
    graph = build_graph(plan)
    assert [p.message for p in (*plan.problems, *graph.problems)] == [
        "invalid id 'María-López': use lower-case letters, digits and single hyphens, at most 63 characters;"
        " did you mean 'maria-lopez'?",
        "owner: person:maria-lopez does not exist; the entity at p.yaml:2:5 would be person:maria-lopez,"
        " but is left out (see the problem there)",
    ]


@pytest.mark.parametrize(
    ("encoding", "bom"),
    [
        ("utf-16", ""),  # Python's codec writes its own mark
        ("utf-16-be", "\ufeff"),
        ("utf-32", ""),
        ("utf-32-le", "\ufeff"),
        ("utf-16-le", ""),  # no mark: the zero bytes beside the first character tell
        ("utf-16-be", ""),
        ("utf-32-le", ""),
        ("utf-32-be", ""),
    ],
)
def test_a_plan_file_in_utf_16_or_32_is_read_as_yaml_1_2_reads_it(
    tmp_path: Path, encoding: str, bom: str
) -> None:
    # Windows editors and PowerShell's Out-File write these
    text = "kind: Team\nid: t\nparent: ghost\n"
    (tmp_path / "p.yaml").write_bytes((bom + text).encode(encoding))
    (tmp_path / "q.json").write_bytes((bom + '{"kind": "Team", "id": "u"}').encode(encoding))
    graph = build_graph(load_files([tmp_path]))
    assert sorted(e.ref for e in graph.entities) == ["team:t", "team:u"]
    (problem,) = graph.problems
    assert (problem.location.line, problem.location.column) == (3, 9)
    assert problem.message == "parent: team:ghost does not exist"


def test_a_file_that_looks_like_utf_16_but_is_not_is_told_so(tmp_path: Path) -> None:
    (tmp_path / "p.yaml").write_bytes(b"\xff\xfek\x00i\x00\x00")
    (tmp_path / "q.yaml").write_bytes(b"k\x00i\x00\x00")
    plan = load_files([tmp_path])
    assert {(p.location.line, p.location.column) for p in plan.problems} == {(1, 1)}
    assert [(p.rule, Path(p.location.path).name, p.message) for p in plan.problems] == [
        (
            "plan/syntax",
            "p.yaml",
            "file starts with the byte order mark of UTF-16, but is not UTF-16 text",
        ),
        (
            "plan/syntax",
            "q.yaml",
            "file looks like UTF-16 (zero bytes beside its first character), but is not UTF-16 text",
        ),
    ]


def test_an_ambiguous_bare_id_says_which_of_its_meanings_exist() -> None:
    plan = "\n---\n".join(
        [
            "kind: Outcome\nid: one\nowner: maria",
            "kind: Outcome\nid: two\nowner: both",
            "kind: Outcome\nid: none\nowner: zed",
            "kind: Person\nid: maria",
            "kind: Person\nid: both",
            "kind: Team\nid: both",
        ]
    )
    graph = build_graph(load_texts([("p.yaml", plan)]))
    assert [(p.subject, p.message, p.related) for p in graph.plan.problems] == [
        (
            "outcome:one",
            "owner: bare id 'maria' is ambiguous here; person:maria is the only one that exists: write person:maria",
            ("person:maria",),
        ),
        (
            "outcome:two",
            "owner: bare id 'both' is ambiguous here; write one of person:both, team:both",
            ("person:both", "team:both"),
        ),
        (
            "outcome:none",
            "owner: bare id 'zed' is ambiguous here; write person:zed or team:zed (no entity has this id)",
            (),
        ),
    ]


def test_yaml_1_2_keeps_no_yes_on_off_and_times_as_strings() -> None:
    text = "kind: Team\nid: no\ntitle: yes\ndescription: 12:30\ntags: [on, off]\nx-octal: 0o17\nx-null: ~\n"
    plan = load_texts([("p.yaml", text)])
    assert plan.problems == []
    (team,) = plan.entities
    assert team.id == "no"
    assert team.model.title == "yes"
    assert team.model.description == "12:30"
    assert team.model.tags == ("on", "off")
    assert team.extras == {"x-octal": 15, "x-null": None}


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("Monthly", "(got 'Monthly'); did you mean 'monthly'?"),
        (
            "fortnightly",
            "expected weekly, monthly, quarterly or an ISO 8601 duration such as P14D (got 'fortnightly');"
            " did you mean 'P14D'?",
        ),
        ("biweekly", "(got 'biweekly'); did you mean 'P14D'?"),  # not 'weekly', which difflib finds
        ("every month", "(got 'every month'); did you mean 'monthly'?"),
        ("once a Quarter", "(got 'once a Quarter'); did you mean 'quarterly'?"),
        ("annually", "(got 'annually'); did you mean 'P1Y'?"),
        ("P2X", "'P2X' is not an ISO 8601 duration such as P12M or P14D (got 'P2X')"),
        ("2 weeks", "(got '2 weeks'); did you mean 'P2W'?"),
        ("every two weeks", "(got 'every two weeks'); did you mean 'P2W'?"),
        ("Every 3 months", "(got 'Every 3 months'); did you mean 'P3M'?"),
        ("every day", "(got 'every day'); did you mean 'P1D'?"),
        ("once a year", "(got 'once a year'); did you mean 'P1Y'?"),
    ],
)
def test_a_review_cadence_says_which_words_it_takes(value: str, message: str) -> None:
    plan = load_texts([("p.yaml", f"kind: Outcome\nid: o\nreview_cadence: {value}\n")])
    [problem] = plan.problems
    assert problem.message.startswith("review_cadence: ") and problem.message.endswith(message)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("2027-02-30", "2027-02 has 28 days (got '2027-02-30')"),
        ("2028-02-30", "2028-02 has 29 days (got '2028-02-30')"),
        ("2027-13-01", "there is no month 13 (got '2027-13-01')"),
        ("2027-01-00", "there is no day 0 (got '2027-01-00')"),
        ("0000-01-01", "there is no year 0 (got '0000-01-01')"),
        ("31/04/2027", "expected a date YYYY-MM-DD (got '31/04/2027'); 2027-04 has 30 days"),
        # a date-time, as an export writes one: the day is what a date holds
        (
            "2027-03-15T10:00:00Z",
            "expected a date YYYY-MM-DD (got '2027-03-15T10:00:00Z'); a date has no time of day: write 2027-03-15",
        ),
        (
            "'2027-03-15 10:00'",
            "expected a date YYYY-MM-DD (got '2027-03-15 10:00'); a date has no time of day: write 2027-03-15",
        ),
        (
            "15/03/2027 10:00",
            "expected a date YYYY-MM-DD (got '15/03/2027 10:00'); a date has no time of day: did you mean '2027-03-15'?",
        ),
        ("2027-02-30T10:00", "expected a date YYYY-MM-DD (got '2027-02-30T10:00'); 2027-02 has 28 days"),
    ],
)
def test_a_date_that_does_not_exist_is_told_why(value: str, message: str) -> None:
    plan = load_texts([("p.yaml", f"kind: Initiative\nid: i\nstart: {value}\n")])
    assert [p.message for p in plan.problems] == [f"start: {message}"]


def test_yes_is_not_a_boolean_for_a_boolean_field() -> None:
    plan = load_texts([("p.yaml", "kind: Vendor\nid: v\nai: yes\n")])
    assert [(p.rule, p.location.line if p.location else 0) for p in plan.problems] == [
        ("plan/invalid-value", 3)
    ]
    assert plan.entities[0].model.ai is None  # the invalid value counts as missing; the entity stays
    assert plan.problems[0].message == (
        "ai: expected true or false (got 'yes'); YAML 1.2 reads yes as text; did you mean 'true'?"
    )


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("tags: a", "tags: expected a list (got 'a'); write a list: [a]"),
        (
            "tags: security, audit",
            "tags: expected a list (got 'security, audit'); write a list: [security, audit]",
        ),
        ("contributes_to: [o]\ntags: {a: 1}", "tags: expected a list"),
        ("period: 2027-Q5", "period: expected a period such as 2027-Q1, 2027-H1 or 2027 (got '2027-Q5')"),
        (
            "period: 2027-q1",
            "period: expected a period such as 2027-Q1, 2027-H1 or 2027 (got '2027-q1'); did you mean '2027-Q1'?",
        ),
        ("priority: p0", "priority: expected 'P0', 'P1', 'P2' or 'P3' (got 'p0'); did you mean 'P0'?"),
        (
            "target: 2027/03/01",
            "target: expected a date YYYY-MM-DD (got '2027/03/01'); did you mean '2027-03-01'?",
        ),
        (
            "period: Q1 2027",
            "period: expected a period such as 2027-Q1, 2027-H1 or 2027 (got 'Q1 2027'); did you mean '2027-Q1'?",
        ),
        (
            "period: 2027 h1",
            "period: expected a period such as 2027-Q1, 2027-H1 or 2027 (got '2027 h1'); did you mean '2027-H1'?",
        ),
        ("period: Q5 2027", "period: expected a period such as 2027-Q1, 2027-H1 or 2027 (got 'Q5 2027')"),
        (
            "target: 2027-3-1",
            "target: expected a date YYYY-MM-DD (got '2027-3-1'); did you mean '2027-03-01'?",
        ),
        (
            "target: 15-03-2027",
            "target: expected a date YYYY-MM-DD (got '15-03-2027'); did you mean '2027-03-15'?",
        ),
        (
            "target: 03/15/2027",
            "target: expected a date YYYY-MM-DD (got '03/15/2027'); did you mean '2027-03-15'?",
        ),
        (
            "target: 05/03/2027",
            "target: expected a date YYYY-MM-DD (got '05/03/2027'); write the year first: YYYY-MM-DD",
        ),
        ("target: 31/02/2027", "target: expected a date YYYY-MM-DD (got '31/02/2027'); 2027-02 has 28 days"),
        ("effort: 3 months", "effort: expected a number (got '3 months'); write the number alone: 3"),
        (
            "scoring: {rice: {confidence: 80%}}",
            "scoring.rice.confidence: expected a number (got '80%'); a share is written as a fraction: 0.8",
        ),
        (
            "decision: person:x",
            "decision: expected a block of fields (decides, executes, advises, informed) (got 'person:x')",
        ),
        (
            "links: [https://x.example]",
            "links: expected a block of fields (url, title) (got 'https://x.example');"
            " a link is written as url: https://x.example",
        ),
        (
            "owner: '@maria'",
            "owner: '@maria' is not a valid id; did you mean 'person:maria' or 'team:maria'?",
        ),
        (  # a list written without its brackets, not an id to mend
            "depends_on: a, b",
            "depends_on: 'a, b' is 2 references in one text; write them as a list, one item each",
        ),
        (
            "links: https://x.example",
            "links: expected a list (got 'https://x.example'); write a list of links: [{url: https://x.example}]",
        ),
        ("effort: -1", "effort: expected a number of 0 or more (got -1)"),
        (
            "scoring: {rice: {confidence: 1.5}}",
            "scoring.rice.confidence: expected a number of 1 or less (got 1.5)",
        ),
        ("title: 3", "title: expected a text (got 3)"),
    ],
)
def test_invalid_values_are_told_in_a_plan_authors_words(line: str, message: str) -> None:
    plan = load_texts([("p.yaml", f"kind: Initiative\nid: i\n{line}\n")])
    assert [p.message for p in plan.problems] == [message]


def test_a_hint_in_json_is_written_in_json() -> None:
    text = '{"kind": "Initiative", "id": "i", "tags": "données", "links": ["https://x.example"]}'
    plan = load_texts([("p.json", text)])
    assert [p.message for p in plan.problems] == [
        """tags: expected a list (got 'données'); write a list: ["données"]""",
        "links: expected a block of fields (url, title) (got 'https://x.example');"
        """ a link is written as {"url": "https://x.example"}""",
    ]
    plan = load_texts([("p.json", '{"kind": "Initiative", "id": "i", "links": "https://x.example"}')])
    assert [p.message for p in plan.problems] == [
        """links: expected a list (got 'https://x.example'); write a list of links: [{"url": "https://x.example"}]"""
    ]


def test_a_list_of_entities_in_one_yaml_document_says_how_to_split_it() -> None:
    yaml_plan = load_texts([("p.yaml", "- kind: Team\n  id: a\n- kind: Team\n  id: b\n")])
    assert [(p.rule, p.message, p.location.line) for p in yaml_plan.problems] == [
        (
            "plan/syntax",
            "a document must be a mapping of fields (kind, id, ...);"
            " a YAML file holds one entity per document, each after a line `---`",
            1,
        )
    ]
    json_plan = load_texts([("p.json", '[[{"kind": "Team", "id": "a"}]]')])
    assert [p.message for p in json_plan.problems] == [
        "a document must be a mapping of fields (kind, id, ...)"
    ]


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("effort", '"3"', "expected a number (got '3'); write it without quotes: 3"),
        ("effort", "1_000", "(got '1_000'); write it without separators: 1000"),  # a string under YAML 1.2
        ("effort", "true", "expected a number (got True)"),
        ("effort", ".inf", "finite number (got inf)"),  # YAML's infinity
        ("scoring", "{rice: {reach: .nan}}", "finite number (got nan)"),
        ("scoring", "{rice: {confidence: true}}", "expected a number (got True)"),
        ("scoring", "{rice: {impact: '1'}}", "expected a number (got '1'); write it without quotes: 1"),
    ],
)
def test_a_number_field_takes_no_text_and_no_boolean(field: str, value: str, words: str) -> None:
    plan = load_texts([("p.yaml", f"kind: Initiative\nid: i\n{field}: {value}\n")])
    ((rule, message, line),) = [(p.rule, p.message, p.location.line) for p in plan.problems if p.location]
    assert (rule, line) == ("plan/invalid-value", 3)
    assert message.endswith(words)
    model: Any = plan.entities[0].model
    assert model.effort is None and (model.scoring is None or model.scoring.rice.confidence is None)


@pytest.mark.parametrize(
    ("owner", "message"),
    [
        ("Person:x", "owner: 'Person:x': a kind is written in lower case (person:x)"),
        ("system:x", "owner: 'system:x' names a system; this field takes person or team"),
        ("initiative:x", "owner: 'initiative:x' names an initiative; this field takes person or team"),
        (
            "persn:x",
            "owner: 'persn:x': 'persn' is not a kind; this field takes person or team; did you mean 'person:x'?",
        ),
        ("gizmo:x", "owner: 'gizmo:x': 'gizmo' is not a kind; this field takes person or team"),
        (
            "team:Platform_Eng",
            "owner: 'team:Platform_Eng' is not a valid id; did you mean 'team:platform-eng'?",
        ),
        ("'person: maria'", "owner: 'person: maria' is not a valid id; did you mean 'person:maria'?"),
    ],
)
def test_a_reference_of_the_wrong_kind_says_what_to_write(owner: str, message: str) -> None:
    plan = load_texts([("p.yaml", f"kind: Outcome\nid: o\nowner: {owner}\n")])
    assert [(p.rule, p.message, str(p.location)) for p in plan.problems] == [
        ("plan/invalid-value", message, "p.yaml:3:8")
    ]


def test_numbers_stay_numbers_where_a_field_takes_a_number_or_a_text() -> None:
    text = (
        "kind: Outcome\nid: o\nrank: 2\nbaseline: 3\ntarget: ten percent\n---\n"
        "kind: Outcome\nid: p\nrank: true\nbaseline: [1]\n---\n"
        "kind: System\nid: s\ntier: true\n---\n"
        "kind: System\nid: t\ntier: '2'\n"
    )
    plan = load_texts([("p.yaml", text)])
    o = plan.entities[0].model
    assert (o.rank, o.baseline, o.target) == (2, 3.0, "ten percent")  # type: ignore[attr-defined]
    assert sorted((str(p.location), p.message) for p in plan.problems) == [
        ("p.yaml:10:11", "baseline: expected a number or a text"),
        ("p.yaml:14:7", "tier: expected 1, 2 or 3 (got True)"),
        ("p.yaml:18:7", "tier: expected 1, 2 or 3 (got '2'); write it without quotes: 2"),
        ("p.yaml:9:7", "rank: expected a whole number (got True)"),
    ]


def test_json_files_hold_one_entity_or_an_array_with_positions() -> None:
    text = '[\n  {"kind": "Team", "id": "a"},\n  {"kind": "Team", "id": "b", "lead": "person:ghost"}\n]\n'
    graph = build_graph(load_texts([("teams.json", text)]))
    assert [e.ref for e in graph.entities] == ["team:a", "team:b"]
    assert str(graph.entities[1].location()) == "teams.json:3:4"
    assert [(p.rule, str(p.location)) for p in graph.problems] == [
        ("plan/unresolved-reference", "teams.json:3:39")
    ]


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ('{"kind": "Team", "id": "t", "title": "a", "title": "b"}', "1:43"),
        ('[{"kind": "Team", "id": "a"},\n {"kind": "Team", "id": "b",\n  "id": "c"}]', "3:3"),
        # The same key in a nested object and in its parent is no duplicate.
        ('[{"kind": "Team", "id": "a", "x-k": {"id": 1, "x": {"id": 2}, "\\"": [{}]},\n "x-k": 2}]', "2:2"),
    ],
)
def test_a_json_key_written_twice_is_a_syntax_problem_as_in_yaml(text: str, where: str) -> None:
    plan = load_texts([("p.json", text)])
    assert [(p.rule, str(p.location)) for p in plan.problems] == [("plan/syntax", f"p.json:{where}")]
    assert plan.problems[0].message.startswith("duplicate key '")


@pytest.mark.parametrize(("name", "text"), [("empty.json", " [ ]\n"), ("empty.yaml", "---\n---\n")])
def test_a_file_that_holds_no_entity_is_a_problem_in_json_as_in_yaml(name: str, text: str) -> None:
    plan = load_texts([(name, text)])
    assert [(p.rule, p.message, str(p.location)) for p in plan.problems] == [
        ("plan/syntax", "file holds no entity", f"{name}:1:1")
    ]


def test_a_broken_json_array_loses_only_its_broken_elements() -> None:
    text = (
        "[\n"
        '  {"kind": "Person", "id": "ann"},\n'
        '  {"kind": "Person", "id": "bob", "name": "b", "name": "c"},\n'
        '  {"kind": "Person", "id": "cy", "status": "gone"},\n'
        '  {"kind": "Person", "id": "dee" "name": "d"},\n'
        '  {"kind": "Person", "id": "eve", "member_of": team:x},\n'
        '  {"kind": "Person", "id": "fay"}\n'
        '  {"kind": "Person", "id": "gus",\n'
        '   "status": "left"}\n'
        "]\n"
    )
    plan = load_texts([("people.json", text)])
    # A key written twice, or a syntax error, costs its element; reading goes
    # on at the next element that starts a line as the first one does.
    assert [e.id for e in plan.entities] == ["ann", "cy", "fay", "gus"]
    assert sorted((p.rule, str(p.location), p.message) for p in plan.problems) == [
        ("plan/invalid-value", "people.json:4:44", "status: expected 'active' or 'left' (got 'gone')"),
        ("plan/syntax", "people.json:3:48", "duplicate key 'name'"),
        ("plan/syntax", "people.json:5:34", "JSON syntax error: a ',' is missing before this"),
        ("plan/syntax", "people.json:6:48", "JSON syntax error: expected a value"),
        ("plan/syntax", "people.json:8:3", "JSON syntax error: a ',' is missing before this"),
    ]
    gus = plan.entities[-1]
    assert (str(gus.location()), str(gus.location(("status",)))) == ("people.json:8:4", "people.json:9:14")


def test_a_json_array_goes_on_after_an_element_with_something_after_it_on_its_line() -> None:
    # The next element is looked for after the one just read, never at it again.
    text = '[\n  {"kind": "Team", "id": "a"} x\n  {"kind": "Team", "id": "b"}, {"kind": "Team", "id": "c"} y\n]\n'
    plan = load_texts([("p.json", text)])
    assert [e.id for e in plan.entities] == ["a", "b", "c"]
    assert [str(p.location) for p in plan.problems] == ["p.json:2:31", "p.json:3:60"]


def test_a_json_array_on_one_line_loses_what_follows_its_error() -> None:
    text = '[{"kind": "Team", "id": "a"}, {"kind": "Team" "id": "b"}, {"kind": "Team", "id": "c"}]'
    plan = load_texts([("p.json", text)])
    assert [e.id for e in plan.entities] == ["a"]
    assert [(p.rule, str(p.location)) for p in plan.problems] == [("plan/syntax", "p.json:1:47")]


_EARLY = "JSON syntax error: this ']' ends the array, but more entities follow it"


@pytest.mark.parametrize(
    ("text", "where", "fix"),
    [
        (
            '[\n  {"kind": "Team", "id": "a"}],\n  {"kind": "Team", "id": "b"}\n]\n',
            "2:30",
            "remove it: the array ends at the last ']' of the file",
        ),
        (
            '[{"kind": "Team", "id": "a"}]\n{"kind": "Team", "id": "b"}]',
            "1:29",
            "write a ',' in its place: the array ends at the last ']' of the file",
        ),
        (
            '[{"kind": "Team", "id": "a"}],\n{"kind": "Team", "id": "b"}\n',
            "1:29",
            "move it to the end of the file",
        ),
    ],
)
def test_a_json_array_closed_early_keeps_the_entities_after_its_stray_bracket(
    text: str, where: str, fix: str
) -> None:
    plan = load_texts([("p.json", text)])
    assert [e.id for e in plan.entities] == ["a", "b"]
    assert [(str(p.location), p.message) for p in plan.problems] == [(f"p.json:{where}", f"{_EARLY} ({fix})")]


@pytest.mark.parametrize(
    "text", ['[{"kind": "Team", "id": "a"}],\n', '[{"kind": "Team", "id": "a"}], [{"id": "b"}]']
)
def test_more_after_a_json_array_that_is_no_entity_is_still_told_as_such(text: str) -> None:
    plan = load_texts([("p.json", text)])
    assert [e.id for e in plan.entities] == ["a"]
    assert [(str(p.location), p.message.split(" (")[0]) for p in plan.problems] == [
        ("p.json:1:30", "JSON syntax error: more after the end of the document")
    ]


@pytest.mark.parametrize(
    ("text", "where", "message"),
    [
        (
            '{"kind": "Team",\n "id": "a",\n}',
            "2:11",
            "a comma before '}': JSON has no comma after the last item",
        ),
        (
            '[{"kind": "Team", "id": "a"},]',
            "1:29",
            "a comma before ']': JSON has no comma after the last item",
        ),
        ('{"kind": "Team", "title": "open\n"}', "1:27", "this text is not closed on its line"),
        ('{"kind": "Team", "title": "open', "1:27", "this text is never closed"),
        ('{"kind": "Team", "id": "a" "title": "t"}', "1:28", "a ',' is missing before this"),
        ('{"kind" "Team"}', "1:9", "a ':' is missing after the key"),
        ("{kind: 'Team'}", "1:2", 'expected a key in double quotes (write "kind")'),
        (
            "{'kind': 'Team'}",
            "1:2",
            "expected a key in double quotes (JSON writes texts and keys in double quotes)",
        ),
        ('{"kind": }', "1:10", "expected a value"),
        ('{"kind": "Team", "id": ', "1:24", "the file ends where a value should be"),
        *(  # the file ends inside a bracket: the bracket never closed is the mistake
            (
                text,
                where,
                f"this '{text[int(where[2:]) - 1]}' is never closed: the file ends first (close it with '{closer}')",
            )
            for text, where, closer in [
                ('{"kind": "Team", "id": "a"\n', "1:1", "}"),
                ('{"kind": "Team", "tags": ["a", "b"', "1:26", "]"),
                ('[{"kind": "Team", "id": "a"}\n', "1:1", "]"),
                ('{"kind": "Team", "title": "{[", ', "1:1", "}"),  # brackets inside a text count for nothing
            ]
        ),
        (
            '{"kind": "Team", "tags": ["a"}',
            "1:30",
            "this '}' does not close the '[' at line 1, column 26 (close it with ']')",
        ),
        (
            '[{"kind": "Team", "id": "a"}}, {"kind": "Team", "id": "b"}]',
            "1:29",
            "a '}' too many: the object before it is closed already (remove it)",
        ),
        (
            '[{"kind": "Team", "id": "a"]',
            "1:28",
            "this ']' does not close the '{' at line 1, column 2 (close it with '}')",
        ),
        *(  # as JSONC and JSON5 write them
            (
                text,
                where,
                "a comment: JSON has none (remove it, or keep the plan in YAML, which has comments)",
            )
            for text, where in [
                ('[\n  // the platform team\n  {"kind": "Team", "id": "t"}\n]', "2:3"),
                ('{"kind": "Team", # x\n "id": "a"}', "1:18"),
                ('{"kind": "Team", "id": "a" /* x */}', "1:28"),
            ]
        ),
        (
            '{"kind": "Team", "id": "a"}\n{"kind": "Team", "id": "b"}',
            "2:1",
            "more after the end of the document"
            " (a JSON file holds one entity object, or an array of them: [{...}, {...}])",
        ),
        (
            '{"title": "a\\q"}',
            "1:13",
            'an escape JSON does not have (it has \\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)',
        ),
        ('{"title": "\\u12"}', "1:12", "\\u takes four hexadecimal digits"),
        (
            '{"title": "a\tb"}',
            "1:13",
            "a control character ('\\t') inside a text: write it as an escape such as \\t",
        ),
    ],
)
def test_a_json_syntax_error_is_told_plainly_where_the_mistake_is(
    text: str, where: str, message: str
) -> None:
    plan = load_texts([("bad.json", text)])
    [problem] = [p for p in plan.problems if p.rule == "plan/syntax"]
    assert (str(problem.location), problem.message) == (f"bad.json:{where}", f"JSON syntax error: {message}")


def test_json_syntax_error_is_located() -> None:
    plan = load_texts([("bad.json", '{"kind": "Team",\n "id": }\n')])
    assert [(p.rule, str(p.location)) for p in plan.problems] == [("plan/syntax", "bad.json:2:8")]


@pytest.mark.parametrize("as_array", [True, False])
def test_json_nesting_is_limited_to_64_levels_exactly(as_array: bool) -> None:
    def entity(levels: int) -> str:  # an entity whose x-deep holds lists `levels` deep in the file
        inner = "[" * levels + "]" * levels
        return f'{{"kind": "Team", "id": "a", "x-deep": {inner}}}'

    def problems(levels: int) -> list[str]:
        text = f"[{entity(levels - 2)}]" if as_array else entity(levels - 1)
        return [f"{p.rule}: {p.message}" for p in load_texts([("deep.json", text)]).problems]

    assert problems(65) == []  # the file's outermost value is level 0
    assert problems(66) == ["plan/syntax: the document is nested more than 64 levels deep"]


def test_multi_document_files_and_custom_fields() -> None:
    plan = load_texts([("p.yaml", "kind: Team\nid: a\nx-budget: 12\n---\nkind: Team\nid: b\n")])
    assert [e.id for e in plan.entities] == ["a", "b"]
    assert plan.entities[0].extras == {"x-budget": 12}


def test_custom_fields_inside_a_block_are_allowed_and_typos_are_not() -> None:
    text = (
        "kind: Vendor\nid: v\ndue_diligence: {completed: 2026-01-01, x-portal: p, complted: 2026-01-02}\n"
        "links: [{url: 'https://a', x-kind: doc}]\n---\n"
        "kind: Initiative\nid: i\nscoring: {rice: {reach: 3, x-source: crm}}\n"
    )
    plan = load_texts([("p.yaml", text)])
    assert [(p.rule, p.message) for p in plan.problems] == [
        ("plan/unknown-field", "unknown field 'complted'; did you mean 'completed'?")
    ]
    model = plan.entities[0].model
    assert str(model.due_diligence.completed) == "2026-01-01" and model.links[0].url == "https://a"


def test_a_field_the_kind_does_not_have_is_told_what_the_kind_has() -> None:
    text = "kind: Team\nid: t\nowner: person:p\nTitle: x\n---\nKind: Team\nid: u\n"
    plan = load_texts([("p.yaml", text)])
    assert [(p.rule, str(p.location), p.message) for p in plan.problems] == [
        (
            "plan/unknown-field",
            "p.yaml:3:1",
            "unknown field 'owner'; a Team has title, description, tags, links, parent, lead"
            " (custom fields start with x-)",
        ),
        (
            "plan/unknown-field",
            "p.yaml:4:1",
            "unknown field 'Title'; did you mean 'title'? (custom fields start with x-)",
        ),
        ("plan/invalid-value", "p.yaml:6:1", "entity has no kind; field names are lower case: kind"),
    ]
    text = "kind: Outcome\nid: o\nfoo: 1\nx_cost_center: 7\n"
    assert [p.message for p in load_texts([("p.yaml", text)]).problems] == [
        "unknown field 'foo'; an Outcome has title, description, tags, links, owner, period, status, metric,"
        " baseline, target, rank, review_cadence, last_reviewed, decision (custom fields start with x-)",
        "unknown field 'x_cost_center'; did you mean 'x-cost-center'? (custom fields start with x-)",
    ]


def test_a_file_that_is_no_plan_file_is_told_to_stay_out_of_the_plan() -> None:
    plan = load_texts([("docker-compose.yml", "services:\n  web: {image: nginx}\n"), ("p.yaml", "id: x\n")])
    assert [(str(p.location), p.message) for p in plan.problems] == [
        (
            "docker-compose.yml:1:1",
            "entity has neither kind nor id; if this file is not part of the plan, name only the plan's"
            " files and folders, or set `plan` in the config file",
        ),
        ("p.yaml:1:1", "entity has no kind"),  # an entity that lacks its kind: no such advice
    ]


def test_decision_rights_in_raci_and_daci_words_are_told_their_field() -> None:
    text = (
        "kind: Initiative\nid: i\ndecision:\n  Approver: person:p\n  responsible: [team:t]\n"
        "  consulted: [team:s]\n  vetoes: [team:s]\nscoring:\n  rice: {reech: 1}\n"
    )
    plan = load_texts([("p.yaml", text)])
    assert [(str(p.location), p.message) for p in plan.problems] == [
        ("p.yaml:4:3", "unknown field 'Approver'; did you mean 'decides'?"),
        ("p.yaml:5:3", "unknown field 'responsible'; did you mean 'executes'?"),
        ("p.yaml:6:3", "unknown field 'consulted'; did you mean 'advises'?"),
        ("p.yaml:7:3", "unknown field 'vetoes'; decision has decides, executes, advises, informed"),
        ("p.yaml:9:10", "unknown field 'reech'; did you mean 'reach'?"),
    ]


def test_a_yaml_1_1_merge_key_is_told_that_yaml_1_2_has_none() -> None:
    text = "kind: Initiative\nid: i\nx-d: &d {status: approved}\ndecision:\n  <<: *d\n"
    plan = load_texts([("p.yaml", text)])
    assert [(str(p.location), p.message) for p in plan.problems] == [
        ("p.yaml:5:3", "unknown field '<<'; YAML 1.2 has no merge keys: write the fields out")
    ]


def test_a_priority_in_words_is_told_which_way_priorities_run() -> None:
    plan = load_texts([("p.yaml", "kind: Initiative\nid: i\npriority: urgent\n")])
    assert [p.message for p in plan.problems] == [
        "priority: expected 'P0', 'P1', 'P2' or 'P3' (got 'urgent');"
        " priorities run from P0, the highest, to P3, the lowest"
    ]


def test_an_empty_value_leaves_any_field_unset_in_yaml_and_json() -> None:
    yaml_text = (
        "kind: Initiative\nid: i\ntitle: ~\nowner:\nuses: ~\ntags:\nlinks: ~\n"
        "decision:\n  decides: ~\n---\nkind: Review\nid: r\nconditions: ~\nsubject: null\n"
    )
    json_text = '{"kind": "Outcome", "id": "o", "owner": null, "tags": null, "status": null}'
    plan = load_texts([("p.yaml", yaml_text), ("p.json", json_text)])
    assert plan.problems == []
    initiative, review, outcome = plan.entities
    assert (initiative.model.owner, initiative.model.uses, initiative.model.tags) == ((), (), ())
    assert initiative.model.links == () and initiative.model.decision.decides == ()
    assert (review.model.conditions, review.model.subject) == ((), ())
    assert (outcome.model.owner, outcome.model.tags, outcome.model.status) == ((), (), None)


def test_an_empty_owner_is_no_owner_located_at_the_empty_value(run_cli: Any, tmp_path: Path) -> None:
    (tmp_path / "o.yaml").write_text("kind: Outcome\nid: churn\nstatus: active\nowner:\n")
    result = run_cli(
        "check", str(tmp_path / "o.yaml"), "--format", "json", "--select", "outcome-single-owner"
    )
    [finding] = json.loads(result.output)["findings"]
    assert finding["message"] == "outcome churn has 0 owners; name exactly one"
    assert (finding["location"]["line"], finding["location"]["column"]) == (4, 7)
    assert result.exit_code == 1


def test_references_are_typed_and_bare_ids_resolve_where_one_kind_fits() -> None:
    plan = load_texts([("p.yaml", "kind: Initiative\nid: i\ncontributes_to: churn\nowner: team:core\n")])
    model = plan.entities[0].model
    assert model.contributes_to == (Ref("outcome", "churn"),)
    assert model.owner == (Ref("team", "core"),)


def test_a_bad_item_of_a_reference_list_drops_only_itself() -> None:
    text = (
        "kind: Initiative\nid: i\nuses: [system:a, maria, vendor:b]\n---\n"
        "kind: System\nid: a\n---\nkind: Vendor\nid: b\n"
    )
    graph = build_graph(load_texts([("p.yaml", text)]))
    assert [(p.rule, str(p.location)) for p in graph.plan.problems] == [
        ("plan/ambiguous-reference", "p.yaml:3:18")
    ]
    assert [e.ref for e in graph.by_ref["initiative:i"].links["uses"]] == ["system:a", "vendor:b"]


def test_unresolved_reference_after_a_dropped_item_points_at_its_own_text() -> None:
    text = "kind: Initiative\nid: i\nuses: [maria, system:ghost]\n"
    graph = build_graph(load_texts([("p.yaml", text)]))
    assert [(p.rule, str(p.location)) for p in graph.problems] == [
        ("plan/unresolved-reference", "p.yaml:3:15")
    ]


def test_an_entity_named_twice_counts_once_and_later_items_keep_their_places() -> None:
    text = (
        "kind: Initiative\nid: i\ndepends_on: [j, maria!, initiative:j, ghost, ghost, k]\n---\n"
        "kind: Initiative\nid: j\n---\nkind: Initiative\nid: k\n"
    )
    graph = build_graph(load_texts([("p.yaml", text)]))
    i, j = graph.by_ref["initiative:i"], graph.by_ref["initiative:j"]
    assert [e.ref for e in i.links["depends_on"]] == ["initiative:j", "initiative:k"]
    assert j.links["dependency_of"] == (i,)
    # The missing one is reported once, where it is first written.
    assert [(p.rule, str(p.location)) for p in graph.problems] == [
        ("plan/unresolved-reference", "p.yaml:3:39")
    ]


def test_unresolved_reference_has_a_hint() -> None:
    text = "kind: Outcome\nid: o\nowner: person:maria-lopes\n---\nkind: Person\nid: maria-lopez\n"
    graph = build_graph(load_texts([("p.yaml", text)]))
    assert "did you mean 'maria-lopez'?" in graph.problems[0].message


def test_a_reference_to_an_entity_left_out_for_its_kind_or_id_says_where_it_is() -> None:
    people = "kind: Person\nid: Maria\n---\nkind: initiative\nid: sso\n---\nkind: Team\nid: Core Team\n"
    work = "kind: Outcome\nid: o\nowner: person:maria\n---\nkind: Initiative\nid: i\ndepends_on: [sso]\n"
    graph = build_graph(load_texts([("people.yaml", people), ("work.yaml", work)]))
    left_out = "but is left out (see the problem there)"
    assert [(str(p.location), p.message) for p in graph.problems] == [  # linked kind by kind
        ("work.yaml:7:14", f"depends_on: initiative:sso does not exist; the entity at people.yaml:4:7 would be initiative:sso, {left_out}"),
        ("work.yaml:3:8", f"owner: person:maria does not exist; the entity at people.yaml:2:5 would be person:maria, {left_out}"),
    ]  # fmt: skip
    assert list(graph.plan.left_out) == ["person:maria", "initiative:sso", "team:core-team"]


def test_nested_unknown_field_has_a_hint() -> None:
    plan = load_texts([("p.yaml", "kind: Vendor\nid: v\ndue_diligence:\n  complted: 2026-01-01\n")])
    (problem,) = plan.problems
    assert (problem.rule, str(problem.location)) == ("plan/unknown-field", "p.yaml:4:3")
    assert "did you mean 'completed'?" in problem.message


def test_a_plan_path_that_does_not_exist_is_bad_usage(
    run_cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    for command in ("validate", "check"):
        result = run_cli(command, "nowhere")
        assert result.exit_code == 2
        assert result.output == "no such plan file or folder: nowhere\n"
    (tmp_path / "plan").mkdir()
    (tmp_path / "policy-engine.toml").write_text('plan = ["plan", "roadmap"]\n')
    for command in ("validate", "check"):  # a path from the config is told as the config's
        result = run_cli(command)
        assert (result.exit_code, result.output) == (
            2,
            "policy-engine.toml: plan: no such plan file or folder: roadmap\n",
        )
    (tmp_path / "policy-engine.toml").write_text('plan = ["plan"]\npolicies = ["governance"]\n')
    for command in ("check", "compile", "rules"):
        result = run_cli(command)
        expected = "policy-engine.toml: policies: no such policy file or folder: governance\n"
        assert (result.exit_code, result.output) == (2, expected)


def test_a_policy_file_given_as_the_plan_and_the_reverse_say_where_they_go(
    run_cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "own.policy").write_text('rule r\n  for i in Initiative where i.title == "x"\n')
    for command in ("validate", "check"):
        result = run_cli(command, "own.policy")
        assert (result.exit_code, result.output) == (
            2,
            "own.policy: a policy file, not a plan file; give it with --policy\n",
        )
    (tmp_path / "plan.yaml").write_text("kind: Team\nid: t\n")
    for args in (["check", "plan.yaml", "--policy", "plan.yaml"], ["compile", "plan.yaml"]):
        result = run_cli(*args)
        assert (result.exit_code, result.output) == (
            2,
            "plan.yaml: a plan file, not a policy file; give it as a plan path, not with --policy\n",
        )


def test_a_plan_folder_without_plan_files_is_bad_usage(
    run_cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "plan").mkdir()
    (tmp_path / "plan" / "notes.txt").write_text("kind: Team\nid: a\n")
    for command in ("validate", "check"):
        result = run_cli(command, "plan")
        assert result.exit_code == 2
        assert result.output == "no plan files (*.yaml, *.yml, *.json) in plan\n"


def test_hidden_files_and_folders_are_skipped(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "x.yaml").write_text("kind: Team\nid: hidden\n")
    (tmp_path / ".pre-commit-config.yaml").write_text("repos: []\n")
    (tmp_path / "team.yml").write_text("kind: Team\nid: seen\n")
    assert [e.id for e in load_files([tmp_path]).entities] == ["seen"]


def test_links_to_files_are_read_and_links_to_folders_are_not_followed(tmp_path: Path) -> None:
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "team.yaml").write_text("kind: Team\nid: linked\n")
    (tmp_path / "plan").mkdir()
    (tmp_path / "plan" / "team.yaml").symlink_to(tmp_path / "elsewhere" / "team.yaml")
    (tmp_path / "plan" / "loop").symlink_to(tmp_path / "plan")  # would read everything twice, forever
    assert [e.id for e in load_files([tmp_path / "plan"]).entities] == ["linked"]


def test_a_folder_is_read_in_sorted_order_of_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "plan" / "initiatives").mkdir(parents=True)
    (tmp_path / "plan" / "initiatives" / "a.yaml").write_text("kind: Team\nid: t\ntitle: first\n")
    (tmp_path / "plan" / "initiatives-old.yaml").write_text("kind: Team\nid: u\n")
    (tmp_path / "plan" / "outcomes.yaml").write_text("kind: Team\nid: t\ntitle: second\n")
    monkeypatch.chdir(tmp_path)
    plan = load_files(["plan"])
    assert plan.files == ["plan/initiatives-old.yaml", "plan/initiatives/a.yaml", "plan/outcomes.yaml"]
    graph = build_graph(plan)
    assert graph.by_ref["team:t"].model.title == "first"  # the first in file order stays
    [duplicate] = plan.problems
    assert (duplicate.rule, duplicate.location) == ("plan/duplicate-id", Location("plan/outcomes.yaml", 2, 5))


def test_derived_values() -> None:
    text = (
        "kind: Review\nid: r\ndecided: 2026-01-31\nvalid_for: P1M\n---\n"
        "kind: Initiative\nid: i\neffort: 2\nscoring: {rice: {reach: 100, impact: 2, confidence: 0.5}}\n"
    )
    graph = build_graph(load_texts([("p.yaml", text)]))
    from policy_engine.plan.model import review_expires_on, rice_score

    assert str(review_expires_on(graph.by_ref["review:r"].model)) == "2026-02-28"  # type: ignore[arg-type]
    assert rice_score(graph.by_ref["initiative:i"].model) == 50  # type: ignore[arg-type]


def test_every_relation_is_navigable_by_its_inverse() -> None:
    text = (
        "kind: Initiative\nid: i\nowner: team:t\nteam: t\ndepends_on: [j]\n"
        "decision: {decides: person:p, executes: [team:t]}\n---\n"
        "kind: Initiative\nid: j\n---\nkind: Team\nid: t\nlead: p\n---\nkind: Person\nid: p\nmember_of: [t]\n"
    )
    graph = build_graph(load_texts([("p.yaml", text)]))
    t = graph.by_ref["team:t"]
    assert [e.ref for e in t.links["owner_of"]] == ["initiative:i"]
    assert [e.ref for e in t.links["team_of"]] == ["initiative:i"]
    assert [e.ref for e in t.links["has_member"]] == ["person:p"]
    assert [e.ref for e in t.links["executes_for"]] == ["initiative:i"]
    assert [e.ref for e in graph.by_ref["person:p"].links["decides_for"]] == ["initiative:i"]
    assert [e.ref for e in graph.by_ref["person:p"].links["lead_of"]] == ["team:t"]
    assert [e.ref for e in graph.by_ref["initiative:j"].links["dependency_of"]] == ["initiative:i"]
    assert graph.nx.number_of_edges() == 7
    assert graph.nx.has_edge("initiative:i", "initiative:j", key="depends_on")


def test_inverse_relations_list_their_sources_by_kind_and_id_whatever_the_file_order() -> None:
    text = (
        "kind: Outcome\nid: o\nowner: team:t\n---\n"
        "kind: Initiative\nid: z\nowner: team:t\n---\n"
        "kind: Initiative\nid: a\nowner: team:t\n---\n"
        "kind: Team\nid: t\n---\n"
        "kind: Initiative\nid: m\nowner: team:t\n"
    )
    graph = build_graph(load_texts([("p.yaml", text)]))
    owned = [e.ref for e in graph.by_ref["team:t"].links["owner_of"]]
    assert owned == ["initiative:a", "initiative:m", "initiative:z", "outcome:o"]


def test_a_value_written_as_an_alias_is_located_at_the_alias_not_its_anchor() -> None:
    text = (
        "kind: Person\nid: ann\nname: '*not an alias*'\n---\n"  # a '*' in a value
        "kind: Initiative\nid: i\n"
        "owner: &who person:ghost\n"  # line 7
        "decision:\n  decides: *who\n"  # line 9: column 12
        "  executes: [team:core, *who]\n"  # line 10: column 25
        "links:\n  - &link {url: 3}\n  - *link\n"  # lines 12 and 13
        "x-meta: &key title\n"  # line 14
        "*key : I\n"  # line 15: an alias as a key
    )
    plan = load_texts([("p.yaml", text)])
    graph = build_graph(plan)
    assert [(p.message, str(p.location)) for p in graph.problems] == [
        ("owner: person:ghost does not exist", "p.yaml:7:8"),
        ("decision.decides: person:ghost does not exist", "p.yaml:9:12"),
        ("decision.executes: team:core does not exist", "p.yaml:10:14"),
        ("decision.executes: person:ghost does not exist", "p.yaml:10:25"),
    ]
    # What an alias of a block holds is where the alias is written, keys too.
    assert [(p.message, str(p.location)) for p in plan.problems] == [
        ("links.url: expected a text (got 3)", "p.yaml:12:17"),
        ("links.url: expected a text (got 3)", "p.yaml:13:5"),
    ]
    initiative = graph.by_ref["initiative:i"]
    assert str(initiative.location(("title", "<key>"))) == "p.yaml:15:1"
    assert str(initiative.location(("title",))) == "p.yaml:15:8"
    assert plan.entities[0].model.name == "*not an alias*"


def test_an_invalid_value_in_a_block_of_a_list_is_one_problem() -> None:
    text = "kind: Initiative\nid: i\nlinks:\n  - {url: 3, title: t}\n  - url: https://example.com\n"
    plan = load_texts([("p.yaml", text)])
    assert [(p.message, str(p.location)) for p in plan.problems] == [
        ("links.url: expected a text (got 3)", "p.yaml:4:11"),
    ]
    assert plan.entities[0].model.links == ()  # the list is dropped whole: its indices stay true
