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

from policy_engine.plan.yamlread import KEY, MAX_DEPTH, Path, Positions, YamlProblem

_TOKEN = re.compile(
    r'"(?:[^"\\]|\\.)*"'  # string
    r"|[{}\[\],:]"  # punctuation
    r"|[^\s{}\[\],:\"]+"  # number, true, false, null
)


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

    __slots__ = ("_file", "_prefix")

    def __init__(self, file: JsonFileIndex, prefix: Path) -> None:
        self._file, self._prefix = file, prefix

    def get(self, path: Path, /) -> tuple[int, int] | None:
        return self._file.positions().get(self._prefix + path)


class JsonFileIndex:
    """Builds the path → (line, column) index of a whole JSON file once."""

    __slots__ = ("_positions", "_text")

    def __init__(self, text: str) -> None:
        self._text = text
        self._positions: Positions | None = None

    def positions(self) -> Positions:
        if self._positions is None:
            self._positions = _index(self._text)
            self._text = ""
        return self._positions

    def entity(self, prefix: Path) -> JsonPositions:
        return JsonPositions(self, prefix)


def _index(text: str) -> Positions:
    starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def line_col(offset: int) -> tuple[int, int]:
        line = bisect.bisect_right(starts, offset) - 1
        return line + 1, offset - starts[line] + 1

    positions: Positions = {}
    # Each frame: [path, is_object, pending key (object) or next index (array)]
    stack: list[list[Any]] = []
    path: Path = ()
    for match in _TOKEN.finditer(text):
        token = match.group()
        if token in ",:":
            continue
        if token in "]}":
            stack.pop()
            continue
        frame = stack[-1] if stack else None
        if frame is not None and frame[1] and frame[2] is None:
            # An object key: remember it, and where it stands.
            key = json.loads(token) if token.startswith('"') else token
            frame[2] = key
            positions[(*frame[0], key, KEY)] = line_col(match.start())
            continue
        if frame is None:
            path = ()
        elif frame[1]:
            path = (*frame[0], frame[2])
            frame[2] = None
        else:
            path = (*frame[0], frame[2])
            frame[2] += 1
        positions[path] = line_col(match.start())
        if token == "{":
            stack.append([path, True, None])
        elif token == "[":
            stack.append([path, False, 0])
    return positions
