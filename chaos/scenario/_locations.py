"""Where a problem is: a YAML line for a field path, and the fields a model allows there."""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from typing import Any, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, Tag

Location = tuple[int | str, ...]


def line_index(text: str) -> dict[Location, int]:
    """The 1-based line of every key and list item of a YAML document, by field path."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return {}
    lines: dict[Location, int] = {}

    def visit(node: yaml.Node, path: Location) -> None:
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode):
                    here = (*path, key.value)
                    lines[here] = key.start_mark.line + 1
                    visit(value, here)
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                here = (*path, index)
                lines[here] = item.start_mark.line + 1
                visit(item, here)

    if root is not None:
        lines[()] = root.start_mark.line + 1
        visit(root, ())
    return lines


def locate(lines: Mapping[Location, int], loc: Location) -> int | None:
    """The line of the deepest part of `loc` found in the document.

    Parts the document does not have (a union's tag such as `toxic`, a missing field) are skipped.
    """
    found: int | None = lines.get(())
    path: Location = ()
    for part in loc:
        candidate = (*path, part)
        if candidate in lines:
            path = candidate
            found = lines[candidate]
        elif path and (sibling := (*path[:-1], part)) in lines:
            # The last part matched a field that only shares a tag's name (`toxic`): step back.
            path = sibling
            found = lines[sibling]
    return found


def without_tags(model: type[BaseModel], loc: Location) -> Location:
    """`loc` without the tags pydantic adds for a discriminated union's member (`toxic`, ...)."""
    kept: list[int | str] = []
    current: Any = model
    for part in loc:
        unwrapped = _unwrap(current) if current is not None else None
        member = _tagged_member(unwrapped, part) if unwrapped is not None else None
        if member is not None:
            current = member
            continue
        kept.append(part)
        current = _step(unwrapped, part) if unwrapped is not None else None
    return tuple(kept)


def _tagged_member(annotation: Any, part: int | str) -> Any:
    if not isinstance(part, str):
        return None
    for member in _members(annotation):
        for meta in getattr(member, "__metadata__", ()):
            if isinstance(meta, Tag) and meta.tag == part:
                return get_args(member)[0]
    return None


def allowed_fields(model: type[BaseModel], loc: Location) -> list[str] | None:
    """The field names the model allows at `loc` (a path to a mapping), if it can tell."""
    current: Any = model
    for part in loc:
        unwrapped = _unwrap(current)
        current = _tagged_member(unwrapped, part) or _step(unwrapped, part)
        if current is None:
            return None
    return _fields(_unwrap(current))


def _unwrap(annotation: Any) -> Any:
    while get_origin(annotation) is typing.Annotated:
        annotation = get_args(annotation)[0]
    return annotation


def _members(annotation: Any) -> list[Any]:
    if get_origin(annotation) in (Union, types.UnionType):
        return [m for m in get_args(annotation) if m is not type(None)]
    return [annotation]


def _step(annotation: Any, part: int | str) -> Any:
    members = _members(annotation)
    for wrapped in members:
        member = _unwrap(wrapped)
        origin = get_origin(member)
        if isinstance(part, int) and origin is list:
            return get_args(member)[0]
        if isinstance(part, str) and origin is dict:
            return get_args(member)[1]
        if isinstance(part, str) and (fields := _field_types(member)) and part in fields:
            return fields[part]
    return None


def _field_types(annotation: Any) -> dict[str, Any]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        found: dict[str, Any] = {}
        for name, info in annotation.model_fields.items():
            found[info.alias or name] = info.annotation
        return found
    if isinstance(annotation, type) and dataclasses.is_dataclass(annotation):
        hints = typing.get_type_hints(annotation)
        return {f.name: hints[f.name] for f in dataclasses.fields(annotation)}
    return {}


def _fields(annotation: Any) -> list[str] | None:
    for member in _members(annotation):
        fields = _field_types(_unwrap(member))
        if fields:
            return list(fields)
    return None
