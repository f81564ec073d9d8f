"""The command line: thin click commands over plain functions returning exit codes.

This is the only place that maps errors to exit codes: 0 nothing at or above
the fail level, 1 something is, 2 the tool could not do its job. Heavy
modules are imported inside the commands so that start-up stays fast.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import os
import sys
import traceback
from collections.abc import Callable, Iterator, Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from policy_engine import __version__

if TYPE_CHECKING:
    from policy_engine.config import LoadedConfig
    from policy_engine.dsl.compiler import CompiledRule
    from policy_engine.plan.graph import Graph
    from policy_engine.report import Report

FORMATS = ("text", "json", "sarif", "junit", "github", "markdown")
FAIL_LEVELS = ("error", "warning", "info", "never")


def _date(ctx: click.Context, param: click.Parameter, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        from policy_engine.diagnostics import date_hint

        hint = date_hint(value.strip())
        raise click.BadParameter(f"'{value}' is not a date YYYY-MM-DD{f'; {hint}' if hint else ''}") from None


def _extra_reports(
    ctx: click.Context, param: click.Parameter, values: tuple[str, ...]
) -> tuple[tuple[str, str], ...]:
    """`--report sarif=out.sarif`: (format, path) pairs, checked before the check runs."""
    from policy_engine.diagnostics import did_you_mean

    reports = []
    for value in values:
        fmt, sep, path = value.partition("=")
        if not sep or not path:
            raise click.BadParameter(f"'{value}' is not FORMAT=FILE, such as sarif=policy-engine.sarif")
        if fmt not in FORMATS:
            hint = did_you_mean(fmt, FORMATS)
            raise click.BadParameter(
                f"'{fmt}' is not one of {', '.join(FORMATS)}" + (f"; {hint}" if hint else "")
            )
        reports.append((fmt, path))
    return tuple(reports)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="policy-engine")
@click.option("--debug", is_flag=True, help="Print a traceback on internal errors.")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """Check a technology governance plan against governance policies."""
    ctx.obj = {"debug": debug}


# Set by main(): what a command built is then left for the process's exit to
# drop, instead of being freed object by object when the command returns
# (0.1 s for the 100k-initiative plan's graph and report; 0.2 s for the
# parsed files handed to the cache writer).
_kept_until_exit: list[Any] | None = None


def _keep_until_exit(*built: Any) -> None:
    if _kept_until_exit is not None:
        _kept_until_exit.extend(built)


def _run(ctx: click.Context, command: Callable[[], int]) -> None:
    """Run a command; map known errors to exit 2 with a message, never a traceback."""
    # A command is a short-lived process that builds a large, long-lived object
    # graph and almost no cyclic garbage: collections would only rescan it
    # (on the 100k-initiative plan they cost seconds in every phase).
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        code = _guarded(ctx, command)
    finally:
        if was_enabled:
            gc.enable()
    ctx.exit(code)


def _guarded(ctx: click.Context, command: Callable[[], int]) -> int:
    from policy_engine.diagnostics import PolicyEngineError

    try:
        return command()
    except PolicyEngineError as exc:
        click.echo(str(exc), err=True)
    except KeyboardInterrupt:
        click.echo("policy-engine: interrupted", err=True)
    except BrokenPipeError:
        # The reader stopped early (`policy-engine rules | head`): nothing to say to
        # anyone. Point stdout at devnull so that the flush at exit cannot fail again.
        with contextlib.suppress(OSError, ValueError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except Exception as exc:
        if ctx.obj and ctx.obj.get("debug"):
            traceback.print_exc()
        click.echo(
            f"policy-engine: internal error: {type(exc).__name__}: {exc} "
            "(run with --debug for the traceback)",
            err=True,
        )
    return 2


def _emit(text: str, output: str | None, color: bool = False) -> None:
    if output:
        _write(Path(output), text)
    else:
        # click strips colour when stdout is not a terminal; FORCE_COLOR asks to keep it.
        click.echo(text, nl=False, color=color or None)


def _write(path: Path, text: str) -> None:
    from policy_engine.diagnostics import UsageError
    from policy_engine.files import write_atomic

    try:
        write_atomic(path, text)
    except (FileExistsError, NotADirectoryError):  # from making its folder
        raise UsageError(f"cannot write {path}: a part of its path is a file, not a folder") from None
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None


def _color(output: str | None) -> bool:
    """Colour the text report: on a terminal, or anywhere with FORCE_COLOR; never in a file.

    no-color.org and force-color.org: NO_COLOR or FORCE_COLOR set and not
    empty, whatever the value; NO_COLOR wins, as does a terminal that says
    it is dumb.
    """
    env = os.environ
    if output is not None or env.get("NO_COLOR") or env.get("TERM") == "dumb":
        return False
    return bool(env.get("FORCE_COLOR")) or sys.stdout.isatty()


config_option = click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    help="Config file (default: found from here up).",
)


def policy_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """--policy, --no-builtin and --config: how every command finds the rules."""
    options = [
        click.option(
            "--policy",
            "policies",
            multiple=True,
            type=click.Path(),
            help="A policy file or folder, besides the config's (repeatable).",
        ),
        click.option("--no-builtin", is_flag=True, help="Do not load the built-in governance pack."),
        config_option,
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _plan_paths(given: Sequence[str], loaded: LoadedConfig, *, in_working_tree: bool = True) -> list[Any]:
    """The plan named on the command line, else the config's; a usage error when neither names one,
    or when the config's is not in the working tree that is to be read."""
    from policy_engine.diagnostics import UsageError

    if given:
        return list(given)
    paths: list[Any] = _config_paths(loaded, "plan") if in_working_tree else loaded.paths(loaded.config.plan)
    if not paths:
        raise UsageError("no plan given: name plan files or folders, or set `plan` in the config file")
    return paths


