"""A disk cache of parsed plan files, keyed by their content.

Re-checking a plan after editing one file parses only that file again. An
entry is one file's parse (its entities with their positions, its problems,
its text), pickled; its name comes from the engine version, the path shown in
reports and the SHA-256 of the file's bytes, so any edit is a miss.

Reading an entry never runs code: the unpickler rebuilds only the classes of
the plan model and refuses every other global. An entry that is truncated,
corrupt or written by another version fails its checksum or its header and is
ignored (then rewritten); each path keeps one entry, so the folder does not
grow with every edit.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import io
import os
import pickle
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from policy_engine import __version__
from policy_engine.files import cache_dir, write_atomic

if TYPE_CHECKING:
    from policy_engine.plan.loader import ParsedFile

FORMAT = 46
_HEADER = f"policy-engine {__version__} plan-cache {FORMAT}\n".encode()
_DIGEST = hashlib.sha256().digest_size
# The only globals an entry may name: the classes a parsed file is made of.
_ALLOWED = {
    "builtins": {"set", "frozenset"},
    "datetime": {"date"},
    "policy_engine.plan.loader": {"ParsedFile", "PlanEntity", "_EntityPositions"},
    "policy_engine.plan.jsonread": {"JsonFileIndex", "JsonPositions"},
    "policy_engine.plan.yamlread": {"PackedPositions"},
    "policy_engine.plan.model": None,  # the classes it defines: the models and value types
    "policy_engine.report": {"Finding"},
    "policy_engine.source": {"Location", "SourceFile"},
}


class _Unpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if module in _ALLOWED:
            allowed = _ALLOWED[module]
            found = super().find_class(module, name) if allowed is None or name in allowed else None
            # A class of that module itself: never a function to call, nor a
            # class the module merely imports (pydantic's, say).
            if isinstance(found, type) and found.__module__ == module:
                return found
        raise pickle.UnpicklingError(f"{module}.{name} is not part of a plan")


@dataclass
class PlanCache:
    """Parsed plan files on disk; `get` misses are kept and written by `save`.

    With `background`, `save` hands the writing to a detached process (where
    the system can fork), so a check never waits for its cache: pickling a
    100k-initiative plan takes seconds.
    """

    folder: Path
    background: bool = False
    pending: list[tuple[Path, ParsedFile]] = field(default_factory=list)

    @classmethod
    def default(cls) -> PlanCache | None:
        """The user's cache, written in the background; None when caching is off."""
        folder = cache_dir()
        return cls(folder / "plans", background=True) if folder else None

    def _entry(self, shown: str, digest: str) -> Path:
        where = hashlib.sha256(shown.encode()).hexdigest()[:16]
        what = hashlib.sha256(_HEADER + digest.encode()).hexdigest()[:32]
        return self.folder / f"{where}-{what}.pickle"

    def get(self, shown: str, digest: str) -> ParsedFile | None:
        """The parse of the bytes whose SHA-256 is `digest`, shown as `shown`, if a sound entry holds it."""
        from policy_engine.plan.loader import ParsedFile

        parsed = read_entry(self._entry(shown, digest))
        if not isinstance(parsed, ParsedFile) or parsed.source.path != shown:
            return None
        return parsed

    def put(self, shown: str, digest: str, parsed: ParsedFile) -> None:
        self.pending.append((self._entry(shown, digest), parsed))

    def save(self) -> None:
        """Write the entries missed so far; a cache that cannot be written only costs time."""
        pending = list(self.pending)
        self.pending.clear()
        if not pending:
            return
        write_entries(pending, self.background)


def read_entry(entry: Path) -> Any:
    """What a sound entry holds, else None: missing, damaged, foreign and tampered entries alike."""
    try:
        raw = entry.read_bytes()
    except OSError:
        return None
    payload = raw[len(_HEADER) + _DIGEST :]
    if not raw.startswith(_HEADER) or raw[len(_HEADER) : len(_HEADER) + _DIGEST] != _checksum(payload):
        return None
    try:
        return _Unpickler(io.BytesIO(payload)).load()
    except Exception:
        return None


def write_entries(pending: list[tuple[Path, Any]], background: bool) -> None:
    """Write each (entry, value); a value may be a function that makes it, called by the writer.

    Each entry replaces the others of its folder whose names start as its
    own does, up to the first '-'. In the background, nobody waits for the
    writing (see PlanCache and hold_writes).
    """
    if not (background and hasattr(os, "fork")):
        _write(pending)
    elif _held is not None:
        _held.extend(pending)
    else:
        _detached(lambda: _write(pending))


# Background writes held until the process has done its work (see hold_writes).
_held: list[tuple[Path, Any]] | None = None


def hold_writes() -> None:
    """Hold background writes until `release_writes`.

    The console script writes its cache after its output: a writer forked
    earlier shares the machine and, worse, the process's memory with the
    check, and every page either side then touches is copied (1.5 to 2 s of
    a cold check of the 100k plan).
    """
    global _held
    _held = []


def release_writes() -> list[tuple[Path, Any]]:
    """Hand the held writes to a detached process; the caller ends next.

    Nothing is waited for: the caller exits at once, so the writer needs no
    middle child to keep it from becoming a zombie (init reaps it). The
    writes are returned for the caller to keep until it exits (see
    cli.main): freeing them, each page copied because the writer shares it,
    cost a cold check of the 100k plan 0.2 s.
    """
    global _held
    held, _held = _held or [], None
    if held:
        _detached(functools.partial(_write, held), caller_ends=True)
    return held


def _write(pending: list[tuple[Path, Any]]) -> None:
    for entry, value in pending:
        if callable(value):  # made here, so that the check never waits for it
            try:
                value = value()
            except Exception:
                continue
        payload = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        with contextlib.suppress(OSError):
            write_atomic(entry, _HEADER + _checksum(payload) + payload, sync=False)
            for stale in entry.parent.glob(entry.name.split("-")[0] + "-*.pickle"):
                if stale != entry:
                    stale.unlink(missing_ok=True)


def _detached(work: Callable[[], None], caller_ends: bool = False) -> None:
    """Run `work` in a process that nobody waits for.

    That process lets go of the terminal and of every pipe (a pre-commit or
    CI runner waits for those to close) and ends with os._exit, never
    returning into the caller's code. A caller that goes on running would
    leave it a zombie, so it is a grandchild there: the middle child exits
    at once and is reaped here.
    """
    try:
        child = os.fork()
    except OSError:
        work()
        return
    if child:
        if not caller_ends:
            os.waitpid(child, 0)
        return
    try:
        if caller_ends or os.fork() == 0:
            os.setsid()
            with contextlib.suppress(OSError):
                os.nice(19)  # background work: the check itself keeps every core it can use
            devnull = os.open(os.devnull, os.O_RDWR)
            for fd in (0, 1, 2):
                os.dup2(devnull, fd)
            with contextlib.suppress(Exception):
                work()
    finally:
        os._exit(0)


def _checksum(payload: bytes) -> bytes:
    return hashlib.sha256(payload).digest()
