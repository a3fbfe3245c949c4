"""The Dockerfile: slim Python 3.11, dependencies cached before the source, a non-root user."""

from __future__ import annotations

import re

import pytest

from tests.compose._files import DOCKERFILE, DOCKERIGNORE, ROOT


@pytest.fixture(scope="module")
def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) per instruction, continuation lines joined, comments dropped."""
    text = DOCKERFILE.read_text(encoding="utf-8")
    logical = re.sub(r"\\\n\s*", " ", text)
    found = []
    for line in logical.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        keyword, _, rest = stripped.partition(" ")
        found.append((keyword.upper(), rest.strip()))
    return found


def _index(instructions, keyword, contains=""):
    return next(i for i, (k, rest) in enumerate(instructions) if k == keyword and contains in rest)


def test_base_is_slim_python_3_11(instructions):
    froms = [rest for keyword, rest in instructions if keyword == "FROM"]
    assert froms == ["python:3.11-slim"]


def test_runs_as_a_non_root_user(instructions):
    users = [rest for keyword, rest in instructions if keyword == "USER"]
    assert users, "no USER instruction: the container would run as root"
    assert users[-1] not in {"root", "0", "0:0"}
    created = _index(instructions, "RUN", "useradd")
    assert users[-1] in instructions[created][1]
    assert "--uid 1000" in instructions[created][1]  # compose's default STORMPROOF_UID


def test_dependencies_are_installed_before_the_source_is_copied(instructions):
    metadata = _index(instructions, "COPY", "pyproject.toml")
    dependencies = _index(instructions, "RUN", "pip install --no-build-isolation .")
    first_source = min(
        _index(instructions, "COPY", package) for package in ("clients", "providers", "chaos")
    )
    project = _index(instructions, "RUN", "--no-deps")
    assert metadata < dependencies < first_source < project
    # Only metadata before the dependency layer, so editing the code keeps it cached.
    copies_before = [rest for keyword, rest in instructions[:dependencies] if keyword == "COPY"]
    assert copies_before == ["pyproject.toml README.md ./"]


def test_copied_paths_exist(instructions):
    for keyword, rest in instructions:
        if keyword != "COPY":
            continue
        *sources, _target = rest.split()
        for source in sources:
            assert (ROOT / source).exists(), source


def test_dockerignore_keeps_local_state_out_of_the_build_context():
    ignored = {
        line.strip()
        for line in DOCKERIGNORE.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert {".git", ".venv", "stormproof-out", "**/__pycache__"} <= ignored
    # ...but never what the image copies.
    for needed in ("pyproject.toml", "README.md", "clients", "providers", "chaos", "compose"):
        assert needed not in ignored
    assert "contracts" not in ignored
    assert "contracts/pacts" not in ignored
