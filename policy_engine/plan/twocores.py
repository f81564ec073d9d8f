"""Work through a long list on two cores: its tail in a forked child.

Parsing is most of a cold check of a big plan, and each file parses on its
own. The child parses the tail of the list and pickles what it made into a
private temporary file; the parent parses the head meanwhile, then reads the
child's part back. Pickling costs the child about half its parsing again,
and reading back costs the parent a fifth, so the child takes about 37%.

The results are the same objects, in the same order, as one process would
make. Anything that goes wrong on the child's side (it fails, is killed,
writes nothing) only means the parent works the tail itself.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import sys
import tempfile
import threading
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")

MIN_BYTES = 1 << 20  # below a megabyte to parse, a fork and a pickle cost more than they save
CHILD_SHARE = 0.37  # of the bytes (see above)


def map_on_two_cores(work: Callable[[T], R], items: Sequence[T], sizes: Sequence[int]) -> list[R]:
    """`[work(item) for item in items]`, the tail worked in a forked child when that pays.

    `sizes` weighs each item (its bytes), to split the work evenly.
    """
    split = _split(sizes)
    if split is None:
        return [work(item) for item in items]
    import signal  # only now: making its enums costs every start-up 2 to 3 ms

    try:
        out = tempfile.TemporaryFile()  # noqa: SIM115 - closed by the `with` below
    except OSError:  # nowhere to put the child's part: one process does it all
        return [work(item) for item in items]
    with out:
        try:
            child = os.fork()
        except OSError:  # no memory or no process left for a child: likewise
            return [work(item) for item in items]
        if child == 0:
            _work_in_child(work, items[split:], out)
        status = 1
        try:
            head = [work(item) for item in items[:split]]
            status = os.waitpid(child, 0)[1]
            child = 0
        finally:
            if child:  # the parent failed or was interrupted: the child's work is not wanted
                with contextlib.suppress(OSError):
                    os.kill(child, signal.SIGKILL)
                with contextlib.suppress(OSError):
                    os.waitpid(child, 0)
        tail = _read_back(out, len(items) - split) if status == 0 else None
    if tail is None:
        tail = [work(item) for item in items[split:]]
    return head + tail


def _split(sizes: Sequence[int]) -> int | None:
    """Where the child's part starts; None to work everything here."""
    total = sum(sizes)
    if total < MIN_BYTES or len(sizes) < 2 or not _can_fork():
        return None
    head, limit = 0, total * (1 - CHILD_SHARE)
    for index, size in enumerate(sizes):
        if head + size > limit:
            return max(index, 1)
        head += size
    return len(sizes) - 1


def _can_fork() -> bool:
    # Linux only: elsewhere a fork without exec is unsafe or unavailable.
    # With other threads running, a forked child may inherit a held lock.
    if not sys.platform.startswith("linux") or threading.active_count() > 1:
        return False
    return len(os.sched_getaffinity(0)) >= 2


def _work_in_child(work: Callable[[T], R], items: Sequence[T], out: Any) -> None:
    """Work `items`, pickle the results into `out`, and end without returning."""
    code = 1
    try:
        pickle.dump([work(item) for item in items], out, protocol=pickle.HIGHEST_PROTOCOL)
        out.flush()
        code = 0
    finally:
        os._exit(code)  # never back into the caller's code, nor its atexit handlers


def _read_back(out: Any, count: int) -> list[Any] | None:
    out.seek(0)
    try:
        results = pickle.load(out)  # written by this process's own child, into a file only it can see
    except Exception:
        return None
    return results if isinstance(results, list) and len(results) == count else None
