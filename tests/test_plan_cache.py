"""The parse cache: keyed by content, never trusted, one entry per file."""

from __future__ import annotations

import io
import os
import pickle
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from policy_engine.plan import cache as plan_cache
from policy_engine.plan.cache import PlanCache
from policy_engine.plan.loader import load_files

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "acme"


@pytest.fixture
def plan(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    shutil.copytree(EXAMPLE, tmp_path / "plan")
    monkeypatch.chdir(tmp_path)
    return Path("plan")


def _parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Records the files actually parsed (not read from the cache)."""
    from policy_engine.plan import loader

    parsed: list[str] = []
    original = loader.parse_file

    def spy(shown: str, text: str) -> Any:
        parsed.append(shown)
        return original(shown, text)

    monkeypatch.setattr(loader, "parse_file", spy)
    return parsed


def _summary(folder: Path, cache: PlanCache | None) -> Any:
    loaded = load_files([folder], cache)
    return (
        [(e.ref, e.path, e.model, e.extras, e.location(), e.location(("owner",))) for e in loaded.entities],
        loaded.problems,
        loaded.files,
    )


def test_a_warm_load_parses_only_the_edited_file_and_equals_a_cold_one(
    plan: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = PlanCache(tmp_path / "cache")
    cold = _summary(plan, cache)
    parsed = _parses(monkeypatch)
    assert _summary(plan, cache) == cold
    assert parsed == []
    edited = plan / "roadmap" / "2027-q1.yaml"
    edited.write_text(edited.read_text() + "\n# a comment changes the bytes\n")
    assert _summary(plan, cache) == cold
    assert parsed == ["plan/roadmap/2027-q1.yaml"]
    assert _summary(plan, cache) == _summary(plan, None)
    # One entry per file: the edit replaced the file's old entry.
    assert len(list((tmp_path / "cache").glob("*.pickle"))) == len(cold[2])


def test_an_entry_gives_back_every_position_and_model_exactly(plan: Path, tmp_path: Path) -> None:
    cold = load_files([plan], PlanCache(tmp_path / "cache"))
    warm = load_files([plan], PlanCache(tmp_path / "cache"))
    compared = 0
    for fresh, cached in zip(cold.entities, warm.entities, strict=True):
        written = fresh.positions._positions  # type: ignore[attr-defined]
        paths = list(written) if isinstance(written, dict) else [(), ("id",), ("owner",)]
        for path in paths:
            assert cached.positions.get(path) == fresh.positions.get(path), (fresh.ref, path)
            compared += 1
        assert cached.positions.get(("no-such-field",)) is None
        assert cached.model == fresh.model
        assert cached.model.model_fields_set == fresh.model.model_fields_set
        assert (cached.ref, cached.links, cached.kept_refs) == (fresh.ref, {}, fresh.kept_refs)
    assert compared > 500
    # YAML positions come back packed, and pickle again to the same positions.
    packed = warm.entities[0].positions._positions  # type: ignore[attr-defined]
    assert type(packed).__name__ == "PackedPositions"
    assert pickle.loads(pickle.dumps(packed)).get(("id",)) == cold.entities[0].positions.get(("id",))


def test_check_with_a_warm_cache_gives_the_same_report(run_cli: Any, plan: Path) -> None:
    first = run_cli("check", str(plan), "--as-of", "2027-01-15", "--format", "json")
    second = run_cli("check", str(plan), "--as-of", "2027-01-15", "--format", "json")
    assert first.exit_code == second.exit_code == 1
    assert first.output == second.output


@pytest.mark.parametrize("damage", ["truncate", "flip", "other-version", "empty"])
def test_a_damaged_entry_is_ignored_and_rewritten(
    plan: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, damage: str
) -> None:
    cache = PlanCache(tmp_path / "cache")
    cold = _summary(plan, cache)
    for entry in (tmp_path / "cache").glob("*.pickle"):
        raw = entry.read_bytes()
        if damage == "truncate":
            raw = raw[: len(raw) // 2]
        elif damage == "flip":
            raw = raw[:-10] + bytes([raw[-10] ^ 0xFF]) + raw[-9:]
        elif damage == "other-version":
            raw = raw.replace(b"policy-engine ", b"policy-engine 0.0.0-", 1)
        else:
            raw = b""
        entry.write_bytes(raw)
    parsed = _parses(monkeypatch)
    assert _summary(plan, cache) == cold
    assert len(parsed) == len(cold[2])  # every entry was refused, every file parsed again
    parsed.clear()
    assert _summary(plan, cache) == cold
    assert parsed == []  # and rewritten


class _Boom:
    def __reduce__(self) -> Any:
        return (print, ("a cache entry ran code",))


def test_an_entry_that_names_other_code_is_refused(
    plan: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    cache = PlanCache(tmp_path / "cache")
    cold = _summary(plan, cache)
    # A well-formed entry (right header and checksum) whose payload calls a function.
    payload = pickle.dumps(_Boom())
    for entry in (tmp_path / "cache").glob("*.pickle"):
        entry.write_bytes(plan_cache._HEADER + plan_cache._checksum(payload) + payload)
    parsed = _parses(monkeypatch)
    assert _summary(plan, cache) == cold
    assert len(parsed) == len(cold[2])
    assert "ran code" not in capsys.readouterr().out


def test_the_unpickler_names_only_classes_the_plan_model_defines() -> None:
    def load(module: str, name: str) -> object:
        payload = f"c{module}\n{name}\n.".encode()  # protocol 0: GLOBAL module name
        return plan_cache._Unpickler(io.BytesIO(payload)).load()

    assert load("policy_engine.plan.model", "Initiative").__name__ == "Initiative"
    for module, name in [
        ("policy_engine.plan.model", "BaseModel"),  # imported there, not defined
        ("policy_engine.plan.model", "refs"),  # a function
        ("os", "system"),
        ("builtins", "eval"),
    ]:
        with pytest.raises(pickle.UnpicklingError):
            load(module, name)


def test_an_unwritable_cache_only_costs_time(plan: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder should be")
    assert _summary(plan, PlanCache(blocker / "plans")) == _summary(plan, None)


def test_an_empty_cache_dir_setting_switches_the_cache_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POLICY_ENGINE_CACHE_DIR", "")
    assert PlanCache.default() is None


def test_the_default_cache_is_written_by_a_detached_process(
    plan: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = PlanCache(tmp_path / "cache", background=True)
    cold = _summary(plan, cache)
    for _ in range(200):  # the writer is another process: wait for it, 10 s at most
        if len(list((tmp_path / "cache").glob("*.pickle"))) == len(cold[2]):
            break
        time.sleep(0.05)
    time.sleep(0.2)  # let the last rename land
    parsed = _parses(monkeypatch)
    assert _summary(plan, cache) == cold
    assert parsed == []


def test_the_console_script_writes_its_cache_after_its_output(plan: Path, tmp_path: Path) -> None:
    env = {**os.environ, "POLICY_ENGINE_CACHE_DIR": str(tmp_path / "cache")}
    command = [sys.executable, "-m", "policy_engine", "check", str(plan), "--as-of", "2027-01-15"]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 1 and "error" in done.stdout  # the output came, and the pipes closed
    files = len([p for p in plan.rglob("*") if p.suffix in (".yaml", ".yml", ".json")])
    entries = tmp_path / "cache" / "plans"
    for _ in range(200):  # written by a detached process once the check is done: 10 s at most
        if len(list(entries.glob("*.pickle"))) == files:
            break
        time.sleep(0.05)
    assert len(list(entries.glob("*.pickle"))) == files


def test_what_a_file_left_out_is_read_back_from_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "p.yaml").write_text("kind: Person\nid: Maria\n")
    first = load_files([tmp_path / "p.yaml"], PlanCache(tmp_path / "cache"))
    parsed = _parses(monkeypatch)
    again = load_files([tmp_path / "p.yaml"], PlanCache(tmp_path / "cache"))
    assert parsed == []  # read from the cache
    assert again.left_out == first.left_out and list(first.left_out) == ["person:maria"]
