"""YAML 1.2 documents with the position of every value, read through libyaml.

PyYAML resolves plain scalars by YAML 1.1 (`no` is false, `12:30` is 750).
We let libyaml compose nodes with their marks, tag every plain scalar as
unresolved, and resolve it here by the YAML 1.2 core schema.
"""

from __future__ import annotations

import math
import re
from array import array
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

import yaml
import yaml.reader
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.resolver import BaseResolver

try:
    from yaml._yaml import CParser as _Parser
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    from yaml import Loader as _Parser  # type: ignore[assignment]

MAX_DEPTH = 64  # nesting of mappings and sequences in one document
MAX_NODES = 100_000  # values in one document, counting every alias expansion

PLAIN = "!plain"
STR = "tag:yaml.org,2002:str"
KEY = "<key>"  # last element of a path that locates a mapping key, not its value

Path = tuple[str | int, ...]
COLUMN_BITS = 24
COLUMN_MASK = (1 << COLUMN_BITS) - 1
_PATHS: dict[Path, Path] = {}  # one tuple per distinct path, shared by every entity
_MAX_INTERNED = 50_000


class Positions(dict[Path, int]):
    """Path -> (line, column), packed into one int per value to keep big plans small."""

    __slots__ = ()

    def set(self, path: Path, line: int, column: int) -> None:
        self[_shared(_PATHS, path)] = (line << COLUMN_BITS) | min(column, COLUMN_MASK)

    def get(self, path: Path, /) -> tuple[int, int] | None:  # type: ignore[override]
        packed = dict.get(self, path)
        return None if packed is None else (packed >> COLUMN_BITS, packed & COLUMN_MASK)

    def __reduce__(self) -> tuple[type[PackedPositions], tuple[tuple[Path, ...], bytes]]:
        # Pickled as its paths, one tuple shared by every entity of the same
        # shape, and its values as one bytes: rebuilding a dict per entity
        # (3.8 million entries for the 100k plan) was 40% of reading its
        # parse cache back.
        return (PackedPositions, (_shared(_SHAPES, tuple(self)), array("Q", self.values()).tobytes()))


# The paths of an entity's positions: one tuple for every entity of that shape.
_SHAPES: dict[tuple[Path, ...], tuple[Path, ...]] = {}

T = TypeVar("T")


def _shared(table: dict[T, T], key: T) -> T:
    """The one copy of `key` that `table` keeps, so that equal tuples exist once (up to a bound)."""
    found = table.get(key)
    if found is None:
        if len(table) < _MAX_INTERNED:
            table[key] = key
        found = key
    return found


class PackedPositions:
    """Positions read back from a pickle: made a dict only when first asked."""

    __slots__ = ("_packed", "_paths", "_table")

    def __init__(self, paths: tuple[Path, ...], packed: bytes) -> None:
        self._paths, self._packed = paths, packed
        self._table: Positions | None = None

    def get(self, path: Path, /) -> tuple[int, int] | None:
        table = self._table
        if table is None:
            table = self._table = Positions(zip(self._paths, array("Q", self._packed), strict=True))
        return table.get(path)

    def __reduce__(self) -> tuple[type[PackedPositions], tuple[tuple[Path, ...], bytes]]:
        return (PackedPositions, (self._paths, self._packed))


_INT = re.compile(r"[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+")
_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")
_KEYWORDS: dict[str, Any] = {
    "": None, "~": None, "null": None, "Null": None, "NULL": None,
    "true": True, "True": True, "TRUE": True,
    "false": False, "False": False, "FALSE": False,
    ".inf": math.inf, ".Inf": math.inf, ".INF": math.inf,
    "+.inf": math.inf, "+.Inf": math.inf, "+.INF": math.inf,
    "-.inf": -math.inf, "-.Inf": -math.inf, "-.INF": -math.inf,
    ".nan": math.nan, ".NaN": math.nan, ".NAN": math.nan,
}  # fmt: skip


class YamlProblem(Exception):
    """A document that cannot be read, with the 1-based position of the problem.

    `noticed` is where libyaml found out, when that is not where the mistake is
    (the line after a list that is never closed).
    """

    def __init__(
        self,
        message: str,
        line: int,
        column: int,
        hint: str | None = None,
        noticed: tuple[int, int] | None = None,
    ) -> None:
        super().__init__(message)
        self.message, self.line, self.column, self.hint, self.noticed = message, line, column, hint, noticed

    @property
    def text(self) -> str:
        """The message, with where it was noticed and the hint."""
        text = self.message
        if self.noticed is not None:
            text += f" at line {self.noticed[0]}, column {self.noticed[1]}"
        return text + (f" ({self.hint})" if self.hint else "")

    def move_down(self, lines: int) -> None:
        self.line += lines
        if self.noticed is not None:
            self.noticed = (self.noticed[0] + lines, self.noticed[1])


