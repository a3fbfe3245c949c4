"""Each package's public surface is its sorted `__all__`, and nothing public is left out of it."""

import importlib
import types

import pytest

PACKAGES = [
    "stormproof.clients",
    "stormproof.providers",
    "stormproof.chaos",
    "stormproof.chaos.services",
    "stormproof.chaos.scenario",
    "stormproof.chaos.runner",
    "stormproof.chaos.report",
    "stormproof.chaos.toxiproxy",
    "stormproof.chaos.pact",
    "stormproof.chaos.matrix",
]


def _isort_style(member: str) -> tuple[int, str]:
    # The order ruff's RUF022 keeps: CONSTANTS, then Classes, then functions and the rest.
    if member.isupper():
        return 0, member
    return (1 if member[0].isupper() else 2), member


@pytest.mark.parametrize("name", PACKAGES)
def test_all_is_sorted_and_complete(name):
    package = importlib.import_module(name)
    exported = list(package.__all__)
    assert exported == sorted(exported, key=_isort_style), f"{name}.__all__ is not sorted"
    for member in exported:
        assert getattr(package, member) is not None, f"{name}.{member} does not resolve"
    root = name.split(".")[0]
    # dir(): a lazily exported name counts before anything loaded it.
    public = {
        member
        for member in dir(package)
        if not member.startswith("_")
        and not isinstance(value := getattr(package, member), types.ModuleType)
        and str(getattr(value, "__module__", "")).split(".")[0] == root
    }
    assert public <= set(exported), (
        f"{name} exposes names missing from __all__: {public - set(exported)}"
    )