def _config_paths(loaded: LoadedConfig, setting: str) -> list[Path]:
    """The config's `plan` or `policies`; one that does not exist is told as the config's, where to look."""
    from policy_engine.diagnostics import UsageError
    from policy_engine.files import display_path

    paths = loaded.paths(getattr(loaded.config, setting))
    missing = [p for p in paths if not os.path.lexists(p)]
    if missing and loaded.path is not None:
        named = ", ".join(map(display_path, missing))
        what = "plan" if setting == "plan" else "policy"
        raise UsageError(f"{display_path(loaded.path)}: {setting}: no such {what} file or folder: {named}")
    return paths


def _project_rules(
    loaded: LoadedConfig, policies: Sequence[str], no_builtin: bool
) -> tuple[list[Path], bool, list[CompiledRule]]:
    """The project's policy paths (config first), whether the built-in pack runs, the rules."""
    from policy_engine.api import compile_policy

    paths = [*_config_paths(loaded, "policies"), *map(Path, policies)]
    builtin = loaded.config.builtin and not no_builtin
    return paths, builtin, compile_policy(paths, builtin=builtin)


def _kept(paths: Sequence[Any], before: Graph) -> list[Any]:
    """The plan paths still in the working tree; one that held plan files at the base and is gone
    was removed by the change (its files are told removed), while one that never held any is bad usage."""
    from policy_engine.files import display_path

    def removed(path: Any) -> bool:
        shown = display_path(Path(path))
        return not os.path.lexists(path) and any(
            f == shown or f.startswith(shown + "/") for f in before.plan.files
        )

    return [p for p in paths if not removed(p)]


