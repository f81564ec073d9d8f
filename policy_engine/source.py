"""Source text and spans: offsets inside, line and column only at the edges."""

from __future__ import annotations

import bisect
import itertools
import operator
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Location:
    """A 1-based line and column in a file, as reports show it."""

    path: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.column}"


@dataclass(eq=False, slots=True)
class SourceFile:
    """The text of one file, with the offsets where its lines start."""

    path: str
    text: str
    _line_starts: list[int] = field(default_factory=list, repr=False)

    def _starts(self) -> list[int]:
        if not self._line_starts:
            # Each line starts one past the end of the previous one; summed in C
            # (a find() loop took 1 s over the 100k-initiative plan).
            lengths_with_break = map(operator.add, map(len, self.text.split("\n")), itertools.repeat(1))
            self._line_starts = [0, *itertools.accumulate(lengths_with_break)][:-1]
        return self._line_starts

    def line_col(self, offset: int) -> tuple[int, int]:
        """The 1-based line and column of a character offset."""
        starts = self._starts()
        offset = max(0, min(offset, len(self.text)))
        index = bisect.bisect_right(starts, offset) - 1
        return index + 1, offset - starts[index] + 1

    def location(self, offset: int) -> Location:
        line, column = self.line_col(offset)
        return Location(self.path, line, column)

    def line_text(self, line: int) -> str:
        """The text of a 1-based line, without its line break."""
        starts = self._starts()
        if not 1 <= line <= len(starts):
            return ""
        start = starts[line - 1]
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
