"""Files that make an Allure results folder readable: categories and environment."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from stormproof.chaos.runner import (
    ALL_CATEGORIES,
    HARNESS_ERROR,
    INCONCLUSIVE,
    INTERRUPTED,
    SIDE_EFFECTS_RANK,
)
from stormproof.chaos.services import ProviderAdapter

_STATUSES = {
    HARNESS_ERROR: ["broken"],
    INCONCLUSIVE: ["broken", "skipped"],
    INTERRUPTED: ["broken"],
}


def _pattern(name: str) -> str:
    # `.*text.*` is the form that both Allure 2 (Java full match) and Allure 3 (JS search) accept.
    escaped = "".join(f"\\{c}" if c in r".^$*+?()[]{}|\\" else c for c in name)
    return f".*{escaped}.*"


def categories(provider_categories: Sequence[str] = ()) -> list[dict[str, object]]:
    """Allure failure categories: stormproof's, with the providers' own (Duplicate charge, ...)
    where they rank."""
    names: list[str] = []
    for name in ALL_CATEGORIES:
        if name == SIDE_EFFECTS_RANK:
            names += [c for c in provider_categories if c not in names]
        else:
            names.append(name)
    rules: list[dict[str, object]] = [
        {
            "name": name,
            "matchedStatuses": _STATUSES.get(name, ["failed"]),
            "messageRegex": _pattern(name),
        }
        for name in names
    ]
    rules.append(
        {"name": "Contract broken", "matchedStatuses": ["failed"], "messageRegex": ".*[Pp]act.*"}
    )
    return rules


def provider_categories(adapters: Iterable[type[ProviderAdapter] | ProviderAdapter]) -> list[str]:
    """The failure categories the providers' adapters declare, in declaration order."""
    found: list[str] = []
    for adapter in adapters:
        for effect in adapter.SIDE_EFFECTS.values():
            found.append(f"Duplicate {effect.noun}")
        found += [invariant.category for invariant in adapter.INVARIANTS.values()]
    return list(dict.fromkeys(found))


def write_results_metadata(
    results_dir: Path, environment: Mapping[str, str], extra_categories: Sequence[str] = ()
) -> None:
    """Write `categories.json` and `environment.properties` into an Allure results folder."""
    results_dir.mkdir(parents=True, exist_ok=True)
    rules = categories(extra_categories)
    (results_dir / "categories.json").write_text(json.dumps(rules, indent=2) + "\n")
    lines = [f"{key}={value}" for key, value in sorted(environment.items())]
    (results_dir / "environment.properties").write_text("\n".join(lines) + "\n")
