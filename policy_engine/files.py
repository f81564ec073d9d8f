"""Where caches live, and writing files so that a crash midway never leaves a half-written one."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def cache_dir() -> Path | None:
    """Where cache entries live: $POLICY_ENGINE_CACHE_DIR, else the user's cache folder.

    `POLICY_ENGINE_CACHE_DIR=` (empty) switches every cache off.
    """
    configured = os.environ.get("POLICY_ENGINE_CACHE_DIR")
    if configured is not None:
        return Path(configured) if configured else None
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "policy-engine"


def write_atomic(path: Path, data: str | bytes, *, sync: bool = True) -> None:
    """Write `data` to a temporary file beside `path`, then rename it over `path`.

    `sync=False` skips the fsync: for cache entries, which are checked when
    read, so a torn one after a power cut is only a miss.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data.encode() if isinstance(data, str) else data)
            handle.flush()
            if sync:
                os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
