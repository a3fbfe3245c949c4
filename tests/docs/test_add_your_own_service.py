"""The "Add your own service" guide works as written: its files, in an empty folder, pass a run."""

import os
import re
import subprocess
import sys
from pathlib import Path

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "add-your-own-service.md"
STORMPROOF = [sys.executable, "-m", "stormproof.chaos.cli"]


def _blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", GUIDE.read_text(), flags=re.DOTALL)


def test_the_guides_files_pass_stormproof_run_from_an_empty_folder(tmp_path):
    provider, client, adapter = _blocks("python")
    [config] = _blocks("toml")
    [scenario] = _blocks("yaml")
    [command] = _blocks("console")
    (tmp_path / ".git").mkdir()  # the configuration search stops here
    (tmp_path / "inventory_provider.py").write_text(provider)
    (tmp_path / "inventory_client.py").write_text(client)
    (tmp_path / "inventory_adapter.py").write_text(adapter)
    (tmp_path / "stormproof.toml").write_text(config)
    (tmp_path / "scenarios").mkdir()
    (tmp_path / "scenarios" / "inventory-latency.yaml").write_text(scenario)
    args = command.split()[1:]
    assert args == ["run", "--no-contracts"]
    env = {**os.environ, "PACT_DO_NOT_TRACK": "true", "COLUMNS": "200"}
    env.pop("TOXIPROXY_URL", None)
    done = subprocess.run(
        [*STORMPROOF, *args, "--no-html", "--output", str(tmp_path / "results")],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-4000:]
    assert "inventory-latency-below-read-timeout PASSED" in output
    assert "1/1 scenarios passed" in output
