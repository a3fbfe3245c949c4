"""docs/contracts.md: its example runs as written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_readme_contracts_example_runs(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    page = (ROOT / "docs" / "contracts.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", page, flags=re.DOTALL)
    assert len(blocks) == 1
    monkeypatch.chdir(ROOT)
    exec(compile(blocks[0], "docs/contracts.md", "exec"), {})
    out = capsys.readouterr().out
    for provider in ("users-service", "notifications-service", "payments-service"):
        assert re.search(rf"^{provider}: passed, (\d+) of \1 interactions verified$", out, re.M)
