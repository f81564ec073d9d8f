"""JSON plan files: values from the C parser, positions only when asked for.

`json.loads` is fast but keeps no positions. Positions are needed only for
the entities that something is reported about, so a file's position index is
found by descending along the path asked for, skipping siblings at C speed.
"""

from __future__ import annotations

import functools
import json
import re
from collections import Counter
from typing import Any

from policy_engine.plan.yamlread import KEY, MAX_DEPTH, Path, YamlProblem
from policy_engine.source import SourceFile


def read_json(text: str) -> tuple[Any, list[int] | None, list[YamlProblem]]:
    """The value of a JSON text, where each element starts when it is an array,
    and the problems that stopped some elements.

    An array is read element by element with the C scanner, which gives each
    element's start for free; a broken array keeps the elements before its
    error, and an element that writes a key twice costs only itself. Anything
    else is read whole by the same decoder, and raises YamlProblem with the
    error's position. A key written twice in one object is an error, at the
    second key, as in YAML.
    """
    read = _array(text)
    if read is not None:
        return read  # each element's depth checked on the way
    try:
        value = _DECODER.decode(text)
    except _DuplicateKey as exc:
        raise _duplicate_problem(text, _WS.match(text).end(), exc.key) from None  # type: ignore[union-attr]
    except json.JSONDecodeError as exc:
        raise decode_problem(exc) from None
    except RecursionError:
        raise YamlProblem("the document is nested too deeply", 1, 1) from None
    _check_depth(value)
    return value, None, []


def _array(text: str) -> tuple[list[Any], list[int], list[YamlProblem]] | None:
    """A top-level array, its elements' starts and its problems; None if not an array.

    After a syntax error, reading goes on at the next line that starts an
    element (`  {`, see _NextElement), as a pretty-printed plan writes them:
    one typo does not lose the rest of the file. A file whose elements do not
    each start a line loses what follows the error. A ']' followed by more
    elements is a problem, and the elements are read.
    """
    ws = _WS
    idx = ws.match(text, 0).end()  # type: ignore[union-attr]
    if text[idx : idx + 1] != "[":
        return None
    array_start = idx
    idx = ws.match(text, idx + 1).end()  # type: ignore[union-attr]
    values: list[Any] = []
    starts: list[int] = []
    problems: list[YamlProblem] = []
    deep: list[Any] = []  # elements that may be nested too deeply
    next_element = _NextElement(text)
    ended_early = False  # a ']' before more elements was found
    if text[idx : idx + 1] == "]":
        idx += 1
    else:
        while True:
            resume = None  # after an error: where to look for the next element
            try:
                value, end = _SCAN(text, idx)
            except _DuplicateKey as exc:
                problems.append(_duplicate_problem(text, idx, exc.key))
                value = _SKIPPED
                try:
                    _, end = _SCAN_ANY_KEYS(text, idx)  # where the element ends, to go on after it
                except (StopIteration, ValueError, RecursionError):
                    problems.append(_element_problem(text, idx))
                    resume = idx + 1
            except (StopIteration, ValueError, RecursionError):
                problems.append(_element_problem(text, idx))
                value, resume = _SKIPPED, idx + 1
            if resume is None:
                if value is not _SKIPPED:
                    if text.count("{", idx, end) + text.count("[", idx, end) > MAX_DEPTH:
                        deep.append(value)  # with no more brackets than that, it cannot be too deep
                    values.append(value)
                    starts.append(idx)
                after = ws.match(text, end).end()  # type: ignore[union-attr]
                following = text[after : after + 1]
                if following == ",":
                    idx = ws.match(text, after + 1).end()  # type: ignore[union-attr]
                    continue
                if following == "]":
                    # `}], {` is a ']' too many, not the end: the elements after it are read.
                    element = more = ws.match(text, after + 1).end()  # type: ignore[union-attr]
                    if text[more : more + 1] == ",":
                        element = ws.match(text, more + 1).end()  # type: ignore[union-attr]
                    if text[element : element + 1] != "{":
                        idx = after + 1
                        break
                    problems.append(_early_end(text, after, comma_follows=element != more))
                    ended_early = True
                    idx = element
                    continue
                if following == "" and ended_early:
                    idx = after
                    break  # the ']' that ended the array early was told to move here
                if following == "":
                    problems.append(_never_closed(text, array_start))
                    return values, starts, problems
                if following == "}":
                    message = "JSON syntax error: a '}' too many: the object before it is closed already"
                    problems.append(YamlProblem(message, *SourceFile("", text).line_col(after), "remove it"))
                else:
                    problems.append(
                        decode_problem(json.JSONDecodeError("Expecting ',' delimiter", text, after))
                    )
                # The next element may start right here (a comma left out); never the one just read.
                resume = max(text.rfind("\n", 0, after) + 1, idx + 1)
            found = next_element.at_or_after(resume)
            if found is None:
                return values, starts, problems
            idx = found
    if ws.match(text, idx).end() != len(text):  # type: ignore[union-attr]
        extra = ws.match(text, idx).end()  # type: ignore[union-attr]
        return values, starts, [*problems, decode_problem(json.JSONDecodeError("Extra data", text, extra))]
    for value in deep:
        _check_depth(value, 1)
    return values, starts, problems


