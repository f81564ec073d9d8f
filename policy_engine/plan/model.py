"""The plan entities as pydantic models: the one schema every stage reads.

The loader validates with these models, `policy-engine schema` exports them as
JSON Schema, and the policy checker reads their annotations to type-check
field access. Reference fields carry a `RefSpec` saying which kinds they admit
and the inverse name under which the graph can follow them backwards.
"""

from __future__ import annotations

import calendar
import operator
import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    WithJsonSchema,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, PydanticCustomError, core_schema

from policy_engine.diagnostics import a_or_an, closest, no_such_day

ID_PATTERN = r"^[a-z0-9]+(-[a-z0-9]+)*$"
ID_RE = re.compile(ID_PATTERN)
ID_MAX = 63
PERIOD_PATTERN = r"^[0-9]{4}(-Q[1-4]|-H[12])?$"
MAX_STRING = 65_536  # characters in one string value; see docs/robustness.md


# ----------------------------------------------------------------- scalars


def id_meant(text: str) -> str | None:
    """The id an invalid one such as `SSO_Rollout` means (`sso-rollout`), or None.

    Accents are dropped rather than the letters under them: `maría-lópez`
    means `maria-lopez`.
    """
    import unicodedata  # only for an id written wrong

    plain = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    words = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "-", plain)  # SsoRollout -> Sso-Rollout
    fixed = re.sub(r"[^a-z0-9]+", "-", words.lower()).strip("-")
    return fixed if fixed != text and ID_RE.match(fixed) and len(fixed) <= ID_MAX else None


_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_EMAIL_HINT = "; this is an email: a reference names a person by its id (person:ID)"


def id_hint(text: str) -> str:
    """The hint `; did you mean 'sso-rollout'?` for an invalid id such as `SSO_Rollout`, or nothing."""
    meant = id_meant(text)
    return f"; did you mean '{meant}'?" if meant else ""


@dataclass(frozen=True, slots=True, eq=False)
class Duration:
    """An ISO 8601 date duration: years and months are calendar months.

    Durations compare as XML Schema orders them: equal when their months and
    their days are (`P1Y` is `P12M`, `P1W` is `P7D`); one is shorter when it
    is so from each of four reference dates that tell the months' lengths
    apart. `P1M` is longer than `P7D`, but neither shorter nor longer than
    `P30D`: that depends on the month, so every test of order between them
    is false, as with a missing value.
    """

    years: int = 0
    months: int = 0
    weeks: int = 0
    days: int = 0
    # The word it was written as (`weekly`), for messages; not part of its value.
    label: str = field(default="")

    _RE = re.compile(r"^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?$")

    @classmethod
    def parse(cls, text: str) -> Duration:
        match = cls._RE.fullmatch(text)
        if match is None or text == "P":
            raise ValueError(f"'{text}' is not an ISO 8601 duration such as P12M or P14D")
        years, months, weeks, days = (int(g) if g else 0 for g in match.groups())
        return cls(years, months, weeks, days)

    @classmethod
    def from_policy_text(cls, text: str) -> Duration:
        """A duration as a policy writes it: `30d`, `2w`, or ISO 8601 (`P12M`)."""
        short = re.fullmatch(r"(\d+)([dw])", text)
        if short is None:
            return cls.parse(text)
        number = int(short[1])
        return cls(weeks=number) if short[2] == "w" else cls(days=number)

    def add_to(self, start: date, sign: int = 1) -> date:
        """`start` plus (or minus) this duration, clamping to the month's end.

        Past the calendar's ends (after 9999-12-31, before 0001-01-01) it stays
        at the end: the far future plus a month is still the far future.
        """
        total = start.year * 12 + start.month - 1 + sign * (self.years * 12 + self.months)
        year, month = divmod(total, 12)
        if not 1 <= year <= 9999:
            return date.max if year > 9999 else date.min
        day = min(start.day, calendar.monthrange(year, month + 1)[1])
        try:
            return date(year, month + 1, day) + timedelta(days=sign * (self.weeks * 7 + self.days))
        except OverflowError:
            return date.max if sign > 0 else date.min

    def _value(self) -> tuple[int, int]:
        return self.years * 12 + self.months, self.weeks * 7 + self.days

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Duration) and self._value() == other._value()

    def __hash__(self) -> int:
        return hash(self._value())

    def _order(self, other: Duration) -> int | None:
        """-1, 0 or 1 where this duration ends before, with or after `other` from every reference date."""
        ends = [(self.add_to(start), other.add_to(start)) for start in _REFERENCE_DATES]
        signs = {(mine > theirs) - (mine < theirs) for mine, theirs in ends}
        return signs.pop() if len(signs) == 1 else None

    def __lt__(self, other: object) -> bool:
        return self._order(other) == -1 if isinstance(other, Duration) else NotImplemented

    def __le__(self, other: object) -> bool:
        return self._order(other) in (-1, 0) if isinstance(other, Duration) else NotImplemented

    def __gt__(self, other: object) -> bool:
        return self._order(other) == 1 if isinstance(other, Duration) else NotImplemented

    def __ge__(self, other: object) -> bool:
        return self._order(other) in (0, 1) if isinstance(other, Duration) else NotImplemented

    def __str__(self) -> str:
        if self.label:
            return self.label
        parts = [(self.years, "Y"), (self.months, "M"), (self.weeks, "W"), (self.days, "D")]
        text = "".join(f"{n}{unit}" for n, unit in parts if n)
        return f"P{text or '0D'}"


