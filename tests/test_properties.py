"""Property tests at the boundaries: positions point at the text; no input crashes the compiler."""

from __future__ import annotations

import json
import string

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from policy_engine.diagnostics import CompileError
from policy_engine.dsl.compiler import compile_sources
from policy_engine.plan.jsonread import JsonFileIndex, decode_problem, read_json
from policy_engine.plan.loader import load_texts
from policy_engine.plan.yamlread import KEY, read_documents, resolve_plain
from policy_engine.source import SourceFile

IDS = st.from_regex(r"[a-z][a-z0-9]{0,6}(-[a-z0-9]{1,4}){0,2}", fullmatch=True)
TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp"), blacklist_characters="\x85\ufeff"),
    min_size=1,
    max_size=20,
).filter(lambda s: s.strip() == s and isinstance(resolve_plain(s), str))  # PyYAML dumps by YAML 1.1
ENTITY = st.fixed_dictionaries(
    {"kind": st.sampled_from(["Initiative", "Team", "Outcome"]), "id": IDS},
    optional={
        "title": TEXT,
        "description": TEXT,
        "tags": st.lists(TEXT, max_size=3),
    },
)


def _dump(entities: list[dict[str, object]]) -> str:
    return yaml.safe_dump_all(entities, allow_unicode=True, sort_keys=False, width=10_000)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(ENTITY, min_size=1, max_size=6, unique_by=lambda e: (e["kind"], e["id"])), st.integers(0, 3))
def test_every_position_points_at_its_entity_or_field(entities: list[dict[str, object]], pad: int) -> None:
    text = "\n" * pad + _dump(entities)
    plan = load_texts([("gen.yaml", text)])
    assert plan.problems == []
    source = plan.sources["gen.yaml"]
    assert [(e.kind, e.id) for e in plan.entities] == [(e["kind"], e["id"]) for e in entities]
    for entity, written in zip(plan.entities, entities, strict=True):
        loc = entity.location()
        assert source.line_text(loc.line)[loc.column - 1 :].startswith("kind:")
        for name, value in written.items():
            if name == "kind":
                continue
            loc = entity.location((name,))
            at = source.line_text(loc.line)[loc.column - 1 :]
            if isinstance(value, list):
                assert at.startswith("[") if not value else True
                for index, item in enumerate(value):
                    iloc = entity.location((name, index))
                    item_at = source.line_text(iloc.line)[iloc.column - 1 :]
                    assert item_at.lstrip("'\"").startswith(str(item)[:1]) or item_at[:1] in "'\""
            else:
                assert at.startswith(str(value)) or (at[:1] in "'\"" and str(value)[:1] in at)


JSON_TEXT = st.text(alphabet='ab "\\/:,{}[]é\t\n', max_size=5)  # what JSON escapes and YAML reads alike
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | JSON_TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(JSON_TEXT, inner, max_size=3),
    max_leaves=12,
)


def _paths(value: object, path: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    found = [path]
    if isinstance(value, dict):
        for key, item in value.items():
            found += [(*path, key, KEY), *_paths(item, (*path, key))]
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*path, index))
    return found


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(JSON_TEXT, JSON_VALUES, max_size=4), st.sampled_from([None, 0, 2]), st.booleans())
def test_json_positions_agree_with_the_yaml_reader(
    value: dict[str, object], indent: int | None, ascii: bool
) -> None:
    # JSON is YAML: the lazy JSON index must find what the YAML reader records,
    # whether a key is written with escapes or as it reads.
    text = json.dumps(value, indent=indent, ensure_ascii=ascii)
    expected = next(read_documents(text)).positions
    index = JsonFileIndex(SourceFile("plan.json", text))
    for path in _paths(value):
        assert index.get(None, path) == expected.get(path), path
    assert index.get(None, ("no such field",)) is None


def test_a_json_key_spelt_with_escapes_is_found_first_like_any_other() -> None:
    # JSON lets a key repeat; its first member is where a finding points, in
    # whatever spelling, after flat and nested members alike.
    for first in ("[1, 2]", '[1, {"b": 2}]'):
        text = f'{{"a": {first}, "st\\u0061tus": 1,\n "status": 2}}'
        index = JsonFileIndex(SourceFile("plan.json", text))
        key_at = text.index('"st')
        assert index.get(None, ("status", KEY)) == (1, key_at + 1)
        assert index.get(None, ("status",)) == (1, key_at + 16)


def test_positions_count_characters_not_bytes() -> None:
    plan = load_texts([("u.yaml", "kind: Team\nid: t\ntitle: ünïcödé\ndescription: ✓ ok\nx-é: 1\n")])
    entity = plan.entities[0]
    assert str(entity.location(("description",))) == "u.yaml:4:14"


KEYWORDS = ["rule", "for", "in", "where", "require", "else", "related", "at", "and", "or", "not"]
KEYWORDS += ["any", "all", "no", "def", "pack", "group", "by", "as", "let", "param", "if", "then"]
TOKENS = st.sampled_from(
    [*KEYWORDS, "Initiative", "Outcome", "i", "x", "i.priority", "i.depends_on+", ".", "(", ")", "[", "]",
     ",", "==", "<", "+", "-", "*", "|", '"P0"', '"{i.id}"', "3", "2027-01-01", "30d", "P1M", "count(", "\n",
     "cycles(Initiative, depends_on)", "t", ":", "=", "#", '"""', '"""{if i.id then 1 else \'x\'}"""']
)  # fmt: skip


