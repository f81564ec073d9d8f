"""Plan files to validated entities with positions; plan problems as findings.

One broken file or entity never stops the others: every problem becomes a
`plan/…` finding at its exact place and loading goes on.
"""

from __future__ import annotations

import codecs
import contextlib
import gc
import hashlib
import json
import os
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path as FsPath
from typing import Any, Protocol

from pydantic import BaseModel, ValidationError

from policy_engine.diagnostics import a_or_an, closest, date_hint, did_you_mean
from policy_engine.files import (
    PLAN_SUFFIXES,
    FileTooLarge,
    NotRegularFile,
    display_path,
    files_under,
    read_regular,
)
from policy_engine.plan.blockyaml import read_block
from policy_engine.plan.cache import PlanCache
from policy_engine.plan.jsonread import JsonFileIndex, read_json
from policy_engine.plan.model import (
    BLOCK_FIELDS,
    CADENCES,
    ID_MAX,
    ID_RE,
    KINDS,
    MODELS,
    PERIOD_PATTERN,
    Entity,
    id_meant,
)
from policy_engine.plan.twocores import map_on_two_cores
from policy_engine.plan.yamlread import KEY, Path, YamlProblem, read_stream
from policy_engine.report import Finding
from policy_engine.source import Location, SourceFile, not_utf8

MAX_FILE_BYTES = 16 * 1024 * 1024
MAX_ENTITIES = 2_000_000  # in one plan; see docs/robustness.md
TWO_CORES_BYTES = 1 << 20  # to parse; below that, a fork and a pickle cost more than they save


class PositionLookup(Protocol):
    def get(self, path: Path, /) -> tuple[int, int] | None: ...


@dataclass(eq=False, slots=True)
class PlanEntity:
    """One entity of the plan: its validated fields and where it was written."""

    kind: str
    id: str
    model: Entity
    path: str
    positions: PositionLookup
    extras: dict[str, Any] = field(default_factory=dict)
    # Relations by name, forwards and inverse; filled when the graph is built.
    links: dict[str, tuple[PlanEntity, ...]] = field(default_factory=dict)
    # Source index of each kept reference where invalid ones were dropped.
    kept_refs: dict[Path, list[int]] = field(default_factory=dict)
    ref: str = field(init=False)  # `kind:id`, the kind in lower case

    def __post_init__(self) -> None:
        self.ref = f"{self.kind.lower()}:{self.id}"

    def __getstate__(self) -> tuple[Any, ...]:
        # Links belong to one graph; a cached file is stored without them.
        return (self.kind, self.id, self.model, self.path, self.positions, self.extras, self.kept_refs)

    def __setstate__(self, state: tuple[Any, ...]) -> None:
        self.kind, self.id, self.model, self.path, self.positions, self.extras, self.kept_refs = state
        self.links = {}
        self.ref = f"{self.kind.lower()}:{self.id}"

    def location(self, path: Path = ()) -> Location:
        """The most precise place for `path`: its value, else the entity's kind line."""
        while True:
            pos = self.positions.get(path)
            if pos is not None:
                return Location(self.path, pos[0], pos[1])
            if not path:
                return Location(self.path, 1, 1)
            path = path[:-1]

    def first_written(self, paths: Iterable[Path]) -> Location:
        """Where the first of `paths` that the entity has written is, else its kind line."""
        for path in paths:
            position = self.positions.get(path)
            if position is not None:
                return Location(self.path, *position)
        return self.location()

    def ref_location(self, field_path: Path, index: int, single: bool) -> Location:
        """Where the `index`-th kept reference of a field was written."""
        if single:
            return self.location(field_path)
        kept = self.kept_refs.get(field_path)
        return self.location((*field_path, kept[index] if kept else index))


@dataclass(slots=True)
class ParsedFile:
    """One plan file read: its text, its entities in order, its problems."""

    source: SourceFile
    entities: list[PlanEntity]
    problems: list[Finding]
    # Entities left out for a wrong kind or id: the reference each meant, and where it is.
    left_out: list[tuple[str, Location]] = field(default_factory=list)


