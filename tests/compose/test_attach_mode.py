"""The compose runner's run without Docker: `stormproof run --environment compose/environment.yaml`.

The proxy (`stormproof proxy --config`, a config derived from compose/toxiproxy.json) and the
providers (`stormproof providers --test-mode`) run as separate processes on free ports of
127.0.0.1; the runner, another process, finds them only through the environment variables that the
compose environment file reads.
"""

from __future__ import annotations

import json
import re
import shutil
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from stormproof.chaos.runner import read_environment_file
from stormproof.chaos.scenario import default_scenario_dir
from tests.compose._files import ENVIRONMENT_FILE, ROOT, compose, host_port, toxiproxy_config
from tests.compose._standins import StandIns, run_stormproof, start_standins

RUN_TIMEOUT_S = 150.0
_VERDICT = re.compile(r"::(?P<name>[\w -]+?) (?P<verdict>PASSED|FAILED|ERROR)\b")


@pytest.fixture(scope="module")
def standins(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StandIns]:
    _, endpoints = read_environment_file(ENVIRONMENT_FILE, environ={})
    names = {service: endpoint.proxy for service, endpoint in endpoints.items()}
    with start_standins(tmp_path_factory.mktemp("standins"), names) as running:
        yield running


def _proxies(standins: StandIns) -> dict[str, dict[str, object]]:
    with urllib.request.urlopen(f"{standins.toxiproxy_url}/proxies", timeout=5) as answer:
        proxies: dict[str, dict[str, object]] = json.load(answer)
    return proxies


def _attached_run(
    standins: StandIns, args: list[str], cwd: Path
) -> tuple[int, str, dict[str, str]]:
    done = run_stormproof(args, standins.attach_environ(), cwd=cwd, timeout_s=RUN_TIMEOUT_S)
    verdicts = {m.group("name"): m.group("verdict") for m in _VERDICT.finditer(done.stdout)}
    return done.returncode, done.stdout + done.stderr, verdicts


def _chaos_only(tmp_path: Path, *extra: str) -> list[str]:
    return [
        "run",
        "--environment",
        str(ENVIRONMENT_FILE),
        "--no-contracts",
        "--no-html",
        "--output",
        str(tmp_path / "allure-results"),
        *extra,
    ]


def _compose_runner_command(app: Path, results: Path) -> list[str]:
    """docker-compose.yml's runner command, its container paths mapped through its volumes.

    The compose folder maps to this repository's, the results folder to `results`, the rest of
    /app to `app` (which holds the pact files, as the image does); `${VAR:-default}` takes its
    default, as compose does with the variable unset.
    """
    runner = compose()["services"]["runner"]
    mounts: dict[str, Path] = {}
    for volume in runner["volumes"]:
        source, target = volume.split(":")[:2]
        mounts[target] = results if source.startswith("./stormproof-out/") else ROOT / source

    def mapped(word: str) -> str:
        word = re.sub(r"\$\{[A-Z_]+:-([^}]*)\}", r"\1", word)
        for target, source in mounts.items():
            if word == target or word.startswith(target + "/"):
                return str(source) + word[len(target) :]
        return str(app) + word[len("/app") :] if word.startswith("/app/") else word

    command = [mapped(word) for word in runner["command"]]
    assert command[0] == "stormproof"
    return command[1:]


def _assert_attached_to(standins: StandIns, results: Path) -> None:
    facts = (results / "environment.properties").read_text(encoding="utf-8")
    assert "backend=attached" in facts
    assert f"toxiproxy={standins.toxiproxy_url}" in facts
    for service, port in standins.proxy_ports.items():
        provider = standins.provider_ports[service]
        assert f"{service}=http://127.0.0.1:{port} -> 127.0.0.1:{provider}" in facts


def _assert_nothing_left_behind(standins: StandIns) -> None:
    proxies = _proxies(standins)
    assert sorted(proxies) == sorted(proxy["name"] for proxy in toxiproxy_config())
    for name, proxy in proxies.items():
        assert proxy["enabled"] is True, name
        assert proxy["toxics"] == [], name
        port = host_port(str(proxy["listen"]))[1]
        service = next(s for s, p in standins.proxy_ports.items() if p == port)
        assert proxy["upstream"] == f"127.0.0.1:{standins.provider_ports[service]}"


def test_selected_scenarios_pass_attached_to_standins_found_through_variables(standins, tmp_path):
    code, output, verdicts = _attached_run(
        standins, _chaos_only(tmp_path, "--select", "outage"), cwd=tmp_path
    )
    assert code == 0, output
    # `outage`: each service's proxy outage and breaker life cycle.
    expected = {
        f"{service}-{kind}"
        for service in ("users", "notifications", "payments")
        for kind in ("outage-then-recovery", "breaker-lifecycle")
    } | {"users-breaker-failure-rate-window", "users-retry-budget-outage"}
    assert verdicts == dict.fromkeys(expected, "PASSED"), output
    assert f"{len(expected)}/{len(expected)} scenarios passed" in output
    for name in expected:
        assert re.search(rf"│ {re.escape(name)}\s+│ PASS\s+│", output), f"{name} not in scorecard"
    _assert_attached_to(standins, tmp_path / "allure-results")
    _assert_nothing_left_behind(standins)
    log = (standins.logs / "toxiproxy.log").read_text(encoding="utf-8")
    for proxy in toxiproxy_config():
        assert f'"proxy": "{proxy["name"]}", "client": "127.0.0.1:' in log, proxy["name"]


@pytest.mark.slow
def test_the_compose_runner_command_passes_contracts_and_the_full_matrix(standins, tmp_path):
    app, results = tmp_path / "app", tmp_path / "results"
    shutil.copytree(ROOT / "contracts" / "pacts", app / "contracts" / "pacts")  # as in the image
    args = _compose_runner_command(app, results)
    assert args[args.index("--environment") + 1] == str(ENVIRONMENT_FILE)
    code, output, verdicts = _attached_run(standins, args, cwd=app)
    shipped = {path.stem for path in default_scenario_dir().glob("*.yaml")}
    assert len(shipped) >= 30
    assert set(verdicts) >= shipped, output
    failed = sorted(name for name, verdict in verdicts.items() if verdict != "PASSED")
    assert failed == [], f"failed in attach mode: {failed}\n{output}"
    contracts = set(verdicts) - shipped
    services = ("users", "notifications", "payments")
    assert contracts == {f"verify {name}-service" for name in services}  # provider verification
    assert code == 0, output
    assert f"{len(shipped)}/{len(shipped)} scenarios passed" in output
    _assert_attached_to(standins, results / "allure-results")
    _assert_nothing_left_behind(standins)