class _Composer(_Parser, BaseResolver):
    """libyaml's composer with YAML 1.1 implicit typing switched off."""

    def resolve(self, kind: type[Node], value: Any, implicit: tuple[bool, bool]) -> str:
        if kind is ScalarNode:
            return PLAIN if implicit[0] else STR
        return str(BaseResolver.resolve(self, kind, value, implicit))  # type: ignore[no-untyped-call]


def resolve_plain(text: str) -> Any:
    """The value of a plain scalar under the YAML 1.2 core schema."""
    if text in _KEYWORDS:
        return _KEYWORDS[text]
    if text[0] in "0123456789+-.":
        if _INT.fullmatch(text):
            if text.startswith("0o"):
                return int(text[2:], 8)
            if text.startswith("0x"):
                return int(text[2:], 16)
            return int(text)
        if _FLOAT.fullmatch(text):
            return float(text)
    return text


_TAGGED = {
    STR: str,
    "tag:yaml.org,2002:int": int,
    "tag:yaml.org,2002:float": float,
}


@dataclass(slots=True)
class Document:
    """One YAML document: its value and where each part of it stands."""

    value: Any
    positions: Positions
    line: int
    column: int


def read_documents(text: str) -> Iterator[Document]:
    """Every document of a YAML stream; raises YamlProblem at the first bad one."""
    composer = _Composer(text)
    number = -1  # of the document read last, counting empty ones as the parser does
    may_alias = "*" in text
    aliases: list[list[tuple[int, int]]] | None = None  # read when a document may have some
    try:
        while True:
            try:
                if not composer.check_node():
                    return
                node = composer.get_node()
            except yaml.MarkedYAMLError as exc:
                raise _problem(exc, text) from None
            except yaml.reader.ReaderError as exc:
                line = text.count("\n", 0, exc.position) + 1
                column = exc.position - (text.rfind("\n", 0, exc.position) + 1) + 1
                code = exc.character if isinstance(exc.character, int) else ord(exc.character)
                message = f"character U+{code:04X} is not allowed in YAML (control characters are not)"
                raise YamlProblem(message, line, column) from None
            except RecursionError:
                raise YamlProblem("the document is nested too deeply", 1, 1) from None
            number += 1
            if node is None:
                continue
            positions = Positions()
            value = _Converter(positions).value(node, (), 0)
            if may_alias:
                if aliases is None:
                    aliases = _alias_marks(text)
                _locate_aliases(node, positions, aliases[number] if number < len(aliases) else [])
            mark = node.start_mark
            yield Document(value, positions, mark.line + 1, mark.column + 1)
    finally:
        composer.dispose()


def _alias_marks(text: str) -> list[list[tuple[int, int]]]:
    """Where each alias (`*name`) is written, per document, as far as the stream reads."""
    marks: list[list[tuple[int, int]]] = []
    parser = _Parser(text)
    try:
        while parser.check_event():
            event = parser.get_event()
            if isinstance(event, yaml.DocumentStartEvent):
                marks.append([])
            elif isinstance(event, yaml.AliasEvent) and marks and (mark := event.start_mark):
                marks[-1].append((mark.line + 1, mark.column + 1))
    except (yaml.YAMLError, RecursionError):
        pass  # the composer tells what is wrong; the documents before it keep their marks
    finally:
        parser.dispose()
    return marks


def _locate_aliases(root: Node, positions: Positions, marks: list[tuple[int, int]]) -> None:
    """Locate what an alias stands for at the alias, not at its anchor.

    libyaml composes an alias as its anchor's node, so the converter placed
    the value at the anchor; a problem in it belongs where the alias was
    written, and so does everything inside it. Nodes met again in document
    order are the aliases, in the order the parser gave their marks.
    """
    found: list[tuple[Path, Node, bool]] = []  # (path, node, is a key) of each alias
    seen: set[int] = set()
    stack: list[tuple[Path, Node, bool]] = [((), root, False)]
    while stack:
        path, node, is_key = stack.pop()
        if id(node) in seen:
            found.append((path, node, is_key))
            continue
        seen.add(id(node))
        if isinstance(node, MappingNode):
            for key_node, value_node in reversed(node.value):
                stack.append(((*path, key_node.value), value_node, False))
                stack.append(((*path, key_node.value, KEY), key_node, True))
        elif isinstance(node, SequenceNode):
            stack.extend(((*path, i), item, False) for i, item in reversed(list(enumerate(node.value))))
    if len(found) != len(marks):
        return  # not the parser's count: keep the anchors' places rather than guess
    for (path, node, is_key), (line, column) in zip(found, marks, strict=True):
        if is_key:
            positions.set(path, line, column)
        else:
            _relocate(node, path, positions, line, column)


