"""The README's Contracts example runs as written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_readme_contracts_example_runs(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    section = (ROOT / "README.md").read_text().split("## Contracts", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, flags=re.DOTALL)
    assert len(blocks) == 1
    monkeypatch.chdir(ROOT)
    exec(compile(blocks[0], "README.md", "exec"), {})
    out = capsys.readouterr().out
    for provider in ("users-service", "notifications-service", "payments-service"):
        assert re.search(rf"^{provider}: passed, (\d+) of \1 interactions verified$", out, re.M)
