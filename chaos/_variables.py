"""`${VAR}` and `${VAR:-default}` in configuration text, filled in from the environment."""

from __future__ import annotations

import re
from collections.abc import Mapping

_VARIABLE = re.compile(r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?::-(?P<default>[^}]*))?\}")


class MissingVariablesError(LookupError):
    """Variables a text names that are neither set nor given a default."""

    def __init__(self, names: list[str]) -> None:
        self.names = sorted(set(names))
        super().__init__(
            "environment variable(s) not set and without a default: " + ", ".join(self.names)
        )


def expand(text: str, environ: Mapping[str, str]) -> str:
    """`text` with every `${VAR}` / `${VAR:-default}` replaced.

    Raises:
        MissingVariablesError: naming every variable that is unset and has no default.
    """
    missing: list[str] = []

    def substitute(match: re.Match[str]) -> str:
        name, default = match.group("name"), match.group("default")
        if name in environ:
            return environ[name]
        if default is not None:
            return default
        missing.append(name)
        return ""

    expanded = _VARIABLE.sub(substitute, text)
    if missing:
        raise MissingVariablesError(missing)
    return expanded