@dataclass(slots=True)
class LoadedPlan:
    """What the loader read: entities in file order, plan problems, source texts."""

    entities: list[PlanEntity]
    problems: list[Finding]
    sources: dict[str, SourceFile]
    files: list[str]
    left_out: dict[str, Location] = field(default_factory=dict)  # see ParsedFile
    # The SHA-256 of each file's bytes (hex), by the path shown: what a
    # re-check compares to tell the files an edit touched (see recheck.py).
    digests: dict[str, str] = field(default_factory=dict)


def discover(paths: Iterable[str | os.PathLike[str]]) -> list[FsPath]:
    """Plan files under the given paths (files_under: hidden ones skipped, sorted as reports sort)."""
    found: list[FsPath] = []
    for raw in paths:
        path = FsPath(raw)
        found.extend(files_under(path, PLAN_SUFFIXES) if path.is_dir() else [path])
    return found


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while building a plan.

    Loading makes millions of long-lived objects and no garbage; every
    collection would only rescan them (time grew faster than the plan did).
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def load_files(paths: Sequence[str | os.PathLike[str]], cache: PlanCache | None = None) -> LoadedPlan:
    """Read every plan file under `paths`; missing paths are plan/syntax problems.

    With a cache, a file whose bytes were parsed before is not parsed again,
    and the files parsed now are stored for next time.
    """
    with gc_paused():
        plan = _load_files(paths, cache)
    if cache is not None:
        cache.save()
    return plan


def _load_files(paths: Sequence[str | os.PathLike[str]], cache: PlanCache | None) -> LoadedPlan:
    plan = LoadedPlan([], [], {}, [])
    seen: set[str] = set()
    read: list[tuple[str, bytes | None, list[Finding], ParsedFile | None]] = []
    for path in discover(paths):
        shown = display_path(path)
        if shown in seen:
            continue
        seen.add(shown)
        plan.files.append(shown)
        problems: list[Finding] = []
        data = _read_bytes(path, shown, problems)
        if data is not None:
            plan.digests[shown] = hashlib.sha256(data).hexdigest()
        cached = cache.get(shown, plan.digests[shown]) if cache is not None and data is not None else None
        read.append((shown, data, problems, cached))
    unparsed = [(shown, data) for shown, data, _, cached in read if data is not None and cached is None]
    worth_a_fork = sum(len(data) for _, data in unparsed) >= TWO_CORES_BYTES
    parsed_now = iter(map_on_two_cores(_parse_bytes, unparsed, worth_a_fork))
    for shown, data, problems, parsed in read:
        plan.problems.extend(problems)
        if data is None:
            continue
        if parsed is None:
            parsed, problems = next(parsed_now)
            plan.problems.extend(problems)
            if parsed is None:
                continue
            if cache is not None:
                cache.put(shown, plan.digests[shown], parsed)
        _add(plan, parsed)
    _report_duplicates(plan)
    return plan


def _parse_bytes(file: tuple[str, bytes]) -> tuple[ParsedFile | None, list[Finding]]:
    """One file's parse, or None and why its bytes are no text."""
    shown, data = file
    problems: list[Finding] = []
    text = _decode(data, shown, problems)
    return (parse_file(shown, text) if text is not None else None), problems


def load_texts(files: Sequence[tuple[str, str]]) -> LoadedPlan:
    """Load plan files given as (path to show, text): for tests and case files."""
    plan = LoadedPlan([], [], {}, [])
    for shown, text in files:
        plan.files.append(shown)
        plan.digests[shown] = hashlib.sha256(text.encode()).hexdigest()
        _add(plan, parse_file(shown, text))
    _report_duplicates(plan)
    return plan


def parse_file(shown: str, text: str) -> ParsedFile:
    """The entities and problems of one file's text."""
    parsed = ParsedFile(SourceFile(shown, text), [], [])
    for entity, problems in _entities(parsed.source, shown.endswith(".json"), parsed.left_out):
        parsed.problems.extend(problems)
        if entity is not None:
            parsed.entities.append(entity)
    return parsed


