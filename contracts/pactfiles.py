"""The committed pact files: names, regeneration, and the staleness comparison.

``python -m contracts.pactfiles update`` regenerates ``contracts/pacts/`` from the consumer tests
(run it after changing a consumer test, then commit the files). ``python -m contracts.pactfiles
check`` regenerates into a temporary directory and prints what differs from the committed files;
``contracts/test_pacts_fresh.py`` runs the same check in the test suite.
"""

from __future__ import annotations

import difflib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

CONSUMER = "stormproof-clients"
PROVIDERS = {
    "users": "users-service",
    "notifications": "notifications-service",
    "payments": "payments-service",
}
OUTPUT_ENV = "STORMPROOF_PACT_OUTPUT"

ROOT = Path(__file__).resolve().parent.parent
PACTS_DIR = Path(__file__).resolve().parent / "pacts"
CONSUMER_TESTS = Path(__file__).resolve().parent / "consumer"

# Metadata that changes with the installed pact version, not with the contract.
_VOLATILE_METADATA = ("pactRust", "pactPython", "pact-python", "pact-js")


def regenerate(into: Path, *, timeout_s: float = 120.0) -> subprocess.CompletedProcess[str]:
    """Run the consumer tests in a subprocess, writing pact files into an empty ``into``.

    Args:
        into: Output directory; created if missing, and must hold no pact files.
        timeout_s: Upper bound on the subprocess.

    Returns:
        The finished pytest process (``returncode`` 0 when every consumer test passed).

    Raises:
        ValueError: ``into`` already holds pact files (pact would merge into them).
    """
    into.mkdir(parents=True, exist_ok=True)
    if any(into.glob("*.json")):
        raise ValueError(f"{into} already holds pact files; regenerate into an empty directory")
    env = {**os.environ, OUTPUT_ENV: str(into), "PACT_DO_NOT_TRACK": "true"}
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        str(CONSUMER_TESTS),
    ]
    return subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout_s, check=False
    )


def normalise(document: dict[str, Any]) -> dict[str, Any]:
    """Return a pact document without volatile metadata and with interactions in a stable order.

    Args:
        document: A parsed pact file.

    Returns:
        A copy that compares equal for semantically equal pacts.
    """
    result: dict[str, Any] = json.loads(json.dumps(document))
    metadata = result.get("metadata", {})
    for key in _VOLATILE_METADATA:
        metadata.pop(key, None)
    interactions = result.get("interactions", [])
    interactions.sort(
        key=lambda item: (
            str(item.get("description", "")),
            json.dumps(item.get("providerStates", []), sort_keys=True),
        )
    )
    return result


def _pretty(path: Path) -> list[str]:
    document = normalise(json.loads(path.read_text(encoding="utf-8")))
    return json.dumps(document, indent=2, sort_keys=True).splitlines(keepends=True)


def stale_files(committed: Path, fresh: Path) -> list[str]:
    """Compare committed pact files with freshly generated ones.

    Args:
        committed: The folder of committed pact files.
        fresh: The folder the consumer tests just wrote.

    Returns:
        One message per file that is missing, extra or different (with a unified diff of the
        normalised JSON); empty when the committed files are up to date.
    """
    old = {p.name: p for p in committed.glob("*.json")}
    new = {p.name: p for p in fresh.glob("*.json")}
    problems: list[str] = []
    for name in sorted(new.keys() - old.keys()):
        problems.append(f"contracts/pacts/{name} is missing (the consumer tests write it)")
    for name in sorted(old.keys() - new.keys()):
        problems.append(f"contracts/pacts/{name} is committed but no consumer test writes it")
    for name in sorted(old.keys() & new.keys()):
        before, after = _pretty(old[name]), _pretty(new[name])
        if before != after:
            diff = difflib.unified_diff(
                before,
                after,
                fromfile=f"contracts/pacts/{name} (committed)",
                tofile=f"{name} (regenerated)",
                n=2,
            )
            problems.append(f"contracts/pacts/{name} is stale:\n{''.join(diff)}")
    return problems


def _run(into: Path) -> None:
    process = regenerate(into)
    if process.returncode != 0:
        sys.stderr.write(process.stdout[-4000:] + process.stderr[-2000:])
        raise SystemExit(f"consumer tests failed (exit {process.returncode}); nothing changed")


def main(argv: list[str] | None = None) -> int:
    """``update`` rewrites contracts/pacts/ from the consumer tests; ``check`` only compares."""
    args = sys.argv[1:] if argv is None else argv
    if args not in (["update"], ["check"]):
        sys.stderr.write("usage: python -m contracts.pactfiles update|check\n")
        return 2
    with tempfile.TemporaryDirectory(prefix="stormproof-pacts-") as tmp:
        fresh = Path(tmp)
        _run(fresh)
        problems = stale_files(PACTS_DIR, fresh)
        if args == ["check"]:
            sys.stdout.write("\n".join(problems) + "\n" if problems else "pact files up to date\n")
            return 1 if problems else 0
        for old in PACTS_DIR.glob("*.json"):
            old.unlink()
        for new in sorted(fresh.glob("*.json")):
            shutil.copyfile(new, PACTS_DIR / new.name)
            sys.stdout.write(f"wrote contracts/pacts/{new.name}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
