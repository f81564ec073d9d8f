"""The plain block style of YAML read in one pass over lines, without libyaml.

Plan files are almost all `key: value` lines, `- item` lines and one-line
flow sequences of names. Composing them through libyaml makes PyYAML call
back into Python for every node and mark; reading the lines directly is
about twice as fast on a big plan. Anything this reader does not know for
certain (block scalars, quoting with escapes, anchors, tags, continued
scalars, tabs, unusual characters, errors of any kind) makes it decline the
whole file, and libyaml reads it: results and errors are always libyaml's
(tests/test_blockyaml.py holds the two readers to the same output).
"""

from __future__ import annotations

import re
from typing import Any

from policy_engine.plan.yamlread import (
    COLUMN_BITS,
    COLUMN_MASK,
    KEY,
    MAX_DEPTH,
    MAX_NODES,
    MAYBE_NOT_TEXT,
    Document,
    Path,
    Positions,
    resolve_plain,
)

# Characters outside printable YAML, tabs, CR, BOM and the Unicode line breaks
# (which libyaml counts as lines and str.split("\n") does not).
_UNUSUAL_ASCII = re.compile("[\x00-\x09\x0b-\x1f\x7f]")  # the same, for ASCII text: scanned faster
_UNUSUAL = re.compile("[^\n\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]")

# What may follow a key or a dash when it is not a simple plain scalar: a
# plain scalar with a comment, a quoted scalar without escapes, a one-line
# flow sequence or mapping of plain scalars, or nothing but a comment.
_PLAIN_START = r"(?:[^\s#'\"\[\]{}&*!|>%@`?:,-]|-(?=[0-9.]))"
_VALUE = re.compile(
    r"(?:"
    rf"(?P<plain>{_PLAIN_START}[^#]*?)"
    r"|\"(?P<double>[^\"\\]*)\""
    r"|'(?P<single>(?:[^']|'')*)'"
    r"|\[(?P<flow>[^\[\]{}#'\"]*)\]"
    r"|\{(?P<mapping>[^\[\]{}#'\"]*)\}"
    r")?"
    r" *(?:(?:(?<= )|(?<!.))#.*)?$"
)
_FLOW_ITEM = re.compile(rf" *({_PLAIN_START}[^,]*?) *(?:,|$)")
_FLOW_PAIR = re.compile(rf" *([A-Za-z_][\w.-]*): +({_PLAIN_START}[^,]*?) *(?:,|$)")
_KEY = re.compile(r"[A-Za-z_][\w.-]*")
# Characters that make a value more than a simple plain scalar.
_NOT_SIMPLE = frozenset("#'\"[]{}&*!|>%@`?:,-")


class _Decline(Exception):
    """Not certainly plain block YAML: leave the file to libyaml."""


def read_block(text: str) -> list[Document] | None:
    """Every document of `text`, or None if libyaml must read it."""
    if len(text) >= COLUMN_MASK or (_UNUSUAL_ASCII if text.isascii() else _UNUSUAL).search(text):
        return None  # odd characters are libyaml's; shorter texts need no column clamped
    try:
        return _read(text)
    except _Decline:
        return None


class _Open:
    """An open mapping or sequence: where it is indented, its path, its children's paths."""

    __slots__ = ("children", "container", "indent", "is_sequence", "path")

    def __init__(self, indent: int, container: Any, path: Path, is_sequence: bool) -> None:
        self.indent, self.container, self.path, self.is_sequence = indent, container, path, is_sequence
        self.children = _children(path)


# path -> {key or index: (value path, key path)}; shared by every entity so
# that the tuples of a path exist once, like the libyaml reader's.
_CHILDREN: dict[Path, dict[str | int, tuple[Path, Path]]] = {}
_MAX_CHILDREN = 50_000


def _children(path: Path) -> dict[str | int, tuple[Path, Path]]:
    found = _CHILDREN.get(path)
    if found is None:
        found = {}
        if len(_CHILDREN) < _MAX_CHILDREN:
            _CHILDREN[path] = found
    return found


def _paths(top: _Open, name: str | int) -> tuple[Path, Path]:
    found = top.children.get(name)
    if found is None:
        value_path = (*top.path, name)
        found = (value_path, (*value_path, KEY))
        if len(top.children) < _MAX_CHILDREN:
            top.children[name] = found
    return found