def _add(plan: LoadedPlan, parsed: ParsedFile) -> None:
    plan.sources[parsed.source.path] = parsed.source
    plan.problems.extend(parsed.problems)
    for meant, where in parsed.left_out:
        plan.left_out.setdefault(meant, where)
    room = MAX_ENTITIES - len(plan.entities)
    if len(parsed.entities) > room:
        message = f"the plan has more than {MAX_ENTITIES} entities; the rest are not read"
        plan.problems.append(_problem("plan/syntax", message, parsed.entities[room].location()))
    plan.entities.extend(parsed.entities[:room])


def _problem(
    rule: str, message: str, location: Location, subject: str | None = None, related: tuple[str, ...] = ()
) -> Finding:
    return Finding(
        rule=rule, severity="error", message=message, location=location, subject=subject, related=related
    )


def _read_bytes(path: FsPath, shown: str, problems: list[Finding]) -> bytes | None:
    start = Location(shown, 1, 1)
    try:
        return read_regular(path, MAX_FILE_BYTES)
    except FileTooLarge as exc:
        limit = MAX_FILE_BYTES // (1024 * 1024)
        message = f"file is {exc.size} bytes; the limit is {limit} MiB (split the plan into files)"
        problems.append(_problem("plan/syntax", message, start))
    except NotRegularFile:
        message = f"{shown} is not a regular file (a FIFO, device or socket); plan files are regular files"
        problems.append(_problem("plan/syntax", message, start))
    except FileNotFoundError:
        message = f"no such file or directory: {shown}"
        if path.is_symlink():  # found in a folder, so it is there: as a link to nothing
            message = f"{shown} is a link to {os.readlink(path)}, which does not exist"
        problems.append(_problem("plan/syntax", message, start))
    except OSError as exc:
        problems.append(_problem("plan/syntax", f"cannot read {shown}: {exc.strerror}", start))
    return None


# Byte order marks of the encodings YAML 1.2 reads besides UTF-8, longest first
# (UTF-32's little-endian mark starts like UTF-16's): what a Windows editor or
# PowerShell's Out-File may save a plan file in.
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32", "UTF-32"),
    (codecs.BOM_UTF32_BE, "utf-32", "UTF-32"),
    (codecs.BOM_UTF16_LE, "utf-16", "UTF-16"),
    (codecs.BOM_UTF16_BE, "utf-16", "UTF-16"),
)
# Without a mark: which of the first four bytes are zero, beside an ASCII character.
_ZEROS = (
    ((True, True, True, False), "utf-32-be", "UTF-32"),
    ((False, True, True, True), "utf-32-le", "UTF-32"),
    ((True, False), "utf-16-be", "UTF-16"),
    ((False, True), "utf-16-le", "UTF-16"),
)


def _encoding(data: bytes) -> tuple[str, str, str] | None:
    """The codec YAML 1.2 (section 5.2) deduces for a file that is not UTF-8, its name, and the sign.

    A byte order mark says it; without one, the zero bytes beside the first
    character, which is ASCII in any plan file, tell UTF-16 and UTF-32 from
    UTF-8.
    """
    for bom, codec, name in _BOMS:
        if data.startswith(bom):
            return codec, name, f"starts with the byte order mark of {name}"
    zeros = tuple(b == 0 for b in data[:4])
    for pattern, codec, name in _ZEROS:
        if zeros[: len(pattern)] == pattern:
            return codec, name, f"looks like {name} (zero bytes beside its first character)"
    return None


def decode_plan(data: bytes) -> str:
    """A plan file's text, in the encoding YAML 1.2 deduces; UnicodeDecodeError if it is not that."""
    other = _encoding(data)
    return data.decode(other[0] if other else "utf-8-sig")


def _decode(data: bytes, shown: str, problems: list[Finding]) -> str | None:
    try:
        text = decode_plan(data)
    except UnicodeDecodeError as exc:
        other = _encoding(data)
        if other is not None:
            _, name, sign = other
            message = f"file {sign}, but is not {name} text"
            problems.append(_problem("plan/syntax", message, Location(shown, 1, 1)))
            return None
        line, column, message = not_utf8(data, exc)
        problems.append(_problem("plan/syntax", message, Location(shown, line, column)))
        return None
    if not text.strip():
        problems.append(_problem("plan/syntax", "file is empty: it holds no entity", Location(shown, 1, 1)))
        return None
    return text