# XML Schema's reference dates for ordering durations: between them, months of 28 to 31 days.
_REFERENCE_DATES = (date(1696, 9, 1), date(1697, 2, 1), date(1903, 3, 1), date(1903, 7, 1))


class Ref(tuple[str, str, str]):
    """A typed reference `kind:id`, the kind in lower case: the tuple (kind, id, key).

    A tuple rather than a dataclass because a pickle rebuilds it with one
    call instead of three (0.40 against 0.75 µs), and the parse cache of a
    big plan holds hundreds of thousands.
    """

    __slots__ = ()

    def __new__(cls, kind: str, id: str) -> Ref:
        # `key` is made once: the graph resolves every reference by it.
        return tuple.__new__(cls, (kind, id, f"{kind}:{id}"))

    def __getnewargs__(self) -> tuple[str, str]:
        return self[0], self[1]

    kind = property(operator.itemgetter(0))
    id = property(operator.itemgetter(1))
    key = property(operator.itemgetter(2))

    def __str__(self) -> str:
        return self[2]

    def __repr__(self) -> str:
        return f"Ref({self[0]!r}, {self[1]!r})"


@dataclass(frozen=True, slots=True)
class Ordered:
    """Marks an enumeration whose values are ordered, highest first."""

    values: tuple[str, ...]


KINDS = ("Outcome", "Initiative", "Team", "Person", "System", "Vendor", "Review", "Waiver")
KIND_BY_LOWER = {k.lower(): k for k in KINDS}


def _parse_date(value: Any) -> Any:
    if isinstance(value, date):
        return value
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise PydanticCustomError("date_format", "expected a date YYYY-MM-DD")
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        reason = no_such_day(int(value[:4]), int(value[5:7]), int(value[8:])) or str(exc)
        raise PydanticCustomError("date_value", "{reason}", {"reason": reason}) from None


def _parse_duration(value: Any) -> Any:
    if isinstance(value, Duration):
        return value
    if not isinstance(value, str):
        raise PydanticCustomError("duration", "expected an ISO 8601 duration such as P12M")
    try:
        return Duration.parse(value)
    except ValueError as exc:
        raise PydanticCustomError("duration", "{reason}", {"reason": str(exc)}) from None


CADENCES = {
    "weekly": Duration(days=7, label="weekly"),
    "monthly": Duration(days=31, label="monthly"),
    "quarterly": Duration(days=92, label="quarterly"),
}


def _parse_cadence(value: Any) -> Any:
    if isinstance(value, str) and value in CADENCES:
        return CADENCES[value]
    if isinstance(value, str) and not value.startswith("P"):  # a word: say which words there are
        raise PydanticCustomError(
            "cadence", "expected weekly, monthly, quarterly or an ISO 8601 duration such as P14D"
        )
    return _parse_duration(value)


def _number_as_text(value: Any) -> Any:
    # A period `2027` or an id `2027` is a plain YAML integer; it means the text.
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