def _read(text: str) -> list[Document]:
    """The documents of `text`; one loop, so that the common lines make no calls."""
    documents: list[Document] = []
    positions = Positions()
    stack: list[_Open] = []
    top: _Open | None = None
    root_at = 0
    explicit = False  # the current document began with `---`
    # A `key:` with nothing after it waits for its value on the next lines.
    pending: tuple[dict[str, Any], str, Path, int] | None = None
    lines = text.split("\n")
    number = 0
    for line in lines:
        number += 1
        stripped = line.lstrip(" ")
        if not stripped or stripped[0] == "#":
            continue
        indent = len(line) - len(stripped)
        if stripped[0] != "-":  # `key: value`, the most common line
            dash = 0
            rest = stripped
            key: str | None
            key, separator, value = rest.partition(": ")
            if not separator or not _KEYS.get(key):
                key, value_at = _key(rest)
                if key is None:
                    raise _Decline  # a value alone on its line: a continued or root scalar
                value = rest[value_at:]
        elif stripped[1:2] in ("", " "):
            rest = stripped[1:].lstrip(" ")
            if not rest or rest[0] == "#":
                raise _Decline  # `-` alone: the item is on the next lines
            dash = len(stripped) - len(rest)
            key, value_at = _key(rest)
            value = rest[value_at:]
        elif stripped.startswith("---") and not indent and stripped[3:].lstrip(" ")[:1] in ("", "#"):
            if pending is not None or stripped[3:4] not in ("", " "):
                raise _Decline
            if top is not None:
                documents.append(_document(stack[0].container, positions, root_at))
            elif explicit:
                documents.append(_null_document(number, 1))
            positions, stack, top, explicit = Positions(), [], None, True
            continue
        else:
            raise _Decline  # a value alone on its line that starts with `-`
        if dash:
            # The sequence this item belongs to: opened by a waiting key, or open.
            if pending is not None:
                parent, name, path, key_indent = pending
                if indent < key_indent:
                    raise _Decline
                pending = None
                items: list[Any] = []
                parent[name] = items
                positions[path] = (number << COLUMN_BITS) | (indent + 1)
                top = _push(stack, _Open(indent, items, path, True))
            else:
                while top is not None and top.indent > indent:
                    stack.pop()
                    top = stack[-1] if stack else None
                if top is None or top.indent != indent or not top.is_sequence:
                    raise _Decline  # a root sequence, or a `- ` where a key belongs
                items = top.container
            value_path = _paths(top, len(items))[0]
            indent += dash
            if key is None:
                value = rest  # `- value`: read below, appended to the sequence
            else:
                mapping: dict[str, Any] = {}
                items.append(mapping)  # `- key: ...` opens a mapping item
                positions[value_path] = (number << COLUMN_BITS) | (indent + 1)
                top = _push(stack, _Open(indent, mapping, value_path, False))
        elif top is not None and indent == top.indent and pending is None and not top.is_sequence:
            mapping = top.container  # the common case: the next key of the open mapping
        elif pending is not None:
            parent, name, path, key_indent = pending
            if indent <= key_indent:
                raise _Decline  # the waiting key's value is empty
            pending = None
            parent[name] = mapping = {}
            positions[path] = (number << COLUMN_BITS) | (indent + 1)
            top = _push(stack, _Open(indent, mapping, path, False))
        elif top is None:
            mapping = {}
            root_at = (number << COLUMN_BITS) | (indent + 1)
            positions[()] = root_at
            top = _Open(indent, mapping, (), False)
            stack.append(top)
        else:
            while top is not None and (top.indent > indent or (top.indent == indent and top.is_sequence)):
                stack.pop()
                top = stack[-1] if stack else None
            if top is None or top.indent != indent:
                raise _Decline  # deeper than its mapping (a continued scalar), or a root sequence
            mapping = top.container
        if key is not None:  # a mapping entry
            if key in mapping:
                raise _Decline  # a duplicate key: the error is libyaml's to locate
            paths = top.children.get(key) or _paths(top, key)
            value_path = paths[0]
            positions[paths[1]] = (number << COLUMN_BITS) | (indent + 1)
            value = value.lstrip(" ")
            if not value or value[0] == "#":
                pending = (mapping, key, value_path, indent)
                mapping[key] = None  # holds the key's place in insertion order
                continue
        column = indent + len(rest) - len(value)
        if value[0] in _NOT_SIMPLE or "#" in value or ": " in value:
            scalar = _value(value, column, value_path, number, positions)
        else:  # a plain scalar alone, the common case: no expression needed
            value = value.rstrip(" ")
            if value[-1] == ":":
                raise _Decline  # `key: value:` is libyaml's error to give
            positions[value_path] = (number << COLUMN_BITS) | (column + 1)
            scalar = value if value[0] not in MAYBE_NOT_TEXT else resolve_plain(value)
        if key is None:
            items.append(scalar)
        else:
            mapping[key] = scalar
    if pending is not None:
        raise _Decline  # an empty value
    if top is not None:
        documents.append(_document(stack[0].container, positions, root_at))
    elif explicit:  # `---` and nothing: a null document where the stream ends,
        # after the line break libyaml adds to a last line without one
        documents.append(_null_document(len(lines) + (lines[-1] != ""), 1))
    return documents


