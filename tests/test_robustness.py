"""Limits, containment and nothing lost: writes are atomic, caches are never trusted."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from policy_engine.api import builtin_policy_dir, compile_policy
from policy_engine.cache import cache_dir, compile_cached
from policy_engine.plan import loader

from conftest import EXAMPLES


def test_entity_limit_is_a_located_problem(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(loader, "MAX_ENTITIES", 2)
    plan = loader.load_texts(
        [("p.yaml", "kind: Team\nid: a\n---\nkind: Team\nid: b\n---\nkind: Team\nid: c\n")]
    )
    assert [e.id for e in plan.entities] == ["a", "b"]
    assert [(p.rule, str(p.location)) for p in plan.problems] == [("plan/syntax", "p.yaml:7:1")]
    assert "more than 2 entities" in plan.problems[0].message


def test_a_killed_write_leaves_the_previous_file_intact(tmp_path: Path) -> None:
    target = tmp_path / "report.sarif"
    target.write_text("the previous report\n")
    child = textwrap.dedent(
        f"""
        import os, sys, time
        from pathlib import Path
        from policy_engine.files import write_atomic
        def stall(fd):  # the data is written; stop before the rename
            print("written", flush=True)
            time.sleep(60)
        os.fsync = stall
        write_atomic(Path({str(target)!r}), "x" * 5_000_000)
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", child], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "written"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert target.read_text() == "the previous report\n"


def test_output_is_written_atomically_and_replaces_the_old_file(run_cli: Any, tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    out.write_text("old")
    run_cli(
        "check", str(EXAMPLES / "clean"), "--as-of", "2027-01-15", "--format", "json", "--output", str(out)
    )
    assert json.loads(out.read_text())["version"] == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.json"]  # no temporary file left


def test_a_report_gets_the_mode_of_a_new_file_or_keeps_its_own(run_cli: Any, tmp_path: Path) -> None:
    fresh, kept, real = tmp_path / "new.json", tmp_path / "kept.json", tmp_path / "real.json"
    kept.write_text("old")
    kept.chmod(0o640)
    real.write_text("old")
    (tmp_path / "link.json").symlink_to(real)
    umask = os.umask(0o022)
    try:
        for out in (fresh, kept, tmp_path / "link.json"):
            run_cli(
                "check", str(EXAMPLES / "clean"), "--as-of", "2027-01-15", "--format", "json", "-o", str(out)
            )
    finally:
        os.umask(umask)
    assert (fresh.stat().st_mode & 0o777, kept.stat().st_mode & 0o777) == (0o644, 0o640)
    assert (tmp_path / "link.json").is_symlink()  # written through, not replaced
    assert json.loads(real.read_text())["version"] == 1


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs are POSIX")
def test_a_fifo_or_a_device_is_refused_never_waited_on_or_read_forever(tmp_path: Path) -> None:
    shutil.copytree(EXAMPLES / "clean", tmp_path / "plan")
    os.mkfifo(tmp_path / "plan" / "pipe.yaml")
    (tmp_path / "policies").mkdir()
    os.mkfifo(tmp_path / "policies" / "pipe.policy")

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "policy_engine", *args]
        return subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=60)

    checked = run("check", "plan", "/dev/zero", "--as-of", "2027-01-15", "--format", "json")
    findings = json.loads(checked.stdout)["findings"]
    assert [(f["location"]["path"], f["rule"], f["message"]) for f in findings] == [
        (
            "/dev/zero",
            "plan/syntax",
            "/dev/zero is not a regular file (a FIFO, device or socket); plan files are regular files",
        ),
        (
            "plan/pipe.yaml",
            "plan/syntax",
            "plan/pipe.yaml is not a regular file (a FIFO, device or socket); plan files are regular files",
        ),
    ]
    assert checked.returncode == 1
    refused = run("check", "plan", "--policy", "policies")
    assert (refused.returncode, refused.stderr) == (
        2,
        "cannot read policy policies/pipe.policy: not a regular file\n",
    )
    refused = run("check", "plan", "--config", "/dev/zero")
    assert refused.returncode == 2
    assert "not a regular file" in refused.stderr