Loaded = tuple[PlanEntity | None, list[Finding]]


def _entities(source: SourceFile, is_json: bool, left_out: list[tuple[str, Location]]) -> Iterator[Loaded]:
    """Entities of one file, or the problems that stop some of them; what was left out goes to `left_out`."""
    text, shown = source.text, source.path
    try:
        problems: list[YamlProblem]
        if is_json:
            value, element_starts, problems = read_json(text)
            index = JsonFileIndex(source, element_starts)
            for problem in problems:
                yield None, [_syntax_problem(problem, shown)]
            if value == [] and not problems:
                yield None, [_problem("plan/syntax", "file holds no entity", Location(shown, 1, 1))]
            elif isinstance(value, list):
                for i, item in enumerate(value):
                    yield _entity(item, index.entity(i), shown, left_out)
            else:
                yield _entity(value, index.entity(None), shown, left_out)
        else:
            documents, problems = read_block(text), []  # plain block style, read fast; else libyaml reads it
            if documents is None:
                documents, problems = read_stream(text)
            count = 0
            for doc in documents:
                if doc.value is None:  # an empty document, as between two `---`
                    continue
                count += 1
                yield _entity(doc.value, doc.positions, shown, left_out)
            for problem in problems:
                yield None, [_syntax_problem(problem, shown)]
            if count == 0 and not problems:
                yield None, [_problem("plan/syntax", "file holds no entity", Location(shown, 1, 1))]
    except YamlProblem as exc:
        yield None, [_syntax_problem(exc, shown)]


def _syntax_problem(problem: YamlProblem, shown: str) -> Finding:
    return _problem("plan/syntax", problem.text, Location(shown, problem.line, problem.column))


def _at(positions: PositionLookup, shown: str, path: Path) -> Location:
    while True:
        pos = positions.get(path)
        if pos is not None:
            return Location(shown, pos[0], pos[1])
        if not path:
            return Location(shown, 1, 1)
        path = path[:-1]


def _entity(
    value: Any, positions: PositionLookup, shown: str, left_out: list[tuple[str, Location]]
) -> Loaded:
    """Validate one entity document; field problems are findings, not failures.

    An entity left out for a kind or id written wrong, where what it meant is
    certain (`kind: initiative`, `id: Maria`), adds that reference and its place
    to `left_out`: a reference to it is then told why it does not exist.
    """
    if not isinstance(value, dict):
        message = "a document must be a mapping of fields (kind, id, ...)"
        if isinstance(value, list) and not shown.endswith(".json"):
            message += "; a YAML file holds one entity per document, each after a line `---`"
        return None, [_problem("plan/syntax", message, _at(positions, shown, ()))]
    kind = value.get("kind")
    if "kind" not in value:
        message = "entity has no kind"
        if any(isinstance(key, str) and key.lower() == "kind" for key in value):
            message += "; field names are lower case: kind"
        elif "$schema" in value:  # `policy-engine schema -o` into a plan folder, say
            message += "; this is a JSON Schema, not a plan file: keep it outside the plan's folders"
        elif "id" not in value:  # `check .` reads package.json and docker-compose.yml too
            message = (
                "entity has neither kind nor id; if this file is not part of the plan, name only"
                " the plan's files and folders, or set `plan` in the config file"
            )
        return None, [_problem("plan/invalid-value", message, _at(positions, shown, ()))]
    if not isinstance(kind, str) or kind not in MODELS:  # a mapping or list is no kind either
        meant_kind = closest(kind, KINDS) if isinstance(kind, str) else None
        what = f"unknown kind '{kind}'" if isinstance(kind, str) else "kind must be a name"
        message = f"{what}; kinds are {', '.join(KINDS)}"
        if meant_kind:
            message += f" (did you mean '{meant_kind}'?)"
        at = _at(positions, shown, ("kind",))
        ident = value.get("id")
        if meant_kind and isinstance(ident, str) and ID_RE.match(ident):
            left_out.append((f"{meant_kind.lower()}:{ident}", at))
        return None, [_problem("plan/invalid-value", message, at)]
    ident = value.get("id")
    if isinstance(ident, int) and not isinstance(ident, bool):
        ident = str(ident)
    if ident is None:
        at = _at(positions, shown, ("kind", KEY))
        return None, [_problem("plan/invalid-value", f"{kind} has no id", at)]
    if not isinstance(ident, str) or not ID_RE.match(ident) or len(ident) > ID_MAX:
        meant = id_meant(ident) if isinstance(ident, str) else None
        message = (
            f"invalid id {ident!r}: use lower-case letters, digits and single hyphens, "
            f"at most {ID_MAX} characters" + (f"; did you mean '{meant}'?" if meant else "")
        )
        at = _at(positions, shown, ("id",))
        if meant:
            left_out.append((f"{kind.lower()}:{meant}", at))
        return None, [_problem("plan/invalid-value", message, at)]
    entity_positions = _EntityPositions(positions)
    subject = f"{kind.lower()}:{ident}"
    model_class = MODELS[kind]
    if value.keys() <= _NAMES[kind]:  # no custom field: one copy, in C
        fields = value.copy()
        del fields["kind"], fields["id"]
        extras: dict[str, Any] = {}
    else:
        fields = {k: v for k, v in value.items() if k not in ("kind", "id") and not k.startswith("x-")}
        extras = {k: v for k, v in value.items() if k.startswith("x-")}
    problems: list[Finding] = []
    kept_refs: dict[Path, list[int]] = {}
    dropped: set[Path] = set()
    for _ in range(4):  # each pass removes what the previous one found wrong
        try:
            model = model_class.model_validate(fields)
            break
        except ValidationError as exc:
            fields = _drop_invalid(
                exc, fields, model_class, shown, positions, subject, problems, kept_refs, dropped
            )
    else:  # pragma: no cover - every pass removes at least one value
        model = model_class()
    entity = PlanEntity(kind, ident, model, shown, entity_positions, extras, {}, kept_refs)
    return entity, problems


