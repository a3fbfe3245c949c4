"""The stormproof pytest plugin (entry point `pytest11: stormproof`).

- Scenario files run as test items (marker `chaos`): any `*.chaos.yaml` file, and every YAML file
  under the paths of the `stormproof_scenario_paths` ini option or `--stormproof-scenarios`.
- Fixtures: `chaos_environment` (session: proxy + providers, started on first use), `toxiproxy`
  (the typed Toxiproxy client), `chaos_rollback` (per test: remove toxics, re-enable proxies, clear
  provider faults), `run_scenario` (run a scenario given as a dict, a file or a `Scenario`).
- One lifecycle: the environment starts once per session and stops at its end; each scenario starts
  from a clean slate and is rolled back, and a leftover fault fails it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

from stormproof.chaos.report import (
    AllureObserver,
    label_contract,
    label_scenario,
    print_scorecard,
    record_verification,
    write_results_metadata,
)
from stormproof.chaos.runner import (
    HARNESS_ERROR,
    WEAKENINGS,
    ChaosEnvironment,
    ChaosEnvironmentError,
    ProviderControl,
    ScenarioResult,
    ScenarioRunner,
    Weakening,
    start_environment,
)
from stormproof.chaos.scenario import SCENARIO_SUFFIXES, Scenario, ScenarioFileError, load_scenario
from stormproof.chaos.toxiproxy import ToxiproxyClient, ToxiproxyError

_CHAOS_SUFFIXES = tuple(f".chaos{suffix}" for suffix in SCENARIO_SUFFIXES)


class ScenarioFailedError(AssertionError):
    """A scenario's expectations did not hold (the client misbehaved)."""


class ScenarioBrokenError(RuntimeError):
    """The harness could not run the scenario (not the client's fault)."""


class _ChaosSession:
    """Session state: the lazily started environment and every scenario result."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.seed: int = config.getoption("stormproof_seed")
        self.weaken: Weakening | None = config.getoption("stormproof_weaken")
        self.results: list[ScenarioResult] = []
        self._stack = ExitStack()
        self._environment: ChaosEnvironment | None = None
        self._start_error: str | None = None

    def environment(self) -> ChaosEnvironment:
        # A start that failed is not tried again for every scenario: each one reports it at once.
        if self._start_error is not None:
            raise ScenarioBrokenError(self._start_error)
        if self._environment is None:
            environment_file = self.config.getoption("stormproof_environment")
            toxiproxy_url = self.config.getoption("toxiproxy_url")
            try:
                self._environment = self._stack.enter_context(
                    start_environment(
                        seed=self.seed,
                        toxiproxy_url=None if environment_file else toxiproxy_url,
                        environment_file=environment_file,
                    )
                )
            except (ChaosEnvironmentError, ToxiproxyError, OSError) as exc:
                self._start_error = f"{HARNESS_ERROR}: the chaos environment did not start: {exc}"
                raise ScenarioBrokenError(self._start_error) from exc
        return self._environment

    def runner(self) -> ScenarioRunner:
        return ScenarioRunner(
            self.environment(), seed=self.seed, observer=AllureObserver(), weaken=self.weaken
        )

    def close(self) -> None:
        self._stack.close()
        self._environment = None


_SESSION_KEY = pytest.StashKey[_ChaosSession]()


def _session(config: pytest.Config) -> _ChaosSession:
    return config.stash[_SESSION_KEY]


def pytest_addoption(parser: pytest.Parser) -> None:
    """Register stormproof's command-line and ini options."""
    group = parser.getgroup("stormproof", "stormproof chaos scenarios")
    group.addoption(
        "--stormproof-seed", type=int, default=0, help="seed of toxicity rolls and jitter"
    )
    group.addoption(
        "--toxiproxy-url",
        default=os.environ.get("TOXIPROXY_URL"),
        help="use this running Toxiproxy instead of the embedded one (default: $TOXIPROXY_URL)",
    )
    group.addoption(
        "--stormproof-environment",
        default=None,
        help="attach to the proxy and providers described by this environment file",
    )
    group.addoption(
        "--stormproof-scenarios",
        action="append",
        default=[],
        help="a scenario file or folder to run (repeatable)",
    )
    group.addoption(
        "--stormproof-pacts",
        action="append",
        default=[],
        help="a folder of pact files: verify each provider against them (repeatable)",
    )
    group.addoption(
        "--stormproof-select",
        default=None,
        help="run only scenarios whose name, service or tag contains this text",
    )
    group.addoption(
        "--stormproof-weaken",
        choices=WEAKENINGS,
        default=None,
        help="test only: weaken the clients to prove the scenarios catch it",
    )
    parser.addini(
        "stormproof_scenario_paths", "folders whose YAML files are scenarios", type="paths"
    )