# ------------------------------------------------------------------ validate
@cli.command()
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@config_option
@click.pass_context
def validate(ctx: click.Context, paths: tuple[str, ...], fmt: str, config_path: str | None) -> None:
    """Check plan files for syntax, schema and reference problems only."""

    def command() -> int:
        from policy_engine.api import load_plan
        from policy_engine.engine import RunOptions, build_report

        # The config is read only when it is needed: a broken one must not stop `validate FILE`.
        plan_paths = list(paths) or _plan_paths(paths, _config(config_path))
        graph = load_plan(plan_paths)
        findings = [*graph.plan.problems, *graph.problems]
        options = RunOptions(as_of=date.today())
        report = build_report(findings, graph=graph, rules=[], options=options, version=__version__)
        if fmt == "json":
            from policy_engine.reporters import renderer

            click.echo(renderer("json")(report, False), nl=False)
        else:
            from policy_engine.report import counted
            from policy_engine.reporters.text import render_finding

            color = _color(None)
            for f in report.findings:
                click.echo(
                    render_finding(f, report.excerpt(f), color, show_severity=False), color=color or None
                )
            n = len(report.findings)
            files = len(graph.plan.files)
            verdict = counted(n, "problem") if n else "no problems"
            entities = counted(report.entities, "entity", "entities")
            click.echo(f"{verdict} in {counted(files, 'file')}, {entities}")
        return 1 if report.findings else 0

    _run(ctx, command)


# --------------------------------------------------------------------- check
@cli.command()
@click.argument("paths", nargs=-1, type=click.Path())
@policy_options
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="Write the report to a file.")
@click.option(
    "--report",
    "reports",
    multiple=True,
    metavar="FORMAT=FILE",
    callback=_extra_reports,
    help="Also write the report in FORMAT to FILE, from the same check (repeatable).",
)
@click.option("--as-of", callback=_date, help="The date the check runs as of (default: today).")
@click.option(
    "--fail-on",
    type=click.Choice(FAIL_LEVELS),
    help="The lowest severity that fails (default: error).",
)
@click.option("--select", multiple=True, help="Run only these rules (ids or glob patterns; repeatable).")
@click.option("--ignore", multiple=True, help="Skip these rules (ids or glob patterns; repeatable).")
@click.option("--quiet", "-q", is_flag=True, help="Text: print only failing findings, no summary.")
@click.option(
    "--base",
    help="Compare with the plan at this git revision: label findings new, fixed or unchanged.",
)
@click.option("--new-only", is_flag=True, help="With --base: fail only on new findings.")
@click.option(
    "--timings", "show_timings", is_flag=True, help="Print where the time went, by phase and rule, to stderr."
)
@click.option(
    "--link-base",
    metavar="URL",
    help="Markdown: link each finding to URL/PATH#LLINE (say, the repository's blob URL at the commit).",
)
@click.pass_context
def check(ctx: click.Context, /, **opts: Any) -> None:
    """Check a plan against the built-in pack and the project's own policies."""
    _run(ctx, lambda: run_check(**opts))


def run_check(
    paths: Sequence[str],
    policies: Sequence[str],
    no_builtin: bool,
    fmt: str,
    output: str | None,
    as_of: date | None,
    fail_on: str | None,
    select: Sequence[str],
    ignore: Sequence[str],
    quiet: bool,
    config_path: str | None,
    base: str | None = None,
    new_only: bool = False,
    show_timings: bool = False,
    link_base: str | None = None,
    reports: Sequence[tuple[str, str]] = (),
) -> int:
    from policy_engine.api import check_graph, load_plan
    from policy_engine.diagnostics import UsageError
    from policy_engine.engine import followed_by
    from policy_engine.recheck import Recheck
    from policy_engine.timings import Timings

    timings = Timings()
    with _annotated(fmt == "github"):
        loaded = _config(config_path)
        plan_paths = _plan_paths(paths, loaded)
        with timings.phase("compile"):
            policy_paths, _, rules = _project_rules(loaded, policies, no_builtin)
        options = _options(loaded, rules, as_of, fail_on, select, ignore)
    if new_only and base is None:
        raise UsageError("--new-only needs --base REV")
    named = [(f"--report {f}={path}", path) for f, path in reports]
    if output:
        named.insert(0, (f"--output {output}", output))
    _check_written_paths(named, plan_paths, policy_paths, loaded.path)
    graph = load_plan(plan_paths, timings, wanted_inverses=followed_by(rules))
    report = check_graph(graph, rules, options, timings, Recheck.default(plan_paths, rules, options))
    if base is not None:
        from policy_engine.changes import compare_with_base

        with timings.phase("compare with base"):
            report = compare_with_base(report, graph, base, plan_paths, rules, options, new_only=new_only)
    if link_base:
        report = dataclasses.replace(report, extra={**report.extra, "link_base": link_base})
    with timings.phase("write"):
        from policy_engine.reporters import renderer

        for extra_fmt, path in reports:  # whole reports: colour and --quiet are for a terminal
            _write(Path(path), renderer(extra_fmt)(report, False))
        code = _report(report, fmt, output, quiet)
    if show_timings:
        click.echo(timings.render(), err=True, nl=False)
    _keep_until_exit(graph, report)
    return code


