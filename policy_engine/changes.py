"""Roadmap changes: the plan at a git revision, findings labelled new/fixed/unchanged, plan diffs.

Findings are matched by fingerprint (rule, subject or group, related), never
by line, so entities that move between files, or files that are renamed,
keep their findings unchanged; a violation whose related entities changed
is new only when it names more of them (see _labels).
"""

from __future__ import annotations

import os
import subprocess
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from policy_engine.diagnostics import UsageError
from policy_engine.dsl.compiler import CompiledRule
from policy_engine.engine import RunOptions
from policy_engine.files import PLAN_SUFFIXES, display_path
from policy_engine.plan.graph import Graph, build_graph, relations
from policy_engine.plan.loader import LoadedPlan, PlanEntity, decode_plan, load_texts
from policy_engine.report import Finding, Report

GOVERNANCE_FIELDS = ("priority", "status", "owner", "decision.decides", "period", "contributes_to", "uses")


def _git(root: Path, *args: str, stdin: bytes | None = None) -> bytes:
    try:
        done = subprocess.run(["git", "-C", str(root), *args], input=stdin, capture_output=True, check=False)
    except FileNotFoundError:
        raise UsageError("git is not installed, so --base cannot read the base revision") from None
    if done.returncode != 0:
        raise UsageError(f"git {args[0]} failed: {done.stderr.decode(errors='replace').strip()}")
    return done.stdout


def repo_root(start: Path | None = None) -> Path:
    """The top folder of the git repository that holds `start` (default: the working directory)."""
    here = start or Path.cwd()
    try:
        out = subprocess.run(
            ["git", "-C", str(here), "rev-parse", "--show-toplevel"], capture_output=True, check=False
        )
    except FileNotFoundError:
        raise UsageError("git is not installed, so --base cannot read the base revision") from None
    if out.returncode != 0:
        raise UsageError(f"{here} is not inside a git repository; comparing with a revision needs one")
    return Path(out.stdout.decode().strip())


def plan_at_revision(
    revision: str, paths: Sequence[str | os.PathLike[str]], *, paths_as_of: str | None = None
) -> LoadedPlan:
    """The plan files under `paths` as they were at `revision`, shown by the paths they had then.

    `paths` name the plan as of `paths_as_of` (a revision; None: the working
    tree). Files renamed since `revision` into those paths are read under
    their old names, so a plan folder renamed by the change still has a base.
    """
    root = repo_root(_nearest_folder(Path(paths[0])) if paths else None)
    _verify(root, revision)
    rels = [os.path.relpath(Path(raw).resolve(), root).replace(os.sep, "/") for raw in paths]
    names: list[str] = []
    for rel in rels:
        listing = _git(root, "ls-tree", "-r", "--name-only", "-z", revision, "--", rel)
        names += [n for n in listing.decode().split("\0") if n and _is_plan_file(n)]
    names += [n for n in _renamed_into(root, revision, paths_as_of, rels) if _is_plan_file(n)]
    names = sorted(dict.fromkeys(names))
    texts = _read_blobs(root, revision, names)
    shown = [display_path(root / n) for n in names]  # as the loader shows the working tree's
    return load_texts(list(zip(shown, texts, strict=True)))


def _nearest_folder(path: Path) -> Path:
    """The folder of `path`, or of its nearest ancestor that exists (a plan the change deleted)."""
    # The repository is the plan's, wherever the command runs from.
    folder = path.resolve()
    while not folder.is_dir() and folder != folder.parent:
        folder = folder.parent
    return folder


def _verify(root: Path, revision: str) -> None:
    try:
        _git(root, "rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}")
    except UsageError:  # --quiet leaves git's message empty
        message = f"{revision!r} is not a commit of the repository at {root}"
        if _git(root, "rev-parse", "--is-shallow-repository").strip() == b"true":
            message += (
                "; this clone is shallow, with only the latest commits: fetch the history first"
                " (`git fetch --unshallow`, or `fetch-depth: 0` for actions/checkout)"
            )
        raise UsageError(message) from None


