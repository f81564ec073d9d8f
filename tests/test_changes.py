"""Change-aware checking over a real git history: new, fixed and unchanged by fingerprint."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from conftest import EXAMPLES
from gitutil import commit_all, git, init

AS_OF = ("--as-of", "2027-01-15")


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    repo = tmp_path / "repo"
    init(repo)
    shutil.copytree(EXAMPLES / "acme", repo / "plan")
    commit_all(repo, "the plan")
    monkeypatch.chdir(repo)
    return repo


def check_base(run_cli: Any, *extra: str) -> tuple[int, dict[str, Any]]:
    result = run_cli("check", "plan", *AS_OF, "--base", "HEAD", "--format", "json", *extra)
    return result.exit_code, json.loads(result.output)


def test_no_change_is_all_unchanged(run_cli: Any, repo: Path) -> None:
    code, report = check_base(run_cli)
    assert code == 1
    assert report["changes"]["new"] == 0 and report["changes"]["fixed"] == []
    assert {f["change"] for f in report["findings"]} == {"unchanged"}
    assert check_base(run_cli, "--new-only")[0] == 0  # nothing new: the old debt does not fail


def test_timings_show_the_comparison_with_base_where_it_ran(run_cli: Any, repo: Path) -> None:
    stderr = run_cli("check", "plan", *AS_OF, "--base", "HEAD", "--timings").stderr
    phases = [line.split()[0] for line in stderr.splitlines()[1:8]]
    assert phases == ["compile", "load", "graph", "evaluate", "report", "compare", "write"]


def test_a_base_file_in_utf_16_is_read_as_the_working_trees_is(run_cli: Any, repo: Path) -> None:
    people = repo / "plan" / "org" / "people.yaml"
    people.write_bytes(people.read_text().encode("utf-16"))  # as PowerShell's Out-File saves it
    commit_all(repo, "people in UTF-16")
    code, report = check_base(run_cli, "--new-only")
    assert (code, report["changes"]["new"], report["changes"]["fixed"]) == (0, 0, [])


def test_moving_entities_between_files_and_renaming_files_changes_nothing(run_cli: Any, repo: Path) -> None:
    roadmap = repo / "plan" / "roadmap"
    q2 = (roadmap / "2027-q2.yaml").read_text()
    (roadmap / "2027-q2.yaml").unlink()
    docs = q2.split("---\n")
    (roadmap / "later.yaml").write_text("---\n".join(docs[:2]))
    (repo / "plan" / "elsewhere.yaml").write_text("# moved here\n\n" + "---\n".join(docs[2:]))
    git(repo, "mv", "plan/org/people.yaml", "plan/org/staff.yaml")
    _, report = check_base(run_cli)
    assert report["changes"]["new"] == 0, [f for f in report["findings"] if f["change"] == "new"]
    assert report["changes"]["fixed"] == []
    cycle = next(f for f in report["findings"] if f["rule"] == "dependency-cycle")
    assert cycle["location"]["path"] != "plan/roadmap/2027-q2.yaml"  # it moved, and stayed unchanged
    assert cycle["change"] == "unchanged"


def test_renaming_the_plan_folder_changes_nothing(run_cli: Any, repo: Path) -> None:
    git(repo, "mv", "plan", "governance")
    result = run_cli("check", "governance", *AS_OF, "--base", "HEAD", "--format", "json")
    changes = json.loads(result.output)["changes"]
    assert (changes["new"], changes["fixed"]) == (0, [])
    assert run_cli("check", "governance", *AS_OF, "--base", "HEAD", "--new-only").exit_code == 0
    commit_all(repo, "rename the plan folder")
    diff = run_cli("diff", "HEAD~1", "HEAD", "--plan", "governance").output
    assert diff == "plan changes from HEAD~1 to HEAD:\n  no governance changes\n"


def test_adding_one_violation_reports_exactly_it_as_new(run_cli: Any, repo: Path) -> None:
    with (repo / "plan" / "roadmap" / "2027-q2.yaml").open("a") as handle:
        handle.write(
            "---\nkind: Initiative\nid: shiny\ntype: feature\nstatus: approved\npriority: P2\neffort: 1\nperiod: 2027-Q2\n"
        )
    code, report = check_base(run_cli, "--new-only")
    new = [(f["rule"], f["subject"]) for f in report["findings"] if f["change"] == "new"]
    assert new == [("initiative-has-outcome", "initiative:shiny")]
    assert report["changes"]["fixed"] == []
    assert code == 1
    sarif = json.loads(run_cli("check", "plan", *AS_OF, "--base", "HEAD", "--format", "sarif").output)
    states = [(r["ruleId"], r["baselineState"]) for r in sarif["runs"][0]["results"]]
    assert ("initiative-has-outcome", "new") in states
    assert sorted(state for _, state in states) == ["new"] + ["unchanged"] * 9


def test_fixing_one_reports_it_as_fixed(run_cli: Any, repo: Path) -> None:
    outcomes = repo / "plan" / "outcomes.yaml"
    outcomes.write_text(
        outcomes.read_text().replace("owner: [team:growth, team:platform]", "owner: team:growth")
    )
    code, report = check_base(run_cli, "--new-only")
    assert [(f["rule"], f["subject"]) for f in report["changes"]["fixed"]] == [
        ("outcome-single-owner", "outcome:reduce-churn")
    ]
    assert report["changes"]["new"] == 0
    assert code == 0
    text = run_cli("check", "plan", *AS_OF, "--base", "HEAD", "--new-only").output
    assert text.startswith(
        "fixed since HEAD:\n"
        "  outcome-single-owner outcome:reduce-churn: outcome reduce-churn has 2 owners; name exactly one\n\n"
        "No new problems found."
    )


def test_a_set_violation_widened_is_new_and_narrowed_is_unchanged(run_cli: Any, repo: Path) -> None:
    q1 = repo / "plan" / "roadmap" / "2027-q1.yaml"
    q1.write_text(q1.read_text().replace("priority: P1", "priority: P0"))  # 4 open P0 in 2027-Q1 become 6
    code, report = check_base(run_cli, "--new-only")
    [limit] = [f for f in report["findings"] if f["rule"] == "top-priorities-limit"]
    assert (limit["message"], limit["change"]) == ("6 open P0 initiatives in 2027-Q1; the limit is 3", "new")
    assert (report["changes"]["new"], report["changes"]["fixed"], code) == (1, [], 1)  # worse, not fixed

    commit_all(repo, "six P0 in 2027-Q1")
    q1.write_text(q1.read_text().replace("priority: P0", "priority: P2", 1))  # one of the six taken out
    code, report = check_base(run_cli, "--new-only")
    [limit] = [f for f in report["findings"] if f["rule"] == "top-priorities-limit"]
    assert (limit["message"], limit["change"]) == (
        "5 open P0 initiatives in 2027-Q1; the limit is 3",
        "unchanged",
    )
    assert (report["changes"]["new"], report["changes"]["fixed"], code) == (0, [], 0)
    markdown = run_cli("check", "plan", *AS_OF, "--base", "HEAD", "--new-only", "--format", "markdown").output
    assert markdown.startswith("## policy-engine: the change passes\n")  # the plan still has its old errors


def test_the_base_is_read_from_the_plans_repository_wherever_the_command_runs(
    run_cli: Any, repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    outcomes = repo / "plan" / "outcomes.yaml"
    outcomes.write_text(
        outcomes.read_text().replace("owner: [team:growth, team:platform]", "owner: team:growth")
    )
    monkeypatch.chdir(tmp_path)  # outside the repository
    plan = str(repo / "plan")
    result = run_cli("check", plan, *AS_OF, "--base", "HEAD", "--new-only")
    assert result.exit_code == 0
    assert "against HEAD: 0 new, 1 fixed" in result.output
    assert "~ outcome:reduce-churn" in run_cli("diff", "HEAD", "--plan", plan).output


def test_a_base_without_the_plan_counts_everything_as_new(
    run_cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = tmp_path / "fresh"
    init(repo)
    (repo / "README").write_text("before the plan\n")
    commit_all(repo, "empty")
    shutil.copytree(EXAMPLES / "acme", repo / "plan")
    monkeypatch.chdir(repo)
    code, report = check_base(run_cli)
    assert report["changes"]["new"] == len(report["findings"]) == 9
    assert code == 1


def test_bad_revision_and_no_repository_exit_2(
    run_cli: Any, repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = run_cli("check", "plan", "--base", "no-such-rev")
    assert (result.exit_code, result.output) == (
        2,
        f"'no-such-rev' is not a commit of the repository at {repo}\n",
    )
    outside = tmp_path / "outside"
    shutil.copytree(EXAMPLES / "clean", outside)
    monkeypatch.chdir(outside)
    result = run_cli("check", ".", "--base", "HEAD")
    assert result.exit_code == 2 and "not inside a git repository" in result.output
    assert run_cli("check", ".", "--new-only").exit_code == 2


def test_a_base_missing_from_a_shallow_clone_says_to_fetch_the_history(
    run_cli: Any, repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (repo / "plan" / "outcomes.yaml").write_text((repo / "plan" / "outcomes.yaml").read_text() + "# edited\n")
    commit_all(repo, "an edit")
    shallow = tmp_path / "shallow"
    git(tmp_path, "clone", "-q", "--depth", "1", f"file://{repo}", str(shallow))
    monkeypatch.chdir(shallow)
    result = run_cli("check", "plan", *AS_OF, "--base", "HEAD~1", "--new-only")
    assert (result.exit_code, result.output) == (
        2,
        f"'HEAD~1' is not a commit of the repository at {shallow}; this clone is shallow, with only the"
        " latest commits: fetch the history first (`git fetch --unshallow`, or `fetch-depth: 0` for"
        " actions/checkout)\n",
    )


def test_markdown_puts_the_plan_changes_above_the_new_findings(run_cli: Any, repo: Path) -> None:
    q1 = repo / "plan" / "roadmap" / "2027-q1.yaml"
    text = q1.read_text().replace(
        "id: ci-upgrade\ntitle: Move CI off the self-hosted runners\ntype: tech-debt\npriority: P2",
        "id: ci-upgrade\ntitle: Move CI off the self-hosted runners\ntype: tech-debt\npriority: P0",
    )
    q1.write_text(text)
    outcomes = repo / "plan" / "outcomes.yaml"
    outcomes.write_text(
        outcomes.read_text().replace("owner: [team:growth, team:platform]", "owner: team:growth")
    )
    output = run_cli("check", "plan", *AS_OF, "--base", "HEAD", "--format", "markdown").output
    assert output.startswith("## policy-engine: the plan fails\n")
    headings = [line for line in output.splitlines() if line.startswith("#")]
    assert headings == [
        "## policy-engine: the plan fails",
        "### Plan changes from `HEAD` to `working tree`",
        "#### Fixed by this change",
        "### New findings",
        "### The plan at a glance",
    ]
    assert "| rule | severity | new findings |" in output
    assert "| raised | initiative:ci-upgrade | priority: P2 → P0 |" in output
    fixed = output.split("#### Fixed by this change\n")[1].split("###")[0]
    assert "| `outcome-single-owner` | outcome:reduce-churn |" in fixed
    assert "top-priorities-limit" not in fixed  # a fifth P0 in the full 2027-Q1 made it worse, not fixed


def test_diff_command(run_cli: Any, repo: Path) -> None:
    roadmap = repo / "plan" / "roadmap"
    q2 = roadmap / "2027-q2.yaml"
    q2.write_text(
        q2.read_text().replace(
            "status: proposed\nowner: team:platform\ncontributes_to: [pass-soc2]\neffort: 1",
            "status: cancelled\nowner: team:platform\ncontributes_to: [pass-soc2]\neffort: 1",
        )
    )
    with q2.open("a") as handle:
        handle.write("---\nkind: Initiative\nid: new-thing\ntitle: A new thing\n")
    commit_all(repo, "change the roadmap")
    text = run_cli("diff", "HEAD~1", "HEAD", "--plan", "plan").output
    assert "  + initiative:new-thing  A new thing" in text
    assert "  ~ initiative:legacy-ldap-export (dropped)" in text
    assert "      status: proposed -> cancelled" in text
    data = json.loads(run_cli("diff", "HEAD~1", "--plan", "plan", "--format", "json").output)
    assert data["head"] == "working tree" and [c["ref"] for c in data["added"]] == ["initiative:new-thing"]
    assert (
        "| dropped | initiative:legacy-ldap-export |"
        in run_cli("diff", "HEAD~1", "--plan", "plan", "--format", "markdown").output
    )
    mistaken = run_cli("diff", "HEAD~1", "plan")  # the plan where the HEAD revision goes
    assert (mistaken.exit_code, mistaken.output) == (
        2,
        "diff takes revisions, and a plan with --plan: did you mean --plan plan?\n",
    )


def test_new_only_shows_people_and_annotations_only_what_the_change_introduced(
    run_cli: Any, repo: Path
) -> None:
    with (repo / "plan" / "roadmap" / "2027-q2.yaml").open("a") as handle:
        handle.write(
            "---\nkind: Initiative\nid: shiny\ntype: feature\nstatus: approved\npriority: P2\neffort: 1\nperiod: 2027-Q2\n"
        )
    text = run_cli("check", "plan", *AS_OF, "--base", "HEAD", "--new-only").output
    headers = [line for line in text.splitlines() if line.startswith("plan/") and ": error " in line]
    assert headers == [
        "plan/roadmap/2027-q2.yaml:49:1: error initiative-has-outcome open initiative shiny contributes to no outcome [new]"
    ]
    assert text.endswith("; against HEAD: 1 new, 0 fixed\n")
    annotations = run_cli(
        "check", "plan", *AS_OF, "--base", "HEAD", "--new-only", "--format", "github"
    ).output
    assert annotations.count("::error ") == 1 and "title=initiative-has-outcome" in annotations
    (repo / "plan" / "roadmap" / "2027-q2.yaml").write_text(
        (repo / "plan" / "roadmap" / "2027-q2.yaml").read_text().split("---\nkind: Initiative\nid: shiny")[0]
    )
    quiet = run_cli("check", "plan", *AS_OF, "--base", "HEAD", "--new-only")
    assert quiet.exit_code == 0 and quiet.output.startswith("No new problems found.")


def test_diff_reports_a_plan_whose_files_were_all_removed(run_cli: Any, repo: Path) -> None:
    for path in (repo / "plan").rglob("*.yaml"):
        path.unlink()
    result = run_cli("diff", "HEAD", "--plan", "plan")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("plan changes from HEAD to working tree:\n")
    assert "  - waiver:acme-llm-pilot\n" in result.output  # every entity is listed as removed


def test_diff_reports_a_plan_folder_the_change_removed(run_cli: Any, repo: Path) -> None:
    shutil.rmtree(repo / "plan")
    result = run_cli("diff", "HEAD", "--plan", "plan")
    assert result.exit_code == 0, result.output
    assert "  - waiver:acme-llm-pilot\n" in result.output and "  - vendor:fastcrm" in result.output
    result = run_cli("diff", "HEAD", "--plan", "nowhere")  # never a plan: a typo, not a change
    assert (result.exit_code, result.output) == (2, "no such plan file or folder: nowhere\n")


def test_the_markdown_plan_changes_stop_at_100_rows_and_count_the_rest() -> None:
    from policy_engine.changes import EntityChange, PlanDiff, diff_markdown

    added = [EntityChange(f"initiative:a{n:03}", "new") for n in range(90)]
    changed = [EntityChange(f"initiative:c{n:03}", None, {"priority": ("P2", "P0")}) for n in range(30)]
    text = diff_markdown(PlanDiff("main", "HEAD", added, [], changed))
    rows = [line for line in text.splitlines() if line.startswith(("| added", "| raised"))]
    assert len(rows) == 100 and rows[-1] == "| raised | initiative:c009 | priority: P2 → P0 |"
    assert "\n… and 20 more changes: `policy-engine diff --format json` lists them all.\n" in text