# What an entity of each kind may be written with, bar custom `x-` fields.
_NAMES = {kind: frozenset(model.model_fields) | {"kind", "id"} for kind, model in MODELS.items()}


class _EntityPositions:
    """Positions of one entity; the empty path is where its `kind` key stands."""

    __slots__ = ("_positions",)

    def __init__(self, positions: PositionLookup) -> None:
        self._positions = positions

    def get(self, path: Path, /) -> tuple[int, int] | None:
        if not path:
            return self._positions.get(("kind", KEY)) or self._positions.get(())
        return self._positions.get(path)


def _drop_invalid(
    exc: ValidationError,
    fields: dict[str, Any],
    model_class: type[BaseModel],
    shown: str,
    positions: PositionLookup,
    subject: str,
    problems: list[Finding],
    kept_refs: dict[Path, list[int]],
    dropped: set[Path],
) -> dict[str, Any]:
    """Report each validation error and return the fields without what was wrong.

    `dropped` holds the invalid values removed by earlier passes: a block
    that then misses a required field (a link whose `url` was a number) is
    removed too, without a second problem for the same value.
    """
    fields = _deep_copy(fields)
    for error in exc.errors():
        loc: Path = tuple(error["loc"])
        kind = error["type"]
        if kind == "missing" and loc in dropped:
            _remove(fields, _field_of(loc[:-1], fields))
        elif kind == "extra_forbidden" and str(loc[-1]).startswith("x-"):
            _remove(fields, loc)  # custom data inside a block: allowed, and not for policies to read
        elif kind == "extra_forbidden":
            name = str(loc[-1])
            names = _field_names(model_class, loc[:-1])
            hint = did_you_mean(name, names)
            if not hint and loc[:-1] == ("decision",) and name.lower() in _ROLE_WORDS:
                hint = f"did you mean '{_ROLE_WORDS[name.lower()]}'?"
            if name == "<<":  # YAML 1.1's merge key, which a 1.2 reader takes as a plain key
                hint = "YAML 1.2 has no merge keys: write the fields out"
            elif not loc[:-1] and re.match(r"[xX][-_.]\w", name) and not name.startswith("x-"):  # `x_cost`
                hint = f"did you mean 'x-{name[2:].lower().replace('_', '-')}'?"
            message = f"unknown field '{name}'" + (f"; {hint}" if hint else "")
            if not loc[:-1] and not hint:  # `owner` on a Team: say what a Team has
                known = ", ".join(n for n in names if n not in ("kind", "id"))
                message += f"; {a_or_an(model_class.__name__)} has {known} (custom fields start with x-)"
            elif not loc[:-1]:
                message += " (custom fields start with x-)"
            elif not hint:  # `decision: {approver: …}`: say what the block has
                message += f"; {_dotted(loc[:-1])} has {', '.join(names)}"
            problems.append(
                _problem("plan/unknown-field", message, _at(positions, shown, (*loc, KEY)), subject)
            )
            _remove(fields, loc)
        elif kind == "references":
            bad, candidates = error["ctx"]["bad"], error["ctx"]["candidates"]
            for index, ref_kind, message in bad:
                rule = (
                    "plan/ambiguous-reference" if ref_kind == "ambiguous_reference" else "plan/invalid-value"
                )
                where = loc if index is None else (*loc, index)
                # An ambiguous bare id relates what it could mean; the graph keeps those that exist.
                related = candidates.get(index, ())
                at = _at(positions, shown, where)
                problems.append(_problem(rule, f"{_dotted(loc)}: {message}", at, subject, related))
            items = _get(fields, loc)
            if isinstance(items, list):
                bad_indices = {index for index, _, _ in bad}
                keep = [i for i in range(len(items)) if i not in bad_indices]
                kept_refs[loc] = keep
                _set(fields, loc, [items[i] for i in keep])
            else:
                _remove(fields, loc)
        else:
            message = f"{_dotted(loc)}: {_describe(error)}"
            hint = _value_hint(error, in_json=shown.endswith(".json"))
            if hint:
                message += f"; {hint}"
            problems.append(_problem("plan/invalid-value", message, _at(positions, shown, loc), subject))
            _remove(fields, _field_of(loc, fields))
            dropped.add(loc)
    return fields


