"""Reading pact files: which provider each one is for, and the provider states it names."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

__all__ = ["pact_files_by_provider", "provider_states", "read_pact"]


def read_pact(path: Path) -> dict[str, Any]:
    """Parse one pact file.

    Args:
        path: A pact JSON file.

    Returns:
        The parsed document.

    Raises:
        ValueError: The file is not JSON, or not a pact (no ``provider.name``).
    """
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ValueError(f"{path}: not a readable JSON pact file ({exc})") from exc
    if not isinstance(document, dict) or not isinstance(document.get("provider"), dict):
        raise ValueError(f"{path}: not a pact file (no provider)")
    if not isinstance(document["provider"].get("name"), str):
        raise ValueError(f"{path}: not a pact file (no provider name)")
    return document


def pact_files_by_provider(folder: Path) -> dict[str, list[Path]]:
    """Group the pact files of a folder by the provider they are for.

    Args:
        folder: A folder of pact files (``*.json``, not recursive).

    Returns:
        Provider name -> its pact files, both sorted; empty when the folder has none.

    Raises:
        ValueError: A ``*.json`` file in the folder is not a pact file.
    """
    grouped: dict[str, list[Path]] = {}
    for path in sorted(folder.glob("*.json")):
        provider = str(read_pact(path)["provider"]["name"])
        grouped.setdefault(provider, []).append(path)
    return dict(sorted(grouped.items()))


def _interaction_states(interaction: dict[str, Any]) -> Iterable[str]:
    states = interaction.get("providerStates")
    if isinstance(states, list):  # V3/V4
        for state in states:
            if isinstance(state, dict) and isinstance(state.get("name"), str):
                yield state["name"]
    legacy = interaction.get("providerState") or interaction.get("provider_state")
    if isinstance(legacy, str):  # V1/V2
        yield legacy


def provider_states(documents: Sequence[dict[str, Any]]) -> list[str]:
    """List the provider state names that the interactions of some pacts use.

    Args:
        documents: Parsed pact documents.

    Returns:
        State names in order of first use, without duplicates and without the empty name.
    """
    seen: dict[str, None] = {}
    for document in documents:
        for interaction in document.get("interactions") or []:
            if isinstance(interaction, dict):
                for state in _interaction_states(interaction):
                    if state:
                        seen.setdefault(state, None)
    return list(seen)