def _compile_never_crashes(text: str) -> None:
    source = SourceFile("fuzz.policy", text)
    try:
        compile_sources([source])
    except CompileError as exc:
        assert exc.diagnostics
        for d in exc.diagnostics:
            assert 0 <= d.span.start <= d.span.end <= len(text)
            assert d.code.startswith("E")
            d.render()


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_arbitrary_text_gives_diagnostics_never_another_exception(text: str) -> None:
    _compile_never_crashes(text)


@settings(max_examples=300, deadline=None)
@given(st.lists(TOKENS, max_size=30))
def test_token_soup_gives_diagnostics_never_another_exception(tokens: list[str]) -> None:
    _compile_never_crashes("rule t " + " ".join(tokens))


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=string.printable, max_size=300))
def test_arbitrary_plan_text_gives_findings_never_an_exception(text: str) -> None:
    plan = load_texts([("fuzz.yaml", text)])
    for problem in plan.problems:
        assert problem.rule.startswith("plan/")
        assert problem.location is not None and problem.location.line >= 1


@settings(max_examples=200, deadline=None)
@given(st.lists(JSON_VALUES, max_size=4), st.sampled_from([None, 0, 2]), st.sampled_from(["", " ", "\n"]))
def test_json_arrays_read_element_by_element_equal_json_loads(
    items: list[object], indent: int | None, pad: str
) -> None:
    text = pad + json.dumps(items, indent=indent) + pad
    value, starts, problems = read_json(text)
    assert (value, problems) == (json.loads(text), [])
    assert starts is not None and len(starts) == len(items)
    # Each element's position is where its own text starts.
    index = JsonFileIndex(SourceFile("plan.json", text), starts)
    for element, item in enumerate(items):
        position = index.get(element, ())
        assert position is not None
        line, column = position
        offset = sum(len(row) + 1 for row in text.split("\n")[: line - 1]) + column - 1
        assert json.JSONDecoder().raw_decode(text, offset)[0] == item


@pytest.mark.parametrize("text", ["[1, 2,]", "[1 2]", "[1] x", "[{]", "[", "[1,, 2]", '["a\n"]'])
def test_a_broken_json_array_gets_the_error_of_the_whole_text(text: str) -> None:
    # Read element by element, an array is told the error that decoding it whole gives.
    _, _, problems = read_json(text)
    with pytest.raises(json.JSONDecodeError) as caught:
        json.loads(text)
    whole = decode_problem(caught.value)
    assert [(p.message, p.line, p.column) for p in problems] == [(whole.message, whole.line, whole.column)]


BLOCKS = [1, 2, 3, 7, SourceFile.BLOCK]  # blocks much shorter than lines too


def _source_in_blocks(text: str, block: int) -> SourceFile:
    """A source file whose line index counts blocks of `block` characters."""
    return type("SmallBlocks", (SourceFile,), {"BLOCK": block})("plan.yaml", text)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="ab\n\r é", max_size=40), st.data())
def test_line_and_column_of_every_offset(text: str, data: st.DataObject) -> None:
    offset = data.draw(st.integers(0, len(text)))
    expected = (text.count("\n", 0, offset) + 1, offset - (text.rfind("\n", 0, offset) + 1) + 1)
    source = _source_in_blocks(text, data.draw(st.sampled_from(BLOCKS)))
    assert source.line_col(offset) == expected


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="ab\n\r é", max_size=40), st.integers(-1, 45), st.sampled_from(BLOCKS))
def test_the_text_of_every_line(text: str, line: int, block: int) -> None:
    lines = text.split("\n")
    expected = lines[line - 1].rstrip("\r") if 1 <= line <= len(lines) else ""
    assert _source_in_blocks(text, block).line_text(line) == expected


PRETTY_ARRAY = (
    "[\n" + ",\n".join(f'  {{"kind": "Team", "id": "t{i}", "title": "x"}}' for i in range(20)) + "\n]\n"
)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, len(PRETTY_ARRAY) - 1), st.booleans(), st.sampled_from('{}[],:"\n x')),
        min_size=1,
        max_size=4,
    )
)
def test_a_mutated_json_array_is_read_around_its_errors(edits: list[tuple[int, bool, str]]) -> None:
    chars = list(PRETTY_ARRAY)
    for at, insert, char in edits:
        if insert:
            chars.insert(min(at, len(chars)), char)
        else:
            chars[min(at, len(chars) - 1)] = char
    text = "".join(chars)
    plan = load_texts([("p.json", text)])
    lines = text.split("\n")
    for problem in plan.problems:  # each told at a place in the file, each place once
        assert problem.location is not None and 1 <= problem.location.line <= len(lines)
    assert len(plan.problems) <= len(lines) * 2
    # An element whose line no edit touched is read, with its position (in an array still).
    touched = {text.count("\n", 0, min(at, len(text))) + 1 for at, _, _ in edits}
    if not text.startswith("[\n") or any(char in "[]" for _, _, char in edits):
        return  # no longer an array, or one that ends before its elements do
    intact = [n + 2 for n in range(20) if lines[n + 1] == PRETTY_ARRAY.split("\n")[n + 1]]
    read = {str(e.location()) for e in plan.entities}
    assert {f"p.json:{line}:4" for line in intact if line not in touched and line - 1 not in touched} <= read
