"""Files: how a path is shown, where caches live, and reading and writing safely.

A file is written so that a crash midway never leaves a half-written one.
"""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

PLAN_SUFFIXES = (".yaml", ".yml", ".json")  # the files a plan folder holds


def display_path(path: Path) -> str:
    """Relative to the working directory where possible, with `/` separators."""
    try:
        text = os.path.relpath(path)
    except ValueError:  # another drive on Windows
        text = str(path)
    if text.startswith(".."):
        text = str(path.resolve())
    return text.replace(os.sep, "/")


class NotRegularFile(OSError):
    """A path names a FIFO, a device or a socket, which a reader could wait on, or read, forever."""


class FileTooLarge(OSError):
    def __init__(self, size: int) -> None:
        super().__init__(f"file is {size} bytes")
        self.size = size


def files_under(folder: Path, suffixes: str | tuple[str, ...]) -> list[Path]:
    """Files under `folder` whose names end with one of `suffixes`; hidden files and folders are skipped.

    Sorted as reports sort paths (as text, `/` between folders):
    `initiatives/a.yaml` before `outcomes.yaml`. Links to folders are not
    followed (one could loop back to its own folder).
    """
    found = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        found += [Path(root) / f for f in files if f.endswith(suffixes) and not f.startswith(".")]
    return sorted(found, key=lambda f: f.relative_to(folder).as_posix())


def read_regular(path: Path, max_bytes: int | None = None) -> bytes:
    """The bytes of a regular file (symbolic links followed).

    Raises NotRegularFile for anything else: opening a FIFO without O_NONBLOCK
    waits for a writer, and `/dev/zero` never ends. FileTooLarge when the
    file holds more than `max_bytes`, before reading any of it.
    """
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise NotRegularFile(f"not a regular file: {path}")
        if max_bytes is not None and info.st_size > max_bytes:
            raise FileTooLarge(info.st_size)
    except BaseException:
        os.close(fd)
        raise
    with os.fdopen(fd, "rb") as handle:
        return handle.read()


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

    The file ends up with the mode it had, or that a new file gets (mkstemp
    makes it private); through a symbolic link, the file it points to is
    written. `sync=False` skips the fsync: for cache entries, which are
    checked when read, so a torn one after a power cut is only a miss.
    """
    path = path.resolve() if path.is_symlink() else path
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.chmod(tmp, _mode_for(path))
        with os.fdopen(fd, "wb") as handle:
            handle.write(data.encode() if isinstance(data, str) else data)
            handle.flush()
            if sync:
                os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _mode_for(path: Path) -> int:
    try:
        return path.stat().st_mode & 0o7777
    except OSError:
        umask = os.umask(0o022)  # reading the umask means setting it
        os.umask(umask)
        return 0o666 & ~umask
