"""docker-compose.yml: valid against the Compose spec, healthy start order, loopback-only ports."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tests.compose._files import ROOT, compose, schema_errors, vendored_schema

ONE_SHOT_JOBS = {"runner", "pact"}


@pytest.fixture(scope="module")
def services() -> dict[str, Any]:
    found = compose()["services"]
    assert isinstance(found, dict)
    return found


def test_compose_file_is_valid_against_the_compose_spec_schema():
    assert schema_errors(vendored_schema("compose-spec"), compose()) == []


@pytest.mark.parametrize(
    ("path", "value", "complaint"),
    [
        (("services", "runner", "depends_on", "toxiproxy", "condition"), "ready", "ready"),
        (("services", "toxiproxy", "healthcheck", "interval"), ["2s"], "2s"),
        (("services", "providers", "ports"), "8001:8001", "8001:8001"),
    ],
)
def test_the_schema_check_rejects_a_broken_compose_file(path, value, complaint):
    broken = copy.deepcopy(compose())
    node = broken
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    errors = schema_errors(vendored_schema("compose-spec"), broken)
    assert errors
    assert any(complaint in error for error in errors), errors


def test_services_are_the_documented_ones(services):
    assert set(services) == {"providers", "toxiproxy", "runner", "pact-broker", "pact"}


def test_toxiproxy_is_the_real_image_pinned_to_2_12(services):
    image = services["toxiproxy"]["image"]
    assert image.startswith("ghcr.io/shopify/toxiproxy:2.12.")


def test_toxiproxy_command_keeps_host_0_0_0_0_and_loads_the_mounted_config(services):
    toxiproxy = services["toxiproxy"]
    command = toxiproxy["command"]
    # Overriding `command` drops the image's default `-host=0.0.0.0`: the API would be unreachable.
    assert "-host=0.0.0.0" in command
    config_flags = [arg for arg in command if arg.startswith("-config=")]
    assert len(config_flags) == 1
    config_path = config_flags[0].removeprefix("-config=")
    mounts = {v.split(":")[1]: v.split(":")[0] for v in toxiproxy["volumes"]}
    assert mounts[config_path] == "./compose/toxiproxy.json"
    assert any(v.endswith(f"{config_path}:ro") for v in toxiproxy["volumes"])


def test_toxiproxy_healthcheck_uses_its_cli_since_the_image_has_no_shell(services):
    test = services["toxiproxy"]["healthcheck"]["test"]
    assert test[0] == "CMD"  # CMD-SHELL would need /bin/sh
    assert test[1] == "/toxiproxy-cli"


def test_every_long_running_service_has_a_healthcheck(services):
    for name, service in services.items():
        check = service.get("healthcheck")
        assert check is not None, f"{name} has no healthcheck"
        if name in ONE_SHOT_JOBS:
            assert check == {"disable": True}
            continue
        assert check["test"][0] == "CMD", name
        assert check["retries"] >= 10, name


def test_our_healthchecks_are_python_one_liners_against_healthz(services):
    test = services["providers"]["healthcheck"]["test"]
    assert test[:3] == ["CMD", "python", "-c"]
    script = test[3]
    compile(script, "<healthcheck>", "exec")
    for port in (8001, 8002, 8003):
        assert str(port) in script
    assert "/healthz" in script


def test_runner_starts_only_when_toxiproxy_and_the_providers_are_healthy(services):
    depends = services["runner"]["depends_on"]
    assert depends == {
        "providers": {"condition": "service_healthy"},
        "toxiproxy": {"condition": "service_healthy"},
    }
    assert services["toxiproxy"]["depends_on"] == {"providers": {"condition": "service_healthy"}}
    assert services["pact"]["depends_on"] == {"pact-broker": {"condition": "service_healthy"}}


def test_every_dependency_is_on_a_healthchecked_service(services):
    for name, service in services.items():
        for target, rule in service.get("depends_on", {}).items():
            assert target in services, f"{name} depends on unknown {target}"
            assert rule["condition"] == "service_healthy", f"{name} -> {target}"
            assert services[target]["healthcheck"].get("disable") is not True


def test_published_ports_bind_loopback_only(services):
    published = 0
    for name, service in services.items():
        for mapping in service.get("ports", []):
            assert isinstance(mapping, str), f"{name}: use the short 'IP:HOST:CONTAINER' form"
            host_ip, host_port, container_port = mapping.split(":")
            assert host_ip == "127.0.0.1", f"{name} publishes {mapping} beyond this machine"
            assert host_port == container_port
            published += 1
    assert published == 3 + 4 + 1  # providers, toxiproxy (API + 3 proxies), broker


def test_broker_is_optional_behind_the_broker_profile(services):
    assert services["pact-broker"]["profiles"] == ["broker"]
    assert services["pact"]["profiles"] == ["broker"]
    assert services["pact-broker"]["image"].startswith("pactfoundation/pact-broker:")
    env = services["pact-broker"]["environment"]
    assert env["PACT_BROKER_DATABASE_ADAPTER"] == "sqlite"
    assert services["pact"]["environment"]["PACT_BROKER_BASE_URL"] == "http://pact-broker:9292"
    for name in ("providers", "toxiproxy", "runner"):
        assert "profiles" not in services[name]


def test_providers_and_runner_are_built_from_this_repository(services):
    for name in ("providers", "runner", "pact"):
        build = services[name]["build"]
        assert build["context"] == "."
        assert (ROOT / build["dockerfile"]).is_file()
        assert services[name]["image"] == "stormproof:local"


def test_providers_run_in_test_mode_on_all_interfaces_of_their_container(services):
    command = services["providers"]["command"]
    assert command[:2] == ["stormproof", "providers"]
    assert "--test-mode" in command
    assert command[command.index("--host") + 1] == "0.0.0.0"


def test_runner_attaches_with_the_mounted_environment_file_and_writes_to_the_mounted_results(
    services,
):
    runner = services["runner"]
    command = runner["command"]
    assert command[:2] == ["stormproof", "run"]
    mounts = {v.split(":")[1]: v.split(":")[0] for v in runner["volumes"]}
    environment_file = command[command.index("--environment") + 1]
    assert environment_file == "/app/compose/environment.yaml"
    assert mounts["/app/compose"] == "./compose"
    output = command[command.index("--output") + 1]
    results_mount = next(target for target in mounts if output.startswith(target + "/"))
    assert mounts[results_mount].startswith("./stormproof-out/")
    # No Node.js in the image: the HTML report is rendered outside.
    assert "--no-html" in command
