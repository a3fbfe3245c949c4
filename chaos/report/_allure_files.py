"""Files that make an Allure results folder readable: categories, environment, report config."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

from stormproof.chaos.runner import ALL_CATEGORIES, HARNESS_ERROR, INCONCLUSIVE, INTERRUPTED

_STATUSES = {
    HARNESS_ERROR: ["broken"],
    INCONCLUSIVE: ["broken", "skipped"],
    INTERRUPTED: ["broken"],
}


def _pattern(name: str) -> str:
    # `.*text.*` is the form that both Allure 2 (Java full match) and Allure 3 (JS search) accept.
    escaped = "".join(f"\\{c}" if c in r".^$*+?()[]{}|\\" else c for c in name)
    return f".*{escaped}.*"


def categories() -> list[dict[str, object]]:
    """Allure failure categories, one per stormproof failure category."""
    rules: list[dict[str, object]] = [
        {
            "name": name,
            "matchedStatuses": _STATUSES.get(name, ["failed"]),
            "messageRegex": _pattern(name),
        }
        for name in ALL_CATEGORIES
    ]
    rules.append(
        {"name": "Contract broken", "matchedStatuses": ["failed"], "messageRegex": ".*[Pp]act.*"}
    )
    return rules


def write_results_metadata(results_dir: Path, environment: Mapping[str, str]) -> None:
    """Write `categories.json` and `environment.properties` into an Allure results folder."""
    results_dir.mkdir(parents=True, exist_ok=True)
    (results_dir / "categories.json").write_text(json.dumps(categories(), indent=2) + "\n")
    lines = [f"{key}={value}" for key, value in sorted(environment.items())]
    (results_dir / "environment.properties").write_text("\n".join(lines) + "\n")


def allurerc(results_dir: Path, report_dir: Path, name: str) -> str:
    """An Allure 3 `allurerc.mjs`: the awesome plugin as one self-contained HTML file."""
    config = {
        "name": name,
        "output": str(report_dir),
        "categories": {"rules": categories()},
        "plugins": {
            "awesome": {
                "options": {"singleFile": True, "reportName": name, "groupBy": ["epic", "feature"]}
            }
        },
    }
    return f"export default {json.dumps(config, indent=2)};\n"