def _describe(error: Any) -> str:
    message = _plain_words(error) or str(error["msg"])
    value = error.get("input")
    if isinstance(value, str | int | float | bool) and len(repr(value)) < 60:
        message += f" (got {value!r})"
    return message


_EXPECTED = {  # pydantic's error types, in the words of the plan format
    "tuple_type": "expected a list",
    "list_type": "expected a list",
    "float_type": "expected a number",
    "finite_number": "expected a finite number",
    "int_type": "expected a whole number",
    "bool_type": "expected true or false",
    "string_type": "expected a text",
}


def _plain_words(error: Any) -> str | None:
    """What a plan author would say where pydantic speaks of its types, tuples and patterns."""
    if error["type"] in _EXPECTED:
        return _EXPECTED[error["type"]]
    if error["type"] == "greater_than_equal":
        return f"expected a number of {error['ctx']['ge']:g} or more"
    if error["type"] == "less_than_equal":
        return f"expected a number of {error['ctx']['le']:g} or less"
    if error["type"] == "model_type":  # a block (decision, due_diligence, a link) written as a value
        fields = BLOCK_FIELDS.get(error.get("ctx", {}).get("class_name", ""))
        return f"expected a block of fields ({', '.join(fields)})" if fields else None
    expected = error.get("ctx", {}).get("expected")
    if error["type"] == "literal_error" and expected:
        return f"expected {expected}"
    if error["type"] == "string_pattern_mismatch" and error.get("ctx", {}).get("pattern") == PERIOD_PATTERN:
        return "expected a period such as 2027-Q1, 2027-H1 or 2027"
    return None


