"""The command line: exit codes, options, config, and the commands around check."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from conftest import ROOT

ACME = str(ROOT / "examples" / "acme")
CLEAN = str(ROOT / "examples" / "clean")
AS_OF = ("--as-of", "2027-01-15")


@pytest.fixture(autouse=True)
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)  # no config file above a temporary folder
    return tmp_path


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_exit_codes(run_cli: Any) -> None:
    assert run_cli("check", CLEAN, *AS_OF).exit_code == 0
    assert run_cli("check", ACME, *AS_OF).exit_code == 1
    assert run_cli("check", ACME, *AS_OF, "--fail-on", "never").exit_code == 0
    assert run_cli("check", ACME, *AS_OF, "--format", "yaml").exit_code == 2
    assert run_cli("check").exit_code == 2  # no plan, no config


def test_fail_on_warning(run_cli: Any, in_tmp: Path) -> None:
    plan = write(
        in_tmp / "p.yaml",
        "kind: Outcome\nid: o\nowner: person:a\nstatus: active\nreview_cadence: weekly\n---\nkind: Person\nid: a\n",
    )
    assert run_cli("check", str(plan), *AS_OF).exit_code == 0
    assert run_cli("check", str(plan), *AS_OF, "--fail-on", "warning").exit_code == 1


def test_select_and_ignore(run_cli: Any) -> None:
    result = run_cli("check", ACME, *AS_OF, "--select", "dependency-*", "--format", "json")
    rules = {f["rule"] for f in json.loads(result.output)["findings"]}
    assert rules == {"dependency-cycle"}
    result = run_cli(
        "check", ACME, *AS_OF, "--ignore", "waiver-*", "--ignore", "dependency-cycle", "--format", "json"
    )
    report = json.loads(result.output)
    assert not {"waiver-expired", "dependency-cycle"} & {f["rule"] for f in report["findings"]}
    assert report["summary"]["rules"] == 14


def test_sarif_and_junit_name_the_rules_that_ran(run_cli: Any) -> None:
    args = ("check", ACME, *AS_OF, "--ignore", "waiver-*", "--ignore", "owner-active")
    sarif = json.loads(run_cli(*args, "--format", "sarif").output)
    ran = [rule["id"] for rule in sarif["runs"][0]["tool"]["driver"]["rules"]]
    assert len(ran) == 14 and not {"waiver-expired", "waiver-not-allowed", "owner-active"} & set(ran)
    junit = run_cli(*args, "--format", "junit").output
    assert re.findall(r'<testsuite name="([^"]+)"', junit) == ran


def test_sarif_regions_end_where_the_text_report_underlines_and_help_examples_are_code(run_cli: Any) -> None:
    sarif = json.loads(run_cli("check", ACME, *AS_OF, "--format", "sarif").output)["runs"][0]
    regions = {
        r["ruleId"]: r["locations"][0]["physicalLocation"]["region"]
        for r in sarif["results"]
        if r["ruleId"] in ("waiver-expired", "vendor-due-diligence")
    }
    assert regions == {  # `expires: 2026-09-30` and `"completed": "2026-10-15"` (JSON, quotes included)
        "waiver-expired": {"startLine": 19, "startColumn": 10, "endLine": 19, "endColumn": 20},
        "vendor-due-diligence": {"startLine": 21, "startColumn": 36, "endLine": 21, "endColumn": 48},
    }
    rules = {rule["id"]: rule for rule in sarif["tool"]["driver"]["rules"]}
    markdown = rules["ai-pilot-acceptable-use"]["help"]["markdown"]
    assert "Failing example:\n\n```yaml\nkind: Initiative\nid: sales-email-writer\n" in markdown
    assert rules["ai-pilot-acceptable-use"]["help"]["text"].count("\n  kind: Initiative") == 1


def test_markdown_links_are_relative_or_under_link_base(run_cli: Any, in_tmp: Path) -> None:
    import shutil

    shutil.copytree(ACME, in_tmp / "plan dir")
    where, link = "plan dir/outcomes.yaml", "plan%20dir/outcomes.yaml"
    relative = run_cli("check", "plan dir", *AS_OF, "--format", "markdown").output
    assert f"[{where}:7]({link}#L7)" in relative
    base = "https://github.com/acme/plan/blob/0123abc"
    linked = run_cli("check", "plan dir", *AS_OF, "--format", "markdown", "--link-base", base + "/").output
    assert f"[{where}:7]({base}/{link}#L7)" in linked
    assert linked.replace(f"{base}/", "") == relative


def test_a_pack_helper_used_without_the_pack_says_where_it_went(run_cli: Any, in_tmp: Path) -> None:
    write(in_tmp / "own.policy", "rule r\n  for i in Initiative where open(i) and opne(i)\n")
    result = run_cli("compile", "--no-builtin", "own.policy")
    assert result.exit_code == 2
    assert result.output.count("E203") == 2
    assert (
        "  help: 'open' is a helper of the built-in pack, which --no-builtin (or builtin = false) leaves out;"
        " define it in your own policies\n"
    ) in result.output
    assert result.output.count("help:") == 1  # opne: no helper of that name
    assert run_cli("compile", "own.policy").output.count("E203") == 1  # with the pack, only opne


def test_a_pack_defines_its_own_helper_beside_the_built_in_packs(run_cli: Any, in_tmp: Path) -> None:
    # `open` here means what this pack says (status done only), not the built-in pack's
    # (done or cancelled); `current` is still the built-in pack's.
    write(
        in_tmp / "own.policy",
        'pack acme "Acme"\n'
        'def open(i: Initiative) = not (i.status == "done")\n'
        "def reviewed(i: Initiative) = any r in i.reviewed_by where current(r)\n"
        'rule open-needs-review\n  for i in Initiative where open(i) and not reviewed(i)\n  else "{i.id}"\n',
    )
    write(in_tmp / "plan" / "p.yaml", "kind: Initiative\nid: a\nstatus: cancelled\n")
    args = (
        "check",
        "plan",
        *AS_OF,
        "--policy",
        "own.policy",
        "--select",
        "open-needs-review",
        "--format",
        "json",
    )
    result = run_cli(*args)
    assert [f["subject"] for f in json.loads(result.output)["findings"]] == ["initiative:a"]
    # The built-in pack's rules still use its own `open`: a cancelled initiative is not open.
    built_in = run_cli(
        "check", "plan", *AS_OF, "--policy", "own.policy", "--select", "initiative-has-outcome"
    )
    assert built_in.exit_code == 0


def test_a_helper_two_other_packs_define_must_be_defined_where_it_is_called(
    run_cli: Any, in_tmp: Path
) -> None:
    write(in_tmp / "a.policy", 'pack a "A"\ndef big(i: Initiative) = i.effort > 3\n')
    write(in_tmp / "b.policy", 'pack b "B"\ndef big(i: Initiative) = i.effort > 5\n')
    write(in_tmp / "c.policy", 'pack c "C"\nrule r\n  for i in Initiative where big(i)\n')
    result = run_cli("compile", "a.policy", "b.policy", "c.policy")
    assert result.exit_code == 2
    assert result.output.startswith("c.policy:3:29: E205 function 'big' is defined by packs a and b\n")
    assert "  help: define it in pack c to say which one this pack means\n" in result.output
    write(in_tmp / "twice.policy", 'pack a "A"\ndef big(i: Initiative) = true\n')
    assert "E205 function 'big' is already defined" in run_cli("compile", "a.policy", "twice.policy").output


def test_a_finding_about_the_whole_plan_is_located_at_its_first_file(run_cli: Any, in_tmp: Path) -> None:
    write(
        in_tmp / "own.policy",
        'rule any-ai\n  for i in Initiative where i.type == "ai-pilot"\n  group all\n'
        '  require count(group) >= 1\n  else "no AI pilot at all"\n',
    )
    write(in_tmp / "plan" / "b.yaml", "kind: Person\nid: p\n")
    write(in_tmp / "plan" / "a.yaml", "kind: Team\nid: t\n")
    args = ("check", "plan", *AS_OF, "--no-builtin", "--policy", "own.policy")
    [finding] = json.loads(run_cli(*args, "--format", "json").output)["findings"]
    assert (finding["group"], finding["location"]) == (
        "plan",
        {"path": "plan/a.yaml", "line": 1, "column": 1},
    )
    [result] = json.loads(run_cli(*args, "--format", "sarif").output)["runs"][0]["results"]
    assert result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "plan/a.yaml"


def test_a_rule_without_at_is_located_at_the_field_its_test_reads(run_cli: Any, in_tmp: Path) -> None:
    write(
        in_tmp / "own.policy",
        'rule vendor-signed\n  for v in Vendor where v.status == "approved"\n'
        "  let signed = v.due_diligence.dpa_signed\n  require count(v.owner) == 0 and signed == true\n"
        'rule paused\n  for i in Initiative where i.status == "paused"\n',
    )
    write(
        in_tmp / "plan.yaml",
        "kind: Vendor\nid: a\nstatus: approved\nowner: person:p\n---\n"  # owner: the first field read
        "kind: Vendor\nid: b\nstatus: approved\ndue_diligence:\n  dpa_signed: false\n---\n"
        "kind: Vendor\nid: c\nstatus: approved\ndue_diligence: {}\n---\n"  # the block, not the field
        "kind: Vendor\nid: d\nstatus: approved\n---\n"  # nothing it reads is written: the kind line
        "kind: Initiative\nid: e\nstatus: paused\n---\n"  # no require: what `where` reads
        "kind: Person\nid: p\nstatus: left\n",
    )
    args = ("check", "plan.yaml", *AS_OF, "--no-builtin", "--policy", "own.policy", "--format", "json")
    findings = json.loads(run_cli(*args).output)["findings"]
    assert [(f["subject"], f["location"]["line"], f["location"]["column"]) for f in findings] == [
        ("vendor:a", 4, 8),
        ("vendor:b", 10, 15),
        ("vendor:c", 15, 16),
        ("vendor:d", 17, 1),
        ("initiative:e", 23, 9),
    ]


def test_the_markdown_report_fits_a_pull_request_comment(run_cli: Any, in_tmp: Path) -> None:
    # A pull-request comment holds 65,536 characters: tables stop at 100 rows and count the rest.
    write(in_tmp / "plan.yaml", "---\n".join(f"kind: Initiative\nid: i{n:03}\n" for n in range(130)))
    args = ("check", "plan.yaml", *AS_OF, "--select", "initiative-has-outcome")
    text = run_cli(*args, "--format", "markdown").output
    rows = [line for line in text.splitlines() if line.startswith("| error | `initiative-has-outcome`")]
    assert len(rows) == 100 and "i099" in rows[-1]
    assert "\n… and 30 more findings: the JSON and SARIF reports list them all.\n" in text
    assert len(json.loads(run_cli(*args, "--format", "json").output)["findings"]) == 130


def test_a_select_or_ignore_that_matches_no_rule_is_bad_usage(run_cli: Any) -> None:
    typo = run_cli("check", ACME, *AS_OF, "--select", "owner-activ")
    assert (typo.exit_code, typo.output) == (
        2,
        "--select owner-activ matches no rule; did you mean 'owner-active'?\n",
    )
    nothing = run_cli("check", ACME, *AS_OF, "--ignore", "vendor-*", "--ignore", "budget-*")
    assert (nothing.exit_code, nothing.output) == (2, "--ignore budget-* matches no rule\n")
    plan_rules = run_cli("check", ACME, *AS_OF, "--select", "plan/*", "--format", "json")
    assert plan_rules.exit_code == 0 and json.loads(plan_rules.output)["summary"]["rules"] == 0


def test_a_report_that_cannot_be_written_is_bad_usage(run_cli: Any, in_tmp: Path) -> None:
    (in_tmp / "file").write_text("")
    result = run_cli("check", CLEAN, *AS_OF, "--output", "file/report.json")
    assert (result.exit_code, result.output) == (
        2,
        "cannot write file/report.json: a part of its path is a file, not a folder\n",
    )
    result = run_cli("schema", "-o", "file/schemas")
    assert (result.exit_code, result.output) == (
        2,
        "cannot write file/schemas/plan.schema.json: a part of its path is a file, not a folder\n",
    )


def test_schemas_are_not_written_where_a_check_would_read_them_as_plan_files(
    run_cli: Any, in_tmp: Path
) -> None:
    shutil.copytree(ACME, in_tmp / "plan")
    write(in_tmp / "policy-engine.toml", 'plan = "plan"\n')
    before = {p: p.read_bytes() for p in in_tmp.rglob("*") if p.is_file()}
    result = run_cli("schema", "-o", "plan/schemas")
    assert (result.exit_code, result.output) == (
        2,
        "--output-dir plan/schemas is inside the plan folder plan: the next check would read the schema"
        " as a plan file; write it elsewhere\n",
    )
    assert {p: p.read_bytes() for p in in_tmp.rglob("*") if p.is_file()} == before
    # Beside the plan, or in a hidden folder of it, is fine; so is any folder when the config is broken.
    for folder in ("schemas", "plan/.schemas"):
        assert run_cli("schema", "-o", folder).exit_code == 0
        assert (in_tmp / folder / "plan.schema.json").is_file()
    write(in_tmp / "policy-engine.toml", 'plan = "plan"\nbroken =\n')
    assert run_cli("schema", "-o", "plan/schemas").exit_code == 0


def test_a_json_schema_read_as_a_plan_file_is_told_to_move(run_cli: Any, in_tmp: Path) -> None:
    assert run_cli("schema", "-o", "plan").exit_code == 0  # no config: nothing says it is a plan folder
    result = run_cli("validate", "plan/plan.schema.json")
    assert result.exit_code == 1
    assert (
        "plan/plan.schema.json:1:1: plan/invalid-value entity has no kind; this is a JSON Schema, not a plan"
        " file: keep it outside the plan's folders\n"
    ) in result.output


def test_quiet_prints_only_failing_findings(run_cli: Any) -> None:
    assert run_cli("check", CLEAN, *AS_OF, "--quiet").output == ""
    lines = run_cli("check", ACME, *AS_OF, "-q").output.splitlines()
    assert sum(1 for line in lines if ": error " in line) == 8
    assert not any("entities" in line for line in lines)


def test_the_caret_lines_up_under_wide_characters_and_tabs(run_cli: Any, in_tmp: Path) -> None:
    (in_tmp / "p.yaml").write_text('kind: Team\nid: t\nx-a: {"日本語": "e\u0301", y: [}\n')
    (in_tmp / "q.yaml").write_text("kind: Team\nid: q\ntitel: Q\n")
    lines = run_cli("validate", "p.yaml", "q.yaml").output.splitlines()
    # Each CJK character takes two cells in a terminal, a combining accent none.
    assert lines[1:3] == ['  x-a: {"日本語": "e\u0301", y: [}', "  " + " " * 25 + "^"]
    assert lines[4:6] == ["  titel: Q", "  ^^^^^"]  # a key is underlined without its colon
    (in_tmp / "r.yaml").write_text("kind: Review\nid: r\nvalid_for: 12 months  # a year\n")
    lines = run_cli("validate", "r.yaml").output.splitlines()
    assert lines[1:3] == [
        "  valid_for: 12 months  # a year",
        "             ^^^^^^^^^",
    ]  # the whole plain value
    (in_tmp / "s.yaml").write_text("kind: Initiative\nid: s\ndepends_on: [Big Bang]\n")
    lines = run_cli("validate", "s.yaml").output.splitlines()
    assert lines[1:3] == ["  depends_on: [Big Bang]", "               ^^^^^^^^"]  # in a list: to its end
    (in_tmp / "t.policy").write_text(
        'rule t\n\tfor i in Initiative where i.title == "日本" and i.prio == 1\n'
    )
    compiled = run_cli("compile", "t.policy").output.splitlines()
    assert compiled[0].startswith("t.policy:2:50: E202")  # pyparsing must not expand the tab
    assert compiled[2] == "  \t" + " " * 50 + "^^^^"


def test_an_opening_that_is_not_closed_is_underlined_alone(run_cli: Any, in_tmp: Path) -> None:
    (in_tmp / "p.yaml").write_text("kind: Team\nid: t\ntags: [a, b\n")
    (in_tmp / "q.yaml").write_text('kind: Team\nid: q\ntitle: "not closed\n')
    lines = run_cli("validate", "p.yaml", "q.yaml").output.splitlines()
    assert lines[1:3] == ["  tags: [a, b", "        ^"]
    assert lines[4:6] == ['  title: "not closed', "         ^"]


def test_one_check_writes_several_reports_as_separate_checks_would(run_cli: Any, in_tmp: Path) -> None:
    reports = {"sarif": "out/r.sarif", "markdown": "r.md", "text": "r.txt", "junit": "r.xml"}
    args = [arg for fmt, path in reports.items() for arg in ("--report", f"{fmt}={path}")]
    result = run_cli("check", ACME, *AS_OF, "--format", "github", *args)
    assert result.exit_code == 1
    assert result.output == run_cli("check", ACME, *AS_OF, "--format", "github").output
    for fmt, path in reports.items():
        assert (in_tmp / path).read_text() == run_cli("check", ACME, *AS_OF, "--format", fmt).output, fmt
    for value, words in [
        (
            "sarf=x.sarif",
            "'sarf' is not one of text, json, sarif, junit, github, markdown; did you mean 'sarif'?",
        ),
        ("sarif", "'sarif' is not FORMAT=FILE"),
        ("json=r.md", "--output r.md and --report json=r.md write to the same file: give each its own"),
    ]:
        bad = run_cli("check", ACME, "-o", "r.md", "--report", value)
        assert bad.exit_code == 2 and words in bad.output, value
    twice = run_cli("check", ACME, "--report", "sarif=a.sarif", "--report", "json=./a.sarif")
    assert (twice.exit_code, twice.output) == (
        2,
        "--report sarif=a.sarif and --report json=./a.sarif write to the same file: give each its own\n",
    )


def test_a_report_never_overwrites_what_the_check_reads(run_cli: Any, in_tmp: Path) -> None:
    shutil.copytree(ACME, in_tmp / "plan")
    write(in_tmp / "gov" / "own.policy", "rule own\n  for i in Initiative where i.effort > 100\n")
    write(in_tmp / "cfg.toml", 'plan = "plan"\npolicies = ["gov"]\n')
    before = {p: p.read_bytes() for p in in_tmp.rglob("*") if p.is_file()}
    for args, words in [
        (["-o", "plan/outcomes.yaml"], "--output plan/outcomes.yaml is a plan file of this check: "),
        (
            ["--report", "sarif=gov/own.policy"],
            "--report sarif=gov/own.policy is a policy file of this check",
        ),
        (["-o", "cfg.toml"], "--output cfg.toml is the config file of this check"),
        (
            ["-o", "plan/report.json"],
            "is inside the plan folder plan: the next check would read the report as a plan",
        ),
        (["-o", "gov/new.policy"], "is inside the policy folder gov: the next check would read the report"),
    ]:
        result = run_cli("check", "--config", "cfg.toml", *AS_OF, *args)
        assert result.exit_code == 2 and words in result.output, args
    assert {p: p.read_bytes() for p in in_tmp.rglob("*") if p.is_file()} == before
    # Beside the plan, or in a hidden folder of it (which a check does not read), is fine.
    for target in ("plan/report.sarif", "plan/.reports/r.json", "report.json"):
        assert run_cli("check", "--config", "cfg.toml", *AS_OF, "-o", target).exit_code == 1, target
        assert (in_tmp / target).read_text().strip()


def test_past_ten_annotations_of_a_kind_the_tenth_says_how_many_more_follow_in_the_log(
    run_cli: Any, in_tmp: Path
) -> None:
    # GitHub shows 10 annotations of each kind per step and drops the rest without a word.
    outcomes = "---\n".join(f"kind: Outcome\nid: o{n:02}\nstatus: active\n" for n in range(12))
    write(in_tmp / "plan.yaml", outcomes)
    result = run_cli("check", "plan.yaml", "--select", "outcome-single-owner", "--format", "github")
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert [line.split("::")[1].split(",")[0] for line in lines[:10]] == ["error file=plan.yaml"] * 9 + [
        "error title=policy-engine"
    ]
    assert lines[9] == (
        "::error title=policy-engine::3 more errors are in this step's log:"
        " GitHub shows 10 annotations of a kind"
    )
    assert lines[10:] == [
        f"plan.yaml:{4 * n + 1}:1: error outcome-single-owner outcome o{n:02} has 0 owners; name exactly one"
        for n in (9, 10, 11)
    ]


def test_a_policy_or_config_that_cannot_be_used_is_annotated_for_github(run_cli: Any, in_tmp: Path) -> None:
    write(in_tmp / "own.policy", 'rule own\n  for i in Initiative where i.prio == "P0"\n')
    result = run_cli("check", CLEAN, "--policy", "own.policy", "--format", "github")
    assert result.exit_code == 2
    annotation = (
        "::error file=own.policy,line=2,col=31,title=E202::"
        "no field or relation 'prio' on Initiative (did you mean 'priority'?)\n"
    )
    assert result.output.startswith(annotation)
    assert "own.policy:2:31: E202" in result.output  # and the diagnostic as text, for the log
    assert run_cli("check", CLEAN, "--policy", "own.policy").output.startswith("own.policy:2:31: E202")
    # A config that cannot be used, likewise: at its line, and at its column when TOML knows it.
    write(in_tmp / "policy-engine.toml", 'fail_on = "warn"\n[rules.top-priority-limit]\nenabled = false\n')
    lines = run_cli("check", CLEAN, "--format", "github").output.splitlines()
    assert lines[:1] == [
        "::error file=policy-engine.toml,line=1,title=config::fail_on: expected 'error', 'warning', "
        "'info' or 'never' (got 'warn'); did you mean 'warning'?"
    ]
    write(in_tmp / "policy-engine.toml", "fail_on = 'error'\n[rules.top-priority-limit]\nenabled = false\n")
    lines = run_cli("check", CLEAN, "--format", "github").output.splitlines()
    assert lines[0] == (
        "::error file=policy-engine.toml,line=2,title=config::rules.top-priority-limit: no loaded rule has "
        "this id (did you mean 'top-priorities-limit'?)"
    )
    write(in_tmp / "policy-engine.toml", 'plan = ["plan" x]\n')
    lines = run_cli("check", CLEAN, "--format", "github").output.splitlines()
    assert (
        lines[0] == "::error file=policy-engine.toml,line=1,col=16,title=config::invalid TOML: unclosed array"
    )


def test_output_file(run_cli: Any, in_tmp: Path) -> None:
    result = run_cli("check", ACME, *AS_OF, "--format", "sarif", "--output", "out/report.sarif")
    assert result.exit_code == 1 and result.output == ""
    assert json.loads((in_tmp / "out" / "report.sarif").read_text())["version"] == "2.1.0"


def test_text_output_has_file_line_col_caret_and_summary(run_cli: Any) -> None:
    output = run_cli("check", ACME, *AS_OF).output
    assert f"{ACME}/outcomes.yaml:7:8: error outcome-single-owner outcome reduce-churn has 2 owners" in output
    assert "  owner: [team:growth, team:platform]\n         ^^^^^^^^^^^^^^^^^^^^^^^^^^^^\n" in output
    assert output.endswith("8 errors, 0 warnings, 0 info (1 waived) in 47 entities, 17 rules\n")
    assert "\033[" not in output  # not a terminal: no colour


def test_own_policies_with_and_without_the_builtin_pack(run_cli: Any, in_tmp: Path) -> None:
    write(in_tmp / "gov" / "team.policy", "rule needs-team\n  for i in Initiative where count(i.team) == 0\n")
    result = run_cli("check", CLEAN, *AS_OF, "--policy", "gov", "--format", "json")
    report = json.loads(result.output)
    assert report["summary"]["rules"] == 18
    assert {f["rule"] for f in report["findings"]} == {"needs-team"}
    result = run_cli("check", CLEAN, *AS_OF, "--policy", "gov", "--no-builtin", "--format", "json")
    assert json.loads(result.output)["summary"]["rules"] == 1


def test_a_policy_that_does_not_compile_exits_2_with_its_diagnostics(run_cli: Any, in_tmp: Path) -> None:
    write(in_tmp / "bad.policy", 'rule bad\n  for i in Initiative where i.priorty == "P0"\n')
    result = run_cli("check", CLEAN, "--policy", "bad.policy")
    assert result.exit_code == 2
    assert "bad.policy:2:31: E202 no field or relation 'priorty' on Initiative" in result.output
    assert "help: did you mean 'priority'?" in result.output
    assert "Traceback" not in result.output


def test_compile_command(run_cli: Any, in_tmp: Path) -> None:
    write(in_tmp / "ok.policy", "rule ok\n  for i in Initiative where open(i)\n")
    result = run_cli("compile", "ok.policy")
    assert (result.exit_code, result.output) == (0, "compiled 1 rule from 1 path\n")
    again = run_cli("compile", "ok.policy", "./ok.policy")  # one file named twice is read once
    assert (again.exit_code, again.output) == (0, "compiled 1 rule from 2 paths\n")
    assert run_cli("compile", "ok.policy", "--no-builtin").exit_code == 2  # `open` is the pack's helper
    write(
        in_tmp / "two.policy",
        'rule a for i in Initiatve\nrule b\n  for i in Initiative where i.priority == "P9"\n',
    )
    result = run_cli("compile", "two.policy")
    assert result.exit_code == 2
    assert "E201 unknown kind 'Initiatve'" in result.output and "E301 'P9' is not one of" in result.output
    assert run_cli("compile", "missing.policy").exit_code == 2


def test_a_syntax_error_does_not_hide_the_other_rules_problems(run_cli: Any, in_tmp: Path) -> None:
    write(
        in_tmp / "mixed.policy",
        'def ready(i: Initiative) = i.status == == "approved"\n'
        'rule a\n  for i in Initiative where ready(i) and i.statuz == "x"\n'
        'rule b\n  for i in Initiative where i.status <> "done"\n',
    )
    result = run_cli("compile", "mixed.policy")
    assert result.exit_code == 2
    found = [line for line in result.output.splitlines() if line.startswith("mixed.policy:")]
    assert found == [
        "mixed.policy:1:40: E100 syntax error: expected a value after '==', found '=='",
        "mixed.policy:3:44: E202 no field or relation 'statuz' on Initiative",
        "mixed.policy:5:39: E100 syntax error: expected a value after '<', found '>'",
    ]  # and `ready(i)`, whose def does not parse, is not an unknown function
    write(
        in_tmp / "packed.policy",
        'pack Acme Governance\nrule c\n  for i in Initiative where i.statuz == "x"\n',
    )
    result = run_cli("compile", "packed.policy")  # without its pack, the file's rules are not checked
    assert result.output.splitlines()[:4] == [
        "packed.policy:1:6: E100 syntax error: Expected pack name, found 'Acme'",
        "  pack Acme Governance",
        "       ^^^^",
        "  help: a pack name is lower-case words joined by hyphens; did you mean 'acme'?",
    ]
    assert "statuz" not in result.output


def test_compile_without_paths_compiles_the_configs_policies(run_cli: Any, in_tmp: Path) -> None:
    result = run_cli("compile")
    assert (result.exit_code, result.output) == (
        2,
        "no policies given: name policy files or folders, or set `policies` in the config file\n",
    )
    write(in_tmp / "gov" / "own.policy", "pack governance\nrule ok\n  for i in Initiative where open(i)\n")
    write(in_tmp / "policy-engine.toml", 'policies = ["gov"]\n')
    result = run_cli("compile")  # a pack of one's own may share the built-in pack's name
    assert (result.exit_code, result.output) == (0, "compiled 1 rule from 1 path\n")
    write(in_tmp / "policy-engine.toml", 'policies = ["gov"]\nbuiltin = false\n')
    assert "E203 unknown function 'open'" in run_cli("compile").output


def test_timings_go_to_stderr_by_phase_and_rule_and_change_nothing_else(run_cli: Any) -> None:
    plain = run_cli("check", ACME, *AS_OF, "--format", "json")
    timed = run_cli("check", ACME, *AS_OF, "--format", "json", "--timings", "--ignore", "waiver-*")
    assert plain.stderr == ""
    assert timed.exit_code == plain.exit_code == 1
    lines = timed.stderr.splitlines()
    assert lines[0] == "timings (seconds):"
    phases = [line.split()[0] for line in lines[1:8]]
    assert phases == ["compile", "load", "graph", "evaluate", "report", "write", "in"]  # as they ran
    assert lines[8] == "rules, slowest first (seconds, share of the rules' time):"
    rows = [line.split() for line in lines[9:]]
    rule_ids = {
        line.split()[0] for line in run_cli("rules").output.splitlines() if "/" not in line.split()[0]
    }
    assert {row[0] for row in rows} == rule_ids - {"waiver-expired", "waiver-not-allowed"}  # ran, once each
    seconds = [float(row[1]) for row in rows]
    assert seconds == sorted(seconds, reverse=True)
    assert sum(float(row[2].rstrip("%")) for row in rows) == pytest.approx(100, abs=0.5)
    # The report itself is the same, with or without timings.
    ignored = run_cli("check", ACME, *AS_OF, "--format", "json", "--ignore", "waiver-*")
    assert timed.stdout == ignored.stdout


def test_rules_and_explain(run_cli: Any) -> None:
    listing = run_cli("rules").output.splitlines()
    assert len(listing) == 17 + 6  # the pack, then the loader's own plan/ checks
    assert listing[0].split()[:3] == ["ai-pilot-acceptable-use", "error", "governance"]
    assert listing[17].split()[:3] == ["plan/syntax", "error", "plan"] and listing[17].endswith(
        "(not waivable)"
    )
    assert any("dependency-cycle" in line and "(not waivable)" in line for line in listing)
    explained = run_cli("explain", "top-priorities-limit").output
    assert "top-priorities-limit: No more than three top priorities per period" in explained
    assert "parameters: max_top = 3" in explained
    assert "What it checks:" in explained and "Fix:" in explained
    assert "    param max_top = 3" in explained  # the rule's source
    assert "\nlocated at: owner, decision.decides (the first" in run_cli("explain", "owner-active").output
    result = run_cli("explain", "top-priority-limit")
    assert result.exit_code == 2 and "did you mean 'top-priorities-limit'?" in result.output
    assert run_cli("explain", "plan/unknown-field").exit_code == 0


def test_explain_shows_the_helpers_a_rule_calls(run_cli: Any, in_tmp: Path) -> None:
    write(
        in_tmp / "own.policy",
        'pack acme "Acme"\n\n'
        "rule big-open\n  for i in Initiative where open(i) and big(i)\n\n"
        "def big(i: Initiative) =\n  i.effort > 10\n\n# a comment after it\n\n"
        'def open(i: Initiative) = not (i.status == "done")\n\n'
        'rule owner-inactive\n  for p in Person\n  require p.status != "left"\n',
    )
    explained = run_cli("explain", "big-open", "--policy", "own.policy").output
    assert explained.startswith("big-open\n\nseverity: error    pack: acme")  # no title: the id, once
    listed = run_cli("rules", "--policy", "own.policy", "--no-builtin").output.splitlines()
    assert listed[0].split() == ["big-open", "error", "acme", "(no", "title)"]
    # Without `at`, the fields its test reads of the subject; none here, but through helpers.
    assert "located at: " not in explained
    assert (
        "\nlocated at: status (the first the subject has written; else its kind line)\n"
        in run_cli("explain", "owner-inactive", "--policy", "own.policy").output
    )
    assert explained.endswith(
        "Source (own.policy):\n\n"
        "    rule big-open\n      for i in Initiative where open(i) and big(i)\n\n"
        "Helper (own.policy:11:1):\n\n"
        '    def open(i: Initiative) = not (i.status == "done")\n\n'
        "Helper (own.policy:6:1):\n\n"
        "    def big(i: Initiative) =\n      i.effort > 10\n"
    )
    # The built-in rules show the pack's own helpers.
    assert "def current(r: Review) =" in run_cli("explain", "ai-pilot-acceptable-use").output
    assert "Helper (" not in run_cli("explain", "dependency-cycle").output


def test_rules_and_explain_show_what_the_projects_config_changes(run_cli: Any, tmp_path: Path) -> None:
    config = tmp_path / "policy-engine.toml"
    config.write_text(
        '[rules.top-priorities-limit]\nseverity = "warning"\nparams = { max_top = 4 }\n'
        "[rules.owner-active]\nenabled = false\n"
    )
    listing = run_cli("rules", "--config", str(config)).output.splitlines()
    [top] = [line for line in listing if line.startswith("top-priorities-limit ")]
    [owner] = [line for line in listing if line.startswith("owner-active ")]
    assert top.split()[1] == "warning" and owner.endswith("(off in the config)")
    explained = run_cli("explain", "top-priorities-limit", "--config", str(config)).output
    assert "severity: warning (config; the rule's own: error)" in explained
    assert "parameters: max_top = 4 (config; default 3)" in explained
    assert all(line == line.rstrip() for line in explained.splitlines())  # blank source lines stay blank
    assert "off in the config file" in run_cli("explain", "owner-active", "--config", str(config)).output
    config.write_text("[rules.top-priorities-limit]\nparams = { max_tp = 4 }\n")
    result = run_cli("explain", "top-priorities-limit", "--config", str(config))
    assert result.exit_code == 2 and "params.max_tp: unknown parameter" in result.output


def test_the_rules_page_is_the_built_in_packs_documentation(run_cli: Any, in_tmp: Path) -> None:
    page = run_cli("rules", "--format", "markdown").output
    assert page == (ROOT / "docs" / "rules.md").read_text()  # regenerate docs/rules.md when a rule changes
    sections = [line[3:] for line in page.splitlines() if line.startswith("## ")]
    listed = [line.split()[0] for line in run_cli("rules").output.splitlines()]
    assert sections == [*listed[:17], "The plan loader's checks"]
    assert (
        "| [`top-priorities-limit`](#top-priorities-limit) | error | governance | No more than three" in page
    )
    top = page.split("## top-priorities-limit\n")[1].split("\n## ")[0]
    assert "\n- waivable: yes\n- parameters: `max_top = 3`\n" in top
    pilot = page.split("## ai-pilot-acceptable-use\n")[1].split("\n## ")[0]
    assert "\nFailing example:\n\n```yaml\nkind: Initiative\nid: sales-email-writer\n" in pilot
    assert "\n- waivable: no\n" in page.split("## dependency-cycle\n")[1].split("\n## ")[0]
    assert "| `plan/duplicate-id` | Every id is unique within its kind |" in page


def test_the_rules_page_shows_the_projects_config_and_own_pack(run_cli: Any, in_tmp: Path) -> None:
    write(in_tmp / "policy-engine.toml", '[rules.top-priorities-limit]\nseverity = "warning"\n'
          "params = { max_top = 4 }\n[rules.owner-active]\nenabled = false\n")  # fmt: skip
    write(in_tmp / "own.policy", 'pack acme "Acme"\n\nrule big-open\n  title "Big | open"\n'
          '  why "Size <matters>."\n  for i in Initiative where i.effort > 10\n')  # fmt: skip
    page = run_cli("rules", "--format", "markdown", "--policy", "own.policy").output
    assert page.startswith(
        "# Rules\n\n18 rules in 2 packs (acme, governance), and the plan loader's 6 checks."
    )
    assert "| [`big-open`](#big-open) | error | acme | Big \\| open |" in page
    assert (
        "## big-open\n\n**Big | open**\n\n- severity: error\n- pack: acme\n- waivable: yes\n"
        "- located at: `effort` (the first the subject has written; else its kind line)\n\n> Size &lt;matters&gt;.\n"
        in page
    )
    top = page.split("## top-priorities-limit\n")[1].split("\n## ")[0]
    assert "- severity: warning (config; the rule's own: error)" in top
    assert "- parameters: `max_top = 4 (config; default 3)`" in top
    assert "- off in the config file: a check does not run it" in page.split("## owner-active\n")[1]


def test_help_on_every_command(run_cli: Any) -> None:
    for command in ("check", "validate", "compile", "rules", "explain", "schema", "test", "diff"):
        result = run_cli(command, "--help")
        assert result.exit_code == 0 and "Usage:" in result.output
    assert run_cli("--version").output == "policy-engine, version 0.1.0\n"


def test_config_in_pyproject_found_walking_up(
    run_cli: Any, in_tmp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(in_tmp / "pyproject.toml", f'[project]\nname = "x"\n\n[tool.policy-engine]\nplan = ["{ACME}"]\nas_of = 2027-01-15\n'
          '\n[tool.policy-engine.rules.dependency-cycle]\nenabled = false\n'
          '\n[tool.policy-engine.rules.top-priorities-limit]\nparams = {max_top = 4}\n'
          '\n[tool.policy-engine.rules.waiver-expired]\nseverity = "warning"\n')  # fmt: skip
    (in_tmp / "sub" / "dir").mkdir(parents=True)
    monkeypatch.chdir(in_tmp / "sub" / "dir")
    report = json.loads(run_cli("check", "--format", "json").output)
    rules = {f["rule"]: f["severity"] for f in report["findings"]}
    assert "dependency-cycle" not in rules and "top-priorities-limit" not in rules
    assert rules["waiver-expired"] == "warning"
    assert report["as_of"] == "2027-01-15" and report["summary"]["rules"] == 16
    # The command line overrides the config.
    assert (
        json.loads(run_cli("check", "--format", "json", "--as-of", "2027-02-01").output)["as_of"]
        == "2027-02-01"
    )


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ('plan = "x"\nfail_on = "sometimes"\n', "policy-engine.toml:2: config: fail_on"),
        (
            "plans = []\n",
            "policy-engine.toml:1: config: plans: unknown setting 'plans'; did you mean 'plan'?",
        ),
        ('fail_on = "warn"\n', "'info' or 'never' (got 'warn'); did you mean 'warning'?"),
        (
            '[rules.owner-active]\nseverity = "note"\n',
            "'warning' or 'info' (got 'note'); did you mean 'info'?",
        ),
        (
            '[rules.owner-active]\nseverty = "info"\n',
            "policy-engine.toml:2: config: rules.owner-active.severty: unknown setting 'severty'; did you mean 'severity'?",
        ),
        (  # every problem, in the file's order
            'fail_on = "warn"\npolices = []\n',
            "toml:1: config: fail_on: expected 'error', 'warning', 'info' or 'never' (got 'warn');"
            " did you mean 'warning'?\npolicy-engine.toml:2: config: polices:",
        ),
        ("[rules.top-priority-limit]\nenabled = false\n", "did you mean 'top-priorities-limit'?"),
        (  # a parameter written beside the rule's settings rather than in params
            "[rules.top-priorities-limit]\nmax_top = 4\n",
            "policy-engine.toml:2: config: rules.top-priorities-limit.max_top: unknown setting 'max_top';"
            " a rule takes severity, enabled, params; its parameters go in params = { max_top = … }",
        ),
        (
            "[rules.owner-active]\noff = true\n",
            "unknown setting 'off'; to switch a rule off, write enabled = false",
        ),
        ("[rules.owner-active]\nlevel = 'info'\n", "unknown setting 'level'; did you mean 'severity'?"),
        ("paths = ['plan']\n", "unknown setting 'paths'; did you mean 'plan'?"),
        (
            "format = 'json'\n",
            "unknown setting 'format'; the settings are plan, policies, builtin, as_of, fail_on, rules",
        ),
        ("[rules.top-priorities-limit]\nparams = {max = 4}\n", "unknown parameter (parameters: max_top)"),
        (
            "[rules.top-priorities-limit]\nparams = {max_top = 'four'}\n",
            "policy-engine.toml:2: config: rules.top-priorities-limit.params.max_top: expected a finite number, got 'four'",
        ),
        (
            "[rules.top-priorities-limit]\nparams = {max_top = '4'}\n",
            "rules.top-priorities-limit.params.max_top: expected a finite number, got '4'; write 4, without quotes",
        ),
        (
            "[rules.sustainment-capacity]\nparams = {min_share = nan}\n",
            "rules.sustainment-capacity.params.min_share: expected a finite number, got nan",
        ),
        (  # a date in the plan author's words, as the plan loader says it
            'as_of = "15/01/2027"\n',
            "policy-engine.toml:1: config: as_of: expected a date YYYY-MM-DD (got '15/01/2027');"
            " did you mean '2027-01-15'?",
        ),
        ("as_of = 2027\n", "config: as_of: expected a date YYYY-MM-DD (got 2027)\n"),
        (
            "as_of = 2027-03-15T10:00:00\n",
            "as_of: expected a date YYYY-MM-DD (got 2027-03-15T10:00:00); a date has no time of day: write 2027-03-15",
        ),
        (
            'as_of = "2027-02-30"\n',
            "as_of: expected a date YYYY-MM-DD (got '2027-02-30'); 2027-02 has 28 days\n",
        ),
        ("fail_on = true\n", "'info' or 'never' (got true)\n"),  # as TOML writes it, not Python's True
        ("plan = [\n", "policy-engine.toml: config: invalid TOML: invalid value at the end of the file"),
        ('plan = ["plan" x]\n', "policy-engine.toml:1:16: config: invalid TOML: unclosed array\n"),
    ],
)
def test_bad_config_is_reported_with_its_location(run_cli: Any, in_tmp: Path, text: str, words: str) -> None:
    write(in_tmp / "policy-engine.toml", text)
    result = run_cli("check", CLEAN)
    assert result.exit_code == 2
    assert words in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("15/01/2027", "'15/01/2027' is not a date YYYY-MM-DD; did you mean '2027-01-15'?"),
        ("2027-02-30", "'2027-02-30' is not a date YYYY-MM-DD; 2027-02 has 28 days"),
        ("soon", "'soon' is not a date YYYY-MM-DD\n"),
    ],
)
def test_a_bad_as_of_date_is_told_as_the_config_tells_it(run_cli: Any, value: str, words: str) -> None:
    result = run_cli("check", CLEAN, "--as-of", value)
    assert result.exit_code == 2 and words in result.output


def test_a_list_parameter_from_the_policy_the_config_and_a_case(run_cli: Any, in_tmp: Path) -> None:
    write(
        in_tmp / "gov" / "kinds.policy",
        'rule allowed-type\n  param allowed = ["feature", "security"]\n  param strict = true\n'
        "  for i in Initiative where strict and not (i.type in allowed)\n",
    )
    write(in_tmp / "plan.yaml", "kind: Initiative\nid: a\ntype: data\n")
    args = ("--no-builtin", "--policy", "gov")
    assert run_cli("check", "plan.yaml", *args, "--as-of", "2027-01-15").exit_code == 1
    write(in_tmp / "policy-engine.toml", '[rules.allowed-type.params]\nallowed = ["data"]\n')
    assert run_cli("check", "plan.yaml", *args, "--as-of", "2027-01-15").exit_code == 0
    explained = run_cli("explain", "allowed-type", *args).output
    assert (
        'parameters: allowed = ["data"] (config; default ["feature", "security"])'
        " [feature | tech-debt | sustainment | ai-pilot | platform | vendor-adoption | security | data],"
        " strict = true" in explained
    )
    write(in_tmp / "policy-engine.toml", '[rules.allowed-type.params]\nallowed = ["data", 3]\nstrict = 1\n')
    result = run_cli("check", "plan.yaml", *args)
    assert result.exit_code == 2
    assert "rules.allowed-type.params.allowed: expected a list of texts, got ['data', 3]" in result.output
    assert "rules.allowed-type.params.strict: expected a boolean (true or false), got 1" in result.output
    (in_tmp / "policy-engine.toml").unlink()
    case = "rule: allowed-type\ncases:\n  - name: c\n    params: {{{params}}}\n    plan: |\n      kind: Team\n      id: t\n    expect: []\n"
    write(in_tmp / "gov" / "cases" / "allowed-type.yaml", case.format(params="allowed: [data]"))
    assert run_cli("test", "gov/cases", "--no-builtin").output == "1 passed, 0 failed\n"
    write(in_tmp / "gov" / "cases" / "allowed-type.yaml", case.format(params="alowed: [data]"))
    result = run_cli("test", "gov/cases", "--no-builtin")
    assert result.exit_code == 2  # a case of a parameter that does not exist would test the defaults
    assert "case 'c': params.alowed: unknown parameter (parameters: allowed, strict)" in result.output


def test_a_case_files_params_hold_for_each_case_and_a_cases_own_win(run_cli: Any, in_tmp: Path) -> None:
    write(
        in_tmp / "gov" / "big.policy",
        'rule big\n  param limit = 10\n  for i in Initiative\n  require not (i.effort > limit)\n  else "{i.id} over {limit}"\n',
    )
    plan = "    plan: |\n      kind: Initiative\n      id: a\n      effort: 6\n"
    write(
        in_tmp / "gov" / "cases" / "big.yaml",
        "rule: big\nparams: {limit: 5}\ncases:\n"
        f"  - name: the file's limit\n{plan}    expect: [{{subject: initiative:a, message: a over 5}}]\n"
        f"  - name: the case's own\n    params: {{limit: 6}}\n{plan}    expect: []\n",
    )
    assert run_cli("test", "gov/cases", "--no-builtin").output == "2 passed, 0 failed\n"
    write(
        in_tmp / "gov" / "cases" / "big.yaml", f"rule: big\nparams: {{limt: 5}}\ncases:\n  - name: c\n{plan}"
    )
    result = run_cli("test", "gov/cases", "--no-builtin")
    assert result.exit_code == 2
    assert "gov/cases/big.yaml: params.limt: unknown parameter" in result.output


def test_date_and_duration_parameters_from_the_config_and_a_case(run_cli: Any, in_tmp: Path) -> None:
    # TOML and YAML have no durations and YAML 1.2 no dates: text says them
    write(
        in_tmp / "gov" / "late.policy",
        "rule late\n  param cutoff = 2027-02-01\n  param grace = P1M\n  param steps = [7d]\n"
        "  for i in Initiative where i.start + grace + first(steps) > cutoff\n"
        '  else "{i.id}: {i.start} + {grace} + {first(steps)} is after {cutoff}"\n',
    )
    write(in_tmp / "plan.yaml", "kind: Initiative\nid: a\nstart: 2027-01-10\n")
    args = ("plan.yaml", "--no-builtin", "--policy", "gov", "--as-of", "2027-01-15")
    assert "a: 2027-01-10 + P1M + P7D is after 2027-02-01" in run_cli("check", *args).output
    write(
        in_tmp / "policy-engine.toml",
        '[rules.late.params]\ncutoff = 2027-03-01\ngrace = "2w"\nsteps = ["P1D"]\n',
    )
    assert run_cli("check", *args).exit_code == 0  # 2027-01-10 + 14 days + 1 day
    assert "cutoff = 2027-03-01 (config; default 2027-02-01), grace = P2W (config; default P1M)" in (
        run_cli("explain", "late", "--no-builtin", "--policy", "gov").output
    )
    write(
        in_tmp / "policy-engine.toml",
        '[rules.late.params]\ncutoff = 2027-03-01T10:00:00\ngrace = "2 weeks"\n',
    )
    result = run_cli("check", *args)
    assert result.exit_code == 2
    assert (
        "rules.late.params.cutoff: expected a date, got 2027-03-01T10:00:00;"
        " a date has no time of day: write 2027-03-01" in result.output
    )
    assert 'rules.late.params.grace: expected a duration such as "30d" or "P12M", got \'2 weeks\'' in (
        result.output
    )
    (in_tmp / "policy-engine.toml").unlink()
    case = "rule: late\ncases:\n  - name: c\n    params: {{{params}}}\n    plan: |\n{plan}    expect: []\n"
    plan = "      kind: Initiative\n      id: a\n      start: 2027-01-10\n"
    write(
        in_tmp / "gov" / "cases" / "late.yaml",
        case.format(params="cutoff: 2027-03-01, grace: P2W", plan=plan),
    )
    assert run_cli("test", "gov/cases", "--no-builtin").output == "1 passed, 0 failed\n"
    write(in_tmp / "gov" / "cases" / "late.yaml", case.format(params="cutoff: 2027-02-30", plan=plan))
    result = run_cli("test", "gov/cases", "--no-builtin")
    assert result.exit_code == 2
    assert "case 'c': params.cutoff: expected a date, got '2027-02-30'; 2027-02 has 28 days" in result.output


def test_a_byte_order_mark_is_read_past_in_the_config_a_policy_and_a_case(run_cli: Any, in_tmp: Path) -> None:
    # Notepad saved UTF-8 with a BOM for years: it is not part of the text
    bom = "\ufeff"
    write(in_tmp / "policy-engine.toml", bom + "as_of = 2027-01-15\n")
    write(
        in_tmp / "gov" / "team.policy",
        bom + "rule needs-team\n  for i in Initiative where count(i.team) == 0\n",
    )
    case = "rule: needs-team\ncases:\n  - name: c\n    plan: 'kind: Team\n\n      id: t'\n    expect: []\n"
    write(in_tmp / "gov" / "cases" / "needs-team.yaml", bom + case)
    write(in_tmp / "plan.yaml", "kind: Initiative\nid: a\n")
    result = run_cli("check", "plan.yaml", "--no-builtin", "--policy", "gov", "--format", "json")
    assert result.exit_code == 1
    report = json.loads(result.output)
    assert (report["as_of"], [f["rule"] for f in report["findings"]]) == ("2027-01-15", ["needs-team"])
    assert run_cli("test", "gov/cases", "--no-builtin").output == "1 passed, 0 failed\n"


def test_a_config_policy_or_case_in_windows_1252_is_told_where_and_which_word(
    run_cli: Any, in_tmp: Path
) -> None:
    said = "file is not UTF-8: byte 0xe9 cannot be decoded; it reads as Windows-1252 ('café'): save the file as UTF-8"
    write(in_tmp / "plan.yaml", "kind: Team\nid: t\n")
    (in_tmp / "policy-engine.toml").write_bytes("as_of = 2027-01-15\n# café\n".encode("cp1252"))
    result = run_cli("check", "plan.yaml")
    assert (result.exit_code, result.output) == (2, f"policy-engine.toml:2:6: config: {said}\n")
    (in_tmp / "policy-engine.toml").unlink()
    (in_tmp / "gov").mkdir()
    (in_tmp / "gov" / "t.policy").write_bytes('rule t\n  title "café"\n  for i in Team\n'.encode("cp1252"))
    result = run_cli("check", "plan.yaml", "--no-builtin", "--policy", "gov")
    assert (result.exit_code, result.output) == (2, f"gov/t.policy:2:13: E100 policy {said}\n")
    (in_tmp / "gov" / "t.policy").write_text("rule t\n  for i in Team\n")
    (in_tmp / "gov" / "cases").mkdir()
    (in_tmp / "gov" / "cases" / "t.yaml").write_bytes("rule: t\n# café\ncases: []\n".encode("cp1252"))
    result = run_cli("test", "gov/cases", "--no-builtin")
    assert result.exit_code == 2 and f"gov/cases/t.yaml:2:6: case {said}\n" in result.output


def test_a_parameter_compared_with_an_enumeration_takes_only_its_values(run_cli: Any, in_tmp: Path) -> None:
    # "p1" would compile and never match: the default is held to the values, and so is an override
    write(
        in_tmp / "gov" / "top.policy",
        'rule top\n  param top = "P1"\n  param allowed = ["P0"]\n'
        "  for i in Initiative where i.priority <= top and i.priority in allowed\n",
    )
    write(in_tmp / "plan.yaml", "kind: Initiative\nid: a\npriority: P0\n")
    args = ("plan.yaml", "--no-builtin", "--policy", "gov", "--as-of", "2027-01-15")
    write(in_tmp / "policy-engine.toml", '[rules.top.params]\ntop = "p1"\nallowed = ["P0", "P5"]\n')
    result = run_cli("check", *args)
    assert result.exit_code == 2
    assert result.output == (
        "policy-engine.toml:2: config: rules.top.params.top: 'p1' is not one of 'P0', 'P1', 'P2', 'P3';"
        " did you mean 'P1'?\n"
        "policy-engine.toml:3: config: rules.top.params.allowed: 'P5' is not one of 'P0', 'P1', 'P2', 'P3'\n"
    )
    write(in_tmp / "policy-engine.toml", '[rules.top.params]\ntop = "P2"\nallowed = ["P1"]\n')
    assert run_cli("check", *args).exit_code == 0
    explained = run_cli("explain", "top", "--no-builtin", "--policy", "gov").output
    assert 'parameters: top = "P2" (config; default "P1") [P0 | P1 | P2 | P3], allowed = ["P1"]' in explained
    (in_tmp / "policy-engine.toml").unlink()
    case = "rule: top\ncases:\n  - name: c\n    params: {top: P9}\n    plan: 'kind: Team\n\n      id: t'\n    expect: []\n"
    write(in_tmp / "gov" / "cases" / "top.yaml", case)
    result = run_cli("test", "gov/cases", "--no-builtin")
    assert result.exit_code == 2
    assert "case 'c': params.top: 'P9' is not one of 'P0', 'P1', 'P2', 'P3'" in result.output


def test_a_config_named_with_config_is_read_in_either_layout_and_told_when_it_is_none(
    run_cli: Any, in_tmp: Path
) -> None:
    write(in_tmp / "ci" / "engine.toml", "[project]\nname = 'x'\n[tool.policy-engine]\nas_of = 2027-01-15\n")
    report = json.loads(run_cli("check", CLEAN, "--config", "ci/engine.toml", "--format", "json").output)
    assert report["as_of"] == "2027-01-15"  # laid out as pyproject.toml is, whatever its name
    assert run_cli("check", CLEAN, "--config", "nope.toml").output == "nope.toml: config: no such file\n"
    write(in_tmp / "plan.yaml", "kind: Team\nid: t\n")
    result = run_cli("check", CLEAN, "--config", "plan.yaml")
    assert result.exit_code == 2
    assert result.output.endswith(
        "; a config file is TOML: policy-engine.toml, or pyproject.toml's [tool.policy-engine]\n"
    )


def test_one_path_in_the_config_need_not_be_a_list(run_cli: Any, in_tmp: Path) -> None:
    shutil.copytree(ACME, in_tmp / "plan")
    write(in_tmp / "policy-engine.toml", 'plan = "plan"\nas_of = 2027-01-15\n')
    listed = run_cli("check", "--format", "json").output
    write(in_tmp / "policy-engine.toml", 'plan = ["plan"]\nas_of = 2027-01-15\n')
    assert listed == run_cli("check", "--format", "json").output
    assert json.loads(listed)["summary"]["entities"] == 47


def test_a_case_writers_slips_are_told_how_to_mend_them(run_cli: Any, in_tmp: Path) -> None:
    write(in_tmp / "gov" / "team.policy", "rule needs-team\n  for i in Initiative where count(i.team) == 0\n")
    case = "rule: needs-team\ncases:\n  - name: c\n    plan: |\n      kind: Initiative\n      id: a\n    expect: {}\n"
    write(in_tmp / "gov" / "cases" / "needs-team.yaml", case.format("[initiative:a, 2027-Q1]"))
    result = run_cli("test", "gov/cases", "--no-builtin")
    assert result.exit_code == 2
    assert "(got 'initiative:a'); an expected finding is written - subject: initiative:a\n" in result.output
    assert "(got '2027-Q1'); an expected finding is written - group: 2027-Q1\n" in result.output
    write(in_tmp / "gov" / "cases" / "needs-team.yaml", case.format("[{subject: 'initative:a'}]"))
    result = run_cli("test", "gov/cases", "--no-builtin")
    assert result.exit_code == 1
    assert (
        "  missing finding: subject=initative:a"
        " (the case's plan has no initative:a; did you mean 'initiative:a'?)\n" in result.output
    )


def test_test_command(run_cli: Any, in_tmp: Path) -> None:
    result = run_cli("test")
    assert result.exit_code == 0 and result.output.endswith("56 passed, 0 failed\n")
    write(in_tmp / "gov" / "team.policy", "rule needs-team\n  for i in Initiative where count(i.team) == 0\n")
    write(
        in_tmp / "gov" / "cases" / "needs-team.yaml",
        "rule: needs-team\ncases:\n  - name: fires\n    plan: |\n      kind: Initiative\n      id: x\n"
        "    expect: [{subject: 'initiative:x', line: 1}]\n  - name: wrong\n    plan: |\n"
        "      kind: Initiative\n      id: y\n    expect: []\n  - name: worded\n    plan: |\n"
        "      kind: Initiative\n      id: z\n    expect: [{subject: 'initiative:z', message: 'z has no team'}]\n",
    )
    for folder in ("gov/folder.policy", "gov/cases/folder.yaml"):
        (in_tmp / folder).mkdir(parents=True)  # folders, and what hidden folders hold, are not read
    write(in_tmp / "gov" / ".old" / "x.policy", "not a policy")
    write(in_tmp / "gov" / "cases" / ".old" / "x.yaml", "not: a case")
    result = run_cli("test", "--policy", "gov", "gov/cases")
    assert result.exit_code == 1
    assert "FAIL gov/cases/needs-team.yaml: needs-team: wrong" in result.output
    assert "unexpected finding: subject=initiative:y, line=1, column=1, message=needs-team\n" in result.output
    assert "FAIL gov/cases/needs-team.yaml: needs-team: worded\n" in result.output
    assert "  missing finding: subject=initiative:z, message=z has no team\n" in result.output
    # Told in the words of an expectation, so that the two lines compare; the message is the title.
    assert (
        "  unexpected finding: subject=initiative:z, line=1, column=1, message=needs-team\n"
        "  initiative:z has message 'needs-team', not 'z has no team'\n"
    ) in result.output
    assert result.output.endswith("1 passed, 2 failed\n")
    # The policy folder a cases/ folder sits in is loaded without --policy, and only once.
    for extra in ([], ["--policy", "gov/team.policy"], ["--policy", "gov"]):
        again = run_cli("test", "gov/cases/needs-team.yaml", *extra)
        assert (again.exit_code, again.output) == (1, result.output), extra
    write(in_tmp / "stray.yaml", "rule: needs-team\ncases: []\n")
    stray = run_cli("test", "stray.yaml")
    assert stray.exit_code == 2
    assert "stray.yaml: no loaded rule has the id 'needs-team'; load its policy with --policy" in stray.output


def test_a_bad_case_file_is_told_every_problem_where_it_is(run_cli: Any, in_tmp: Path) -> None:
    write(
        in_tmp / "cases" / "c.yaml",
        "rule: initiative-has-outcome\ncases:\n  - name: x\n    plan: 'kind: Team'\n    expct: []\n"
        "  - name: y\n    plan: 'kind: Team'\n    expect: [initiative:a]\n"
        "  - name: z\n    plan:\n      kind: Team\n      id: t\n",
    )
    result = run_cli("test", "cases/c.yaml")
    assert result.exit_code == 2
    assert result.output.splitlines() == [
        "cases/c.yaml:5:5: invalid case file at cases.0.expct: unknown field 'expct'; did you mean 'expect'?",
        "cases/c.yaml:8:14: invalid case file at cases.1.expect.0: expected a mapping of subject, group,"
        " related, line, column, severity, suppressed_by, message (got 'initiative:a');"
        " an expected finding is written - subject: initiative:a",
        "cases/c.yaml:11:7: invalid case file at cases.2.plan: a case's plan is text:"
        " write `plan: |`, and the plan's YAML indented below it",
        "0 passed, 0 failed; 1 case file could not be used",
    ]


def test_a_case_file_that_cannot_be_used_does_not_stop_the_others(run_cli: Any, in_tmp: Path) -> None:
    write(in_tmp / "gov" / "team.policy", "rule needs-team\n  for i in Initiative where count(i.team) == 0\n")
    write(
        in_tmp / "gov" / "cases" / "a.yaml",  # read first: a case without its plan, another without its name
        "rule: needs-team\ncases:\n  - name: no plan\n    expect: []\n  - plan: 'kind: Team'\n",
    )
    write(
        in_tmp / "gov" / "cases" / "b.yaml",
        "rule: needs-team\ncases:\n  - name: fires\n    plan: |\n      kind: Initiative\n      id: x\n"
        "    expect: [{subject: 'initiative:x'}]\n",
    )
    result = run_cli("test", "gov/cases")
    assert result.exit_code == 2
    assert result.output.splitlines() == [
        "gov/cases/a.yaml:3:5: invalid case file at cases.0.plan: missing 'plan'",
        "gov/cases/a.yaml:5:5: invalid case file at cases.1.name: missing 'name'",
        "1 passed, 0 failed; 1 case file could not be used",
    ]


def test_the_policies_beside_a_cases_folder_are_shown_as_given(run_cli: Any, in_tmp: Path) -> None:
    write(in_tmp / "gov" / "team.policy", "rule needs-team\n  for i in Initiative where count(i.tem) == 0\n")
    write(in_tmp / "gov" / "cases" / "a.yaml", "rule: needs-team\ncases: []\n")
    result = run_cli("test", str(in_tmp / "gov" / "cases"))  # named by its absolute path, inside the cwd
    assert result.exit_code == 2
    assert result.output.startswith("gov/team.policy:2:37: E202 no field or relation 'tem' on Initiative\n")


def test_internal_errors_are_short_unless_debug(run_cli: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    import policy_engine.api

    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(policy_engine.api, "load_plan", boom)
    result = run_cli("check", CLEAN)
    assert result.exit_code == 2
    assert "policy-engine: internal error: RuntimeError: boom" in result.output
    assert "Traceback" not in result.output
    assert "Traceback" in run_cli("--debug", "check", CLEAN).output


def test_check_never_writes_to_plan_or_policy_files(run_cli: Any, in_tmp: Path) -> None:
    import shutil

    shutil.copytree(ACME, in_tmp / "plan")
    before = {p: p.read_bytes() for p in (in_tmp / "plan").rglob("*") if p.is_file()}
    run_cli("check", "plan", *AS_OF, "--format", "sarif", "--output", "report.sarif")
    after = {p: p.read_bytes() for p in (in_tmp / "plan").rglob("*") if p.is_file()}
    assert before == after


def test_summaries_count_one_thing_in_the_singular(run_cli: Any, in_tmp: Path) -> None:
    (in_tmp / "p.yaml").write_text("kind: Team\nid: a\n---\nkind: Team\nid: b\nlead: person:ghost\n")
    checked = run_cli("check", "p.yaml", "--select", "outcome-single-owner", "--as-of", "2027-01-15")
    assert checked.output.endswith("1 error, 0 warnings, 0 info in 2 entities, 1 rule\n")
    (in_tmp / "p.yaml").write_text("kind: Team\nid: a\nlead: person:ghost\n")
    validated = run_cli("validate", "p.yaml")
    assert validated.output.endswith("1 problem in 1 file, 1 entity\n")


def test_explain_takes_a_diagnostic_code_as_a_compile_error_prints_it(run_cli: Any) -> None:
    result = run_cli("explain", "e307")
    assert (result.exit_code, result.output) == (
        0,
        "E307: field of a set, a policy compile error;"
        " docs/language.md (Diagnostics) lists every code with an example.\n",
    )