@contextlib.contextmanager
def _annotated(github: bool) -> Iterator[None]:
    """With --format github, a policy or config that cannot be used is annotated on its lines too."""
    from policy_engine.diagnostics import CompileError, ConfigError

    try:
        yield
    except (CompileError, ConfigError) as exc:
        if github:
            from policy_engine.reporters.github import render_error

            click.echo(render_error(exc), nl=False)
        raise


def _check_written_paths(
    named: Sequence[tuple[str, str]],  # (the option as written, the path it names)
    plan_paths: Sequence[Any],
    policy_paths: Sequence[Path],
    config: Path | None,
    written: str = "the report",
) -> None:
    """What a command writes (a report, the schemas) must not overwrite what a check reads, nor land where
    the next check would read it."""
    from policy_engine.diagnostics import UsageError
    from policy_engine.files import PLAN_SUFFIXES, display_path

    options_by_target: dict[Path, str] = {}
    for option, path in named:
        target = Path(path).resolve()
        if target in options_by_target:
            first = options_by_target[target]
            raise UsageError(f"{first} and {option} write to the same file: give each its own")
        options_by_target[target] = option
    inputs = [
        *((Path(p), PLAN_SUFFIXES, "a plan file", "the plan folder") for p in plan_paths),
        *((p, (".policy",), "a policy file", "the policy folder") for p in policy_paths),
        *([(config, (), "the config file", "")] if config else []),
    ]
    for real, shown in options_by_target.items():
        for given, suffixes, file_is, folder_is in inputs:
            root = given.resolve()
            read = real == root or (
                root.is_dir()
                and real.is_relative_to(root)
                and real.suffix in suffixes
                and not any(part.startswith(".") for part in real.relative_to(root).parts)
            )
            if read and real.exists():
                raise UsageError(f"{shown} is {file_is} of this check: {written} would overwrite it")
            if read:
                folder = display_path(Path(given))
                raise UsageError(
                    f"{shown} is inside {folder_is} {folder}: the next check would read {written} as "
                    f"{file_is}; write it elsewhere"
                )


def _configured_plan() -> list[Path]:
    """The plan paths of the project's config; none when there is no config or it cannot be read."""
    from policy_engine.diagnostics import ConfigError

    try:
        loaded = _config(None)
    except ConfigError:  # `schema` helps write a config: a broken one must not stop it
        return []
    return loaded.paths(loaded.config.plan)


def _config(config_path: str | None) -> LoadedConfig:
    from policy_engine.config import find_config, load_config

    return load_config(Path(config_path) if config_path else find_config())


def _options(
    loaded: LoadedConfig,
    rules: Sequence[Any],
    as_of: date | None,
    fail_on: str | None,
    select: Sequence[str],
    ignore: Sequence[str],
) -> Any:
    from policy_engine.engine import RunOptions

    config = loaded.config
    settings = _rule_settings(loaded, rules)
    _check_patterns({"--select": select, "--ignore": ignore}, [r.id for r in rules])
    return RunOptions(
        as_of=as_of or config.as_of or date.today(),
        params={rule: s.params for rule, s in settings.items() if s.params},
        severities={rule: s.severity for rule, s in settings.items() if s.severity},
        disabled={rule for rule, s in settings.items() if not s.enabled},
        select=select,
        ignore=ignore,
        fail_on=fail_on or config.fail_on,
    )