def pytest_configure(config: pytest.Config) -> None:
    """Register the `chaos` marker and the session state."""
    config.addinivalue_line("markers", "chaos: a chaos scenario (fault injection through a proxy)")
    config.addinivalue_line("markers", "contract: a Pact provider verification")
    config.stash[_SESSION_KEY] = _ChaosSession(config)


def pytest_unconfigure(config: pytest.Config) -> None:
    """Stop the environment if it was started."""
    if _SESSION_KEY in config.stash:
        _session(config).close()


def _scenario_roots(config: pytest.Config) -> list[Path]:
    roots = [Path(p).resolve() for p in config.getini("stormproof_scenario_paths")]
    roots += [Path(p).resolve() for p in config.getoption("stormproof_scenarios")]
    return roots


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    """Collect scenario files as `ScenarioFile`s."""
    name = file_path.name
    if name.endswith(_CHAOS_SUFFIXES):
        return ScenarioFile.from_parent(parent, path=file_path)
    if file_path.suffix == ".json":
        resolved = file_path.resolve()
        for root in parent.config.getoption("stormproof_pacts"):
            folder = Path(root).resolve()
            if resolved == folder or folder in resolved.parents:
                return PactFile.from_parent(parent, path=file_path)
        return None
    if file_path.suffix in SCENARIO_SUFFIXES:
        resolved = file_path.resolve()
        for root in _scenario_roots(parent.config):
            if resolved == root or root in resolved.parents:
                return ScenarioFile.from_parent(parent, path=file_path)
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Apply `--stormproof-select` to scenario items."""
    text = config.getoption("stormproof_select")
    if not text:
        return
    needles = [part.strip().lower() for part in text.split(",") if part.strip()]
    keep: list[pytest.Item] = []
    drop: list[pytest.Item] = []
    for item in items:
        if isinstance(item, ScenarioItem):
            scenario = item.scenario
            haystack = [scenario.name, scenario.service, *scenario.tags, *scenario.fault_kinds]
            hit = any(needle in value.lower() for needle in needles for value in haystack)
            (keep if hit else drop).append(item)
        else:
            keep.append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


class ScenarioFile(pytest.File):
    """A scenario file: one test item."""

    def collect(self) -> Iterator[ScenarioItem]:
        """Load and validate the file; a bad file is a collection error naming file and field."""
        try:
            scenario = load_scenario(self.path)
        except ScenarioFileError as exc:
            raise self.CollectError(str(exc)) from None
        yield ScenarioItem.from_parent(self, name=scenario.name, scenario=scenario)


class ScenarioItem(pytest.Item):
    """One scenario, run and judged by the `ScenarioRunner`."""

    def __init__(self, *, scenario: Scenario, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.scenario = scenario
        self.result: ScenarioResult | None = None
        self.funcargs: dict[str, Any] = {}  # allure-pytest reads it from every item
        self.add_marker("chaos")
        self.keywords[scenario.service] = True
        for tag in scenario.tags:
            self.keywords[tag] = True

    def runtest(self) -> None:
        """Run the scenario; raise `ScenarioFailedError` when an expectation did not hold."""
        state = _session(self.config)
        scenario = self.scenario
        runner = state.runner()
        endpoint = runner.environment.endpoint(scenario.service)
        label_scenario(scenario, state.seed, endpoint.client_url)
        result = self.result = runner.run(scenario)
        state.results.append(result)
        lead = result.primary
        if lead is None:
            return
        more = len(result.findings) - 1
        summary = f"{lead.category}: {lead.message}" + (f" (+{more} more)" if more else "")
        if lead.category == HARNESS_ERROR:
            raise ScenarioBrokenError(summary)
        raise ScenarioFailedError(summary)

    def repr_failure(
        self,
        excinfo: pytest.ExceptionInfo[BaseException],
        style: Any = None,
    ) -> str:
        """All findings of a failed scenario, without a traceback."""
        if isinstance(excinfo.value, ScenarioFailedError | ScenarioBrokenError):
            found = str(excinfo.value) if self.result is None else self.result.failure_message()
            return f"scenario {self.scenario.name} ({self.path}):\n{found}"
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int | None, str]:
        """Where the scenario comes from."""
        return self.path, None, f"chaos scenario {self.scenario.name}"


class PactFile(pytest.File):
    """A pact file: one provider verification item."""

    def collect(self) -> Iterator[ContractItem]:
        """One item that verifies the pact's provider against this file."""
        from stormproof.chaos.pact import read_pact  # noqa: PLC0415 - pact loads its FFI on import

        try:
            provider = str(read_pact(self.path)["provider"]["name"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise self.CollectError(f"{self.path}: not a readable pact file: {exc}") from None
        yield ContractItem.from_parent(self, name=f"verify {provider}", provider=provider)


class ContractItem(pytest.Item):
    """Verify one provider against one pact file (the reference provider, started for it)."""

    def __init__(self, *, provider: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.provider = provider
        self.funcargs: dict[str, Any] = {}
        self.add_marker("contract")

    def runtest(self) -> None:
        """Run the Pact verifier; fail naming each broken interaction and field."""
        from stormproof.chaos.pact import verify_provider  # noqa: PLC0415 - pact loads its FFI on import

        label_contract(self.provider, self.path.name)
        result = verify_provider(self.provider, [self.path])
        record_verification(result)
        if not result.passed:
            raise ContractBrokenError(f"Pact verification failed: {result.summary()}")

    def repr_failure(
        self,
        excinfo: pytest.ExceptionInfo[BaseException],
        style: Any = None,
    ) -> str:
        """The verification summary, without a traceback."""
        if isinstance(excinfo.value, ContractBrokenError):
            return str(excinfo.value)
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int | None, str]:
        """Which pact file is verified."""
        return self.path, None, f"pact verification of {self.provider}"


class ContractBrokenError(AssertionError):
    """A provider does not honour its consumers' pact."""


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Print the scorecard after a run that included scenarios."""
    state = _session(terminalreporter.config)
    if state.results:
        terminalreporter.write_line("")
        print_scorecard(state.results)


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Write Allure categories and environment next to the results."""
    state = _session(session.config)
    results_dir = getattr(session.config.option, "allure_report_dir", None)
    if results_dir and state._environment is not None:
        write_results_metadata(Path(results_dir), state._environment.describe())
    elif results_dir:
        write_results_metadata(Path(results_dir), {"backend": "none (no chaos scenario ran)"})


@pytest.fixture(scope="session")
def chaos_environment(pytestconfig: pytest.Config) -> ChaosEnvironment:
    """The chaos environment (embedded proxy and providers unless configured otherwise)."""
    return _session(pytestconfig).environment()


@pytest.fixture(scope="session")
def toxiproxy(chaos_environment: ChaosEnvironment) -> ToxiproxyClient:
    """A Toxiproxy API client for the environment's proxy."""
    return ToxiproxyClient(chaos_environment.toxiproxy_url)


@pytest.fixture
def chaos_rollback(
    chaos_environment: ChaosEnvironment, toxiproxy: ToxiproxyClient
) -> Iterator[ChaosEnvironment]:
    """After the test: remove every toxic, re-enable every proxy, clear provider faults."""
    yield chaos_environment
    for endpoint in chaos_environment.services.values():
        for toxic in toxiproxy.toxics(endpoint.proxy):
            toxiproxy.remove_toxic(endpoint.proxy, toxic.name)
        toxiproxy.update_proxy(endpoint.proxy, enabled=True)
        ProviderControl(endpoint.provider_url).clear_faults()


@pytest.fixture
def run_scenario(
    pytestconfig: pytest.Config, chaos_rollback: ChaosEnvironment
) -> Callable[[Scenario | dict[str, Any] | str | Path], ScenarioResult]:
    """Run a scenario (a `Scenario`, a dict in the file format, or a file path) and return the
    result; assert on `result.passed`, `result.calls`, `result.breaker_path`, ..."""
    state = _session(pytestconfig)

    def run(spec: Scenario | dict[str, Any] | str | Path) -> ScenarioResult:
        if isinstance(spec, Scenario):
            scenario = spec
        elif isinstance(spec, dict):
            scenario = Scenario.model_validate(spec)
        else:
            scenario = load_scenario(spec)
        result = state.runner().run(scenario)
        state.results.append(result)
        return result

    return run