# Decision rights in the words of RACI, DACI and RAPID: the field of a decision block each is.
_ROLE_WORDS = {
    **dict.fromkeys(("accountable", "approver", "approvers", "decider", "deciders", "owner"), "decides"),
    **dict.fromkeys(("responsible", "executor", "executors", "driver", "drivers", "perform"), "executes"),
    **dict.fromkeys(("consulted", "advisor", "advisors", "contributors", "input", "recommend"), "advises"),
    **dict.fromkeys(("inform", "informs"), "informed"),
}
_YAML_1_1_BOOLS = {"yes": "true", "y": "true", "on": "true", "no": "false", "n": "false", "off": "false"}
_NUMBER_WORDS = tuple(
    ["one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve"]
)
# `12 months`, `2 weeks`, `every two weeks`: the duration written in words.
_DURATION_IN_WORDS = re.compile(
    rf"(?:every\s+)?(\d+|{'|'.join(_NUMBER_WORDS)})\s*(day|week|month|year)s?", re.IGNORECASE
)
# Cadences people write that the keywords do not name: the duration they mean.
_CADENCE_WORDS = {
    "daily": "P1D",
    "biweekly": "P14D",
    "fortnightly": "P14D",
    "bimonthly": "P2M",
    "half-yearly": "P6M",
    "semiannually": "P6M",
    "yearly": "P1Y",
    "annually": "P1Y",
    "annual": "P1Y",
}
_CADENCE_IN_WORDS = re.compile(
    r"(?:every|each|once a|once per|per)\s+(day|week|month|quarter|year)", re.IGNORECASE
)
_CADENCE_OF_UNIT = {"day": "P1D", "week": "weekly", "month": "monthly", "quarter": "quarterly", "year": "P1Y"}


def _value_hint(error: Any, in_json: bool) -> str | None:
    """A "did you mean" for a value outside its set, or the form to write.

    The set: an enumeration's values, the cadence words, a period's form. The
    form: a text where a list or a link is meant, written as the file's format
    writes one.
    """
    value = error.get("input")
    if not isinstance(value, str):
        return None
    if error["type"] == "literal_error":
        expected = str(error.get("ctx", {}).get("expected", ""))
        if "'" not in expected:  # numbers (`tier`): `"1"` is quoted
            return _number_hint(value.strip())
        hint = did_you_mean(value, re.findall(r"'([^']*)'", expected))
        if hint is None and error["loc"][-1:] == ("priority",):  # `high`, `urgent`: say which way it runs
            return "priorities run from P0, the highest, to P3, the lowest"
        return hint
    if error["type"] in ("cadence", "duration"):
        spelt = _DURATION_IN_WORDS.fullmatch(value.strip())
        if spelt:
            count = spelt[1].lower()
            number = _NUMBER_WORDS.index(count) + 1 if count in _NUMBER_WORDS else int(count)
            return f"did you mean 'P{number}{spelt[2][0].upper()}'?"
        if error["type"] != "cadence":
            return None
        if value.strip().lower() in _CADENCE_WORDS:
            return f"did you mean '{_CADENCE_WORDS[value.strip().lower()]}'?"
        every = _CADENCE_IN_WORDS.fullmatch(value.strip())
        if every:  # `every month`, `once a quarter`
            return f"did you mean '{_CADENCE_OF_UNIT[every[1].lower()]}'?"
        return did_you_mean(value, CADENCES)
    if error["type"] == "bool_type" and value.lower() in _YAML_1_1_BOOLS:
        return f"YAML 1.2 reads {value} as text; did you mean '{_YAML_1_1_BOOLS[value.lower()]}'?"
    if error["type"] in ("tuple_type", "list_type") and error["loc"][-1:] == ("links",):  # `links: https://…`
        written = json.dumps([{"url": value}], ensure_ascii=False) if in_json else f"[{{url: {value}}}]"
        return f"write a list of links: {written}"
    if error["type"] in ("tuple_type", "list_type"):  # `tags: security, audit`
        return f"write a list: {json.dumps([value], ensure_ascii=False) if in_json else f'[{value}]'}"
    if error["type"] == "model_type" and error.get("ctx", {}).get("class_name") == "Link":
        written = json.dumps({"url": value}, ensure_ascii=False) if in_json else f"url: {value}"
        return f"a link is written as {written}"
    if error["type"] == "date_format":
        return date_hint(value.strip())
    if error["type"] in ("float_type", "int_type"):
        return _number_hint(value.strip())
    pattern = error.get("ctx", {}).get("pattern")
    if error["type"] == "string_pattern_mismatch" and pattern == PERIOD_PATTERN:
        return _period_hint(value.strip().upper())
    return None