def _check_patterns(options: dict[str, Sequence[str]], rule_ids: Sequence[str]) -> None:
    """A --select or --ignore that matches no rule is a typo: a check of nothing must not pass."""
    import fnmatch

    from policy_engine.diagnostics import UsageError, did_you_mean
    from policy_engine.engine import PLAN_RULES

    known = [*rule_ids, *PLAN_RULES]
    for option, patterns in options.items():
        for pattern in patterns:
            if not any(fnmatch.fnmatchcase(rule, pattern) for rule in known):
                hint = did_you_mean(pattern, known)
                raise UsageError(f"{option} {pattern} matches no rule" + (f"; {hint}" if hint else ""))


def _report(report: Report, fmt: str, output: str | None, quiet: bool) -> int:
    from policy_engine.reporters import renderer

    failing = report.failing()
    color = fmt == "text" and _color(output)
    if fmt == "text" and quiet:
        from policy_engine.reporters.text import render_finding

        text = "".join(
            render_finding(f, report.excerpt(f), color, change=report.change_of(f)) + "\n" for f in failing
        )
    else:
        text = renderer(fmt)(report, color)
    _emit(text, output, color)
    return 1 if failing else 0


# ---------------------------------------------------------------------- diff
@cli.command()
@click.argument("base")
@click.argument("head", required=False)
@click.option(
    "--plan", "plans", multiple=True, type=click.Path(), help="Plan files or folders (default: config)."
)
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json", "markdown"]), default="text", show_default=True
)
@config_option
@click.pass_context
def diff(
    ctx: click.Context, base: str, head: str | None, plans: tuple[str, ...], fmt: str, config_path: str | None
) -> None:
    """Summarise what changed in the plan between BASE and HEAD (default: the working tree)."""

    def command() -> int:
        from policy_engine import jsontext
        from policy_engine.api import load_plan
        from policy_engine.changes import diff_json, diff_markdown, diff_text, plan_at_revision, plan_diff
        from policy_engine.plan.graph import build_graph

        loaded = _config(config_path)
        if not plans and not loaded.config.plan and head and Path(head).exists():
            from policy_engine.diagnostics import UsageError

            raise UsageError(f"diff takes revisions, and a plan with --plan: did you mean --plan {head}?")
        paths = _plan_paths(plans, loaded, in_working_tree=False)  # removed there is a change to report
        before = build_graph(plan_at_revision(base, paths, paths_as_of=head))
        after = (
            build_graph(plan_at_revision(head, paths))
            if head
            else load_plan(_kept(paths, before), empty_ok=True)
        )
        result = plan_diff(before, after, base, head or "working tree")
        if fmt == "json":
            click.echo(jsontext.dumps(diff_json(result)))
        else:
            click.echo((diff_markdown if fmt == "markdown" else diff_text)(result), nl=False)
        return 0

    _run(ctx, command)


# ------------------------------------------------------------------- compile
@cli.command("compile")
@click.argument("policies", nargs=-1, type=click.Path())
@click.option(
    "--no-builtin",
    is_flag=True,
    help="Compile without the built-in pack (its helpers then do not exist).",
)
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    help="Config file whose `policies` to compile when none are named (default: found from here up).",
)
@click.pass_context
def compile_command(
    ctx: click.Context, policies: tuple[str, ...], no_builtin: bool, config_path: str | None
) -> None:
    """Compile policy files (default: the config's) without a plan: exit 0, or 2 with every problem."""

    def command() -> int:
        from policy_engine.api import builtin_policy_dir, compile_policy
        from policy_engine.diagnostics import UsageError

        paths: list[Any] = list(policies)
        builtin = not no_builtin
        if not paths:  # the config is read only when it is needed, as for validate
            loaded = _config(config_path)
            paths = _config_paths(loaded, "policies")
            builtin = builtin and loaded.config.builtin
            if not paths:
                raise UsageError(
                    "no policies given: name policy files or folders, or set `policies` in the config file"
                )
        rules = compile_policy(paths, builtin=builtin)
        pack = builtin_policy_dir()
        own = [r for r in rules if not builtin or Path(r.path).parent != pack]
        click.echo(
            f"compiled {len(own)} rule{'s' * (len(own) != 1)} from {len(paths)} path{'s' * (len(paths) != 1)}"
        )
        return 0

    _run(ctx, command)


