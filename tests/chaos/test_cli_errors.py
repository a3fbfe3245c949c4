"""Every `stormproof` error reads `stormproof: error: ...`, shows no traceback, and names no
temporary or installed-package path; the help says how --select matches."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

STORMPROOF = [sys.executable, "-c", "from stormproof.chaos.cli import main; main()"]


def _stormproof(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PACT_DO_NOT_TRACK": "true", "COLUMNS": "200"}
    for name in ("TOXIPROXY_URL", "PACT_BROKER_BASE_URL"):
        env.pop(name, None)
    return subprocess.run(
        [*STORMPROOF, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120,
        check=False,
    )  # fmt: skip


def _written(done: subprocess.CompletedProcess[str]) -> str:
    return done.stdout + done.stderr


def _shows_no_hidden_path(text: str, tmp_path: Path) -> None:
    shown = text.replace(str(tmp_path), "<the test's folder>")
    assert "/tmp/" not in shown
    assert "site-packages" not in shown
    assert "Traceback" not in shown


@pytest.mark.parametrize(
    ("args", "status", "message"),
    [
        (["run", "--no-such-option"], 2, "No such option: --no-such-option"),
        (["no-such-command"], 2, "No such command 'no-such-command'"),
        (["run", "--seed", "many"], 2, "Invalid value for '--seed'"),
        (["run", "--scenarios", "nowhere"], 2, "scenario path nowhere does not exist"),
        (["run", "--select", "zzz", "--no-contracts"], 2, "--select 'zzz' matches no scenario"),
        (["report", "--output", "nothing"], 2, "no Allure results in nothing"),
        (["providers", "--port-base", "70000"], 2, "invalid port-base 70000"),
        (["proxy", "--config", "missing.json", "--port", "0"], 1, "missing.json"),
        (["pact", "verify"], 2, "the Pact Broker is not configured"),
    ],
)
def test_errors_have_one_prefix_and_no_traceback(tmp_path, args, status, message):
    done = _stormproof(args, tmp_path)
    assert done.returncode == status, _written(done)
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert lines, done.stdout
    assert lines[0].startswith("stormproof: error: "), done.stderr
    assert message in done.stderr
    assert all(not line.startswith(("error:", "Error:", "Usage:")) for line in lines)
    _shows_no_hidden_path(_written(done), tmp_path)


def test_init_refusing_to_overwrite_uses_the_prefix(tmp_path):
    assert _stormproof(["init"], tmp_path).returncode == 0
    done = _stormproof(["init"], tmp_path)
    assert done.returncode == 2
    assert done.stderr.startswith("stormproof: error: not overwriting stormproof.toml")
    _shows_no_hidden_path(_written(done), tmp_path)


def test_a_normal_run_shows_no_temporary_or_installed_path(tmp_path):
    done = _stormproof(
        ["run", "--select", "users-503-then-success", "--no-contracts", "--no-html",
         "--output", "results"],
        tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, _written(done)[-3000:]
    assert "users-503-then-success PASSED" in done.stdout
    _shows_no_hidden_path(_written(done), tmp_path)


def test_select_help_says_what_it_matches(tmp_path):
    done = _stormproof(["run", "--help"], tmp_path)
    text = " ".join(done.stdout.split())
    assert "name, service, tag or fault kind" in text
    assert "commas separate alternatives" in text
