"""Work through a list on two cores: a forked child takes items from a shared queue.

Parsing is most of a cold check of a big plan, and evaluating its rules most
of the rest; files parse, and rules evaluate, independently of each other.
The list's indices wait in a pipe; the checker and a forked child each take
the next one whenever they are free, so the faster one takes more and no
weighing in advance is needed. The child pickles each result into a private
temporary file as it goes and announces where it ends; between its own items
the checker reads back what the child has finished, so that reading back is
shared out with the rest of the work instead of waiting at the end.

The results are the same objects, in the same order, as one process would
make. Anything that goes wrong on the child's side (it fails, is killed,
writes nothing) only means the checker works the items the child did not
bring back.
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
_END = 8  # bytes of one announcement: where the child's output now ends


def map_on_two_cores(work: Callable[[T], R], items: Sequence[T], worth_a_fork: bool = True) -> list[R]:
    """`[work(item) for item in items]`, shared with a forked child when that is possible.

    The caller says whether the work is big enough to pay for a fork.
    """
    if not worth_a_fork or len(items) < 2 or not _can_fork():
        return [work(item) for item in items]
    import signal  # only now: making its enums costs every start-up 2 to 3 ms

    step = -(-len(items) // _MAX_RECORDS)  # items per queue entry
    done: dict[int, R] = {}
    with contextlib.ExitStack() as stack:
        try:
            out = stack.enter_context(tempfile.TemporaryFile())
            queue = _queue(len(items), step)
            stack.callback(os.close, queue)
            ends, announce = os.pipe()
            stack.callback(os.close, ends)
        except OSError:  # nowhere to put the child's part: one process does it all
            return [work(item) for item in items]
        try:
            child = os.fork()
        except OSError:  # no memory or no process left for a child: likewise
            child = -1
        if child == 0:
            _work_in_child(work, items, queue, step, out.fileno(), announce)
        os.close(announce)  # so that `ends` reads as empty once the child has gone
        if child > 0:
            results = _Results(out.fileno(), ends, len(items))
            try:
                for start in _taken(queue):
                    for index in range(start, min(start + step, len(items))):
                        done[index] = work(items[index])
                    results.read_finished(done)
                results.read_finished(done, until_the_child_ends=True)
                os.waitpid(child, 0)
                child = 0
            finally:
                if child > 0:  # the parent failed or was interrupted: the child's work is not wanted
                    with contextlib.suppress(OSError):
                        os.kill(child, signal.SIGKILL)
                    with contextlib.suppress(OSError):
                        os.waitpid(child, 0)
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


def _taken(queue: int) -> Iterator[int]:
    """The first index of each queue entry this process takes, until the queue is empty."""
    # A read of one entry is atomic: the other process never gets half of it.
    while entry := os.read(queue, _RECORD):
        yield int.from_bytes(entry, "little")


def _work_in_child(
    work: Callable[[T], R], items: Sequence[T], queue: int, step: int, out: int, announce: int
) -> None:
    """Work what the queue gives, pickle each entry's results into `out`, and end without returning.

    Each entry is one pickle, appended whole before its end is announced, so
    that the checker never reads one the child is still writing.
    """
    code = 1
    try:
        end = 0
        for start in _taken(queue):
            results = [work(items[index]) for index in range(start, min(start + step, len(items)))]
            data = pickle.dumps((start, results), protocol=pickle.HIGHEST_PROTOCOL)
            view = memoryview(data)
            while view:
                view = view[os.write(out, view) :]
            end += len(data)
            os.write(announce, end.to_bytes(_END, "little"))  # 8 bytes: a pipe writes them whole
        code = 0
    finally:
        os._exit(code)  # never back into the caller's code, nor its atexit handlers


class _Results:
    """The child's results, read back entry by entry as the child announces them."""

    def __init__(self, out: int, ends: int, count: int) -> None:
        self._out = out
        self._ends = ends
        self._count = count
        self._pending = b""  # announcements read but not yet whole
        self._read_to = 0  # how far the child's output has been read
        self._broken = False  # something unreadable: the rest is left to the checker

    def read_finished(self, done: dict[int, Any], until_the_child_ends: bool = False) -> None:
        """Add to `done` what the child has announced: so far, or until it has ended."""
        os.set_blocking(self._ends, until_the_child_ends)
        while True:
            try:
                chunk = os.read(self._ends, 512 * _END)
            except BlockingIOError:  # nothing more announced for now
                return
            if not chunk:  # the child has ended: it announces nothing more
                return
            self._pending += chunk
            whole = len(self._pending) - len(self._pending) % _END
            for at in range(0, whole, _END):
                self._read_entry(int.from_bytes(self._pending[at : at + _END], "little"), done)
            self._pending = self._pending[whole:]

    def _read_entry(self, end: int, done: dict[int, Any]) -> None:
        """Read the one entry that ends at `end`."""
        if self._broken:
            return
        try:
            data = os.pread(self._out, end - self._read_to, self._read_to)
            # Written by this process's own child, into a file only it can see.
            start, results = pickle.loads(data)
            if not isinstance(start, int) or not 0 <= start <= self._count - len(results):
                raise ValueError("an entry out of range")
        except Exception:
            self._broken = True
            return
        self._read_to = end
        for offset, result in enumerate(results):
            done[start + offset] = result