# --------------------------------------------------------------------- rules
@cli.command("rules")
@policy_options
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "markdown"]),
    default="text",
    show_default=True,
    help="markdown: every rule's documentation on one page (docs/rules.md is the built-in pack's).",
)
@click.pass_context
def rules_command(
    ctx: click.Context, policies: tuple[str, ...], no_builtin: bool, config_path: str | None, fmt: str
) -> None:
    """List the rules: id, severity, pack and title."""

    def command() -> int:
        from policy_engine.engine import PLAN_RULES

        loaded = _config(config_path)
        _, _, rules = _project_rules(loaded, policies, no_builtin)
        settings = _rule_settings(loaded, rules)
        if fmt == "markdown":
            from policy_engine.ruledocs import markdown_page

            click.echo(markdown_page(rules, settings, PLAN_RULES), nl=False)
            return 0
        rows = []
        for r in sorted(rules, key=lambda r: r.id):
            setting = settings.get(r.id)
            notes = [] if r.waivable else ["not waivable"]
            if setting and not setting.enabled:
                notes.append("off in the config")
            severity = (setting and setting.severity) or r.severity
            rows.append((r.id, severity, r.pack, "(no title)" if r.title == r.id else r.title, notes))
        # The loader's own checks, which every plan gets: their ids are what --ignore and explain take.
        rows += [(rule_id, "error", "plan", title, ["not waivable"]) for rule_id, title in PLAN_RULES.items()]
        width = max(len(row[0]) for row in rows)
        for rule_id, severity, pack, title, notes in rows:
            flag = f"  ({', '.join(notes)})" if notes else ""
            click.echo(f"{rule_id:<{width}}  {severity:<7}  {pack:<10}  {title}{flag}")
        return 0

    _run(ctx, command)


@cli.command()
@click.argument("rule")
@policy_options
@click.pass_context
def explain(
    ctx: click.Context, rule: str, policies: tuple[str, ...], no_builtin: bool, config_path: str | None
) -> None:
    """Show a rule's documentation, parameters and source (or what a policy diagnostic code means)."""

    def command() -> int:
        from policy_engine.diagnostics import UsageError, did_you_mean
        from policy_engine.dsl.checker import CODES
        from policy_engine.engine import PLAN_RULES

        if rule.upper() in CODES:  # `explain E307`, copied from a compile error
            code = rule.upper()
            where = "docs/language.md (Diagnostics) lists every code with an example"
            click.echo(f"{code}: {CODES[code]}, a policy compile error; {where}.")
            return 0
        if rule in PLAN_RULES:
            click.echo(
                f"{rule}  (error, not waivable)\n\n{PLAN_RULES[rule]}.\n"
                "Reported by the plan loader; see docs/plan-format.md."
            )
            return 0
        loaded = _config(config_path)
        _, _, rules = _project_rules(loaded, policies, no_builtin)
        found = {r.id: r for r in rules}
        if rule not in found:
            hint = did_you_mean(rule, [*found, *PLAN_RULES])
            raise UsageError(f"no rule '{rule}'" + (f"; {hint}" if hint else ""))
        from policy_engine.ruledocs import explain_text

        click.echo(explain_text(found[rule], _rule_settings(loaded, rules).get(rule)), nl=False)
        return 0

    _run(ctx, command)


