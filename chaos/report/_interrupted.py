"""An interrupted run in Allure: the test that was cut short and those never run read as such.

allure-pytest writes a test that a Ctrl-C cut short as passed, and nothing for the tests after it;
a reviewer would read a 100 % green report of a run that never finished.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stormproof.chaos.runner import INTERRUPTED


@dataclass(frozen=True)
class TestIdentity:
    """How Allure names a test: its name, full name, history id and labels."""

    name: str
    full_name: str
    history_id: str
    labels: tuple[tuple[str, str], ...] = field(default_factory=tuple)


def _results(results_dir: Path) -> list[tuple[Path, dict[str, Any]]]:
    found = []
    for path in results_dir.glob("*-result.json"):
        try:
            found.append((path, json.loads(path.read_text(encoding="utf-8"))))
        except (OSError, ValueError):
            continue
    return found


def mark_interrupted(
    results_dir: Path, *, cut_short: Sequence[TestIdentity], not_run: Sequence[TestIdentity]
) -> int:
    """Mark tests of an interrupted run as broken, category "Interrupted".

    Args:
        results_dir: The Allure results folder.
        cut_short: Tests that were running when the run was interrupted.
        not_run: Tests that never started.

    Returns:
        How many tests were marked.
    """
    results_dir.mkdir(parents=True, exist_ok=True)
    existing = _results(results_dir)
    now = int(time.time() * 1000)
    why = {
        "cut_short": f"{INTERRUPTED}: the run was stopped while this test ran; its outcome is "
        "unknown",
        "not_run": f"{INTERRUPTED}: the run was stopped before this test ran",
    }
    marked = 0
    for reason, tests in (("cut_short", cut_short), ("not_run", not_run)):
        for test in tests:
            details = {"message": why[reason]}
            written = [data for _, data in existing if data.get("fullName") == test.full_name]
            for path, data in existing:
                if data.get("fullName") == test.full_name:
                    data.update(status="broken", statusDetails=details)
                    path.write_text(json.dumps(data), encoding="utf-8")
            if not written:
                test_uuid = str(uuid.uuid4())
                result = {
                    "uuid": test_uuid,
                    "historyId": test.history_id,
                    "name": test.name,
                    "fullName": test.full_name,
                    "status": "broken",
                    "statusDetails": details,
                    "stage": "finished",
                    "start": now,
                    "stop": now,
                    "labels": [{"name": k, "value": v} for k, v in test.labels],
                }
                path = results_dir / f"{test_uuid}-result.json"
                path.write_text(json.dumps(result), encoding="utf-8")
            marked += 1
    return marked
