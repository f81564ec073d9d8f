"""A disk cache of parsed policies, so that a pre-commit run does not re-parse them.

Parsing (pyparsing) is the slow stage of compiling; checking and lowering are
quick and produce closures, which cannot be stored. So the cache keeps the
parsed trees, as JSON: reading it can never run code. An entry is keyed by
the engine version and the path and text of every policy file; an entry
that is stale, corrupt or from another version is ignored and rewritten.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

from policy_engine import __version__
from policy_engine.diagnostics import UsageError
from policy_engine.dsl import ast
from policy_engine.dsl.compiler import CompiledRule, compile_trees
from policy_engine.files import PLAN_SUFFIXES, NotRegularFile, cache_dir, read_regular, write_atomic
from policy_engine.plan.model import Duration
from policy_engine.source import SourceFile, Span, not_utf8

FORMAT = 9
_NODES = {
    name: cls
    for name, cls in vars(ast).items()
    if isinstance(cls, type) and issubclass(cls, ast.Node) and cls is not ast.Node
}


def read_sources(files: Sequence[Path]) -> list[SourceFile]:
    sources = []
    for path in files:
        if path.suffix in PLAN_SUFFIXES:  # read as a policy, every line would be E100
            raise UsageError(
                f"{path}: a plan file, not a policy file; give it as a plan path, not with --policy"
            )
        try:
            raw = read_regular(path)
            text = raw.decode("utf-8-sig")
        except NotRegularFile:
            raise UsageError(f"cannot read policy {path}: not a regular file") from None
        except OSError as exc:
            raise UsageError(f"cannot read policy {path}: {exc.strerror}") from None
        except UnicodeDecodeError as exc:
            line, column, message = not_utf8(raw, exc)
            raise UsageError(f"{path}:{line}:{column}: E100 policy {message}") from None
        sources.append(SourceFile(str(path), text))
    return sources


def compile_cached(files: Sequence[Path]) -> list[CompiledRule]:
    """Compile policy files, reusing their parsed trees from the cache when valid."""
    sources = read_sources(files)
    key = _key(sources)
    folder = cache_dir()
    entry = folder / f"{key}.json" if folder else None
    trees = _read(entry, key, sources) if entry else None
    if trees is None:
        from policy_engine.dsl.compiler import parse_sources

        trees = parse_sources(sources)
        if entry is not None:
            _write(entry, key, trees)
    return compile_trees(trees)


def _key(sources: Sequence[SourceFile]) -> str:
    digest = hashlib.sha256(f"policy-engine {__version__} cache {FORMAT}".encode())
    for source in sources:
        digest.update(b"\0" + source.path.encode() + b"\0" + source.text.encode())
    return digest.hexdigest()


def _read(entry: Path, key: str, sources: Sequence[SourceFile]) -> list[ast.PolicyFile] | None:
    try:
        data = json.loads(entry.read_text(encoding="utf-8"))
        if data.get("key") != key or data.get("version") != __version__:
            return None
        trees = [_decode(tree, source) for tree, source in zip(data["trees"], sources, strict=True)]
    except Exception:
        return None
    if not all(isinstance(t, ast.PolicyFile) for t in trees):
        return None
    return trees


def _write(entry: Path, key: str, trees: Sequence[ast.PolicyFile]) -> None:
    data = {"version": __version__, "key": key, "trees": [_encode(t) for t in trees]}
    with contextlib.suppress(OSError):  # a cache that cannot be written is only slower
        write_atomic(entry, json.dumps(data, separators=(",", ":")))


def _encode(value: Any) -> Any:
    if isinstance(value, ast.Node):
        out: dict[str, Any] = {"_": type(value).__name__}
        for f in dataclasses.fields(value):
            item = getattr(value, f.name)
            out[f.name] = [item.start, item.end] if isinstance(item, Span) else _encode(item)
        return out
    if isinstance(value, tuple | list):
        return {"_t": [_encode(v) for v in value]}
    if isinstance(value, date):
        return {"_d": value.isoformat()}
    if isinstance(value, Duration):
        return {"_p": str(value)}
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise TypeError(f"cannot cache {type(value).__name__}")


def _decode(value: Any, source: SourceFile) -> Any:
    if isinstance(value, dict):
        if "_t" in value:
            return tuple(_decode(v, source) for v in value["_t"])
        if "_d" in value:
            return date.fromisoformat(value["_d"])
        if "_p" in value:
            return Duration.parse(value["_p"])
        cls: Any = _NODES[value["_"]]
        kwargs = {}
        for f in dataclasses.fields(cls):
            item = value[f.name]
            if f.name in ("span", "name_span", "id_span", "value_span"):
                kwargs[f.name] = None if item is None else Span(source, item[0], item[1])
            else:
                kwargs[f.name] = _decode(item, source)
        return cls(**kwargs)
    if isinstance(value, list):
        raise ValueError("unexpected list in cache entry")
    return value
