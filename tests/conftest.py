"""Shared fixtures: every test runs with a private compile cache and a pinned date."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
AS_OF = date(2027, 1, 15)
SHARED = ROOT.parent / "shared"


def _register_benchmarks() -> None:
    """Make `benchmarks` importable without putting the repository root on sys.path:
    the tests must import the installed `policy_engine`, data files and all."""
    folder = ROOT / "benchmarks"
    spec = importlib.util.spec_from_file_location(
        "benchmarks", folder / "__init__.py", submodule_search_locations=[str(folder)]
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["benchmarks"] = module
    spec.loader.exec_module(module)


_register_benchmarks()


@pytest.fixture(autouse=True)
def private_cache(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    folder = tmp_path_factory.mktemp("cache")
    monkeypatch.setenv("POLICY_ENGINE_CACHE_DIR", str(folder))
    monkeypatch.delenv("NO_COLOR", raising=False)
    yield folder


@pytest.fixture
def run_cli() -> object:
    """Run the CLI in-process: `run_cli("check", "examples/acme")` -> click Result."""
    from policy_engine.cli import cli

    def run(*args: str, input: str | None = None) -> Result:
        return CliRunner().invoke(cli, list(args), input=input, catch_exceptions=False)

    return run
