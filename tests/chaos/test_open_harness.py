"""The harness knows no bundled service: they are declared through the public configuration,
like a team's own, and nothing under chaos/ names them."""

import ast
from pathlib import Path

import pytest

from stormproof.chaos.scenario import ScenarioFileError, parse_scenario
from stormproof.chaos.services import (
    ConfigError,
    NoAdapter,
    active_config,
    demo_config_path,
    find_config,
    load_config,
    parse_config,
)

CHAOS = Path(__file__).resolve().parents[2] / "chaos"
DEMO = load_config(demo_config_path())


def _code_strings_and_names(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            if id(node) not in docstrings:
                found.add(node.value)
        elif isinstance(node, ast.Name):
            found.add(node.id)
        elif isinstance(node, ast.Attribute):
            found.add(node.attr)
    return found


def test_no_harness_module_names_a_bundled_service():
    bundled = set(DEMO.services) | {d.pact_provider for d in DEMO.services.values()}
    modules = sorted(CHAOS.rglob("*.py"))
    assert len(modules) > 50  # the walk sees the harness
    named = {
        str(path.relative_to(CHAOS)): sorted(_code_strings_and_names(path) & bundled)
        for path in modules
    }
    assert {path: names for path, names in named.items() if names} == {}


def test_the_check_above_can_see_a_name(tmp_path):
    planted = tmp_path / "planted.py"
    planted.write_text('SERVICES = ("users", "payments")\n')
    assert {"users", "payments"} <= _code_strings_and_names(planted)


def test_the_bundled_services_are_declared_like_any_other():
    assert set(DEMO.services) == {"users", "notifications", "payments"}
    for declaration in DEMO.services.values():
        assert declaration.client.startswith("stormproof.clients:")
        assert declaration.adapter is not None
        assert declaration.adapter.startswith("stormproof.providers:")
        assert declaration.client_class().__module__.startswith("stormproof.clients.")


def test_with_no_configuration_the_demo_applies(tmp_path):
    (tmp_path / ".git").mkdir()
    assert find_config(tmp_path) is None
    assert active_config(start=tmp_path).source == demo_config_path()


def test_a_stormproof_toml_or_a_pyproject_table_is_found_from_a_subfolder(tmp_path):
    (tmp_path / ".git").mkdir()
    inner = tmp_path / "a" / "b"
    inner.mkdir(parents=True)
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    assert find_config(inner) is None  # a pyproject.toml without the table does not count
    (tmp_path / "pyproject.toml").write_text(
        "[tool.stormproof]\nscenarios = ['chaos']\n[tool.stormproof.services.orders]\n"
        "client = 'stormproof.clients:UserServiceClient'\nurl = 'http://127.0.0.1:9'\n"
    )
    found = active_config(start=inner)
    assert found.source == tmp_path / "pyproject.toml"
    assert found.scenarios == (tmp_path / "chaos",)
    assert found.services["orders"].adapter_class() is NoAdapter
    (inner / "stormproof.toml").write_text("")
    assert find_config(inner) == inner / "stormproof.toml"


def test_configuration_values_come_from_the_environment(tmp_path):
    document = {
        "backend": "${TOXIPROXY:-embedded}",
        "services": {"orders": {"client": "a.b:C", "url": "http://${HOST}:9000"}},
    }
    config = parse_config(document, tmp_path / "stormproof.toml", {"HOST": "127.0.0.1"})
    assert config.backend == "embedded"
    assert config.services["orders"].url == "http://127.0.0.1:9000"
    with pytest.raises(ConfigError, match="not set and without a default: HOST"):
        parse_config(document, tmp_path / "stormproof.toml", {})


@pytest.mark.parametrize(
    ("document", "words"),
    [
        ({"services": {"orders": {"client": "nocolon"}}}, "services.orders.client"),
        ({"services": {"Orders": {"client": "a:b"}}}, "service names must be lowercase"),
        ({"services": {"o": {"client": "a:b", "app": "a:b", "url": "http://x"}}}, "one of app"),
        ({"backend": "somewhere"}, "backend"),
        ({"scenario": ["x"]}, "scenario: Extra inputs are not permitted"),
    ],
)
def test_a_bad_configuration_names_the_file_and_the_field(tmp_path, document, words):
    with pytest.raises(ConfigError) as caught:
        parse_config(document, tmp_path / "stormproof.toml", {})
    assert str(tmp_path / "stormproof.toml") in str(caught.value)
    assert words in str(caught.value)


def test_a_client_that_cannot_be_imported_is_a_clear_error(tmp_path):
    config = parse_config(
        {"services": {"orders": {"client": "no_such_module:Client"}}}, tmp_path / "s.toml", {}
    )
    with pytest.raises(ValueError, match="cannot import no_such_module"):
        config.services["orders"].client_class()


def test_an_undeclared_service_in_a_scenario_is_a_load_error(tmp_path):
    document = {"name": "x", "service": "paymnets", "description": "d", "phases": [{"name": "p"}]}
    with pytest.raises(ScenarioFileError, match="unknown service 'paymnets' \\(did you mean"):
        parse_scenario(document, config=DEMO)


def test_side_effects_and_invariants_are_the_adapters(tmp_path):
    document = {
        "name": "x",
        "service": "payments",
        "description": "d",
        "phases": [{"name": "p"}],
        "expect": {"side_effects": {"chargs": {"max_per_key": 1}}, "invariants": ["nope"]},
    }
    with pytest.raises(ScenarioFileError) as caught:
        parse_scenario(document, config=DEMO)
    [effect, invariant] = caught.value.problems
    assert "records no side effect 'chargs' (did you mean 'charges'?)" in effect
    assert "checks no invariant 'nope'" in invariant


def test_the_toxiproxy_is_the_option_or_variable_else_the_configured_backend(tmp_path):
    configured = parse_config({"backend": "http://127.0.0.1:8474"}, tmp_path / "s.toml", {})
    embedded = parse_config({}, tmp_path / "s.toml", {})
    assert configured.toxiproxy_url(None) == "http://127.0.0.1:8474"
    assert configured.toxiproxy_url("") == "http://127.0.0.1:8474"  # TOXIPROXY_URL= (empty)
    assert configured.toxiproxy_url("http://127.0.0.1:9474") == "http://127.0.0.1:9474"
    assert embedded.toxiproxy_url(None) is None
    assert embedded.toxiproxy_url("http://127.0.0.1:9474") == "http://127.0.0.1:9474"
