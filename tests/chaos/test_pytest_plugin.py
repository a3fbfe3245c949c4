"""The pytest plugin: scenario files as test items, fixtures, clear errors, a light import."""

import json
import socket
import subprocess
import sys

import pytest

from tests.chaos._separate_proxy import separate_proxy

pytest_plugins = ["pytester"]

PASSING = """
name: plugin-latency
service: users
description: a small latency, one attempt
tags: [demo]
setup:
  - state: "a user with id usr_1 exists"
phases:
  - name: slow
    faults:
      - toxic: latency
        attributes: {latency: 50}
    calls:
      - op: get_user
        with: {user_id: usr_1}
        expect: {outcome: ok, attempts: 1, elapsed_s: {min: 0.045}}
"""

FAILING = """
name: plugin-wrong-expectation
service: users
description: expects a breaker that cannot open after one failure
profile: {retry: {max_attempts: 1}, breaker: {failure_threshold: 5}}
phases:
  - name: outage
    faults: [{proxy: down}]
    calls:
      - op: get_user
        with: {user_id: usr_1}
        expect: {outcome: ServiceUnavailableError}
    expect:
      breaker_path: [CLOSED, OPEN]
"""


@pytest.fixture
def isolated(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeini("[pytest]\naddopts = -p no:cacheprovider\n")
    return pytester


def test_scenario_files_run_as_items_and_failures_read_like_a_review(isolated):
    isolated.makefile(".chaos.yaml", good=PASSING)
    isolated.makefile(".chaos.yaml", bad=FAILING)
    result = isolated.runpytest_subprocess("-v")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*plugin-wrong-expectation FAILED*",
            "*plugin-latency PASSED*",
            "*Breaker did not open: breaker stayed CLOSED after 1 failed call(s)*'outage'*",
            "*stormproof chaos scorecard*",
        ]
    )
    assert "Traceback" not in result.stdout.str()


def test_a_bad_scenario_file_is_a_collection_error_naming_the_field(isolated):
    isolated.makefile(".chaos.yaml", broken=PASSING.replace("toxic: latency", "toxic: lag"))
    result = isolated.runpytest_subprocess()
    result.stdout.fnmatch_lines(
        [
            "*broken.chaos.yaml: invalid scenario file*",
            "*line 10: phases[[]0[]].faults[[]0[]].toxic: unknown toxic type 'lag'*",
        ]
    )
    assert result.ret != 0


def test_select_keeps_matching_scenarios_only(isolated):
    isolated.makefile(".chaos.yaml", good=PASSING)
    isolated.makefile(".chaos.yaml", bad=FAILING)
    result = isolated.runpytest_subprocess("--stormproof-select", "demo")
    result.assert_outcomes(passed=1, deselected=1)


def test_a_five_line_test_with_plain_assertions(isolated):
    isolated.makepyfile(
        test_mine=f'''
import yaml

def test_latency_costs_one_attempt(run_scenario):
    result = run_scenario(yaml.safe_load("""{PASSING}"""))
    assert result.passed, result.failure_message()
    assert [c.attempts for c in result.calls] == [1]
    assert result.breaker_path == ["CLOSED"]
'''
    )
    result = isolated.runpytest_subprocess()
    result.assert_outcomes(passed=1)


def test_rollback_fixture_removes_what_a_test_left_behind(isolated):
    isolated.makepyfile(
        test_leak="""
def test_leaves_a_toxic(chaos_rollback, toxiproxy):
    proxy = chaos_rollback.endpoint("users").proxy
    toxiproxy.add_toxic(proxy, "latency", attributes={"latency": 10})
    toxiproxy.disable(proxy)

def test_finds_nothing(chaos_environment, toxiproxy):
    proxy = chaos_environment.endpoint("users").proxy
    assert toxiproxy.toxics(proxy) == []
    assert toxiproxy.get_proxy(proxy).enabled
"""
    )
    result = isolated.runpytest_subprocess("-p", "no:randomly")
    result.assert_outcomes(passed=2)