IsoDate = Annotated[date, BeforeValidator(_parse_date), WithJsonSchema({"type": "string", "format": "date"})]
IsoDuration = Annotated[
    Duration,
    BeforeValidator(_parse_duration),
    WithJsonSchema({"type": "string", "pattern": r"^P(\d+Y)?(\d+M)?(\d+W)?(\d+D)?$"}),
]
Cadence = Annotated[
    Duration,
    BeforeValidator(_parse_cadence),
    WithJsonSchema(
        {
            "anyOf": [
                {"enum": ["weekly", "monthly", "quarterly"]},
                {"type": "string", "pattern": r"^P(\d+Y)?(\d+M)?(\d+W)?(\d+D)?$"},
            ]
        }
    ),
]
Text = Annotated[str, Field(max_length=MAX_STRING)]


def _none_as_empty(value: Any) -> Any:
    return () if value is None else value


Period = Annotated[
    str,
    BeforeValidator(_number_as_text),
    Field(pattern=PERIOD_PATTERN),
    # `period: 2027` is a plain YAML integer and means the year.
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "pattern": PERIOD_PATTERN},
                {"type": "integer", "minimum": 1000, "maximum": 9999},
            ]
        }
    ),
]
# Numbers and booleans are strict: under YAML 1.2 `true` and `"3"` are a
# boolean and a string, and the exported JSON Schema says so; pydantic's lax
# mode would read them as 1 and 3.
# An integer is a real too; `.inf` and `.nan` (or JSON's NaN) are no effort or score anyone means.
Real = Annotated[float, Field(strict=True, allow_inf_nan=False)]
Number = Annotated[float, Field(ge=0, strict=True, allow_inf_nan=False)]
Strict = Annotated[bool, Field(strict=True)]


def _tier_not_a_bool(value: Any) -> Any:
    # Python's True == 1, so the enumeration alone would take `true` for tier 1.
    if isinstance(value, bool):
        raise PydanticCustomError("literal_error", "expected 1, 2 or 3")
    return value


Tier = Annotated[Literal[1, 2, 3], BeforeValidator(_tier_not_a_bool)]


def _number_or_text(value: Any) -> Any:
    # One error for the field, rather than one for each member of the union.
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise PydanticCustomError("number_or_text", "expected a number or a text")
    return value


NumberOrText = Annotated[Real | Text, BeforeValidator(_number_or_text)]


MAX_PARSED = 1_000_000  # remembered reference texts per field, so that memory stays bounded


