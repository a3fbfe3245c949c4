"""docs/ci-and-compose.md, the docker-compose part: its commands name real services, options and
variables."""

from __future__ import annotations

import re
import shlex

import pytest
import typer

from stormproof.chaos.cli import app
from tests.compose._files import COMPOSE_DOC, COMPOSE_FILE, ENVIRONMENT_FILE, compose


def _section() -> str:
    text = COMPOSE_DOC.read_text(encoding="utf-8")
    start = text.index("## docker-compose")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else len(text)]


def _commands() -> list[list[str]]:
    blocks = re.findall(r"```console\n(.*?)```", _section(), re.S)
    lines = "\n".join(blocks).replace("\\\n", " ").splitlines()
    return [shlex.split(line, comments=True) for line in lines if line.strip()]


def _stormproof_args(words: list[str]) -> list[str] | None:
    return words[words.index("stormproof") + 1 :] if "stormproof" in words else None


def test_the_section_shows_the_compose_run_with_the_runners_exit_code():
    commands = [" ".join(words) for words in _commands()]
    assert "docker compose up --build --abort-on-container-exit --exit-code-from runner" in commands


def test_every_compose_command_names_existing_services_and_profiles():
    services = compose()["services"]
    for words in _commands():
        if words[:2] != ["docker", "compose"]:
            continue
        rest = words[2:]
        if rest[:1] == ["--profile"]:
            profile = rest[1]
            assert any(profile in s.get("profiles", []) for s in services.values()), profile
            rest = rest[2:]
        verb, *args = rest
        if verb == "run":
            positional = [a for a in args if not a.startswith("-")]
            assert positional[0] in services, words
        elif verb == "up":
            named = [a for a in args if not a.startswith("-")]
            if "--exit-code-from" in args:
                named.remove(args[args.index("--exit-code-from") + 1])
                assert args[args.index("--exit-code-from") + 1] in services
            assert set(named) <= set(services), words


@pytest.mark.parametrize(
    "words", [w for w in _commands() if _stormproof_args(w)], ids=lambda w: " ".join(w)[:60]
)
def test_every_stormproof_command_parses_with_the_real_cli(words):
    args = _stormproof_args(words)
    assert args
    command = typer.main.get_command(app)
    name = "stormproof"
    while hasattr(command, "list_commands"):  # a group (typer ships its own click)
        name, *args = args
        found = command.get_command(command.context_class(command), name)
        assert found is not None, f"no command {name!r}"
        command = found
    # make_context parses (unknown options and bad values raise) without running the command.
    command.make_context(name, list(args)).close()


def test_variables_in_the_commands_are_the_ones_the_environment_file_reads():
    known = set(re.findall(r"\$\{([A-Z_]+)", ENVIRONMENT_FILE.read_text(encoding="utf-8")))
    compose_vars = set(re.findall(r"\$\{([A-Z_]+)", COMPOSE_FILE.read_text(encoding="utf-8")))
    for words in _commands():
        for word in words:
            match = re.fullmatch(r"([A-Z_]+)=.*", word)
            if match and not match.group(1).startswith("PACT_BROKER"):
                assert match.group(1) in known | compose_vars, match.group(1)
