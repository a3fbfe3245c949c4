"""Where pact runs: the no-tracking switch and the ``pact`` command-line binary."""

from __future__ import annotations

import os
import shutil
import sys
import sysconfig
from pathlib import Path

__all__ = ["ensure_do_not_track", "pact_cli_path"]


def ensure_do_not_track() -> None:
    """Turn pact's usage telemetry off for this process and the processes it starts.

    The verifier honours only the value ``true`` (``1`` is ignored), so any other value is
    replaced.
    """
    os.environ["PACT_DO_NOT_TRACK"] = "true"


def pact_cli_path() -> Path:
    """Find the ``pact`` binary that the ``pact-python-cli`` package installs.

    It is looked for in this interpreter's scripts folder, next to ``sys.executable``, then on
    ``PATH``.

    Returns:
        The path of the binary.

    Raises:
        FileNotFoundError: It is not installed (``pip install pact-python-cli``).
    """
    name = "pact.exe" if os.name == "nt" else "pact"
    folders = [Path(sysconfig.get_path("scripts")), Path(sys.executable).parent]
    for folder in folders:
        candidate = folder / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    found = shutil.which(name)
    if found:
        return Path(found)
    raise FileNotFoundError(
        "the `pact` command-line binary was not found next to this Python or on PATH; "
        "install it with `pip install pact-python-cli`"
    )