@dataclass(frozen=True, slots=True)
class RefSpec:
    """Marks a field as a reference: the kinds it admits, its inverse name.

    Used as `Annotated[RefTuple, refs("Person", "Team", inverse="owner_of")]`;
    it validates one reference or a list of them into a tuple of `Ref`, and
    describes itself in the JSON Schema.
    """

    kinds: tuple[str, ...]  # lower case
    inverse: str | None = None
    # Text already parsed -> its Ref: a big plan names the same entities over
    # and over, and one shared Ref per entity also saves memory.
    _parsed: dict[str, Ref] = field(default_factory=dict, compare=False, hash=False, repr=False)

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        return core_schema.no_info_plain_validator_function(self.parse)

    def __get_pydantic_json_schema__(
        self, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        one = {"type": "string", "pattern": rf"^(({'|'.join(self.kinds)}):)?[a-z0-9]+(-[a-z0-9]+)*$"}
        return {"anyOf": [one, {"type": "array", "items": one}, {"type": "null"}]}

    def parse(self, value: Any) -> tuple[Ref, ...]:
        parsed = self._parsed
        if value.__class__ is str:
            ref = parsed.get(value)
            if ref is not None:
                return (ref,)
        elif value.__class__ is list:
            try:
                found: tuple[Any, ...] = tuple(map(parsed.get, value))  # in C; only text was ever parsed
            except TypeError:  # an item that is a list or a mapping
                found = (None,)
            if None not in found:
                return found
        return self._parse_slowly(value)

    def _parse_slowly(self, value: Any) -> tuple[Ref, ...]:
        if value is None:  # `owner:` or `owner: ~` leaves the field unset, like any other field
            return ()
        items = value if isinstance(value, list | tuple) else [value]
        refs: list[Ref] = []
        bad: list[tuple[int | None, str, str]] = []  # (index, error type, message)
        candidates: dict[int | None, tuple[str, ...]] = {}  # what an ambiguous bare id could mean
        for index, item in enumerate(items):
            where = index if items is value else None
            if isinstance(item, Ref):
                refs.append(item)
                continue
            if not isinstance(item, str):
                bad.append((where, "reference", "expected a reference such as kind:id"))
                continue
            listed = [part.strip() for part in item.split(",") if part.strip()] if "," in item else []
            if len(listed) > 1:  # `depends_on: a, b`: a list written without its brackets
                message = f"'{item}' is {len(listed)} references in one text"
                bad.append((where, "reference", f"{message}; write them as a list, one item each"))
                continue
            kind, sep, ident = item.partition(":")
            if not sep:
                if not ID_RE.match(item) or len(item) > ID_MAX:  # not an id at all, whatever it names
                    meant = id_meant(item)
                    hint = id_hint(item)
                    if meant and len(self.kinds) != 1:  # the id meant, with the kinds it may be
                        hint = f"; did you mean {' or '.join(repr(f'{k}:{meant}') for k in self.kinds[:3])}?"
                    if _EMAIL.fullmatch(item):
                        hint = _EMAIL_HINT
                    bad.append((where, "reference", f"'{item}' is not a valid id{hint}"))
                    continue
                if len(self.kinds) != 1:
                    choices = " or ".join(f"{k}:{item}" for k in self.kinds[:3])
                    more = ", ..." if len(self.kinds) > 3 else ""
                    message = f"bare id '{item}' is ambiguous here; write {choices}{more}"
                    bad.append((where, "ambiguous_reference", message))
                    candidates[where] = tuple(f"{k}:{item}" for k in self.kinds)
                    continue
                kind, ident = self.kinds[0], item
            elif kind not in self.kinds:
                if kind.lower() in self.kinds:
                    message = f"'{item}': a kind is written in lower case ({kind.lower()}:{ident})"
                elif kind in KIND_BY_LOWER:  # a reference to another kind of entity
                    message = f"'{item}' names {a_or_an(kind)}; this field takes {' or '.join(self.kinds)}"
                else:
                    message = f"'{item}': '{kind}' is not a kind; this field takes {' or '.join(self.kinds)}"
                    close = closest(kind, self.kinds)
                    if close:  # a typo of a kind this field takes
                        message += f"; did you mean '{close}:{ident}'?"
                bad.append((where, "reference", message))
                continue
            if not ID_RE.match(ident) or len(ident) > ID_MAX:
                hint = id_hint(ident).replace("'", f"'{kind}:", 1)  # `; did you mean 'team:x'?`
                if _EMAIL.fullmatch(ident):
                    hint = _EMAIL_HINT
                bad.append((where, "reference", f"'{item}' is not a valid id{hint}"))
                continue
            ref = Ref(kind, ident)
            if len(self._parsed) < MAX_PARSED:
                self._parsed[item] = ref
            refs.append(ref)
        if bad:
            # One error for the field, listing every bad item, so that the
            # loader can report each and keep the good ones.
            raise PydanticCustomError(
                "references", "invalid references", {"bad": bad, "candidates": candidates}
            )
        # Every item stays, so that indices match the source; the graph names
        # an entity written twice once.
        return tuple(refs)


def refs(*kinds: str, inverse: str | None = None) -> RefSpec:
    """A reference field admitting `kinds`: one reference or a list of them."""
    return RefSpec(tuple(k.lower() for k in kinds), inverse)


RefTuple = tuple[Ref, ...]


# -------------------------------------------------------------- enumerations

OutcomeStatus = Literal["draft", "active", "achieved", "missed", "dropped"]
InitiativeType = Literal[
    "feature",
    "tech-debt",
    "sustainment",
    "ai-pilot",
    "platform",
    "vendor-adoption",
    "security",
    "data",
]
Priority = Annotated[Literal["P0", "P1", "P2", "P3"], Ordered(("P0", "P1", "P2", "P3"))]
InitiativeStatus = Literal["proposed", "approved", "in-progress", "paused", "done", "cancelled"]
PersonStatus = Literal["active", "left"]
Lifecycle = Literal["active", "deprecated", "retired"]
Classification = Annotated[
    Literal["public", "internal", "confidential", "restricted"],
    Ordered(("restricted", "confidential", "internal", "public")),
]
VendorStatus = Literal["proposed", "approved", "offboarding", "offboarded"]
RiskTier = Annotated[
    Literal["critical", "high", "medium", "low"], Ordered(("critical", "high", "medium", "low"))
]
ReviewType = Literal["acceptable-use", "security", "privacy", "architecture", "vendor-risk"]
ReviewStatus = Literal[
    "requested", "in-review", "approved", "approved-with-conditions", "rejected", "withdrawn"
]
Moscow = Annotated[Literal["must", "should", "could", "wont"], Ordered(("must", "should", "could", "wont"))]

# A list field whose empty value (`tags:` or `tags: ~`) leaves it unset, like any
# other field: None allowed in the schema, read as the empty list.
TextList = Annotated[tuple[Text, ...] | None, BeforeValidator(_none_as_empty)]
LinkList = Annotated[tuple["Link", ...] | None, BeforeValidator(_none_as_empty)]

# ------------------------------------------------------------------ blocks


def _model_state(model: BaseModel) -> tuple[dict[str, Any], set[str]]:
    return model.__dict__, model.__pydantic_fields_set__


def _restore_model(model: BaseModel, state: tuple[dict[str, Any], set[str]]) -> None:
    # pydantic's own __setstate__ reads four keys of a dict that the pickle
    # holds for every model; the parse cache of a big plan has 186,000 models.
    # No extra fields (extra="forbid") and no private attributes to restore.
    fields, fields_set = state
    object.__setattr__(model, "__dict__", fields)
    object.__setattr__(model, "__pydantic_fields_set__", fields_set)
    object.__setattr__(model, "__pydantic_extra__", None)
    object.__setattr__(model, "__pydantic_private__", None)


class Block(BaseModel):
    """A nested block of fields; custom `x-` fields are allowed in it, and dropped."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        json_schema_extra={"patternProperties": {"^x-": {"description": "custom data"}}},
    )

    __getstate__ = _model_state  # type: ignore[assignment]
    __setstate__ = _restore_model  # type: ignore[assignment]


class Link(Block):
    url: Text
    title: Text | None = None


class Decision(Block):
    """Decision rights: RACI's Accountable (decides), Responsible, Consulted, Informed."""

    decides: Annotated[RefTuple, refs("Person", "Team", inverse="decides_for")] = ()
    executes: Annotated[RefTuple, refs("Person", "Team", inverse="executes_for")] = ()
    advises: Annotated[RefTuple, refs("Person", "Team")] = ()
    informed: Annotated[RefTuple, refs("Person", "Team")] = ()


def _impact(value: float) -> float:
    if value not in IMPACTS:
        raise PydanticCustomError("impact", "impact is one of 3, 2, 1, 0.5, 0.25")
    return value


IMPACTS = (3, 2, 1, 0.5, 0.25)
Impact = Annotated[Real, AfterValidator(_impact), WithJsonSchema({"enum": list(IMPACTS)})]


class Rice(Block):
    reach: Number | None = None
    impact: Impact | None = None
    confidence: Annotated[Real, Field(ge=0, le=1)] | None = None


class Scoring(Block):
    rice: Rice | None = None
    moscow: Moscow | None = None


class DueDiligence(Block):
    completed: IsoDate | None = None
    questionnaire: Text | None = None
    soc2_period_end: IsoDate | None = None
    dpa_signed: Strict | None = None
    trains_on_customer_data: Strict | None = None


# Each block's fields, for a message about a block written as a plain value.
BLOCK_FIELDS = {
    model.__name__: tuple(model.model_fields) for model in (Link, Decision, Rice, Scoring, DueDiligence)
}

# ---------------------------------------------------------------- entities


class Entity(BaseModel):
    """Fields every entity may have; `kind` and `id` are kept by the loader."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    __getstate__ = _model_state  # type: ignore[assignment]
    __setstate__ = _restore_model  # type: ignore[assignment]

    title: Text | None = None
    description: Text | None = None
    tags: TextList = ()
    links: LinkList = ()


class Outcome(Entity):
    owner: Annotated[RefTuple, refs("Person", "Team", inverse="owner_of")] = ()
    period: Period | None = None
    status: OutcomeStatus | None = None
    metric: Text | None = None
    baseline: NumberOrText | None = None
    target: NumberOrText | None = None
    rank: Annotated[int, Field(ge=1, strict=True)] | None = None
    review_cadence: Cadence | None = None
    last_reviewed: IsoDate | None = None
    decision: Decision | None = None


class Initiative(Entity):
    type: InitiativeType | None = None
    priority: Priority | None = None
    status: InitiativeStatus | None = None
    owner: Annotated[RefTuple, refs("Person", "Team", inverse="owner_of")] = ()
    team: Annotated[RefTuple, refs("Team", inverse="team_of")] = ()
    contributes_to: Annotated[RefTuple, refs("Outcome", inverse="contributed_by")] = ()
    depends_on: Annotated[RefTuple, refs("Initiative", inverse="dependency_of")] = ()
    uses: Annotated[RefTuple, refs("System", "Vendor", inverse="used_by")] = ()
    effort: Number | None = None
    period: Period | None = None
    start: IsoDate | None = None
    target: IsoDate | None = None
    decision: Decision | None = None
    scoring: Scoring | None = None


class Team(Entity):
    parent: Annotated[RefTuple, refs("Team", inverse="child_of")] = ()
    lead: Annotated[RefTuple, refs("Person", inverse="lead_of")] = ()


class Person(Entity):
    name: Text | None = None
    member_of: Annotated[RefTuple, refs("Team", inverse="has_member")] = ()
    email: Text | None = None
    role: Text | None = None
    status: PersonStatus | None = None


class System(Entity):
    owner: Annotated[RefTuple, refs("Person", "Team", inverse="owner_of")] = ()
    lifecycle: Lifecycle | None = None
    data_classification: Classification | None = None
    tier: Tier | None = None
    depends_on: Annotated[RefTuple, refs("System", inverse="dependency_of")] = ()
    supplied_by: Annotated[RefTuple, refs("Vendor", inverse="supplies")] = ()
    retire_by: IsoDate | None = None


class Vendor(Entity):
    owner: Annotated[RefTuple, refs("Person", "Team", inverse="owner_of")] = ()
    status: VendorStatus | None = None
    approved_on: IsoDate | None = None
    risk_tier: RiskTier | None = None
    ai: Strict | None = None
    due_diligence: DueDiligence | None = None
    next_review: IsoDate | None = None


class Review(Entity):
    type: ReviewType | None = None
    subject: Annotated[RefTuple, refs(*KINDS, inverse="reviewed_by")] = ()
    status: ReviewStatus | None = None
    reviewer: Annotated[RefTuple, refs("Person", inverse="reviewer_of")] = ()
    decided: IsoDate | None = None
    valid_for: IsoDuration | None = None
    expires: IsoDate | None = None
    conditions: TextList = ()


class Waiver(Entity):
    rule: Text | None = None
    subjects: Annotated[RefTuple, refs(*KINDS, inverse="waived_by")] = ()
    owner: Annotated[RefTuple, refs("Person", inverse="owner_of")] = ()
    approved_by: Annotated[RefTuple, refs("Person")] = ()
    reason: Text | None = None
    expires: IsoDate | None = None
    ticket: Text | None = None


MODELS: dict[str, type[Entity]] = {
    "Outcome": Outcome,
    "Initiative": Initiative,
    "Team": Team,
    "Person": Person,
    "System": System,
    "Vendor": Vendor,
    "Review": Review,
    "Waiver": Waiver,
}

# Values a policy can read that are computed, never written: kind -> name -> type name.
DERIVED: dict[str, dict[str, str]] = {
    "Review": {"expires_on": "date"},
    "Initiative": {"rice_score": "number"},
}


def review_expires_on(review: Review) -> date | None:
    """`expires`, else `decided + valid_for`, else none."""
    if review.expires is not None:
        return review.expires
    if review.decided is not None and review.valid_for is not None:
        return review.valid_for.add_to(review.decided)
    return None


def rice_score(initiative: Initiative) -> float | None:
    """reach * impact * confidence / effort, or none when an input is missing or effort is 0."""
    rice = initiative.scoring.rice if initiative.scoring else None
    effort = initiative.effort
    if rice is None or not effort:
        return None
    if rice.reach is None or rice.impact is None or rice.confidence is None:
        return None
    return float(rice.reach * rice.impact * rice.confidence / effort)