def _early_end(text: str, bracket: int, comma_follows: bool) -> YamlProblem:
    """A ']' that closes the array before more elements, with the fix the rest of the file asks for."""
    if not text.rstrip(" \t\r\n").endswith("]"):
        fix = "move it to the end of the file"
    else:
        fix = "remove it" if comma_follows else "write a ',' in its place"
        fix += ": the array ends at the last ']' of the file"
    message = "JSON syntax error: this ']' ends the array, but more entities follow it"
    return YamlProblem(message, *SourceFile("", text).line_col(bracket), fix)


def _element_problem(text: str, start: int) -> YamlProblem:
    """The error of the array element that starts at `start`, as the standard decoder finds it."""
    try:
        _PLAIN_DECODER.raw_decode(text, start)
    except json.JSONDecodeError as exc:
        return decode_problem(exc, start)
    except RecursionError:
        pass
    return YamlProblem("the document is nested too deeply", 1, 1)


_OBJECT_LINE = re.compile(r"^([ \t]*)\{", re.MULTILINE)


class _NextElement:
    """Where reading a broken array goes on: the next line that starts an element.

    An element starts its line with `{` after the indentation most such
    lines have; an object nested in an element (a link, say) is indented
    deeper, and rarer. Worked out at the first error only.
    """

    def __init__(self, text: str) -> None:
        self._text = text

    @functools.cached_property
    def _line(self) -> re.Pattern[str] | None:
        indents = Counter(match.group(1) for match in _OBJECT_LINE.finditer(self._text))
        usual = max(indents, key=lambda indent: (indents[indent], -len(indent)), default=None)
        return None if usual is None else re.compile("^" + re.escape(usual) + r"\{", re.MULTILINE)

    def at_or_after(self, offset: int) -> int | None:
        found = self._line.search(self._text, offset) if self._line else None
        return found.end() - 1 if found else None


def decode_problem(exc: json.JSONDecodeError, start: int = 0) -> YamlProblem:
    """The decoder's error in a plan author's words, located where the mistake is.

    The decoder stops where it noticed: at the '}' after a trailing comma, at
    the line break inside a text that is never closed, at the end of a file
    that ends inside an object. The mistake is the comma, the quote that
    opens the text, and the '{' never closed. `start` is where the value
    being read starts: brackets are matched from there.
    """
    text, pos, message = exc.doc, exc.pos, exc.msg
    at, hint = pos, None
    ends_here = not text[pos:].strip(" \t\r\n")
    if ends_here and message == "Expecting value":
        message = "the file ends where a value should be"
    elif (
        ends_here
        and message.startswith("Expecting")
        and (bracket := _innermost_open(text, start, pos)) is not None
    ):
        return _never_closed(text, bracket)
    elif message == "Expecting ',' delimiter" and text[pos : pos + 1] in ("}", "]"):
        bracket = _innermost_open(text, start, pos)
        if bracket is not None and _CLOSER[text[bracket]] != text[pos]:
            line, column = SourceFile("", text).line_col(bracket)
            message = (
                f"this '{text[pos]}' does not close the '{text[bracket]}' at line {line}, column {column}"
            )
            hint = f"close it with '{_CLOSER[text[bracket]]}'"
    elif text[pos : pos + 2] in ("//", "/*") or text[pos : pos + 1] == "#":  # as JSONC and JSON5 allow
        message, hint = "a comment: JSON has none", "remove it, or keep the plan in YAML, which has comments"
    elif message in ("Expecting value", "Expecting property name enclosed in double quotes"):
        comma = _last_non_space(text, pos)
        if text[comma : comma + 1] == "," and text[pos : pos + 1] in ("}", "]"):
            at = comma
            message = f"a comma before '{text[pos]}': JSON has no comma after the last item"
        elif text[pos : pos + 1] == "'":
            hint = "JSON writes texts and keys in double quotes"
        elif message.startswith("Expecting property") and (bare := _BARE_KEY.match(text, pos)):
            hint = f'write "{bare.group()}"'
    elif message == "Invalid control character at":
        opening = _opening_quote(text, pos)
        if text[pos] in "\r\n" and opening is not None:
            at, message = opening, "this text is not closed on its line"
        else:
            message = f"a control character ({text[pos]!r}) inside a text: write it as an escape such as \\t"
    elif message == "Unterminated string starting at":
        message = "this text is never closed"
    elif message == "Extra data":
        message = "more after the end of the document"
        hint = "a JSON file holds one entity object, or an array of them: [{...}, {...}]"
    elif message == "Invalid \\uXXXX escape" and text[pos - 1 : pos] == "\\":
        at = pos - 1  # the decoder points at the u; the escape starts at the backslash
    message = _PLAIN.get(message, message)
    return YamlProblem(f"JSON syntax error: {message}", *SourceFile("", text).line_col(at), hint)


