""".github/workflows/ci.yml: a valid workflow with the jobs and steps teams rely on."""

from __future__ import annotations

from typing import Any

import pytest

from tests.compose._files import WORKFLOW, load_yaml, schema_errors, vendored_schema


@pytest.fixture(scope="module")
def workflow() -> dict[str, Any]:
    document = load_yaml(WORKFLOW)
    assert isinstance(document, dict)
    return document


def _runs(job: dict[str, Any]) -> str:
    return "\n".join(step.get("run", "") for step in job["steps"])


def _uses(job: dict[str, Any]) -> list[str]:
    return [step["uses"] for step in job["steps"] if "uses" in step]


def test_workflow_is_valid_against_the_github_workflow_schema(workflow):
    assert schema_errors(vendored_schema("github-workflows"), workflow) == []


def test_the_schema_check_rejects_a_broken_workflow(workflow):
    broken = {**workflow, "jobs": {"lint": {"steps": [{"run": "true"}]}}}  # no runs-on
    assert schema_errors(vendored_schema("github-workflows"), broken)


def test_runs_on_pushes_to_main_and_pull_requests(workflow):
    assert set(workflow["on"]) >= {"push", "pull_request"}
    assert workflow["on"]["push"]["branches"] == ["main"]
    assert workflow["permissions"] == {"contents": "read"}


def test_has_the_expected_jobs(workflow):
    assert set(workflow["jobs"]) == {"lint", "unit", "contracts", "chaos"}
    for name, job in workflow["jobs"].items():
        assert job["runs-on"] == "ubuntu-latest", name
        assert job["timeout-minutes"] <= 60, name
        assert "actions/checkout@v4" in _uses(job), name


def test_lint_job_runs_ruff_strict_mypy_and_hadolint(workflow):
    runs = _runs(workflow["jobs"]["lint"])
    assert "ruff check ." in runs
    assert "ruff format --check ." in runs
    assert "mypy --strict -p stormproof.clients -p stormproof.providers -p stormproof.chaos" in runs
    assert "hadolint Dockerfile" in runs


def test_unit_job_runs_the_test_suite(workflow):
    assert "python -m pytest tests" in _runs(workflow["jobs"]["unit"])


def test_contracts_job_verifies_and_uses_the_broker_only_when_its_secrets_exist(workflow):
    job = workflow["jobs"]["contracts"]
    assert "python -m pytest contracts" in _runs(job)
    assert job["env"]["PACT_BROKER_BASE_URL"] == "${{ secrets.PACT_BROKER_BASE_URL }}"
    broker_steps = [step for step in job["steps"] if "stormproof pact" in step.get("run", "")]
    commands = [step["run"].split()[2] for step in broker_steps]
    assert commands == ["publish", "verify", "can-i-deploy"]
    for step in broker_steps:
        assert step["if"] == "env.PACT_BROKER_BASE_URL != ''", step["name"]


def test_chaos_job_runs_compose_with_the_runners_exit_code_and_uploads_allure(workflow):
    job = workflow["jobs"]["chaos"]
    runs = _runs(job)
    assert "docker compose config --quiet" in runs
    assert "docker compose build" in runs
    assert "docker compose up --abort-on-container-exit --exit-code-from runner" in runs
    assert "docker compose down" in runs
    assert "stormproof report --output" in runs
    uploads = [s for s in job["steps"] if s.get("uses", "").startswith("actions/upload-artifact")]
    assert len(uploads) == 1
    upload = uploads[0]
    assert upload["if"] == "always()"
    assert "stormproof-out/compose/allure-results" in upload["with"]["path"]
    assert "stormproof-out/compose/allure-report" in upload["with"]["path"]
    assert job["env"]["RESULTS"] == "stormproof-out/compose"
