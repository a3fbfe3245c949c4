"""The scenario JSON Schema is the model's, shipped and used by the shipped files; `stormproof
init` writes a starting project that names it."""

import json
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from stormproof.chaos.cli import app
from stormproof.chaos.scenario import default_scenario_dir
from stormproof.chaos.scenario._schema import SCHEMA_FILE, schema_text
from stormproof.chaos.services import load_config

ROOT = Path(__file__).resolve().parents[2]
CHECK = [sys.executable, "-m", "check_jsonschema", "--schemafile", str(SCHEMA_FILE)]


def test_the_shipped_schema_is_the_generated_one():
    assert SCHEMA_FILE.read_text() == schema_text(), "run: stormproof schema -o " + str(SCHEMA_FILE)


def test_the_shipped_scenarios_validate_and_name_the_schema():
    files = sorted(default_scenario_dir().glob("*.yaml"))
    files += sorted((ROOT / "examples" / "orders" / "scenarios").glob("*.yaml"))
    done = subprocess.run([*CHECK, *map(str, files)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    for path in files:
        first = path.read_text().splitlines()[0]
        assert first.startswith("# yaml-language-server: $schema=")
        target = (path.parent / first.split("$schema=")[1]).resolve()
        assert target == SCHEMA_FILE, path


def test_the_schema_catches_what_an_editor_should_flag(tmp_path):
    bad = tmp_path / "typo.yaml"
    bad.write_text(
        "name: t\nservice: users\ndescription: d\nprofile: {retry: {max_attemps: 2}}\n"
        "phases:\n  - name: p\n    faults: [{toxic: latency, attributes: {latncy: 5}}]\n"
    )
    done = subprocess.run(
        [*CHECK, "--verbose", str(bad)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 1
    assert "'latncy' was unexpected" in done.stdout
    assert "'max_attemps' was unexpected" in done.stdout


def test_schema_prints_the_shipped_path_or_writes_a_fresh_one(tmp_path):
    assert CliRunner().invoke(app, ["schema"]).output.strip() == str(SCHEMA_FILE)
    out = tmp_path / "s.json"
    assert CliRunner().invoke(app, ["schema", "-o", str(out)]).exit_code == 0
    assert json.loads(out.read_text())["title"] == "stormproof scenario"


def test_version_flag():
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output.startswith("stormproof ")


def test_init_writes_a_loadable_config_and_a_scenario_naming_the_schema(tmp_path):
    result = CliRunner().invoke(app, ["init", str(tmp_path)])
    assert result.exit_code == 0, result.output
    config = load_config(tmp_path / "stormproof.toml")
    assert list(config.services) == ["orders"]
    assert config.scenarios == (tmp_path / "scenarios",)
    scenario = tmp_path / "scenarios" / "example.yaml"
    assert scenario.read_text().startswith(f"# yaml-language-server: $schema={SCHEMA_FILE}\n")
    done = subprocess.run([*CHECK, str(scenario)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout
    again = CliRunner().invoke(app, ["init", str(tmp_path)])
    assert again.exit_code == 2
    assert "not overwriting" in again.output