def _renamed_into(root: Path, revision: str, later: str | None, rels: Sequence[str]) -> list[str]:
    """Old names, at `revision`, of the files renamed since into one of `rels`.

    Renames are git's own (`diff -M`) between `revision` and `later` (None:
    the working tree, as far as git tracks it: a renamed folder that is not
    yet added is not seen as renamed).
    """
    out = _git(root, "diff", "-M", "--name-status", "-z", revision, *([later] if later else []))
    items = out.decode().split("\0")
    old_names: list[str] = []
    i = 0
    while i < len(items) and items[i]:
        status = items[i]
        if status.startswith(("R", "C")):
            old, new = items[i + 1], items[i + 2]
            if status.startswith("R") and any(_under(new, rel) for rel in rels):
                old_names.append(old)
            i += 3
        else:
            i += 2
    return old_names


def _under(name: str, rel: str) -> bool:
    return rel == "." or name == rel or name.startswith(rel.rstrip("/") + "/")


def _is_plan_file(name: str) -> bool:
    parts = name.split("/")
    return name.endswith(PLAN_SUFFIXES) and not any(p.startswith(".") for p in parts)


def _read_blobs(root: Path, revision: str, names: list[str]) -> list[str]:
    """Every file's text in one `git cat-file --batch` call."""
    if not names:
        return []
    request = "".join(f"{revision}:{name}\n" for name in names).encode()
    out = _git(root, "cat-file", "--batch", stdin=request)
    texts, pos = [], 0
    for _ in names:
        end = out.index(b"\n", pos)
        size = int(out[pos:end].split()[2])
        start = end + 1
        blob = out[start : start + size]
        try:
            texts.append(decode_plan(blob))  # as the working tree's files are read
        except UnicodeDecodeError:  # the base's problem, reported by no one: read what can be read
            texts.append(blob.decode("utf-8", errors="replace"))
        pos = start + size + 1
    return texts


def compare_with_base(
    report: Report,
    graph: Graph,
    base: str,
    paths: Sequence[str | os.PathLike[str]],
    rules: Sequence[CompiledRule],
    options: RunOptions,
    *,
    new_only: bool,
) -> Report:
    """Label the report's findings against the plan at `base`; list what the change fixed."""
    from policy_engine.api import check_graph
    from policy_engine.engine import followed_by

    base_graph = build_graph(plan_at_revision(base, paths), followed_by(rules))
    base_report = check_graph(base_graph, rules, options)
    labels, fixed = _labels(base_report.findings, report.findings)
    changes = {"base": base, "labels": labels, "fixed": fixed}
    diff = plan_diff(base_graph, graph, base, "working tree")
    return replace(report, extra={**report.extra, "changes": changes, "plan_diff": diff}, new_only=new_only)


def _labels(before: Sequence[Finding], after: Sequence[Finding]) -> tuple[dict[str, str], list[Finding]]:
    """Each later fingerprint labelled new or unchanged, and the earlier findings fixed.

    A finding the base had with other related entities is the same violation
    changed: it is new only when it names an entity the base's did not (a
    fifth P0 in a full period), and unchanged when it names fewer (one P0
    of six taken out); the base's is not fixed either way.
    """
    was = Counter(f.fingerprint for f in before)
    now = Counter(f.fingerprint for f in after)
    labels = {fp: "unchanged" if was[fp] >= now[fp] else "new" for fp in now}
    fixed = [f for f in before if now[f.fingerprint] < was[f.fingerprint]]
    gone = _by_violation(fixed)
    for key, later in _by_violation([f for f in after if labels[f.fingerprint] == "new"]).items():
        earlier = gone.get(key, [])
        if len(later) == len(earlier) == 1:  # several: which became which is a guess, so none is made
            fixed.remove(earlier[0])
            if set(later[0].related) <= set(earlier[0].related):
                labels[later[0].fingerprint] = "unchanged"
    return labels, fixed


def _by_violation(findings: Sequence[Finding]) -> dict[tuple[str, str | None, str | None], list[Finding]]:
    """Findings by rule and subject or group: one violation whatever its related entities."""
    found: dict[tuple[str, str | None, str | None], list[Finding]] = {}
    for f in findings:
        found.setdefault((f.rule, f.subject, f.group), []).append(f)
    return found


# ------------------------------------------------------------------ plan diff


@dataclass
class EntityChange:
    ref: str
    title: str | None
    fields: dict[str, tuple[Any, Any]] = field(default_factory=dict)  # name -> (before, after)


@dataclass
class PlanDiff:
    base: str
    head: str
    added: list[EntityChange]
    removed: list[EntityChange]
    changed: list[EntityChange]


