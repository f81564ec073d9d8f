"""Project config: `[tool.policy-engine]` in pyproject.toml, or policy-engine.toml.

Found by walking up from the working directory; the nearest file that has
our table wins. Validated with pydantic; every problem names the file and
the line of the offending key. The command line overrides what is here.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import re
import tomllib
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    ValidationError,
    WithJsonSchema,
)

from policy_engine.diagnostics import ConfigError, ConfigProblem, date_hint, did_you_mean, severity_hint
from policy_engine.files import PLAN_SUFFIXES, display_path, read_regular
from policy_engine.source import not_utf8

if TYPE_CHECKING:
    from policy_engine.dsl.compiler import CompiledRule

CONFIG_NAMES = ("policy-engine.toml", "pyproject.toml")


class RuleConfig(BaseModel):
    """Per-rule settings."""

    model_config = ConfigDict(extra="forbid")

    severity: Literal["error", "warning", "info"] | None = None
    enabled: StrictBool = True
    params: dict[str, Any] = Field(default_factory=dict)


def _one_or_a_list(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


# `plan = "plan"` means `plan = ["plan"]`, as a reference field takes one or a list.
Paths = Annotated[
    list[str],
    BeforeValidator(_one_or_a_list),
    WithJsonSchema({"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]}),
]


class Config(BaseModel):
    """The `[tool.policy-engine]` table."""

    model_config = ConfigDict(extra="forbid")

    plan: Paths = Field(default_factory=list, description="plan files or folders")
    policies: Paths = Field(default_factory=list, description="the project's own policy files or folders")
    builtin: StrictBool = Field(True, description="run the built-in governance pack")
    as_of: date | None = Field(None, description="the date checks run as of (default: today)")
    fail_on: Literal["error", "warning", "info", "never"] = "error"
    rules: dict[str, RuleConfig] = Field(default_factory=dict)


class LoadedConfig:
    """A validated config and where it came from; paths in it resolve from its folder."""

    def __init__(self, config: Config, path: Path | None) -> None:
        self.config, self.path = config, path

    @property
    def root(self) -> Path:
        return self.path.parent if self.path else Path.cwd()

    def paths(self, values: list[str]) -> list[Path]:
        return [self.root / v for v in values]


def find_config(start: Path | None = None) -> Path | None:
    """The nearest policy-engine.toml, or pyproject.toml with our table, from `start` up."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        for name in CONFIG_NAMES:
            candidate = folder / name
            if not candidate.is_file():
                continue
            if name == "pyproject.toml":
                try:
                    text = candidate.read_text(encoding="utf-8-sig")
                except (OSError, UnicodeDecodeError):
                    continue
                if not re.search(r"^\[tool\.policy-engine[.\]]", text, re.MULTILINE):
                    continue
            return candidate
    return None


def load_config(path: Path | None) -> LoadedConfig:
    """Read and validate a config file; None gives the defaults."""
    if path is None:
        return LoadedConfig(Config(), None)
    shown = display_path(path)
    try:
        raw = read_regular(path)
        text = raw.decode("utf-8-sig")
    except FileNotFoundError:
        raise ConfigError([ConfigProblem(shown, None, "no such file")]) from None
    except OSError as exc:
        raise ConfigError([ConfigProblem(shown, None, f"cannot read it: {exc.strerror or exc}")]) from None
    except UnicodeDecodeError as exc:
        line, column, message = not_utf8(raw, exc)
        raise ConfigError([ConfigProblem(shown, line, message, column)]) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        problem = _toml_problem(str(exc), shown)
        if path.suffix in PLAN_SUFFIXES:  # `--config plan.yaml`
            hint = "a config file is TOML: policy-engine.toml, or pyproject.toml's [tool.policy-engine]"
            problem = dataclasses.replace(problem, message=f"{problem.message}; {hint}")
        raise ConfigError([problem]) from None
    table = data
    # pyproject.toml's table, in that file or in one laid out as it is (`--config ci/pyproject.ci.toml`)
    tool = data.get("tool")
    as_pyproject = (
        isinstance(tool, dict) and "policy-engine" in tool and not set(data) & set(Config.model_fields)
    )
    if path.name == "pyproject.toml" or as_pyproject:
        table = data.get("tool", {}).get("policy-engine", {})
    try:
        return LoadedConfig(Config.model_validate(table), path)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, path, text)) from None


