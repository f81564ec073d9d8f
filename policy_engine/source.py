"""Source text and spans: offsets inside, line and column only at the edges."""

from __future__ import annotations

import bisect
import itertools
from dataclasses import dataclass, field
from typing import Any, ClassVar


@dataclass(frozen=True, slots=True)
class Location:
    """A 1-based line and column in a file, as reports show it."""

    path: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.column}"

    def __reduce__(self) -> tuple[Any, ...]:
        return (Location, (self.path, self.line, self.column))  # as Finding.__reduce__ says


@dataclass(eq=False, slots=True)
class SourceFile:
    """The text of one file, with how many lines begin before each block of it.

    A table of every line start cost 0.45 s over the 45 MB of the
    100k-initiative JSON plan; counting line breaks per block is done in C
    and costs a tenth of that, and a lookup then scans one block at most.
    """

    path: str
    text: str
    _breaks_before: list[int] = field(default_factory=list, repr=False)  # per block of BLOCK characters

    BLOCK: ClassVar[int] = 1024

    def __reduce__(self) -> tuple[type[SourceFile], tuple[str, str]]:
        return SourceFile, (self.path, self.text)  # the block table is rebuilt when asked for

    def _blocks(self) -> list[int]:
        if not self._breaks_before:
            text, block = self.text, self.BLOCK
            counts = (text.count("\n", start, start + block) for start in range(0, len(text), block))
            self._breaks_before = list(itertools.accumulate(counts, initial=0))
        return self._breaks_before

    def _line_start(self, breaks: int) -> int:
        """The offset where the line after the first `breaks` line breaks starts."""
        if breaks <= 0:
            return 0
        before = self._blocks()
        block = bisect.bisect_left(before, breaks) - 1  # the block holding that line break
        position = block * self.BLOCK - 1
        for _ in range(breaks - before[block]):
            position = self.text.find("\n", position + 1)
        return position + 1

    def line_col(self, offset: int) -> tuple[int, int]:
        """The 1-based line and column of a character offset."""
        offset = max(0, min(offset, len(self.text)))
        block = offset // self.BLOCK
        breaks = self._blocks()[block] + self.text.count("\n", block * self.BLOCK, offset)
        # Usually the line starts in the same block; a long line is followed
        # back from the block that holds its break, never scanned whole.
        start = self.text.rfind("\n", block * self.BLOCK, offset) + 1 or self._line_start(breaks)
        return breaks + 1, offset - start + 1

    def location(self, offset: int) -> Location:
        line, column = self.line_col(offset)
        return Location(self.path, line, column)

    def line_text(self, line: int) -> str:
        """The text of a 1-based line, without its line break."""
        if line < 1 or line - 1 > self._blocks()[-1]:
            return ""
        start = self._line_start(line - 1)
        end = self.text.find("\n", start)
        return self.text[start : end if end != -1 else len(self.text)].rstrip("\r")


@dataclass(frozen=True, slots=True)
class Span:
    """A half-open range of character offsets in a source file."""

    source: SourceFile
    start: int
    end: int

    @property
    def text(self) -> str:
        return self.source.text[self.start : self.end]

    @property
    def location(self) -> Location:
        return self.source.location(self.start)


def underline(text: str, column: int, length: int) -> str:
    """The caret line under `length` characters of `text` from 1-based `column`.

    It lines up in a terminal: a tab under a tab, two cells under a wide
    (East Asian) character, none under a combining mark.
    """
    pad = "".join("\t" if ch == "\t" else " " * _cells(ch) for ch in text[: column - 1])
    underlined = text[column - 1 : column - 1 + length]
    return pad + "^" * max(1, sum(map(_cells, underlined)))


def _cells(ch: str) -> int:
    if ch.isascii():
        return 1
    import unicodedata  # only for a line that is not ASCII: not on a check's start-up

    if unicodedata.combining(ch) or unicodedata.category(ch) in ("Mn", "Me", "Cf"):
        return 0
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def not_utf8(data: bytes, exc: UnicodeDecodeError) -> tuple[int, int, str]:
    """Where a file's first byte that is not UTF-8 stands (line, column) and what to say of it.

    When the word around it reads as Windows-1252, as older editors save a
    file, the message shows that word, so that the writer sees which one.
    """
    before = data[: exc.start]
    line = before.count(b"\n") + 1
    column = len(before[before.rfind(b"\n") + 1 :].decode("utf-8", "replace")) + 1
    message = f"file is not UTF-8: byte 0x{data[exc.start]:02x} cannot be decoded"
    if word := _as_windows_1252(data, exc.start):
        message += f"; it reads as Windows-1252 ('{word}'): save the file as UTF-8"
    return line, column, message


def _as_windows_1252(data: bytes, at: int) -> str | None:
    start = max(data.rfind(b" ", 0, at), data.rfind(b"\n", 0, at)) + 1
    ends = [end for end in (data.find(b" ", at), data.find(b"\n", at), data.find(b"\r", at)) if end >= 0]
    try:
        word = data[start : min(ends, default=len(data))].decode("cp1252")
    except UnicodeDecodeError:
        return None
    return word.strip("\"'") if word.isprintable() else None
