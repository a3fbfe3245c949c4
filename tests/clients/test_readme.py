"""docs/clients.md: its first example runs as written, its policy reference matches the code.

(The test mode example there is run by tests/docs/test_snippets.py.)
"""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

from stormproof.clients import ResiliencePolicy

PAGE = Path(__file__).resolve().parents[2] / "docs" / "clients.md"


def test_readme_clients_example_runs(capsys):
    blocks = re.findall(r"```python\n(.*?)```", PAGE.read_text(), flags=re.DOTALL)
    assert len(blocks) == 2  # this example, then the test mode's
    exec(compile(blocks[0], "docs/clients.md", "exec"), {})
    assert "GET /payments/pay_missing answered 404" in capsys.readouterr().out


def _fields(obj: object, prefix: str = "") -> list[tuple[str, object]]:
    found: list[tuple[str, object]] = []
    for field in dataclasses.fields(obj):  # type: ignore[arg-type]
        value = getattr(obj, field.name)
        if dataclasses.is_dataclass(value):
            found += _fields(value, f"{prefix}{field.name}.")
        else:
            found.append((f"{prefix}{field.name}", value))
    return found


def test_readme_policy_reference_lists_every_field_its_variable_and_default():
    section = PAGE.read_text().split("## Policy reference", 1)[1].split("\n## ", 1)[0]
    rows = {
        cells[0].strip("`"): (cells[1].strip("`"), cells[2].strip("`"))
        for line in section.splitlines()
        if line.startswith("| `")
        for cells in [[c.strip() for c in line.strip("|").split("|")]]
    }
    expected = {}
    for name, default in _fields(ResiliencePolicy()):
        shown = json.dumps(default) if isinstance(default, str) else repr(default)
        expected[name] = ("STORMPROOF_" + name.replace(".", "_").upper(), shown)
    assert rows == expected


def test_every_policy_field_is_read_from_its_variable():
    environ = {}
    for name, default in _fields(ResiliencePolicy()):
        var = "STORMPROOF_" + name.replace(".", "_").upper()
        if isinstance(default, bool):
            environ[var] = str(not default).lower()
        elif name == "breaker.window":
            environ[var] = "time"
        elif name == "fleet.redis_url":
            environ[var] = "redis://127.0.0.1:1/0"
        elif isinstance(default, str):
            environ[var] = default + "x"
        elif isinstance(default, int):
            environ[var] = str(default + 1)
        else:
            environ[var] = str(min(default * 0.5, 0.9) if default <= 1 else default + 1)
    policy = ResiliencePolicy.from_env("users", environ=environ)
    changed = dict(_fields(policy))
    for name, default in _fields(ResiliencePolicy()):
        assert changed[name] != default, name
