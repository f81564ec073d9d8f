"""Work through a list on two cores: a forked child takes items from a shared queue.

Parsing is most of a cold check of a big plan, and evaluating its rules most
of the rest; files parse, and rules evaluate, independently of each other.
The list's indices wait in a pipe; the checker and a forked child each take
the next one whenever they are free, so the faster one takes more and no
weighing in advance is needed. The child pickles each result into a private
temporary file as it goes (its share shrinks by what pickling costs it), and
the checker reads the child's part back once the queue is empty.

The results are the same objects, in the same order, as one process would
make. Anything that goes wrong on the child's side (it fails, is killed,
writes nothing) only means the checker works the items the child took.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")

_RECORD = 4  # bytes of one queue entry: the index of its first item
_MAX_RECORDS = 4096  # 16 KB, well inside a pipe's buffer: written before the fork


def map_on_two_cores(work: Callable[[T], R], items: Sequence[T], worth_a_fork: bool = True) -> list[R]:
    """`[work(item) for item in items]`, shared with a forked child when that is possible.

    The caller says whether the work is big enough to pay for a fork.
    """
    if not worth_a_fork or len(items) < 2 or not _can_fork():
        return [work(item) for item in items]
    import signal  # only now: making its enums costs every start-up 2 to 3 ms

    step = -(-len(items) // _MAX_RECORDS)  # items per queue entry
    try:
        out = tempfile.TemporaryFile()  # noqa: SIM115 - closed by the `with` below
    except OSError:  # nowhere to put the child's part: one process does it all
        return [work(item) for item in items]
    with out:
        try:
            queue = _queue(len(items), step)
        except OSError:
            return [work(item) for item in items]
        try:
            child = os.fork()
        except OSError:  # no memory or no process left for a child: likewise
            child = -1
        if child == 0:
            _work_in_child(work, items, queue, step, out)
        done: dict[int, R] = {}
        status = 1
        try:
            if child > 0:
                for index in _taken(queue, step, len(items)):
                    done[index] = work(items[index])
                status = os.waitpid(child, 0)[1]
                child = 0
        finally:
            os.close(queue)
            if child > 0:  # the parent failed or was interrupted: the child's work is not wanted
                with contextlib.suppress(OSError):
                    os.kill(child, signal.SIGKILL)
                with contextlib.suppress(OSError):
                    os.waitpid(child, 0)
        if status == 0:
            done.update(_read_back(out, len(items)))
    # Whatever the child took and did not bring back is worked here, in order.
    return [done[i] if i in done else work(item) for i, item in enumerate(items)]


def _can_fork() -> bool:
    # Linux only: elsewhere a fork without exec is unsafe or unavailable.
    # With other threads running, a forked child may inherit a held lock.
    if not sys.platform.startswith("linux") or threading.active_count() > 1:
        return False
    return len(os.sched_getaffinity(0)) >= 2


def _queue(count: int, step: int) -> int:
    """A pipe holding the first index of each run of `step` items; its read end."""
    read, write = os.pipe()
    try:
        entries = b"".join(start.to_bytes(_RECORD, "little") for start in range(0, count, step))
        os.write(write, entries)  # at most 16 KB: never blocks, and written whole
    except OSError:
        os.close(read)
        raise
    finally:
        os.close(write)  # so that an empty queue reads as the end
    return read


def _taken(queue: int, step: int, count: int) -> Iterator[int]:
    """The indices this process takes from the queue, until it is empty."""
    # A read of one entry is atomic: the other process never gets half of it.
    while entry := os.read(queue, _RECORD):
        start = int.from_bytes(entry, "little")
        yield from range(start, min(start + step, count))


def _work_in_child(work: Callable[[T], R], items: Sequence[T], queue: int, step: int, out: Any) -> None:
    """Work what the queue gives, pickle each result into `out`, and end without returning."""
    code = 1
    try:
        # One pickler for the whole part: what results share is written once.
        pickler = pickle.Pickler(out, protocol=pickle.HIGHEST_PROTOCOL)
        for index in _taken(queue, step, len(items)):
            pickler.dump((index, work(items[index])))
        out.flush()
        code = 0
    finally:
        os._exit(code)  # never back into the caller's code, nor its atexit handlers


def _read_back(out: Any, count: int) -> dict[int, Any]:
    """The child's results by index; what cannot be read is left to the checker."""
    out.seek(0)
    unpickler = pickle.Unpickler(out)  # written by this process's own child, into a file only it can see
    results: dict[int, Any] = {}
    try:
        while True:
            index, result = unpickler.load()
            if not isinstance(index, int) or not 0 <= index < count:
                return {}
            results[index] = result
    except EOFError:
        return results
    except Exception:
        return {}
