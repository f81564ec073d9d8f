"""JSON plan files: values from the C parser, positions only when asked for.

`json.loads` is fast but keeps no positions. Positions are needed only for
the entities that something is reported about, so a file's position index is
built by a small tokenizer the first time one of its positions is asked for.
"""

from __future__ import annotations

import bisect
import json
import re
from typing import Any

from policy_engine.plan.yamlread import KEY, MAX_DEPTH, Path, YamlProblem


def read_json(text: str) -> Any:
    """The value of a JSON text; raises YamlProblem with the error's position."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise YamlProblem(f"JSON syntax error: {exc.msg}", exc.lineno, exc.colno) from None
    except RecursionError:
        raise YamlProblem("the document is nested too deeply", 1, 1) from None
    _check_depth(value)
    return value


def _check_depth(value: Any) -> None:
    stack = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise YamlProblem(f"the document is nested more than {MAX_DEPTH} levels deep", 1, 1)
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values() if isinstance(v, dict | list))
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item if isinstance(v, dict | list))


class JsonPositions:
    """The positions of one entity inside a JSON file, indexed on first use."""

    __slots__ = ("_element", "_file")

    def __init__(self, file: JsonFileIndex, element: int | None) -> None:
        self._file, self._element = file, element

    def get(self, path: Path, /) -> tuple[int, int] | None:
        return self._file.get(self._element, path)


_WS = re.compile(r"[ \t\n\r]*")


class JsonFileIndex:
    """Where the entities of a JSON file stand, worked out only for those asked about.

    The C scanner of the `json` module gives each value's end, so the start of
    every array element is found at C speed; an entity's own fields are
    indexed by walking just its object, the first time one is asked for.
    """

    __slots__ = ("_element_starts", "_entities", "_line_starts", "_scan", "_text")

    def __init__(self, text: str) -> None:
        self._text = text
        self._scan = json.JSONDecoder().scan_once  # type: ignore[attr-defined]
        self._element_starts: list[int] | None = None
        self._line_starts: list[int] = []
        self._entities: dict[int | None, dict[Path, int]] = {}

    def entity(self, element: int | None) -> JsonPositions:
        """Positions of the array element `element`, or of the file's one entity (None)."""
        return JsonPositions(self, element)

    def get(self, element: int | None, path: Path) -> tuple[int, int] | None:
        offsets = self._entities.get(element)
        if offsets is None:
            offsets = self._entities[element] = {}
            self._walk(self._start_of(element), (), offsets)
        offset = offsets.get(path)
        if offset is None:
            return None
        if not self._line_starts:
            self._line_starts = [0, *(m.end() for m in re.finditer("\n", self._text))]
        line = bisect.bisect_right(self._line_starts, offset) - 1
        return line + 1, offset - self._line_starts[line] + 1

    def _start_of(self, element: int | None) -> int:
        text = self._text
        first = _WS.match(text, 0).end()  # type: ignore[union-attr]
        if element is None:
            return first
        if self._element_starts is None:
            starts: list[int] = []
            idx = _WS.match(text, first + 1).end()  # type: ignore[union-attr]
            while idx < len(text) and text[idx] != "]":
                starts.append(idx)
                _, end = self._scan(text, idx)
                idx = _WS.match(text, end).end()  # type: ignore[union-attr]
                if text[idx : idx + 1] == ",":
                    idx = _WS.match(text, idx + 1).end()  # type: ignore[union-attr]
            self._element_starts = starts
        return self._element_starts[element]

    def _walk(self, idx: int, path: Path, out: dict[Path, int]) -> int:
        """Record where the value at `idx` and everything in it stand; return its end."""
        text, ws = self._text, _WS
        out[path] = idx
        opening = text[idx]
        if opening not in "{[":
            return int(self._scan(text, idx)[1])
        idx = ws.match(text, idx + 1).end()  # type: ignore[union-attr]
        closing = "}" if opening == "{" else "]"
        index = 0
        while text[idx] != closing:
            if opening == "{":
                key, key_end = self._scan(text, idx)
                out[(*path, key, KEY)] = idx
                idx = ws.match(text, ws.match(text, key_end).end() + 1).end()  # type: ignore[union-attr]
                end = self._walk(idx, (*path, key), out)
            else:
                end = self._walk(idx, (*path, index), out)
                index += 1
            idx = ws.match(text, end).end()  # type: ignore[union-attr]
            if text[idx] == ",":
                idx = ws.match(text, idx + 1).end()  # type: ignore[union-attr]
        return idx + 1