def _rule_settings(loaded: LoadedConfig, rules: Sequence[CompiledRule]) -> dict[str, Any]:
    """The config file's settings per rule, checked as `check` checks them."""
    from policy_engine.config import check_rule_settings

    check_rule_settings(loaded, {r.id: r for r in rules})
    return dict(loaded.config.rules)


# -------------------------------------------------------------------- schema
@cli.command()
@click.option(
    "--output-dir",
    "-o",
    type=click.Path(file_okay=False),
    help="Write one file per schema into this folder.",
)
@click.pass_context
def schema(ctx: click.Context, output_dir: str | None) -> None:
    """Write the JSON Schemas of the plan entities and the config file."""

    def command() -> int:
        from policy_engine.schemas import schema_files

        files = schema_files()
        if output_dir is None:
            click.echo(files["plan.schema.json"], nl=False)
            return 0
        targets = [(f"--output-dir {output_dir}", str(Path(output_dir) / name)) for name in files]
        _check_written_paths(targets, _configured_plan(), (), None, written="the schema")
        for name, text in files.items():
            _write(Path(output_dir) / name, text)
            click.echo(f"wrote {Path(output_dir) / name}")
        return 0

    _run(ctx, command)


# ---------------------------------------------------------------------- test
@cli.command("test")
@click.argument("paths", nargs=-1, type=click.Path())
@policy_options
@click.pass_context
def test_command(
    ctx: click.Context,
    paths: tuple[str, ...],
    policies: tuple[str, ...],
    no_builtin: bool,
    config_path: str | None,
) -> None:
    """Run rule case files: the built-in pack's and the project's own."""

    def command() -> int:
        from policy_engine.api import builtin_policy_dir
        from policy_engine.cases import case_files, policy_folders_of, run_case_file
        from policy_engine.diagnostics import UsageError
        from policy_engine.report import counted

        targets = [Path(p) for p in paths]
        # The rules of the policy folder a case file sits in (a file loaded twice is read once).
        extra = [str(folder) for folder in policy_folders_of(targets)]
        policy_paths, builtin, rules = _project_rules(_config(config_path), [*policies, *extra], no_builtin)
        if not paths:
            targets = [builtin_policy_dir() / "cases"] if builtin else []
            targets += [p / "cases" for p in policy_paths if (p / "cases").is_dir()]
        failed = total = unreadable = 0
        for path in case_files(targets):
            try:
                results = run_case_file(path, rules)
            except UsageError as exc:  # told, and the other case files still run
                click.echo(str(exc), err=True)
                unreadable += 1
                continue
            for result in results:
                total += 1
                if result.passed:
                    continue
                failed += 1
                click.echo(f"FAIL {result.path}: {result.rule}: {result.name}")
                for problem in result.problems:
                    click.echo(f"  {problem}")
        summary = f"{total - failed} passed, {failed} failed"
        if unreadable:
            summary += f"; {counted(unreadable, 'case file')} could not be used"
        click.echo(summary)
        return 2 if unreadable else 1 if failed else 0

    _run(ctx, command)


def main() -> None:
    """The console script.

    Every file it writes is complete and closed before it returns, so the
    process ends at once: freeing a big plan's objects one by one at exit
    took 1.5 s on the 100k-initiative plan, for nothing. For the same reason
    the cyclic collector stays off for the whole process: turned back on
    after a command, its first collection rescans everything the command
    built (1.9 s on that plan) just before the process ends.
    """
    from policy_engine.plan import cache as plan_cache

    global _kept_until_exit
    _kept_until_exit = []
    gc.disable()
    plan_cache.hold_writes()
    try:
        cli(prog_name="policy-engine")
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        if isinstance(exc.code, str):
            print(exc.code, file=sys.stderr)
    sys.stdout.flush()
    sys.stderr.flush()
    _kept_until_exit.append(plan_cache.release_writes())  # after the output: nobody waits for the cache
    os._exit(code)
