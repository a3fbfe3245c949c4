"""`stormproof run` and `stormproof report`: the main job end to end, clear errors on bad input."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from stormproof.chaos.cli import app
from stormproof.chaos.scenario import default_scenario_dir
from tests.chaos._separate_proxy import free_port, separate_proxy

from .test_pytest_plugin import PASSING, UNFIRED

ROOT = Path(__file__).resolve().parents[2]
STORMPROOF = [sys.executable, "-c", "from stormproof.chaos.cli import main; main()"]


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PACT_DO_NOT_TRACK": "true", "COLUMNS": "200"}
    env.pop("TOXIPROXY_URL", None)
    return subprocess.run(
        [*STORMPROOF, "run", *args], cwd=cwd, env=env, capture_output=True, text=True,
        timeout=300, check=False,
    )  # fmt: skip


def test_run_verifies_contracts_runs_scenarios_and_writes_allure(tmp_path):
    scenarios = tmp_path / "scenarios"
    scenarios.mkdir()
    for name in ("users-503-then-success", "payments-create-503-after-charge"):
        source = default_scenario_dir() / f"{name}.yaml"
        (scenarios / source.name).write_text(source.read_text())
    results = tmp_path / "results"
    done = _run(
        ["--scenarios", str(scenarios), "--pacts", str(ROOT / "contracts/pacts"),
         "--output", str(results), "--no-html", "--seed", "7"],
        cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "verify payments-service PASSED" in done.stdout
    assert "payments-create-503-after-charge PASSED" in done.stdout
    assert "2/2 scenarios passed" in done.stdout
    assert "all contracts and scenarios passed" in done.stdout
    outcomes = [json.loads(p.read_text()) for p in results.glob("*-result.json")]
    assert len(outcomes) == 5  # 3 provider verifications + 2 scenarios
    payment = next(r for r in outcomes if r["name"] == "payments-create-503-after-charge")
    labels = {(label["name"], label["value"]) for label in payment["labels"]}
    assert {("epic", "payments"), ("feature", "http_503"), ("severity", "critical")} <= labels
    assert {a["name"] for a in payment["attachments"]} >= {
        "faults.json", "timeline.json", "timeline.png", "timeline.html", "client-log.jsonl",
        "payments-provider-state.json",
    }  # fmt: skip
    parameters = {p["name"]: p for p in payment["parameters"]}
    assert parameters["seed"] == {"name": "seed", "value": "7", "excluded": True}
    assert parameters["proxy"]["excluded"] is True
    assert parameters["proxy"]["value"].startswith("'http://127.0.0.1:")
    steps = [step["name"] for step in payment["steps"]]
    assert "Phase 'ambiguous 503'" in steps
    categories = json.loads((results / "categories.json").read_text())
    assert {"name": "Duplicate charge", "matchedStatuses": ["failed"],
            "messageRegex": ".*Duplicate charge.*"} in categories  # fmt: skip
    assert "backend=embedded" in (results / "environment.properties").read_text()


def test_a_weakened_client_fails_the_run_with_the_category_in_the_scorecard(tmp_path):
    scenarios = tmp_path / "scenarios"
    scenarios.mkdir()
    name = "notifications-breaker-lifecycle"
    (scenarios / f"{name}.yaml").write_text((default_scenario_dir() / f"{name}.yaml").read_text())
    done = _run(
        ["--scenarios", str(scenarios), "--no-contracts", "--no-html", "--weaken", "no-breaker",
         "--output", str(tmp_path / "results")],
        cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 1
    assert "Breaker did not open: breaker stayed CLOSED after 3 failed call(s)" in done.stdout
    assert "0/1 scenarios passed" in done.stdout
    assert "Traceback" not in done.stdout + done.stderr
    (written,) = [json.loads(p.read_text()) for p in (tmp_path / "results").glob("*-result.json")]
    details = written["statusDetails"]
    lead = "Breaker did not open: breaker stayed CLOSED after 3 failed call(s) in phase 'failures'"
    assert details["message"].startswith(lead)  # the category leads, for Allure's categories
    assert lead not in details["trace"]  # each finding once: the trace holds the others
    assert "Unexpected provider traffic" in details["trace"]
    yaml = next(a for a in written["attachments"] if a["name"] == f"{name}.yaml")
    assert yaml["type"] == "text/yaml"
    text = (tmp_path / "results" / yaml["source"]).read_text()
    assert text == (default_scenario_dir() / f"{name}.yaml").read_text()

    def steps(items):
        for step in items:
            yield step
            yield from steps(step.get("steps", []))

    failed = [s for s in steps(written["steps"]) if s["status"] == "failed"]
    assert failed
    assert all("trace" not in s.get("statusDetails", {}) for s in failed)  # no harness files


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--scenarios", "nope"], "scenario path nope does not exist"),
        (["--environment", "missing.yaml"], "environment file missing.yaml does not exist"),
        (["--pacts", "empty"], "no pact files in empty"),
        (["--weaken", "everything"], "--weaken must be one of"),
        (["--scenarios", "empty", "--no-contracts"], "no scenario files (*.yaml, *.yml) in empty"),
    ],
)
def test_bad_options_are_clear_errors(tmp_path, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "empty").mkdir()
    result = CliRunner().invoke(app, ["run", *args])
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


def test_a_bad_scenario_file_names_file_and_field(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\nservice: users\ndescription: d\nphases: [{name: p, calls: [{}]}]\n")
    result = CliRunner().invoke(app, ["run", "--scenarios", str(bad), "--no-contracts"])
    assert result.exit_code == 2
    assert f"{bad}: invalid scenario file" in result.output
    assert "phases[0].calls[0].op: Field required" in result.output


def test_report_without_results_says_what_to_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["report", "--output", "nothing-here"])
    assert result.exit_code == 2
    assert "no Allure results in nothing-here" in result.output


def test_scenarios_pass_unchanged_against_a_separately_running_toxiproxy(tmp_path):
    with separate_proxy() as url:
        done = _run(
            ["--toxiproxy-url", url, "--select", "503,outage,breaker",
             "--no-contracts", "--no-html", "--output", str(tmp_path / "results")],
            cwd=tmp_path,
        )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "scenarios passed" in done.stdout
    properties = (tmp_path / "results" / "environment.properties").read_text()
    assert "backend=toxiproxy" in properties
    assert url in properties


def test_a_run_with_allowed_inconclusive_scenarios_never_says_all_passed(tmp_path):
    scenarios = tmp_path / "scenarios"
    scenarios.mkdir()
    (scenarios / "unfired.yaml").write_text(UNFIRED)
    args = ["--scenarios", str(scenarios), "--no-contracts", "--no-html", "--allow-inconclusive"]
    nothing = _run([*args, "--output", str(tmp_path / "r1")], cwd=tmp_path)
    assert nothing.returncode == 1, nothing.stdout + nothing.stderr
    assert (
        "no scenarios passed (1 inconclusive (allowed)): the run proved nothing" in nothing.stderr
    )
    assert "all scenarios passed" not in nothing.stdout
    [unfired] = _fault_evidence(tmp_path / "r1")
    assert unfired["status"] == "failed"
    assert "1 of 1 fault(s) never fired" in unfired["statusDetails"]["message"]
    [missed] = unfired["steps"]
    assert missed["name"].startswith("toxic latency on downstream (jitter=0, latency=50)")
    assert "never acted" in missed["name"]
    assert missed["status"] == "failed"
    (scenarios / "passing.yaml").write_text(PASSING)
    some = _run([*args, "--output", str(tmp_path / "r2")], cwd=tmp_path)
    assert some.returncode == 0, some.stdout + some.stderr
    assert "1 scenarios passed, 1 inconclusive (allowed): nothing failed" in some.stdout
    assert "all scenarios passed" not in some.stdout
    statuses = sorted(step["status"] for step in _fault_evidence(tmp_path / "r2"))
    assert statuses == ["failed", "passed"]


def _fault_evidence(results: Path) -> list[dict]:
    """The "Fault evidence" steps of every Allure result in `results`."""
    found = []
    for path in results.glob("*-result.json"):
        for phase in json.loads(path.read_text())["steps"]:
            found += [s for s in phase.get("steps", []) if s["name"] == "Fault evidence"]
    return found


def test_a_selection_that_matches_nothing_is_exit_2_with_the_names(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["run", "--select", "nosuchthing", "--no-contracts"])
    assert result.exit_code == 2
    assert "--select 'nosuchthing' matches no scenario" in result.output
    assert "users-503-then-success" in result.output
    assert "passed" not in result.output


def test_an_unreachable_toxiproxy_is_one_early_error_and_exit_2(tmp_path):
    port = free_port()
    done = _run(
        ["--toxiproxy-url", f"http://127.0.0.1:{port}", "--no-contracts", "--no-html",
         "--output", str(tmp_path / "results")],
        cwd=tmp_path,
    )  # fmt: skip
    output = done.stdout + done.stderr
    assert done.returncode == 2, output[-3000:]
    assert output.count(f"the Toxiproxy at http://127.0.0.1:{port} cannot be reached") == 1
    assert "scorecard" not in output
    assert "PASSED" not in output
    assert "FAILED" not in output


INTERRUPTED_RUN = """\
name: {name}
service: users
description: waits long enough to be interrupted
setup: [{{state: "a user with id usr_1 exists"}}]
phases:
  - name: calls
    faults: [{{toxic: latency, attributes: {{latency: 10}}}}]
    calls:
      - op: get_user
        with: {{user_id: usr_1}}
    wait_after_s: {wait}