def _never_closed(text: str, bracket: int) -> YamlProblem:
    closer = _CLOSER[text[bracket]]
    message = f"JSON syntax error: this '{text[bracket]}' is never closed: the file ends first"
    return YamlProblem(message, *SourceFile("", text).line_col(bracket), f"close it with '{closer}'")


def _innermost_open(text: str, start: int, end: int) -> int | None:
    """Where the innermost bracket still open at `end` stands, reading from `start` (None: none is)."""
    opened: list[int] = []
    for token in _BRACKET_OR_TEXT.finditer(text, start, end):
        char = token.group()
        if char in "[{":
            opened.append(token.start())
        elif char in "]}" and opened:
            opened.pop()
    return opened[-1] if opened else None


_BRACKET_OR_TEXT = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')
_CLOSER = {"[": "]", "{": "}"}
_BARE_KEY = re.compile(r"[A-Za-z_][\w-]*")
_PLAIN = {  # the decoder's other messages, in the words of the YAML reader's
    "Expecting value": "expected a value",
    "Expecting property name enclosed in double quotes": "expected a key in double quotes",
    "Expecting ',' delimiter": "a ',' is missing before this",
    "Expecting ':' delimiter": "a ':' is missing after the key",
    "Invalid \\escape": 'an escape JSON does not have (it has \\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)',
    "Invalid \\uXXXX escape": "\\u takes four hexadecimal digits",
}


def _opening_quote(text: str, pos: int) -> int | None:
    """The quote that opens the text `pos` is in: the last quote before it not escaped."""
    quote = text.rfind('"', 0, pos)
    while quote >= 0:
        backslash = quote
        while backslash > 0 and text[backslash - 1] == "\\":
            backslash -= 1
        if (quote - backslash) % 2 == 0:
            return quote
        quote = text.rfind('"', 0, backslash)
    return None


def _last_non_space(text: str, pos: int) -> int:
    """Where the last character before `pos` that is not JSON whitespace stands (-1: none)."""
    at = pos - 1
    while at >= 0 and text[at] in " \t\r\n":
        at -= 1
    return at


def _check_depth(value: Any, depth: int = 0) -> None:
    stack = [(value, depth)]
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
_STRING = r'"[^"\\]*(?:\\.[^"\\]*)*"'
_SCALAR = rf"{_STRING}|-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?|true|false|null"
# A member of an object: its key, and its value when that is a scalar, with
# the blanks after it; an item of an array likewise.
_MEMBER = re.compile(rf"[ \t\n\r]*({_STRING})[ \t\n\r]*:[ \t\n\r]*(?:({_SCALAR})[ \t\n\r]*)?")
_ITEM = re.compile(rf"[ \t\n\r]*(?:({_SCALAR})[ \t\n\r]*)?")
# A value that nests no deeper than one array or object of scalars: what
# nearly every member of a plan entity holds. The text is valid JSON by the
# time positions are asked for, so a scalar other than a string is any run
# of characters that JSON does not use as punctuation: a smaller pattern,
# which compiles in half the time (about 0.8 ms for each name looked up).
_W = r"[ \t\n\r]*"
_TOKEN = rf'{_STRING}|[^"\[\]{{}},:\s]+'
_ITEMS = rf"(?:{_TOKEN}){_W}(?:,{_W}(?:{_TOKEN}){_W})*"
_PAIR = rf"{_STRING}{_W}:{_W}(?:{_TOKEN}){_W}"
_FLAT = rf"(?:{_TOKEN}|\[{_W}(?:{_ITEMS})?\]|\{{{_W}(?:{_PAIR}(?:,{_W}{_PAIR})*)?\}})"


class _DuplicateKey(Exception):
    """An object names a key twice: YAML refuses that, so JSON does too."""

    def __init__(self, key: str) -> None:
        self.key = key


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found = dict(pairs)
    if len(found) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _DuplicateKey(key)
            seen.add(key)
    return found


_DECODER = json.JSONDecoder(object_pairs_hook=_unique)
_SCAN = _DECODER.scan_once  # type: ignore[attr-defined]  # the C scanner: (value, end)
_PLAIN_DECODER = json.JSONDecoder()  # no duplicate-key check: where a value ends, what is wrong in it
_SCAN_ANY_KEYS = _PLAIN_DECODER.scan_once  # type: ignore[attr-defined]
_SKIPPED = object()
_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|[{}\[\]:]')


