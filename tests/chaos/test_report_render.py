"""The HTML report: rendered by the npm package `allure` (installed on first use) from results."""

import json
from pathlib import Path

from typer.testing import CliRunner

from stormproof.chaos.cli import app
from stormproof.chaos.report import allurerc, categories, render_html, write_results_metadata

RESULT = {
    "uuid": "8b1c1d1e-0000-4000-8000-000000000001",
    "historyId": "h1",
    "name": "payments-breaker-lifecycle",
    "fullName": "stormproof.chaos.scenarios#payments-breaker-lifecycle",
    "status": "failed",
    "statusDetails": {"message": "ScenarioFailedError: Breaker did not open: stayed CLOSED"},
    "stage": "finished",
    "start": 1795940112965,
    "stop": 1795940113965,
    "labels": [{"name": "epic", "value": "payments"}, {"name": "feature", "value": "outage"}],
}


def _results(folder: Path) -> Path:
    folder.mkdir()
    (folder / f"{RESULT['uuid']}-result.json").write_text(json.dumps(RESULT))
    write_results_metadata(folder, {"backend": "embedded"})
    return folder


def test_render_writes_a_single_html_file(tmp_path):
    page = render_html(_results(tmp_path / "results"), tmp_path / "report", name="stormproof")
    assert page == tmp_path / "report" / "index.html"
    assert len(page.read_text()) > 10_000  # scripts and data inlined: one file to hand around
    summary = json.loads((page.parent / "summary.json").read_text())
    assert summary["meta"]["singleFile"] is True
    assert summary["stats"] == {"total": 1, "failed": 1}
    tests = json.loads((page.parent / "test-results.json").read_text())["byId"].values()
    assert [t["name"] for t in tests] == ["payments-breaker-lifecycle"]


def test_report_command_renders_existing_results(tmp_path):
    results = _results(tmp_path / "results")
    outcome = CliRunner().invoke(
        app, ["report", "--output", str(results), "--report", str(tmp_path / "html")]
    )
    assert outcome.exit_code == 0, outcome.output
    assert (tmp_path / "html" / "index.html").exists()


def test_categories_match_the_failure_message_words():
    names = [rule["name"] for rule in categories()]
    assert "Breaker did not open" in names
    assert names.count("Harness error") == 1
    config = allurerc(Path("/r"), Path("/o"), "stormproof")
    assert '"singleFile": true' in config
    assert '"messageRegex": ".*Breaker did not open.*"' in config
