"""The "Add your own service" guide works as written: its files, in an empty folder, pass a run;
and so does its service declared with `command =` (the provider started by a command)."""

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "add-your-own-service.md"
STORMPROOF = [sys.executable, "-m", "stormproof.chaos.cli"]
GUIDE_APP = 'app = "inventory_provider:create_app"\n'


def _blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", GUIDE.read_text(), flags=re.DOTALL)


def _write_guide(folder: Path, config: str | None = None) -> list[str]:
    """The guide's files in `folder` (its `stormproof.toml` replaced by `config` if given);
    returns the guide's command's arguments."""
    provider, client, adapter = _blocks("python")
    [guide_config] = _blocks("toml")
    [scenario] = _blocks("yaml")
    [command] = _blocks("console")
    (folder / ".git").mkdir()  # the configuration search stops here
    (folder / "inventory_provider.py").write_text(provider)
    (folder / "inventory_client.py").write_text(client)
    (folder / "inventory_adapter.py").write_text(adapter)
    (folder / "stormproof.toml").write_text(guide_config if config is None else config)
    (folder / "scenarios").mkdir()
    (folder / "scenarios" / "inventory-latency.yaml").write_text(scenario)
    return command.split()[1:]


def _stormproof(args: list[str], cwd: Path) -> str:
    env = {**os.environ, "PACT_DO_NOT_TRACK": "true", "COLUMNS": "200"}
    env.pop("TOXIPROXY_URL", None)
    done = subprocess.run(
        [*STORMPROOF, *args, "--no-html", "--output", str(cwd / "results")],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-4000:]
    return output


def test_the_guides_files_pass_stormproof_run_from_an_empty_folder(tmp_path):
    args = _write_guide(tmp_path)
    assert args == ["run", "--no-contracts"]
    output = _stormproof(args, tmp_path)
    assert "inventory-latency-below-read-timeout PASSED" in output
    assert "1/1 scenarios passed" in output


# The guide's app, served by uvicorn from a command of the user's: it records its process id, so
# the test knows the command started the provider the scenario ran against.
SERVE = """\
import os, sys
from pathlib import Path

import uvicorn

Path(sys.argv[1]).write_text(str(os.getpid()))
uvicorn.run("inventory_provider:create_app", factory=True, host=sys.argv[2],
            port=int(sys.argv[3]), log_level="warning")
"""


def test_a_provider_started_by_a_declared_command_passes_a_run(tmp_path):
    [guide_config] = _blocks("toml")
    assert GUIDE_APP in guide_config
    pid_file = tmp_path / "provider.pid"
    command = " ".join(
        shlex.quote(part) for part in (sys.executable, str(tmp_path / "serve.py"), str(pid_file))
    )
    config = guide_config.replace(GUIDE_APP, f"command = {command + ' {host} {port}'!r}\n")
    args = _write_guide(tmp_path, config)
    (tmp_path / "serve.py").write_text(SERVE)
    output = _stormproof(args, tmp_path)
    assert "inventory-latency-below-read-timeout PASSED" in output
    assert "1/1 scenarios passed" in output
    pid = int(pid_file.read_text())
    with pytest.raises(ProcessLookupError):  # stopped with the run
        os.kill(pid, 0)