def test_a_link_to_nothing_is_told_so(run_cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    shutil.copytree(EXAMPLES / "clean", "plan")
    os.symlink("old/roadmap.yaml", "plan/roadmap.yaml")  # its target moved away
    result = run_cli("validate", "plan", "--format", "json")
    assert [(f["location"], f["message"]) for f in json.loads(result.output)["findings"]] == [
        (
            {"path": "plan/roadmap.yaml", "line": 1, "column": 1},
            "plan/roadmap.yaml is a link to old/roadmap.yaml, which does not exist",
        )
    ]
    named = run_cli("validate", "plan/roadmap.yaml")
    assert (named.exit_code, named.output) == (
        2,
        "plan/roadmap.yaml is a link to old/roadmap.yaml, which does not exist\n",
    )


def test_a_reader_that_stops_early_gets_no_traceback_or_internal_error(tmp_path: Path) -> None:
    # `policy-engine rules | head -1`: the pipe closes before the command writes.
    command = [sys.executable, "-m", "policy_engine", "rules"]
    # Outside the source tree, so that an installed copy is the one imported, as in CI.
    proc = subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()
    stderr = proc.stderr.read()
    assert (proc.wait(timeout=60), stderr) == (2, b"")


@pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs a pseudo-terminal")
@pytest.mark.parametrize(
    ("terminal", "env", "coloured"),
    [
        (True, {}, True),
        (True, {"NO_COLOR": "1"}, False),
        (True, {"NO_COLOR": ""}, True),  # no-color.org: only a value that is not empty
        (True, {"TERM": "dumb"}, False),
        (False, {}, False),
        (False, {"FORCE_COLOR": "1"}, True),  # force-color.org, say for a CI log that shows colour
        (False, {"FORCE_COLOR": ""}, False),
        (False, {"FORCE_COLOR": "1", "NO_COLOR": "1"}, False),
    ],
)
def test_colour_on_a_terminal_or_when_forced_and_never_with_no_color(
    tmp_path: Path, terminal: bool, env: dict[str, str], coloured: bool
) -> None:
    environ = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR", "TERM")}
    environ.update(env)
    command = [
        sys.executable,
        "-m",
        "policy_engine",
        "check",
        str(EXAMPLES / "acme"),
        "--as-of",
        "2027-01-15",
    ]
    if not terminal:
        proc = subprocess.run(command, cwd=tmp_path, env=environ, capture_output=True, timeout=60)
        out, code = proc.stdout, proc.returncode
    else:
        master, slave = os.openpty()
        popen = subprocess.Popen(command, cwd=tmp_path, env=environ, stdout=slave, stderr=subprocess.DEVNULL)
        os.close(slave)
        out = b""
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO once the process has closed the terminal
                break
            if not chunk:
                break
            out += chunk
        os.close(master)
        code = popen.wait(timeout=60)
    assert code == 1
    assert b"waiver-expired" in out
    assert (b"\x1b[" in out) == coloured


def _entries() -> list[Path]:
    folder = cache_dir()
    assert folder is not None
    return sorted(folder.glob("*.json"))


def test_a_corrupt_cache_entry_is_ignored_and_rebuilt() -> None:
    files = sorted(builtin_policy_dir().glob("*.policy"))
    first = compile_cached(files)
    (entry,) = _entries()
    entry.write_text('{"version": "0.1.0", "key": "' + entry.stem + '", "trees": [{"_": "Nope"}]}')
    again = compile_cached(files)
    assert [r.id for r in again] == [r.id for r in first]
    assert json.loads(entry.read_text())["trees"][0]["_"] == "PolicyFile"  # rewritten
    entry.write_bytes(b"\x00\xff not json")
    assert [r.id for r in compile_cached(files)] == [r.id for r in first]


def test_a_cache_entry_from_another_version_is_not_used(monkeypatch: pytest.MonkeyPatch) -> None:
    files = sorted(builtin_policy_dir().glob("*.policy"))
    compile_cached(files)
    (entry,) = _entries()
    data = json.loads(entry.read_text())
    data["version"] = "0.0.1"
    entry.write_text(json.dumps(data))
    import policy_engine.dsl.compiler as compiler

    parsed: list[int] = []
    real = compiler.parse_sources
    monkeypatch.setattr(compiler, "parse_sources", lambda sources: parsed.append(1) or real(sources))
    compile_cached(files)
    assert parsed == [1]  # the stale entry was not trusted: the sources were parsed again
    assert json.loads(entry.read_text())["version"] != "0.0.1"


def test_a_cache_hit_does_not_parse(monkeypatch: pytest.MonkeyPatch) -> None:
    compile_policy()
    import policy_engine.dsl.compiler as compiler

    monkeypatch.setattr(compiler, "parse_sources", lambda sources: pytest.fail("parsed on a cache hit"))
    assert len(compile_policy()) == 17


def test_an_unwritable_cache_only_makes_it_slower(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    blocked = tmp_path / "file-not-folder"
    blocked.write_text("")
    monkeypatch.setenv("POLICY_ENGINE_CACHE_DIR", str(blocked / "sub"))
    assert len(compile_policy()) == 17
    monkeypatch.setenv("POLICY_ENGINE_CACHE_DIR", "")
    assert len(compile_policy()) == 17