def _number_hint(value: str) -> str | None:
    """`"3"` is quoted, `1_000` separated, `80%` a share; `3 months` and `#1` have words around them."""
    if re.fullmatch(r"-?\d+(?:\.\d+)?", value):
        return f"write it without quotes: {value}"
    if re.fullmatch(r"\d{1,3}(?:([,_ ])\d{3})(?:\1\d{3})*", value):
        return f"write it without separators: {re.sub(r'[,_ ]', '', value)}"
    percent = re.fullmatch(r"(\d+(?:\.\d+)?)\s*%", value)
    if percent:
        return f"a share is written as a fraction: {float(percent[1]) / 100:g}"
    number = re.fullmatch(r"(\d+(?:\.\d+)?)\s*[A-Za-z][A-Za-z -]*|#\s*(\d+)", value)
    if number:
        return f"write the number alone: {number[1] or number[2]}"
    return None


def _period_hint(value: str) -> str | None:
    """`q1`, `Q1 2027`, `2027 H1`, `H1-2027` for 2027-Q1 or 2027-H1."""
    if re.fullmatch(PERIOD_PATTERN, value):
        return f"did you mean '{value}'?"
    parts = re.fullmatch(r"([QH][1-4])[\s/_-]*(\d{4})|(\d{4})[\s/_]*([QH][1-4])", value)
    if not parts:
        return None
    part, year = (parts[1], parts[2]) if parts[1] else (parts[4], parts[3])
    written = f"{year}-{part}"
    return f"did you mean '{written}'?" if re.fullmatch(PERIOD_PATTERN, written) else None


def _dotted(loc: Path) -> str:
    return ".".join(str(p) for p in loc if isinstance(p, str))


def _field_of(loc: Path, fields: dict[str, Any]) -> Path:
    """The part of `loc` to drop: a whole list item of strings, else the field."""
    # pydantic appends union member names to locations (`float`, `str`); cut
    # them off by following the location through the actual data.
    cut: list[str | int] = []
    node: Any = fields
    for part in loc:
        if isinstance(node, dict) and part in node:  # noqa: SIM114 - two branches keep mypy narrowing
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            node = node[part]
        else:
            break
        cut.append(part)
    # An invalid item of a list removes the item's whole list: indices stay true.
    while cut and isinstance(cut[-1], int):
        cut.pop()
    return tuple(cut)


def _field_names(model_class: type[BaseModel], path: Path) -> list[str]:
    model: Any = model_class
    for part in path:
        if isinstance(part, int):
            continue
        info = model.model_fields.get(part) if hasattr(model, "model_fields") else None
        if info is None:
            return []
        model = _model_in(info.annotation)
        if model is None:
            return []
    names = list(model.model_fields)
    if model_class is model:
        names += ["kind", "id"]
    return names


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def _deep_copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _deep_copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_deep_copy(v) for v in value]
    return value


def _get(data: Any, loc: Path) -> Any:
    for part in loc:
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            return None
    return data


def _set(data: Any, loc: Path, value: Any) -> None:
    parent = _get(data, loc[:-1])
    if isinstance(parent, dict):
        parent[loc[-1]] = value


def _remove(data: Any, loc: Path) -> None:
    if not loc:
        return
    parent = _get(data, loc[:-1])
    if isinstance(parent, dict):
        parent.pop(loc[-1], None)


def _report_duplicates(plan: LoadedPlan) -> None:
    """Of two entities with one kind and id, the first in file order stays."""
    if len({item.ref for item in plan.entities}) == len(plan.entities):  # as nearly always: 3 times faster
        return
    kept: list[PlanEntity] = []
    first: dict[tuple[str, str], PlanEntity] = {}
    for item in plan.entities:
        key = (item.kind, item.id)
        if key in first:
            other = first[key].location()
            message = f"duplicate id: {item.ref} is already defined at {other}"
            plan.problems.append(_problem("plan/duplicate-id", message, item.location(("id",)), item.ref))
            continue
        first[key] = item
        kept.append(item)
    plan.entities = kept
