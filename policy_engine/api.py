"""The public API: load a plan, compile policies, check one against the other."""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Iterable, Sequence
from datetime import date
from importlib import resources
from pathlib import Path

from policy_engine import __version__
from policy_engine.diagnostics import CompileError, Diagnostic, UsageError
from policy_engine.dsl.compiler import CompiledRule
from policy_engine.engine import RunOptions, build_report, followed_by, run_rules
from policy_engine.files import files_under
from policy_engine.plan.cache import PlanCache
from policy_engine.plan.graph import Graph, build_graph
from policy_engine.plan.loader import load_files
from policy_engine.recheck import Recheck
from policy_engine.report import Report
from policy_engine.timings import Timings

PathLike = str | os.PathLike[str]


def builtin_policy_dir() -> Path:
    """The built-in pack, from the installed package (or the source tree)."""
    return Path(str(resources.files("policy_engine.builtin_policies")))


def builtin_schema_dir() -> Path:
    return Path(str(resources.files("policy_engine.builtin_schemas")))


def policy_files(paths: Sequence[PathLike]) -> list[Path]:
    """`.policy` files under the given paths, folders searched recursively, sorted."""
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found.extend(files_under(path, ".policy"))
        elif path.is_file():
            found.append(path)
        else:
            raise UsageError(f"no such policy file or folder: {raw}")
    return found


def compile_policy(paths: Sequence[PathLike] = (), *, builtin: bool = True) -> list[CompiledRule]:
    """Compile the built-in pack (unless `builtin` is false) and the given policy files.

    Raises CompileError with every diagnostic when they do not compile.
    """
    from policy_engine.cache import compile_cached

    files = (policy_files([builtin_policy_dir()]) if builtin else []) + policy_files(paths)
    # A file named twice (a folder and a file in it, or the pack's own folder) is read once,
    # as a plan file is: its rules are not "defined twice".
    files = list({f.resolve(): f for f in reversed(files)}.values())[::-1]
    try:
        return compile_cached(files)
    except CompileError as exc:
        if builtin:
            raise
        helpers = (builtin_policy_dir() / "_helpers.policy").read_text(encoding="utf-8")
        pack_helpers = set(re.findall(r"^def (\w+)\(", helpers, re.MULTILINE))
        raise CompileError([_builtin_helper_hint(d, pack_helpers) for d in exc.diagnostics]) from None


def _builtin_helper_hint(d: Diagnostic, pack_helpers: set[str]) -> Diagnostic:
    """`open(i)` without the built-in pack: say where the helper went."""
    match = re.fullmatch(r"unknown function '(.+)'", d.message) if d.code == "E203" else None
    if match is None or match[1] not in pack_helpers:
        return d
    hint = (
        f"'{match[1]}' is a helper of the built-in pack, which --no-builtin (or builtin = false) leaves out"
    )
    return dataclasses.replace(d, help=hint + "; define it in your own policies")


def load_plan(
    paths: Sequence[PathLike],
    timings: Timings | None = None,
    *,
    empty_ok: bool = False,
    wanted_inverses: Iterable[str] | None = None,
) -> Graph:
    """Load plan files and folders into the entity graph.

    Loading problems are in `graph.plan.problems`, unresolved references in
    `graph.problems`. A path that does not exist is a UsageError, and so,
    unless `empty_ok`, are paths that hold no plan file: a check of nothing
    must not pass. Files parsed before are read from the parse cache (see
    plan/cache.py). Every inverse relation is made, or only `wanted_inverses`
    (what rules follow: `engine.followed_by`).
    """
    missing = [Path(p) for p in paths if not Path(p).exists()]
    if missing:
        # A link whose target moved away "exists" no more than a path never written.
        links = [f"{p} is a link to {os.readlink(p)}" for p in missing if p.is_symlink()]
        if links:
            raise UsageError("; ".join(f"{link}, which does not exist" for link in links))
        raise UsageError(f"no such plan file or folder: {', '.join(map(str, missing))}")
    policies = [str(p) for p in paths if str(p).endswith(".policy") and Path(p).is_file()]
    if policies:  # read as YAML, it would be a syntax error that hides the mix-up
        raise UsageError(f"{', '.join(policies)}: a policy file, not a plan file; give it with --policy")
    timings = timings or Timings()
    with timings.phase("load"):
        plan = load_files(paths, PlanCache.default())
    if not plan.files and not empty_ok:
        named = ", ".join(str(p) for p in paths)
        raise UsageError(f"no plan files (*.yaml, *.yml, *.json) in {named}")
    with timings.phase("graph"):
        return build_graph(plan, wanted_inverses)


def check(
    plan: Sequence[PathLike],
    *,
    policies: Sequence[PathLike] = (),
    builtin: bool = True,
    options: RunOptions | None = None,
    rules: Sequence[CompiledRule] | None = None,
) -> Report:
    """Check a plan against the built-in pack and the given policies."""
    options = options or RunOptions(as_of=date.today())
    compiled = list(rules) if rules is not None else compile_policy(policies, builtin=builtin)
    graph = load_plan(plan, wanted_inverses=followed_by(compiled))
    return check_graph(graph, compiled, options)


def check_graph(
    graph: Graph,
    rules: Sequence[CompiledRule],
    options: RunOptions,
    timings: Timings | None = None,
    recheck: Recheck | None = None,
) -> Report:
    """Run compiled rules over a loaded graph and build the report (see run_rules for `recheck`)."""
    from policy_engine.engine import selected

    timings = timings or Timings()
    plan_findings = [
        f for f in (*graph.plan.problems, *graph.problems) if selected(f.rule, _plan_filter(options))
    ]
    with timings.phase("evaluate"):
        findings = plan_findings + run_rules(graph, rules, options, timings, recheck)
    with timings.phase("report"):
        return build_report(findings, graph=graph, rules=rules, options=options, version=__version__)


def _plan_filter(options: RunOptions) -> RunOptions:
    # --select picks policy rules; plan problems stay unless named in --ignore.
    return RunOptions(as_of=options.as_of, ignore=options.ignore)
