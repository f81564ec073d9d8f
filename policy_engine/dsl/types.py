"""The policy language's types, read off the plan model."""

from __future__ import annotations

import types as pytypes
import typing
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Any, Literal, Union

from pydantic import BaseModel

from policy_engine.plan.graph import inverses, relations
from policy_engine.plan.model import DERIVED, MODELS, Duration, Ordered, RefSpec


@dataclass(frozen=True, slots=True)
class Type:
    """A value's type. `name` is one of the names below; the rest refine it."""

    name: str  # string number bool date duration enum entity set list struct any kind relation
    kinds: frozenset[str] = frozenset()  # entity, set, kind
    values: tuple[Any, ...] = ()  # enum: its values
    order: tuple[Any, ...] = ()  # enum: its values, highest first, when ordered
    item: Type | None = None  # list: the type of its items
    model: type[BaseModel] | None = None  # struct: the block's model

    def __str__(self) -> str:
        if self.name in ("entity", "kind"):
            return " | ".join(sorted(self.kinds))
        if self.name == "set":
            return f"set of {' | '.join(sorted(self.kinds))}"
        if self.name == "list":
            return f"list of {self.item}"
        if self.name == "struct" and self.model is not None:
            return f"{self.model.__name__} block"
        if self.name == "enum":
            return f"one of {', '.join(map(repr, self.values))}"
        return self.name


STRING = Type("string")
NUMBER = Type("number")
BOOL = Type("bool")
DATE = Type("date")
DURATION = Type("duration")
ANY = Type("any")
RELATION = Type("relation")


def entity(kinds: typing.Iterable[str]) -> Type:
    return Type("entity", frozenset(kinds))


def entity_set(kinds: typing.Iterable[str]) -> Type:
    return Type("set", frozenset(kinds))


def list_of(item: Type) -> Type:
    return Type("list", item=item)


def kind_type(kinds: typing.Iterable[str]) -> Type:
    return Type("kind", frozenset(kinds))


def is_stringish(t: Type) -> bool:
    return t.name in ("string", "enum", "any") and (
        t.name != "enum" or all(isinstance(v, str) for v in t.values)
    )


def is_collection(t: Type) -> bool:
    return t.name in ("set", "list")


def item_type(t: Type) -> Type:
    """The type of one member of a set or list."""
    if t.name == "set":
        return entity(t.kinds)
    if t.name == "list" and t.item is not None:
        return t.item
    return ANY


def comparable(a: Type, b: Type) -> bool:
    """Whether `a == b` can ever be true."""
    if "any" in (a.name, b.name):
        return True
    if is_stringish(a) and is_stringish(b):
        return True
    if a.name in ("entity",) and b.name == "entity":
        return bool(a.kinds & b.kinds)
    return a.name == b.name


def _unwrap(annotation: Any) -> tuple[Any, tuple[Any, ...]]:
    """The core type of an annotation and its Annotated metadata, None removed."""
    metadata: tuple[Any, ...] = ()
    while True:
        if typing.get_origin(annotation) is typing.Annotated:
            metadata += annotation.__metadata__
            annotation = typing.get_args(annotation)[0]
            continue
        origin = typing.get_origin(annotation)
        if origin in (Union, pytypes.UnionType):
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            if len(args) == 1:
                annotation = args[0]
                continue
        return annotation, metadata


def type_of_annotation(annotation: Any) -> Type:
    core, metadata = _unwrap(annotation)
    for meta in metadata:
        if isinstance(meta, RefSpec):
            return entity_set(k.capitalize() for k in meta.kinds)
    origin = typing.get_origin(core)
    if origin is Literal:
        values = typing.get_args(core)
        if all(isinstance(v, int | float) for v in values):
            return NUMBER
        order = next((m.values for m in metadata if isinstance(m, Ordered)), ())
        return Type("enum", values=values, order=order)
    if origin in (Union, pytypes.UnionType):
        return ANY
    if origin is tuple:
        return list_of(type_of_annotation(typing.get_args(core)[0]))
    if core is str:
        return STRING
    if core is bool:
        return BOOL
    if core in (int, float):
        return NUMBER
    if core is date:
        return DATE
    if core is Duration:
        return DURATION
    if isinstance(core, type) and issubclass(core, BaseModel):
        return Type("struct", model=core)
    return ANY


@cache
def model_fields(model: type[BaseModel]) -> dict[str, Type]:
    hints = typing.get_type_hints(model, include_extras=True)
    return {name: type_of_annotation(hints[name]) for name in model.model_fields}


PSEUDO_FIELDS = {"id": STRING, "kind": STRING, "ref": STRING}


@dataclass(frozen=True, slots=True)
class Access:
    """How to read `name` from an entity of some kind."""

    how: str  # "field", "relation", "inverse", "derived", "pseudo", "custom"
    type: Type


def kind_access(kind: str, name: str) -> Access | None:
    """What `name` means on an entity of `kind`, or None when it means nothing."""
    if name == "kind":  # an enumeration, so that `x.kind == "Initative"` is told what it can be
        return Access("pseudo", Type("enum", values=(kind,)))
    if name in PSEUDO_FIELDS:
        return Access("pseudo", PSEUDO_FIELDS[name])
    if name.startswith("x-"):
        return Access("custom", ANY)
    rel = relations()[kind].get(name)
    if rel is not None:
        return Access("relation", entity_set(rel.targets))
    fields = model_fields(MODELS[kind])
    if name in fields:
        return Access("field", fields[name])
    derived = DERIVED.get(kind, {}).get(name)
    if derived is not None:
        return Access("derived", {"date": DATE, "number": NUMBER}[derived])
    sources = inverses().get(kind, {}).get(name)
    if sources:
        return Access("inverse", entity_set(source for source, _ in sources))
    return None


def names_on(kind: str) -> list[str]:
    """Every name readable on an entity of `kind`, for 'did you mean'."""
    names = [*PSEUDO_FIELDS, *model_fields(MODELS[kind]), *DERIVED.get(kind, {})]
    names += list(inverses().get(kind, {}))
    return names


def merge(types: list[Type]) -> Type:
    """One type for a name read on entities of several kinds."""
    first = types[0]
    if all(t == first for t in types):
        return first
    if all(t.name == "enum" for t in types):
        values = tuple(dict.fromkeys(v for t in types for v in t.values))
        return Type("enum", values=values)
    if all(t.name == "set" for t in types):
        return entity_set(k for t in types for k in t.kinds)
    return ANY
