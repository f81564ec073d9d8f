"""Coverage-guided fuzzing of the boundaries with atheris (libFuzzer for Python).

    pip install atheris
    python tests/fuzz/fuzz.py plan     -runs=1000000 tests/fuzz/corpus/plan
    python tests/fuzz/fuzz.py policy   -runs=1000000 tests/fuzz/corpus/policy
    python tests/fuzz/fuzz.py config   -runs=1000000
    python tests/fuzz/fuzz.py cli      -runs=100000
    python tests/fuzz/fuzz.py yaml     -runs=1000000 tests/fuzz/corpus/plan

Targets: `plan` (the YAML/JSON loader and the graph), `policy` (parser,
checker and compiler), `config` (TOML config validation), `cli` (random
arguments and plan text through the whole `check` command), `yaml` (the
line reader of block YAML against libyaml: it must read a text exactly as
libyaml does, or leave it to libyaml). A target may
only answer with findings, diagnostics or a documented error: any other
exception is a crash, which libFuzzer saves as `crash-*`; every crash found
becomes a regression case in tests/corpus. tests/test_fuzz.py runs each
target briefly in CI, on its seeds plus random mutations.
"""

from __future__ import annotations

import contextlib
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

SEEDS = Path(__file__).resolve().parents[2] / "examples"


def plan_target(data: bytes) -> None:
    from policy_engine.plan.graph import build_graph
    from policy_engine.plan.loader import load_texts

    text = data.decode("utf-8", "replace")
    for name in ("fuzz.yaml", "fuzz.json"):
        graph = build_graph(load_texts([(name, text)]))
        for problem in (*graph.plan.problems, *graph.problems):
            assert problem.rule.startswith("plan/"), problem
            assert problem.location is not None and problem.location.line >= 1


def yaml_target(data: bytes) -> None:
    from policy_engine.plan.blockyaml import read_block
    from policy_engine.plan.yamlread import YamlProblem, read_documents

    text = data.decode("utf-8", "replace")
    documents = read_block(text)
    if documents is None:
        return  # left to libyaml: always allowed
    try:
        expected = [(repr(d.value), dict(d.positions), d.line, d.column) for d in read_documents(text)]
    except YamlProblem as exc:
        raise AssertionError(f"the line reader read what libyaml rejects: {exc.message}") from None
    assert [(repr(d.value), dict(d.positions), d.line, d.column) for d in documents] == expected


def policy_target(data: bytes) -> None:
    from policy_engine.diagnostics import CompileError
    from policy_engine.dsl.compiler import compile_sources
    from policy_engine.source import SourceFile

    text = data.decode("utf-8", "replace")
    try:
        compile_sources([SourceFile("fuzz.policy", text)])
    except CompileError as exc:
        for d in exc.diagnostics:
            assert 0 <= d.span.start <= d.span.end <= len(text)
            d.render()


def config_target(data: bytes) -> None:
    from policy_engine.config import load_config
    from policy_engine.diagnostics import ConfigError

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "policy-engine.toml"
        path.write_bytes(data)
        with contextlib.suppress(ConfigError):  # a clear, located error is a good answer
            load_config(path)


_ARGS = ["--format", "json", "text", "sarif", "junit", "github", "markdown", "--fail-on", "never", "warning",
         "--select", "--ignore", "*", "plan/*", "--quiet", "--as-of", "2027-01-15", "2027-13-45", "--no-builtin",
         "--policy", "x.policy", "--new-only", "plan.yaml"]  # fmt: skip


def cli_target(data: bytes) -> None:
    import atheris
    from click.testing import CliRunner

    from policy_engine.cli import cli

    fdp = atheris.FuzzedDataProvider(data)
    args = [_ARGS[fdp.ConsumeIntInRange(0, len(_ARGS) - 1)] for _ in range(fdp.ConsumeIntInRange(0, 6))]
    plan = fdp.ConsumeUnicodeNoSurrogates(2000)
    with tempfile.TemporaryDirectory() as folder, CliRunner().isolated_filesystem(folder):
        Path("plan.yaml").write_text(plan)
        result = CliRunner().invoke(cli, ["check", "plan.yaml", *args])
        assert result.exit_code in (0, 1, 2), (args, result.output)
        assert "Traceback" not in result.output, result.output
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception


TARGETS: dict[str, Callable[[bytes], None]] = {
    "plan": plan_target,
    "policy": policy_target,
    "config": config_target,
    "cli": cli_target,
    "yaml": yaml_target,
}


def main() -> None:
    import atheris

    if len(sys.argv) < 2 or sys.argv[1] not in TARGETS:
        raise SystemExit(f"usage: fuzz.py {{{','.join(TARGETS)}}} [libFuzzer options] [corpus folders]")
    target = TARGETS[sys.argv.pop(1)]
    with atheris.instrument_imports():
        import policy_engine.cli
        import policy_engine.config
        import policy_engine.dsl.compiler
        import policy_engine.plan.blockyaml
        import policy_engine.plan.graph  # noqa: F401
    atheris.Setup(sys.argv, target)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