"""


# Ctrl-C reaches a command run in a terminal. A suite started in the background (`&` in a script,
# nohup) hands its children SIGINT ignored, and Python then keeps ignoring it: this command
# takes Ctrl-C as it would in a terminal, whoever started the suite.
STORMPROOF_IN_A_TERMINAL = [
    sys.executable, "-c", "import signal; signal.signal(signal.SIGINT, signal.default_int_handler);"
    " from stormproof.chaos.cli import main; main()",
]  # fmt: skip


def test_an_interrupted_run_is_marked_interrupted_and_exits_130(tmp_path):
    scenarios = tmp_path / "scenarios"
    scenarios.mkdir()
    for index, wait in enumerate([0, 20, 0]):
        name = f"interrupt-{index}"
        (scenarios / f"{name}.yaml").write_text(INTERRUPTED_RUN.format(name=name, wait=wait))
    results = tmp_path / "results"
    env = {**os.environ, "PACT_DO_NOT_TRACK": "true", "COLUMNS": "200"}
    env.pop("TOXIPROXY_URL", None)
    process = subprocess.Popen(
        [*STORMPROOF_IN_A_TERMINAL, "run", "--scenarios", str(scenarios), "--no-contracts",
         "--no-html", "--output", str(results)],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        # interrupt-0 done and interrupt-1 into its 20 s wait: allure wrote one result.
        while not list(results.glob("*-result.json")) and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(1.0)
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 130, output[-3000:]
    assert "stormproof: warning: interrupted" in output
    assert "the run failed" not in output
    assert "1/3 scenarios passed, 2 interrupted or not run" in output
    outcomes = {
        data["name"]: data
        for data in (json.loads(p.read_text()) for p in results.glob("*-result.json"))
    }
    assert outcomes["interrupt-0"]["status"] == "passed"
    for name, how in (("interrupt-1", "while this test ran"), ("interrupt-2", "before this")):
        assert outcomes[name]["status"] == "broken"
        assert outcomes[name]["statusDetails"]["message"].startswith("Interrupted: the run was")
        assert how in outcomes[name]["statusDetails"]["message"]
    categories = json.loads((results / "categories.json").read_text())
    assert {"name": "Interrupted", "matchedStatuses": ["broken"],
            "messageRegex": ".*Interrupted.*"} in categories  # fmt: skip