_KEYS: dict[str, bool] = {}  # names seen, and whether they are plain keys


def _key(text: str) -> tuple[str | None, int]:
    """`key` and where its value starts, if `text` starts with `key:` and a space or its end."""
    colon = text.find(":")
    if colon <= 0 or text[colon + 1 : colon + 2] not in ("", " "):
        return None, 0
    name = text[:colon]
    known = _KEYS.get(name)
    if known is None:
        known = _KEY.fullmatch(name) is not None
        if len(_KEYS) < _MAX_CHILDREN:
            _KEYS[name] = known
    return (name, colon + 1) if known else (None, 0)


def _push(stack: list[_Open], opened: _Open) -> _Open:
    if len(stack) >= MAX_DEPTH - 1:
        raise _Decline  # libyaml's reader gives the depth error
    stack.append(opened)
    return opened


def _document(root: dict[str, Any], positions: Positions, root_at: int) -> Document:
    # Every value has a position; with no more positions than the limit, there
    # are no more values (and no aliases to expand here).
    if len(positions) > MAX_NODES:
        raise _Decline  # libyaml's reader gives the size error
    return Document(root, positions, root_at >> COLUMN_BITS, root_at & COLUMN_MASK)


def _null_document(line: int, column: int) -> Document:
    """An empty document, placed where libyaml places it: at the next token."""
    positions = Positions()
    positions.set((), line, column)
    return Document(None, positions, line, column)


def _plain(text: str) -> Any:
    if ": " in text or text.endswith(":") or ":?" in text:
        # a second mapping value on one line; in a flow collection libyaml
        # also refuses `:` before `?`: the errors are libyaml's to give
        raise _Decline
    if text[0] in MAYBE_NOT_TEXT:
        return resolve_plain(text)
    return text


def _value(text: str, column: int, path: Path, line: int, positions: Positions) -> Any:
    """A value that is more than a plain scalar alone: quotes, flow, comments."""
    match = _VALUE.match(text)
    if match is None:
        raise _Decline
    plain, double, single, flow, mapping = match.group("plain", "double", "single", "flow", "mapping")
    if plain is not None:
        positions.set(path, line, column + 1)
        return _plain(plain)
    if double is not None:
        positions.set(path, line, column + 1)
        return double
    if single is not None:
        positions.set(path, line, column + 1)
        return single.replace("''", "'")
    if flow is not None:
        positions.set(path, line, column + 1)
        return _flow(flow, path, line, column + 1, positions)
    if mapping is not None:
        positions.set(path, line, column + 1)
        return _flow_mapping(mapping, path, line, column + 1, positions)
    raise _Decline  # nothing but a comment after a dash


def _flow(text: str, path: Path, line: int, start: int, positions: Positions) -> list[Any]:
    """`[a, b]`: plain items only, with a trailing comma allowed."""
    items: list[Any] = []
    if not text.strip(" "):
        return items
    at = 0
    while at < len(text):
        item = _FLOW_ITEM.match(text, at)
        if item is None:
            raise _Decline
        positions.set((*path, len(items)), line, start + item.start(1) + 1)
        items.append(_plain(item[1]))
        at = item.end()
        if not text[at:].strip(" "):
            break
    return items


def _flow_mapping(text: str, path: Path, line: int, start: int, positions: Positions) -> dict[str, Any]:
    """`{a: 1, b: c}`: plain keys and values only, with a trailing comma allowed."""
    mapping: dict[str, Any] = {}
    at = 0
    while text[at:].strip(" "):
        pair = _FLOW_PAIR.match(text, at)
        if pair is None or pair[1] in mapping:
            raise _Decline
        key = pair[1]
        positions.set((*path, key, KEY), line, start + pair.start(1) + 1)
        positions.set((*path, key), line, start + pair.start(2) + 1)
        mapping[key] = _plain(pair[2])
        at = pair.end()
    return mapping


_NOTHING: Any = object()
