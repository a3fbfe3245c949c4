"""Every code block of the README and of docs/*.md runs here, or is marked as tested elsewhere or
as output (tests/docs/_snippets.py says how a block is marked).

Blocks marked `tested-by tests/docs/test_snippets.py` are commands that cannot run in the suite
(they need Docker, a Pact Broker, an hour, or serve until Ctrl-C): here every command of theirs is
resolved (its program, module or file exists) and every `stormproof ...` command is parsed by the
real command line, as it is for every block that is not output.
"""

from __future__ import annotations

import importlib.util
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import typer

from stormproof.chaos.cli import app
from tests.docs._snippets import ROOT, RUN_LANGUAGES, Snippet, all_snippets

SNIPPETS = all_snippets()
THIS = "tests/docs/test_snippets.py"
BIN = Path(sys.executable).parent
RUN_HERE = [s for s in SNIPPETS if s.marker is None]
CHECKED_HERE = [s for s in SNIPPETS if s.tested_by == THIS]


def _id(snippet: Snippet) -> str:
    return snippet.where


def test_every_block_is_run_or_marked():
    problems = [
        f"{s.where}: a {s.language or 'plain'} block is neither run here (python, console) nor"
        " marked <!-- snippet: output --> or <!-- snippet: tested-by PATH -->"
        for s in SNIPPETS
        if s.marker is None and s.language not in RUN_LANGUAGES
    ]
    problems += [
        f"{s.where}: tested-by needs the path of the test file"
        for s in SNIPPETS
        if s.marker == "tested-by" and not s.tested_by
    ]
    assert not problems, "\n".join(problems)


def test_every_tested_by_file_exists_and_names_the_page():
    problems = []
    for s in SNIPPETS:
        if s.tested_by is None:
            continue
        path = ROOT / s.tested_by
        if not path.is_file():
            problems.append(f"{s.where}: {s.tested_by} does not exist")
        elif s.page.name not in path.read_text(encoding="utf-8"):
            problems.append(f"{s.where}: {s.tested_by} never names {s.page.name}")
    assert not problems, "\n".join(problems)


def test_this_file_names_the_pages_it_checks():
    # The rule above, for this file: these are the pages whose commands are only checked here.
    pages = sorted({s.page.name for s in CHECKED_HERE})
    assert pages == ["contracts.md", "providers.md", "reliability.md", "toxiproxy.md"]


@pytest.mark.parametrize("snippet", [s for s in RUN_HERE if s.language == "python"], ids=_id)
def test_python_block_runs(snippet: Snippet, tmp_path: Path):
    script = tmp_path / "snippet.py"
    script.write_text(snippet.code, encoding="utf-8")
    env = {**os.environ, "PACT_DO_NOT_TRACK": "true"}
    done = subprocess.run(
        [sys.executable, str(script)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, f"{snippet.where}:\n{done.stdout}\n{done.stderr}"[-4000:]


@pytest.mark.parametrize("snippet", [s for s in RUN_HERE if s.language == "console"], ids=_id)
def test_console_block_runs(snippet: Snippet, tmp_path: Path):
    (tmp_path / ".git").mkdir()  # stormproof's configuration search stops here: the bundled demo
    env = {**os.environ, "PACT_DO_NOT_TRACK": "true", "COLUMNS": "200"}
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env.pop("TOXIPROXY_URL", None)
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", snippet.code],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, f"{snippet.where}:\n{done.stdout}\n{done.stderr}"[-4000:]


def _commands(snippet: Snippet) -> list[list[str]]:
    text = snippet.code.replace("\\\n", " ")
    return [shlex.split(line, comments=True) for line in text.splitlines() if line.strip()]


def _program(words: list[str]) -> list[str]:
    """The command without its leading VAR=value assignments."""
    index = 0
    while index < len(words) and "=" in words[index] and not words[index].startswith("-"):
        index += 1
    return words[index:]


@pytest.mark.parametrize("snippet", CHECKED_HERE, ids=_id)
def test_every_command_of_a_checked_block_resolves(snippet: Snippet):
    for words in _commands(snippet):
        program, *args = _program(words)
        name = Path(program).name
        if name in ("python", "python3") and args[:1] == ["-m"]:
            assert importlib.util.find_spec(args[1]) is not None, (snippet.where, args[1])
        elif name in ("python", "python3"):
            assert (ROOT / args[0]).is_file(), (snippet.where, args[0])
        elif name == "pytest":
            paths = [a for a in args if not a.startswith("-") and "/" in a]
            assert paths, (snippet.where, words)
            assert all((ROOT / p).exists() for p in paths), (snippet.where, paths)
        else:
            assert name == "stormproof", (snippet.where, f"no check for {program!r}")


def _stormproof_commands() -> list[tuple[str, list[str]]]:
    found = []
    for snippet in SNIPPETS:
        if snippet.marker == "output" or snippet.language != "console":
            continue
        for words in _commands(snippet):
            if "stormproof" in words:
                found.append((snippet.where, words[words.index("stormproof") + 1 :]))
    return found


@pytest.mark.parametrize(("where", "args"), _stormproof_commands(), ids=lambda v: str(v)[:60])
def test_every_stormproof_command_parses_with_the_real_cli(where: str, args: list[str]):
    command = typer.main.get_command(app)
    name = "stormproof"
    while hasattr(command, "list_commands"):  # a group (typer ships its own click)
        assert args, (where, "no command")
        name, *args = args
        found = command.get_command(command.context_class(command), name)
        assert found is not None, (where, f"no command {name!r}")
        command = found
    # make_context parses (unknown options and bad values raise) without running the command.
    command.make_context(name, list(args)).close()
