"""A rule's documentation, from its source: as `explain` prints it, and as one
Markdown page of every rule (`rules --format markdown`, docs/rules.md).

Both show the rule as the project runs it: a severity, a parameter or the
rule switched off by the config file is shown beside the rule's own.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from policy_engine.report import counted
from policy_engine.reporters.markdown import cell

if TYPE_CHECKING:
    from policy_engine.config import RuleConfig
    from policy_engine.dsl.compiler import CompiledRule

LOCATED = "the first the subject has written; else its kind line"


def _as_written(value: Any) -> str:
    """A parameter's value as a policy writes it: `"text"`, `true`, `["a", "b"]`."""
    if isinstance(value, list | tuple):
        return "[" + ", ".join(map(_as_written, value)) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return str(value)


def _severity(rule: CompiledRule, setting: RuleConfig | None) -> str:
    if setting and setting.severity and setting.severity != rule.severity:
        return f"{setting.severity} (config; the rule's own: {rule.severity})"
    return rule.severity


def _parameters(rule: CompiledRule, setting: RuleConfig | None) -> list[str]:
    """Each parameter as `name = value`, with the config's value and the values it may take."""
    overrides = setting.params if setting else {}
    shown = []
    for name, default in rule.params.items():
        text = f"{name} = {_as_written(default)}"
        if name in overrides:
            text = f"{name} = {_as_written(overrides[name])} (config; default {_as_written(default)})"
        if name in rule.choices:  # what the config may set it to
            text += f" [{' | '.join(rule.choices[name])}]"
        shown.append(text)
    return shown


def _title(rule: CompiledRule) -> str:
    return rule.id if rule.title == rule.id else rule.title  # no title: its id


def _facts(rule: CompiledRule, setting: RuleConfig | None, code: Callable[[str], str]) -> list[str]:
    """`label: value` for what the rule is and how the project runs it; `code` marks up names."""
    facts = [
        f"severity: {_severity(rule, setting)}",
        f"pack: {rule.pack}",
        f"waivable: {'yes' if rule.waivable else 'no'}",
    ]
    if setting and not setting.enabled:
        facts.append("off in the config file: a check does not run it")
    if rule.fails_from:
        facts.append(f"advisory until: {rule.fails_from}")
    if rule.params:
        facts.append("parameters: " + ", ".join(map(code, _parameters(rule, setting))))
    if rule.at:
        facts.append(f"located at: {', '.join(code('.'.join(path)) for path in rule.at)} ({LOCATED})")
    if rule.link:
        facts.append(f"link: {rule.link}")
    return facts


def explain_text(rule: CompiledRule, setting: RuleConfig | None = None) -> str:
    """A rule's documentation, source and helpers, with what the config file changes in it."""
    severity, pack, waivable, *rest = _facts(rule, setting, str)
    lines = [rule.id if rule.title == rule.id else f"{rule.id}: {rule.title}", ""]
    lines += [f"{severity}    {pack}    {waivable}", *rest]
    if rule.rationale:
        lines += ["", rule.rationale]
    if rule.doc:
        lines += ["", rule.doc]
    lines += [
        "",
        f"Source ({rule.path}):",
        "",
        *(("    " + line).rstrip() for line in rule.source_text.rstrip().splitlines()),
    ]
    for where, text in rule.helpers:
        lines += ["", f"Helper ({where}):", "", *(("    " + line).rstrip() for line in text.splitlines())]
    return "\n".join(lines) + "\n"


def doc_markdown(doc: str) -> str:
    """A rule's documentation as Markdown: its indented examples in code blocks,
    which Markdown would otherwise run into the paragraph before them."""
    out: list[str] = []
    block: list[str] = []

    def flush() -> None:
        if block:
            cut = min(len(line) - len(line.lstrip()) for line in block if line.strip())
            fence = "```yaml" if any(line.lstrip().startswith("kind:") for line in block) else "```"
            out.extend(["", fence, *(line[cut:] for line in block), "```"])
            block.clear()

    for line in doc.splitlines():
        if line.startswith("  ") and line.strip():
            block.append(line)
        else:
            flush()
            out.append(_prose(line))
    flush()
    return "\n".join(out)


def _prose(text: str) -> str:
    """Plain text that Markdown shows as written: `<b>` is not a tag, `&amp;` not an entity."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def markdown_page(
    rules: Sequence[CompiledRule], settings: Mapping[str, RuleConfig], plan_rules: Mapping[str, str]
) -> str:
    """Every rule's documentation on one page: a table of them, then a section each."""
    ordered = sorted(rules, key=lambda r: r.id)
    packs = sorted({r.pack for r in ordered})
    lines = [
        "# Rules",
        "",
        f"{counted(len(ordered), 'rule')} in {counted(len(packs), 'pack')} ({', '.join(packs)}), "
        f"and the plan loader's {len(plan_rules)} checks. Generated by "
        "`policy-engine rules --format markdown`; `policy-engine explain RULE` adds the rule's source.",
        "",
        "| rule | severity | pack | title |",
        "| --- | --- | --- | --- |",
    ]
    for rule in ordered:
        severity = _severity(rule, settings.get(rule.id))
        lines.append(f"| [`{rule.id}`](#{rule.id}) | {cell(severity)} | {rule.pack} | {cell(_title(rule))} |")
    for rule in ordered:
        lines += ["", *_rule_section(rule, settings.get(rule.id))]
    lines += [
        "",
        "## The plan loader's checks",
        "",
        "Every plan gets these, with severity error; they are not waivable.",
        "",
        "| rule | what it asks |",
        "| --- | --- |",
        *(f"| `{rule_id}` | {cell(title)} |" for rule_id, title in plan_rules.items()),
    ]
    return "\n".join(lines) + "\n"


def _rule_section(rule: CompiledRule, setting: RuleConfig | None) -> list[str]:
    facts = _facts(rule, setting, lambda name: f"`{name}`")
    lines = [f"## {rule.id}", "", f"**{_prose(_title(rule))}**", "", *(f"- {fact}" for fact in facts)]
    if rule.rationale:
        lines += ["", f"> {_prose(rule.rationale)}"]
    if rule.doc:
        lines += ["", doc_markdown(rule.doc).strip("\n")]
    return lines
