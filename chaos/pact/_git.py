"""The git commit and branch a pact or a verification result is published with."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

__all__ = ["git_branch", "git_commit"]


def _git(args: list[str], cwd: Path | None) -> str | None:
    git = shutil.which("git")
    if git is None:
        return None
    try:
        done = subprocess.run(  # noqa: S603 - fixed git arguments, no shell
            [git, *args], cwd=cwd, capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    value = done.stdout.strip()
    return value if done.returncode == 0 and value else None


def git_commit(cwd: Path | None = None) -> str | None:
    """The full sha of ``HEAD``.

    Args:
        cwd: A folder inside the repository (the current directory when None).

    Returns:
        The sha, or None outside a git repository (or without git).
    """
    return _git(["rev-parse", "HEAD"], cwd)


def git_branch(cwd: Path | None = None) -> str | None:
    """The checked-out branch.

    Args:
        cwd: A folder inside the repository (the current directory when None).

    Returns:
        The branch name, or None on a detached ``HEAD`` or outside a repository.
    """
    branch = _git(["rev-parse", "--abbrev-ref", "HEAD"], cwd)
    return None if branch == "HEAD" else branch