def test_a_toxic_left_behind_without_rollback_fails_that_test_and_not_the_next(isolated):
    isolated.makepyfile(
        test_leak="""
def test_forgets_its_toxic(chaos_environment, toxiproxy):
    proxy = chaos_environment.endpoint("users").proxy
    toxiproxy.add_toxic(proxy, "latency", attributes={"latency": 10}, name="forgotten")

def test_finds_nothing(chaos_environment, toxiproxy):
    proxy = chaos_environment.endpoint("users").proxy
    assert toxiproxy.toxics(proxy) == []
"""
    )
    result = isolated.runpytest_subprocess("-p", "no:randomly", "-rE")
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines(
        ["*ERROR at teardown of test_forgets_its_toxic*", "*Leftover fault: the test left toxic "
         "forgotten on proxy stormproof_users (removed now*"]
    )  # fmt: skip


LEFT_THROUGH_CHAOS_ENVIRONMENT_ONLY = """
from stormproof.chaos.toxiproxy import ToxiproxyClient

def _proxy(chaos_environment):
    return chaos_environment.endpoint("users").proxy

def test_1_leaves_a_toxic(chaos_environment):
    with ToxiproxyClient(chaos_environment.toxiproxy_url) as own:
        own.add_toxic(_proxy(chaos_environment), "latency", attributes={"latency": 10}, name="mine")

def test_2_finds_no_toxic(chaos_environment):
    with ToxiproxyClient(chaos_environment.toxiproxy_url) as own:
        assert own.toxics(_proxy(chaos_environment)) == []

def test_3_leaves_its_proxy_disabled(chaos_environment):
    with ToxiproxyClient(chaos_environment.toxiproxy_url) as own:
        own.disable(_proxy(chaos_environment))

def test_4_finds_it_enabled(chaos_environment):
    with ToxiproxyClient(chaos_environment.toxiproxy_url) as own:
        assert own.get_proxy(_proxy(chaos_environment)).enabled

def test_5_leaves_a_provider_fault(chaos_environment):
    rule = {"mode": "status", "status": 503, "count": 5, "path": "/users/usr_9"}
    chaos_environment.adapters["users"].add_fault(rule)

def test_6_finds_no_provider_fault(chaos_environment):
    assert chaos_environment.adapters["users"].active_faults() == []

def test_7_the_clean_up_cannot_reach_the_provider(chaos_environment):
    adapter = chaos_environment.adapters["users"]

    def unreachable():
        del adapter.active_faults  # once
        raise ConnectionError("provider gone")

    adapter.active_faults = unreachable
"""


def test_what_a_test_left_through_chaos_environment_alone_fails_that_test_not_the_next(isolated):
    isolated.makepyfile(test_leak=LEFT_THROUGH_CHAOS_ENVIRONMENT_ONLY)
    result = isolated.runpytest_subprocess("-p", "no:randomly", "-rE")
    result.assert_outcomes(passed=7, errors=4)
    result.stdout.fnmatch_lines(
        ["*ERROR at teardown of test_1_leaves_a_toxic*",
         "*Leftover fault: the test left toxic mine on proxy stormproof_users (removed now*",
         "*ERROR at teardown of test_3_leaves_its_proxy_disabled*",
         "*Leftover fault: the test left proxy stormproof_users disabled (removed now*",
         "*ERROR at teardown of test_5_leaves_a_provider_fault*",
         "*Leftover fault: the test left users provider fault {*'status': 503*} (removed now*",
         "*ERROR at teardown of test_7_the_clean_up_cannot_reach_the_provider*",
         "*Harness error: could not roll the chaos environment back after the test: "
         "ConnectionError: provider gone"]
    )  # fmt: skip
    assert "Traceback" not in result.stdout.str()


USERS_ONLY = """
backend = "{backend}"

[services.users]
client = "stormproof.clients:UserServiceClient"
app = "stormproof.providers:create_users_app"
adapter = "stormproof.providers:UsersAdapter"
health_path = "/healthz"
options = {{ test_mode = true }}
"""