def _toml_problem(message: str, shown: str) -> ConfigProblem:
    """tomllib's "Unclosed array (at line 2, column 16)" as `file:2:16: config: invalid TOML: …`."""
    found = re.fullmatch(r"(.*) \(at (?:line (\d+), column (\d+)|end of document)\)", message, re.DOTALL)
    if found is None:
        return ConfigProblem(shown, None, f"invalid TOML: {message}")
    what, line, column = found.groups()
    what = what[:1].lower() + what[1:]
    if line is None:
        return ConfigProblem(shown, None, f"invalid TOML: {what} at the end of the file")
    return ConfigProblem(shown, int(line), f"invalid TOML: {what}", int(column))


def _describe(exc: ValidationError, path: Path, text: str) -> list[ConfigProblem]:
    problems = []
    for error in exc.errors():
        loc = [str(p) for p in error["loc"]]
        message = error["msg"]
        hint = None
        if error["type"] == "extra_forbidden":
            message = f"unknown setting '{loc[-1]}'"
            hint = _unknown_setting_hint(loc[-1], in_rule=loc[0] == "rules")
        elif error["type"].startswith("date"):  # pydantic's words would speak of datetimes and years
            value = error["input"]
            message = f"expected a date YYYY-MM-DD (got {_as_written(value)})"
            hint = _date_hint(value)
        elif error["type"] == "literal_error":
            message = f"expected {error['ctx']['expected']} (got {_as_written(error['input'])})"
            hint = did_you_mean(str(error["input"]), re.findall(r"'([^']*)'", error["ctx"]["expected"]))
            if loc[-1] in ("severity", "fail_on") and isinstance(error["input"], str):
                hint = severity_hint(error["input"]) or hint
        if hint:
            message += f"; {hint}"
        problems.append(ConfigProblem(display_path(path), _line_of(text, loc), f"{'.'.join(loc)}: {message}"))
    return sorted(problems, key=lambda p: p.line or 0)  # told in the file's order


# Words people reach for, from other tools' configs, and what ours calls them.
_SETTING_WORDS = {"paths": "plan", "files": "plan", "include": "plan"}
_RULE_SETTING_WORDS = {"level": "severity", "enable": "enabled", "parameters": "params"}
_SWITCHED_OFF = ("off", "disable", "disabled", "skip", "ignore")


def _unknown_setting_hint(name: str, in_rule: bool) -> str:
    """A "did you mean", else what the table takes."""
    model: type[BaseModel] = RuleConfig if in_rule else Config
    words = _RULE_SETTING_WORDS if in_rule else _SETTING_WORDS
    if name in words:
        return f"did you mean '{words[name]}'?"
    if in_rule and name in _SWITCHED_OFF:
        return "to switch a rule off, write enabled = false"
    hint = did_you_mean(name, model.model_fields)
    if hint:
        return hint
    settings = ", ".join(model.model_fields)
    if in_rule:
        return f"a rule takes {settings}; its parameters go in params = {{ {name} = … }}"
    return f"the settings are {settings}"


def _line_of(text: str, loc: list[str]) -> int | None:
    """The line where the innermost key of `loc` is set (TOML keeps no positions)."""
    for key in reversed(loc):
        escaped = re.escape(key)
        table = rf"^\s*\[[^\]]*(?<![\w-]){escaped}(?![\w-])[^\]]*\]"
        assignment = rf'(^\s*|[{{,]\s*)"?{escaped}"?\s*='
        # A key set to a value before a table that names the same word (`top = …` in `[rules.top.params]`).
        match = re.search(assignment, text, re.MULTILINE) or re.search(table, text, re.MULTILINE)
        if match:
            return text.count("\n", 0, match.start()) + 1 + match.group().count("\n")
    return None


def check_rule_settings(loaded: LoadedConfig, rules: dict[str, CompiledRule]) -> None:
    """Rule ids and parameters named in the config must exist, with the right types."""
    text = ""
    if loaded.path is not None:
        with contextlib.suppress(OSError, UnicodeDecodeError):
            text = loaded.path.read_text(encoding="utf-8-sig")

    def problem(message: str, *loc: str) -> ConfigProblem:
        name = display_path(loaded.path) if loaded.path else "config"
        return ConfigProblem(name, _line_of(text, list(loc)) if text else None, message)

    problems = []
    for rule_id, settings in loaded.config.rules.items():
        if rule_id not in rules:
            hint = did_you_mean(rule_id, rules)
            hint = f" ({hint})" if hint else ""
            problems.append(problem(f"rules.{rule_id}: no loaded rule has this id{hint}", rule_id))
            continue
        for name, value in settings.params.items():
            typed, why = typed_param(rules[rule_id], name, value)
            if why:
                problems.append(problem(f"rules.{rule_id}.params.{name}: {why}", rule_id, name))
            else:
                settings.params[name] = typed
    if problems:
        raise ConfigError(problems)