def _value(entity: PlanEntity, name: str) -> Any:
    if name in relations()[entity.kind]:
        path = relations()[entity.kind][name].path
        value: Any = entity.model
        for part in path:
            value = getattr(value, part, None)
        return sorted(str(r) for r in value or ())
    value = getattr(entity.model, name, None)
    return None if value is None else str(value)


def plan_diff(before: Graph, after: Graph, base: str, head: str) -> PlanDiff:
    """Entities added and removed, and changes to the fields that matter to governance."""

    def title(e: PlanEntity) -> str | None:
        return getattr(e.model, "title", None) or getattr(e.model, "name", None)

    old, new = before.by_ref, after.by_ref
    added = [EntityChange(r, title(new[r])) for r in sorted(new.keys() - old.keys())]
    removed = [EntityChange(r, title(old[r])) for r in sorted(old.keys() - new.keys())]
    changed = []
    for ref in sorted(old.keys() & new.keys()):
        a, b = old[ref], new[ref]
        fields = {}
        for name in GOVERNANCE_FIELDS:
            va, vb = _value(a, name), _value(b, name)
            if va != vb:
                fields[name] = (va, vb)
        if fields:
            changed.append(EntityChange(ref, title(b), fields))
    return PlanDiff(base, head, added, removed, changed)


def _show(value: Any) -> str:
    if value is None or value == []:
        return "none"
    return ", ".join(value) if isinstance(value, list) else str(value)


def _verdict(change: EntityChange) -> str:
    """What a change means for the roadmap: gets done, waits, or is dropped."""
    status = change.fields.get("status", (None, None))[1]
    if status in ("cancelled",):
        return "dropped"
    if status in ("done",):
        return "done"
    before, after = change.fields.get("priority", (None, None))
    if before and after:
        return "raised" if after < before else "lowered"
    if status == "paused" or "period" in change.fields:
        return "waits" if status == "paused" else "rescheduled"
    return "changed"


def diff_json(d: PlanDiff) -> dict[str, Any]:
    return {
        "base": d.base,
        "head": d.head,
        "added": [{"ref": c.ref, "title": c.title} for c in d.added],
        "removed": [{"ref": c.ref, "title": c.title} for c in d.removed],
        "changed": [
            {
                "ref": c.ref,
                "title": c.title,
                "verdict": _verdict(c),
                "fields": {k: {"before": v[0], "after": v[1]} for k, v in c.fields.items()},
            }
            for c in d.changed
        ],
    }


def diff_text(d: PlanDiff) -> str:
    lines = [f"plan changes from {d.base} to {d.head}:"]
    lines += [f"  + {c.ref}" + (f"  {c.title}" if c.title else "") for c in d.added]
    lines += [f"  - {c.ref}" + (f"  {c.title}" if c.title else "") for c in d.removed]
    for c in d.changed:
        lines.append(f"  ~ {c.ref} ({_verdict(c)})")
        lines += [f"      {k}: {_show(a)} -> {_show(b)}" for k, (a, b) in c.fields.items()]
    if len(lines) == 1:
        lines.append("  no governance changes")
    return "\n".join(lines) + "\n"


def diff_markdown(d: PlanDiff) -> str:
    from policy_engine.reporters.markdown import cell, table_rows

    lines = [f"### Plan changes from `{cell(d.base)}` to `{cell(d.head)}`", ""]
    if not (d.added or d.removed or d.changed):
        return "\n".join([*lines, "No governance changes.", ""])
    lines += ["| change | entity | what |", "| --- | --- | --- |"]
    changes = [*(("added", c) for c in d.added), *(("removed", c) for c in d.removed)]
    changes += [(_verdict(c), c) for c in d.changed]

    def row(item: tuple[str, EntityChange]) -> str:
        verdict, c = item
        what = (c.title or "") if verdict in ("added", "removed") else _what_changed(c)
        return f"| {verdict} | {cell(c.ref)} | {cell(what)} |"

    lines += table_rows(changes, row, "changes", ": `policy-engine diff --format json` lists them all")
    return "\n".join([*lines, ""])


def _what_changed(c: EntityChange) -> str:
    return "; ".join(f"{k}: {_show(a)} → {_show(b)}" for k, (a, b) in c.fields.items())


def labelled(report: Report) -> list[tuple[Finding, str]]:
    """Each finding with its change label, for reporters."""
    labels = report.extra.get("changes", {}).get("labels", {})
    return [(f, labels.get(f.fingerprint, "")) for f in report.findings]
