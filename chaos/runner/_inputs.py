"""Call inputs with references: `${payment.id}`, `${page.items.0.id}` (values saved by earlier
calls) and `${unique}` (unique per run)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

_REFERENCE = re.compile(r"\$\{(?P<path>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*)\}")


class InputReferenceError(ValueError):
    """An input refers to something no earlier call saved."""


def _lookup(path: str, saved: Mapping[str, Any]) -> Any:
    head, *rest = path.split(".")
    if head not in saved:
        known = ", ".join(sorted(saved)) or "nothing yet"
        raise InputReferenceError(f"${{{path}}}: no earlier call saved {head!r} (saved: {known})")
    value = saved[head]
    for part in rest:
        if isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        elif isinstance(value, Mapping) and part in value:
            value = value[part]
        else:
            raise InputReferenceError(f"${{{path}}}: {head!r} has no field {part!r}")
    return value


def render(value: Any, saved: Mapping[str, Any]) -> Any:
    """Replace references in `value` (recursively through lists and mappings).

    A string that is exactly one reference takes the referenced value with its type; references
    inside a longer string are formatted into it.
    """
    if isinstance(value, str):
        whole = _REFERENCE.fullmatch(value)
        if whole:
            return _lookup(whole.group("path"), saved)
        return _REFERENCE.sub(lambda m: str(_lookup(m.group("path"), saved)), value)
    if isinstance(value, Mapping):
        return {key: render(item, saved) for key, item in value.items()}
    if isinstance(value, list):
        return [render(item, saved) for item in value]
    return value