def typed_param(rule: CompiledRule, name: str, value: Any) -> tuple[Any, str | None]:
    """`value` as the parameter `name` of `rule` takes it, or why it cannot.

    TOML and YAML have no durations, and YAML 1.2 has no dates: a duration
    parameter takes text as a policy writes it (`"30d"`, `"P2W"`), and a date
    parameter takes text `"2027-03-15"` as well as a date. A text that the
    rule compares with an enumeration (`i.priority <= top`) must be one of its
    values, as the default had to be: `"p1"` would never match.
    """
    defaults = rule.params
    if name not in defaults:
        return None, f"unknown parameter (parameters: {', '.join(defaults) or 'none'})"
    default = defaults[name]
    typed = _typed(default, value)
    if typed is _MISMATCH:
        why = f"expected {_type_name(default)}, got {_as_written(value)}"
        hint = _date_hint(value) if isinstance(default, date) else _unquoted_hint(default, value)
        return None, why + (f"; {hint}" if hint else "")
    choices = rule.choices.get(name, ())
    for item in (typed if isinstance(typed, list) else [typed]) if choices else ():
        if item not in choices:
            why = f"{item!r} is not one of {', '.join(map(repr, choices))}"
            hint = did_you_mean(item, choices)
            return None, why + (f"; {hint}" if hint else "")
    return typed, None


_MISMATCH = object()


def _date_hint(value: Any) -> str | None:
    """The plan's date hints for a TOML value where a date is meant: a text, or a date-time."""
    if isinstance(value, datetime):
        return date_hint(value.isoformat())
    return date_hint(value.strip()) if isinstance(value, str) else None


def _unquoted_hint(default: Any, value: Any) -> str | None:
    """`max_top = "3"`, `strict = "true"`: a TOML number or boolean has no quotes."""
    if not isinstance(value, str) or isinstance(default, tuple | str):
        return None
    text = value.strip()
    if isinstance(default, bool):
        written = text.lower() if text.lower() in ("true", "false") else None
    elif isinstance(default, int | float):
        written = text if re.fullmatch(r"-?\d+(?:\.\d+)?", text) else None
    else:
        written = None
    return f"write {written}, without quotes" if written else None


def _typed(default: Any, value: Any) -> Any:
    from policy_engine.plan.model import Duration  # loaded already: the rules' defaults hold its values

    if isinstance(default, tuple):  # a list parameter: an array of what its default holds
        if not isinstance(value, list):
            return _MISMATCH
        items = [_typed(default[0], item) if default else item for item in value]
        fits = all(item is not _MISMATCH and not isinstance(item, list | dict) for item in items)
        return items if fits else _MISMATCH
    if isinstance(default, Duration) and isinstance(value, str):
        try:
            return Duration.from_policy_text(value.strip())
        except ValueError:
            return _MISMATCH
    if isinstance(default, date) and isinstance(value, str):
        text = value.strip()
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            return _MISMATCH
        try:
            return date.fromisoformat(text)
        except ValueError:
            return _MISMATCH
    if isinstance(default, bool) or isinstance(value, bool):
        same = isinstance(default, bool) and isinstance(value, bool)
    elif isinstance(default, int | float):
        same = isinstance(value, int | float) and math.isfinite(value)  # TOML has inf and nan
    else:  # the very type: TOML's 2027-03-15T10:00:00 is a date to Python, but a moment, not a day
        same = type(value) is type(default)
    return value if same else _MISMATCH


def _as_written(value: Any) -> str:
    """A TOML value as TOML writes it (`true`, not Python's `True`); text in quotes."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(_as_written(v) for v in value) + "]"
    if isinstance(value, datetime):
        return value.isoformat()
    return repr(value) if isinstance(value, str) else str(value)


def _type_name(default: Any, plural: bool = False) -> str:
    """What a parameter takes, as a person would say it: "a boolean (true or false)", "a list of texts"."""
    if isinstance(default, tuple):
        return f"a list of {_type_name(default[0], plural=True)}" if default else "a list"
    if isinstance(default, bool):
        noun = "boolean"
    elif isinstance(default, int | float):
        noun = "finite number"
    elif isinstance(default, str):
        noun = "text"
    elif isinstance(default, date):
        noun = "date"
    else:  # a duration, the one other type a parameter's literal has
        return 'durations such as "30d" or "P12M"' if plural else 'a duration such as "30d" or "P12M"'
    name = f"{noun}s" if plural else f"a {noun}"
    return f"{name} (true or false)" if isinstance(default, bool) else name