def _relocate(node: Node, path: Path, positions: Positions, line: int, column: int) -> None:
    positions.set(path, line, column)
    if isinstance(node, MappingNode):
        for key_node, value_node in node.value:
            positions.set((*path, key_node.value, KEY), line, column)
            _relocate(value_node, (*path, key_node.value), positions, line, column)
    elif isinstance(node, SequenceNode):
        for i, item in enumerate(node.value):
            _relocate(item, (*path, i), positions, line, column)


# A line that starts a document. YAML forbids `---` at the start of a line
# inside any value, so the documents of a broken stream can be told apart.
_DOCUMENT_START = re.compile(r"^---(?=[ \t\r]|$)", re.MULTILINE)


def read_stream(text: str) -> tuple[list[Document], list[YamlProblem]]:
    """Every document of a YAML stream that can be read, and what stops the others.

    One bad document does not lose the rest of its file: when the stream does
    not read, each document is read on its own, at its own lines.
    """
    try:
        return list(read_documents(text)), []
    except YamlProblem as problem:
        first = problem
    starts = [m.start() for m in _DOCUMENT_START.finditer(text) if m.start() > 0]
    # Directives and comments before the first `---` belong to its document.
    if starts and not _has_content(text[: starts[0]]):
        starts.pop(0)
    if not starts:  # one document: nothing else to keep, and no reason to read it twice
        return [], [first]
    documents: list[Document] = []
    problems: list[YamlProblem] = []
    lines_before = 0
    for begin, end in zip([0, *starts], [*starts, len(text)], strict=True):
        try:
            documents.extend(_moved_down(doc, lines_before) for doc in read_documents(text[begin:end]))
        except YamlProblem as problem:
            problem.move_down(lines_before)
            problems.append(problem)
        lines_before += text.count("\n", begin, end)
    return documents, problems


def _moved_down(doc: Document, lines: int) -> Document:
    shift = lines << COLUMN_BITS
    for path, packed in doc.positions.items():
        dict.__setitem__(doc.positions, path, packed + shift)
    doc.line += lines
    return doc


def _has_content(text: str) -> bool:
    return any(line.strip() and line.lstrip()[0] not in "#%" for line in text.splitlines())


# libyaml's contexts whose start is where the mistake is: an opening that is
# never closed, a key never followed by its colon. libyaml notices later, often
# on the next line; the message says where.
_OPENED_AT = {
    "while scanning a quoted scalar": "the quoted value that starts here is not closed",
    "while parsing a flow sequence": "the '[' list that starts here is not closed",
    "while parsing a flow mapping": "the '{' block that starts here is not closed",
    "while scanning a simple key": "this line is not `key: value`: it has no ':' after the key",
}
_PLAINER = {
    "found unexpected end of stream": "the document ends",
    "found unexpected document indicator": "found '---'",
    "did not find expected key": "expected a key",
    "did not find expected '-' indicator": "expected a '- ' item",
    "did not find expected node content": "expected a value",
}
# Contexts that say nothing a line and column do not: left out of the message.
_WHERE_ONLY = {
    "while parsing a block mapping",
    "while parsing a block collection",
    "while parsing a node",
    "while parsing a block node",
    "while parsing a flow node",
    "while scanning for the next token",
}
_HINTS = {
    "mapping values are not allowed in this context": (
        "a line indented deeper than the key before it, or ': ' inside a plain value, which then needs quotes"
    ),
    "did not find expected key": "a line indented less than its block, or a '- ' item where a key belongs",
    "found character that cannot start any token": "a value starting with @, ` or % is written in quotes",
}