def test_the_configured_backend_is_used_without_url_option_or_variable(isolated, monkeypatch):
    monkeypatch.delenv("TOXIPROXY_URL", raising=False)
    with separate_proxy() as url:
        isolated.makefile(".toml", stormproof=USERS_ONLY.format(backend=url))
        isolated.makefile(".chaos.yaml", good=PASSING)
        isolated.makepyfile(
            test_backend=f"""
def test_the_environment_uses_it(chaos_environment):
    assert (chaos_environment.backend, chaos_environment.toxiproxy_url) == ("toxiproxy", {url!r})
"""
        )
        result = isolated.runpytest_subprocess("-v")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["*plugin-latency PASSED*"])


def test_an_unreachable_toxiproxy_is_one_error_before_any_scenario_runs(isolated):
    isolated.makefile(".chaos.yaml", one=PASSING)
    isolated.makefile(".chaos.yaml", two=PASSING.replace("plugin-latency", "plugin-latency-2"))
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = isolated.runpytest_subprocess("--toxiproxy-url", f"http://127.0.0.1:{port}")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    output = result.stdout.str() + result.stderr.str()
    assert output.count(f"cannot reach Toxiproxy at http://127.0.0.1:{port}") == 1
    assert "/version failed: connection refused" in output
    assert "PASSED" not in output
    assert "FAILED" not in output
    assert "Traceback" not in output


def test_a_selection_that_matches_nothing_is_an_error_naming_the_scenarios(isolated):
    isolated.makefile(".chaos.yaml", good=PASSING)
    isolated.makefile(".chaos.yaml", bad=FAILING)
    result = isolated.runpytest_subprocess("--stormproof-select", "nosuchthing")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    output = result.stderr.str()
    assert "--stormproof-select 'nosuchthing' matches no scenario" in output
    assert "Scenarios: plugin-latency, plugin-wrong-expectation" in output


UNFIRED = (
    PASSING.replace("name: plugin-latency", "name: plugin-unfired")
    .replace("attributes: {latency: 50}", "toxicity: 0\n        attributes: {latency: 50}")
    .replace("elapsed_s: {min: 0.045}", "elapsed_s: {min: 0}")
)


def test_a_fault_that_never_fired_fails_the_run_as_inconclusive(isolated):
    isolated.makefile(".chaos.yaml", unfired=UNFIRED)
    result = isolated.runpytest_subprocess("-v")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*Inconclusive: a fault never fired*",
            "*phase 'slow': toxic latency on downstream (jitter=0, latency=50) toxicity=0:*"
            "never acted*(proxy counters)*",
            "*INCONCLUSIVE*",
            "*0/1 scenarios passed, 1 inconclusive*",
        ]
    )


def test_allow_inconclusive_reports_it_as_skipped_not_passed(isolated):
    isolated.makefile(".chaos.yaml", unfired=UNFIRED)
    result = isolated.runpytest_subprocess("-rs", "--allow-inconclusive")
    result.assert_outcomes(skipped=1)
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["*SKIPPED*Inconclusive: a fault never fired*"])


# Every pytest session of an environment with stormproof installed loads the plugin, chaos or not:
# none of these may come with it (they load when a chaos fixture or item is used).
HEAVY = ("aiohttp", "allure", "pact", "fastapi", "pydantic", "requests", "uvloop", "h11",
         "httptools", "uvicorn")  # fmt: skip

LOAD_AS_PYTEST_DOES = """
import json, sys
from importlib.metadata import entry_points
import pytest
[plugin] = [e for e in entry_points(group="pytest11") if e.name == "stormproof"]
module = plugin.load()
loaded = {name.split(".")[0] for name in sys.modules}
print(json.dumps({"module": module.__name__, "heavy": sorted(loaded & set(HEAVY))}))
"""


def test_loading_the_plugin_as_pytest_does_imports_nothing_heavy():
    code = f"HEAVY = {HEAVY!r}\n{LOAD_AS_PYTEST_DOES}"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    found = json.loads(done.stdout)
    assert found == {"module": "stormproof.chaos.pytest_plugin", "heavy": []}