def _duplicate_problem(text: str, start: int, key: str) -> YamlProblem:
    """`duplicate key` at the second writing of `key` in one object of the value at `start`."""
    at = start
    keys_of: list[set[str] | None] = []  # per open container: an object's keys so far
    last: tuple[str, int] | None = None  # the string just read, and where
    for match in _TOKENS.finditer(text, start):
        token = match.group()
        if token == ":" and last is not None and keys_of and keys_of[-1] is not None:
            if last[0] == key and key in keys_of[-1]:
                at = last[1]
                break
            keys_of[-1].add(last[0])
        elif token in ("{", "["):
            keys_of.append(set() if token == "{" else None)
        elif token in ("}", "]"):
            keys_of.pop()
            if not keys_of:
                break
        last = (json.loads(token), match.start()) if token[0] == '"' else None
    return YamlProblem(f"duplicate key '{key}'", *SourceFile("", text).line_col(at))


class JsonFileIndex:
    """Where the entities of a JSON file stand, worked out only for what is asked.

    Array elements start where `read_json` found them; a path inside an
    entity is found by descending along that path alone, skipping every
    sibling value with the C scanner, and remembered.
    """

    __slots__ = ("_element_starts", "_found", "_source", "_text")

    def __init__(self, source: SourceFile, element_starts: list[int] | None = None) -> None:
        self._source = source  # whose line index reports share
        self._text = source.text
        self._element_starts = element_starts
        self._found: dict[tuple[int | None, Path], int | None] = {}

    def entity(self, element: int | None) -> JsonPositions:
        """Positions of the array element `element`, or of the file's one entity (None)."""
        return JsonPositions(self, element)

    def get(self, element: int | None, path: Path) -> tuple[int, int] | None:
        offset = self._offset(element, path)
        if offset is None:
            return None
        return self._source.line_col(offset)

    def _offset(self, element: int | None, path: Path) -> int | None:
        key = (element, path)
        if key in self._found:
            return self._found[key]
        if not path:
            found = self._start_of(element)
        elif path[-1] == KEY:
            found = self._member(element, path[:-2], path[-2], want_key=True)
        else:
            found = self._member(element, path[:-1], path[-1], want_key=False)
        self._found[key] = found
        return found

    def _member(self, element: int | None, parent: Path, name: str | int, want_key: bool) -> int | None:
        """Where member `name` of the container at `parent` (or its key) starts.

        One regular expression match steps over a member whose value is a
        scalar; the C scanner steps over an object or array value.
        """
        start = self._offset(element, parent)
        if start is None:
            return None
        text = self._text
        opening = text[start]
        if opening not in "{[" or (opening == "{") != isinstance(name, str):
            return None
        if opening == "{":
            # One match over the flat members before it; a deeper one, or a
            # key written with escapes, leaves it to the member-by-member walk.
            found = _member_after_flat_ones(name).match(text, start)
            if found is not None:
                return found.start(1) if want_key else found.end()
        step = _MEMBER if opening == "{" else _ITEM
        idx, index = start + 1, 0
        while True:
            match = step.match(text, idx)
            if match is None:
                return None  # `}`: no such member
            scalar = match.lastindex == 2 if opening == "{" else match.lastindex == 1
            value_start = match.start(match.lastindex) if scalar else match.end()  # type: ignore[arg-type]
            if opening == "{":
                raw = match[1]
                if (raw[1:-1] if "\\" not in raw else json.loads(raw)) == name:
                    return match.start(1) if want_key else value_start
            elif not scalar and text[value_start] == "]":
                return None  # the end of the array
            elif index == name:
                return None if want_key else value_start
            end = match.end() if scalar else _WS.match(text, _SCAN(text, value_start)[1]).end()  # type: ignore[union-attr]
            if text[end] != ",":
                return None
            idx, index = end + 1, index + 1

    def _start_of(self, element: int | None) -> int | None:
        if element is None:
            return int(_WS.match(self._text, 0).end())  # type: ignore[union-attr]
        return self._element_starts[element] if self._element_starts is not None else None


@functools.lru_cache(maxsize=256)
def _member_after_flat_ones(name: str) -> re.Pattern[str]:
    """An object's first member called `name`, after members with flat values only."""
    key = re.escape(json.dumps(name, ensure_ascii=False))
    # Keys before it without escapes, which could spell `name` another way.
    return re.compile(rf'\{{{_W}(?:"[^"\\]*"{_W}:{_W}{_FLAT}{_W},{_W})*?({key}){_W}:{_W}')
