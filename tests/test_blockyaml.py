"""The line reader of plain block YAML agrees with libyaml, or leaves the text to it."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from benchmarks.generate import generate, write
from policy_engine.plan.blockyaml import read_block
from policy_engine.plan.yamlread import MAX_DEPTH, MAX_NODES, YamlProblem, read_documents

ROOT = Path(__file__).resolve().parent.parent


def _libyaml(text: str) -> list[tuple[str, dict[object, int], int, int]] | None:
    try:
        return [(repr(d.value), dict(d.positions), d.line, d.column) for d in read_documents(text)]
    except YamlProblem:
        return None


def _agrees(text: str) -> bool:
    """Whether the line reader read `text` (it must then read it as libyaml does)."""
    documents = read_block(text)
    if documents is None:
        return False
    ours = [(repr(d.value), dict(d.positions), d.line, d.column) for d in documents]
    assert ours == _libyaml(text), text
    return True


ACCEPTED = [
    "kind: Team\nid: a\n",
    "kind: Team\nid: a\n---\nkind: Team\nid: b\n---\n",
    "---\n# lead\nkind: Team   # trailing comment\nid: a\n\n\n",
    "a: 1\n---\n---\nb: 2\n",
    "---\n",
    "a: 1\n---",
    "# only a comment\n",
    "",
    "list:\n- a\n- b\nnext: c\n",
    "list:\n  - a\n  -   b\nnext: c\n",
    "items:\n- name: x\n  size: 1\n-   name: y\n    deep:\n      deeper: [p, q]\nafter: z\n",
    "outer:\n  inner:\n    leaf: 1.5\n  other: -3\ntop: .inf\n",
    "flow: [a, b:c, 'x']\n".replace(", 'x'", ""),
    "flow: []\nspaced: [ a ,b,  ]\n",
    "quoted: \"a # not a comment\"\nsingle: 'it''s'\nempty: ''\n",
    "values: [true, False, null, ~, 0x1F, 0o17, 1e3, -.5, 2027-Q1, 12:30, no]\n",
    "text: a - b [c] {d}, e\nurl: http://x/y?z\nat: é ünï\n",
    "x-custom: 1\nunder_score: 2\ndot.ted: 3\n",
    "due: {completed: 2026-04-20, signed: true, }\nempty: {}\n",
    "seq_of_maps:\n- a: 1\n  b:\n  - c\n  - d\n- e: 2\n",
]

DECLINED = [
    "text: |\n  block\n",
    "text: >\n  folded\n",
    "a: &x 1\nb: *x\n",
    "a: !!str 1\n",
    'a: "esc\\n"\n',
    "a: one\n  continued\n",
    "a: 1\na: 2\n",
    "a:\tb\n",
    "a: 1\r\nb: 2\r\n",
    "a:\nb: 1\n",
    "-\n  a: 1\n",
    "- a\n- b\n",
    "a: 1\n...\n",
    "%YAML 1.2\n---\na: 1\n",
    "? a\n: b\n",
    "a: {b: {c: 1}}\n",
    "a: {b: 1, b: 2}\n",
    "a: {b}\n",
    "a: {b: }\n",
    "uses: [system:app, vendor:?mailer]\n",  # libyaml refuses `:?` in a flow collection (found by fuzzing)
    "a: {k: x:?y}\n",
    "a: [b, [c]]\n",
    "a: b: c\n",
    "a: b:\n",
    "  a: 1\nb: 2\n",
    "a: 1\n  b: 2\n",
    "a:\n  - x\n - y\n",
    "a: 'x' y\n",
    "a: \x01\n",
    "a: 1\u2028b: 2\n",
    "a: 'unterminated\n",
    "a: -\n",
    "a: - b\n",
    "'quoted key': 1\n",
    "a : 1\n",
]


@pytest.mark.parametrize("text", ACCEPTED)
def test_plain_block_yaml_is_read_as_libyaml_reads_it(text: str) -> None:
    assert _agrees(text)


@pytest.mark.parametrize("text", DECLINED)
def test_anything_else_is_left_to_libyaml(text: str) -> None:
    assert read_block(text) is None


def test_every_shipped_plan_and_corpus_file_agrees() -> None:
    paths = sorted((ROOT / "examples").rglob("*.yaml")) + sorted((ROOT / "tests").rglob("*.yaml"))
    read = [p for p in paths if _agrees(p.read_text(encoding="utf-8", errors="replace"))]
    examples = [p for p in paths if p.is_relative_to(ROOT / "examples") and "cases" not in p.parts]
    assert set(examples) <= set(read)  # the example plans (not the policies' case files) take the fast path


def test_a_generated_plan_agrees_file_by_file(tmp_path: Path) -> None:
    write(generate(300), tmp_path, as_json=False)
    files = sorted(tmp_path.glob("*.yaml"))
    assert files and all(_agrees(p.read_text()) for p in files)


def test_what_pyyaml_dumps_in_block_style_agrees() -> None:
    data = [{"kind": "Team", "id": "a", "tags": ["x y", "-1", "it's"], "nested": {"k": [1, 2.5, None]}}]
    text = yaml.safe_dump_all(data, sort_keys=False, allow_unicode=True)
    assert _agrees(text)


INDENTS = st.sampled_from(["", "", "", "  ", "  ", "    ", " ", "      "])
HEADS = st.sampled_from(["", "", "", "- ", "- ", "-   ", "-", "---", "--- ", "...", "? ", "#", "--- # c"])
KEYS = st.sampled_from(["a", "b", "kind", "x-y", "d.e", "1", "true", "'q'", "k k", "é", "a:b", ""])
COLONS = st.sampled_from([": ", ": ", ":", "  : ", ":   ", ":\t"])
VALUES = st.sampled_from(
    [
        "", "v", "two words", "1", "-5", "-x", "- a", "1.5e3", "0x1F", ".nan", "~", "null", "no",
        "2027-Q1", "12:30", "a: b", "a:", "a:b", "a #c", "a#b", "#c", "'s'", "'it''s'", "'open",
        '"d"', '"e\\n"', '"#x"', "[]", "[a, b]", "[a,,b]", "[ a , ]", "[a, [b]]", "[a: b]", "[a:b]",
        "{a: 1}", "|", ">-", "&x a", "*x", "!t x", "@x", "`x", "%x", "?x", ":x", ",x", "x ",
        "é ñ", "a\tb", "'x' y", "[a] b",
    ]
)  # fmt: skip
LINES = st.lists(
    st.one_of(
        st.tuples(INDENTS, HEADS, KEYS, COLONS, VALUES).map(lambda t: f"{t[0]}{t[1]}{t[2]}{t[3]}{t[4]}"),
        st.tuples(INDENTS, HEADS, VALUES).map("".join),
        st.sampled_from(["", "# comment", "  # indented comment", "---", "   "]),
    ),
    max_size=12,
)


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(LINES, st.booleans())
def test_any_text_is_read_as_libyaml_reads_it_or_left_to_libyaml(lines: list[str], final_break: bool) -> None:
    text = "\n".join(lines) + ("\n" if final_break else "")
    if read_block(text) is not None:
        assert _agrees(text)
        assert _libyaml(text) is not None  # nothing libyaml rejects is read


SCALARS = st.sampled_from(
    [
        "word", "two words", "1", "-7", "2.5", "1e3", ".inf", "-.inf", ".nan", "0x1F", "0o17", "true", "False",
        "null", "~", "no", "yes", "12:30", "2027-Q1", "2026-04-20", "person:ada", "é", "a-b", "x.y",
        "'it''s'", "''", '"q # r"', '""', "[a, b]", "[]", "[ c ]", "{k: v}", "{}",
    ]
)  # fmt: skip
NAMES = st.sampled_from(["a", "b", "kind", "id", "x-custom", "snake_case", "d.e", "n1"])
TREES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, min_size=1, max_size=3),
        st.dictionaries(NAMES, inner, min_size=1, max_size=4),
    ),
    max_leaves=12,
)
STYLES = st.fixed_dictionaries(
    {
        "step": st.integers(1, 4),
        "compact": st.booleans(),  # a sequence under a key at the key's own indentation
        "dash_gap": st.integers(1, 3),  # spaces after `-`
        "colon_gap": st.integers(1, 2),  # spaces after `key:`
        "comments": st.booleans(),
    }
)


def _render(tree: object, style: dict[str, object], indent: int = 0) -> list[str]:
    """`tree` (a mapping) as block YAML lines, formatted by `style`."""
    assert isinstance(tree, dict)
    pad, lines = " " * indent, []
    for name, value in tree.items():
        if isinstance(value, str):
            gap = " " * int(style["colon_gap"])  # type: ignore[call-overload]
            lines.append(f"{pad}{name}:{gap}{value}" + ("  # note" if style["comments"] else ""))
        else:
            lines.append(f"{pad}{name}:")
            inner = indent if style["compact"] and isinstance(value, list) else indent + int(style["step"])  # type: ignore[call-overload]
            lines += _render_value(value, style, inner)
        if style["comments"]:
            lines.append("")
    return lines


def _render_value(value: object, style: dict[str, object], indent: int) -> list[str]:
    if isinstance(value, dict):
        return _render(value, style, indent)
    assert isinstance(value, list)
    lines, pad = [], " " * indent
    dash = "-" + " " * int(style["dash_gap"])  # type: ignore[call-overload]
    for item in value:
        if isinstance(item, str):
            lines.append(f"{pad}{dash}{item}")
        elif isinstance(item, dict):
            rendered = _render(item, style, indent + len(dash))
            lines += [f"{pad}{dash}{rendered[0].lstrip()}", *rendered[1:]]
        else:  # a list in a list: block YAML needs `-` alone, which the line reader leaves to libyaml
            lines += [f"{pad}-", *_render_value(item, style, indent + 2)]
    return lines


@settings(max_examples=800, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.dictionaries(NAMES, TREES, min_size=1, max_size=5), min_size=1, max_size=3), STYLES)
def test_block_yaml_of_any_shape_and_layout_is_read_as_libyaml_reads_it(
    documents: list[dict[str, object]], style: dict[str, object]
) -> None:
    text = "\n---\n".join("\n".join(_render(doc, style)) for doc in documents) + "\n"
    nested_lists = "-\n" in text or text.rstrip().endswith("-")
    assert _agrees(text) or nested_lists


def test_documents_over_the_limits_are_left_to_libyaml_which_reports_them() -> None:
    wide = "".join(f"k{n}: {n}\n" for n in range(MAX_NODES // 2 + 1))  # keys and values over the limit
    deep = "".join(f"{'  ' * n}k{n}:\n" for n in range(MAX_DEPTH + 1)) + f"{'  ' * (MAX_DEPTH + 1)}leaf: 1\n"
    for text in (wide, deep):
        assert read_block(text) is None
    assert read_block(wide[: wide.index(f"k{MAX_NODES // 4}:")]) is not None  # well under: read here
    with pytest.raises(YamlProblem, match="more than 64 levels"):
        list(read_documents(deep))
