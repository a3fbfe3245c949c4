"""docs/providers.md: its example runs as written."""

from __future__ import annotations

import re
from pathlib import Path

PAGE = Path(__file__).resolve().parents[2] / "docs" / "providers.md"


def test_readme_providers_example_runs(capsys):
    blocks = re.findall(r"```python\n(.*?)```", PAGE.read_text(), flags=re.DOTALL)
    assert len(blocks) == 1
    exec(compile(blocks[0], "docs/providers.md", "exec"), {})
    assert "'users': 'http://127.0.0.1:" in capsys.readouterr().out