def _problem(exc: yaml.MarkedYAMLError, text: str) -> YamlProblem:
    mark = exc.problem_mark or exc.context_mark
    line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    problem = exc.problem or "invalid YAML"
    message, hint = _plainer(problem), _HINTS.get(problem)
    if exc.context and exc.context not in _WHERE_ONLY:
        message += f" {exc.context}"  # "… while scanning an alias"
    if mark is not None and problem in ("did not find expected key", "did not find expected '-' indicator"):
        before = text[text.rfind("\n", 0, mark.index) + 1 : mark.index]
        if re.search(r"""(^|[:\-]\s)("[^"]*"|'[^']*')\s+$""", before):  # `title: "quoted" rest`
            hint = "a quoted value ends at its closing quote: put all of the value inside the quotes"
    if mark is not None and text[mark.index : mark.index + 1] == "\t":
        message = "a tab where YAML expects indentation or a value"
        hint = "indent with spaces: YAML does not allow tabs for indentation"
    elif exc.context in _OPENED_AT and exc.context_mark is not None:
        message, noticed = _OPENED_AT[exc.context], None
        if exc.context != "while scanning a simple key":
            message, noticed = f"{message}: {_plainer(problem)}", (line, column)
        opened = exc.context_mark
        return YamlProblem(f"YAML syntax error: {message}", opened.line + 1, opened.column + 1, hint, noticed)
    return YamlProblem(f"YAML syntax error: {message}", line, column, hint)


def _plainer(problem: str) -> str:
    return _PLAINER.get(problem) or re.sub(r"^(could|did) not find expected", "expected", problem)


class _Converter:
    """Turns one composed document into Python values, recording every position.

    The hot loop of loading a big plan: positions are packed inline and path
    tuples shared, plain scalars that can only be strings skip resolution.
    """

    __slots__ = ("budget", "positions")

    def __init__(self, positions: Positions) -> None:
        self.positions = positions
        self.budget = MAX_NODES

    def value(self, node: Node, path: Path, depth: int) -> Any:
        mark = node.start_mark
        dict.__setitem__(
            self.positions,
            _shared(_PATHS, path),
            ((mark.line + 1) << COLUMN_BITS) | min(mark.column + 1, COLUMN_MASK),
        )
        self.budget -= 1
        if self.budget < 0:
            raise YamlProblem(
                f"the document has more than {MAX_NODES} values (aliases expanded); is it an alias bomb?",
                mark.line + 1,
                mark.column + 1,
            )
        kind = node.__class__
        if kind is ScalarNode:
            text = node.value
            if node.tag == PLAIN and text and text[0] not in MAYBE_NOT_TEXT:
                return text  # a plain scalar starting like a word is a string in YAML 1.2
            return _scalar(node)  # type: ignore[arg-type]
        if depth >= MAX_DEPTH:
            raise YamlProblem(
                f"the document is nested more than {MAX_DEPTH} levels deep", mark.line + 1, mark.column + 1
            )
        if kind is SequenceNode:
            return [self.value(item, (*path, i), depth + 1) for i, item in enumerate(node.value)]
        if kind is MappingNode:
            result: dict[str, Any] = {}
            for key_node, value_node in node.value:
                kmark = key_node.start_mark
                if key_node.__class__ is not ScalarNode:
                    raise YamlProblem("a mapping key must be a plain name", kmark.line + 1, kmark.column + 1)
                key = key_node.value
                if key in result:
                    hint = "a line `---` goes between two entities" if key == "kind" and not path else None
                    raise YamlProblem(f"duplicate key '{key}'", kmark.line + 1, kmark.column + 1, hint)
                self.positions.set((*path, key, KEY), kmark.line + 1, kmark.column + 1)
                result[key] = self.value(value_node, (*path, key), depth + 1)
            return result
        raise YamlProblem("unsupported YAML node", mark.line + 1, mark.column + 1)  # pragma: no cover


# First characters of plain scalars that may resolve to something other than a string.
MAYBE_NOT_TEXT = frozenset("0123456789+-.~nNtTfF")


def _scalar(node: ScalarNode) -> Any:
    tag = node.tag
    if tag == PLAIN:
        return resolve_plain(node.value)
    if tag in _TAGGED:
        try:
            return _TAGGED[tag](node.value)
        except ValueError:
            mark = node.start_mark
            raise YamlProblem(
                f"'{node.value}' is not a valid {tag.rsplit(':', 1)[1]}",
                mark.line + 1,
                mark.column + 1,
            ) from None
    if tag == "tag:yaml.org,2002:bool" and node.value in ("true", "false"):
        return node.value == "true"
    if tag == "tag:yaml.org,2002:null":
        return None
    mark = node.start_mark
    raise YamlProblem(f"unsupported tag {tag}", mark.line + 1, mark.column + 1)
