"""The stormproof pytest plugin (entry point `pytest11: stormproof`).

- Scenario files run as test items (marker `chaos`): any `*.chaos.yaml` file, and every YAML file
  under the paths of the `stormproof_scenario_paths` ini option or `--stormproof-scenarios`.
- Fixtures: `chaos_environment` (session: proxy + providers, started on first use), `toxiproxy`
  (the typed Toxiproxy client), `chaos_rollback` (the per-test clean-up, asked for: leftovers do
  not fail the test), `run_scenario` (run a scenario given as a dict, a file or a `Scenario`).
- One lifecycle: the environment starts once per session and stops at its end; each scenario starts
  from a clean slate and is rolled back, and so is each test that used the environment through
  any fixture; a leftover fault fails the scenario or test that left it.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Generator, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from stormproof.chaos._options import SCENARIO_SUFFIXES, WEAKENINGS, Weakening

# Only pytest is imported at start-up: every pytest session of an environment with stormproof
# installed loads this plugin, chaos or not. The harness loads when a chaos item or fixture is used.
if TYPE_CHECKING:
    from stormproof.chaos.matrix import MatrixCase, MatrixCell
    from stormproof.chaos.report import TestIdentity
    from stormproof.chaos.runner import ChaosEnvironment, ScenarioResult, ScenarioRunner
    from stormproof.chaos.scenario import Scenario
    from stormproof.chaos.services import ProjectConfig
    from stormproof.chaos.toxiproxy import ToxiproxyClient

_CHAOS_SUFFIXES = tuple(f".chaos{suffix}" for suffix in SCENARIO_SUFFIXES)


class ScenarioFailedError(AssertionError):
    """A scenario's expectations did not hold (the client misbehaved)."""


class ScenarioBrokenError(RuntimeError):
    """The harness could not run the scenario (not the client's fault)."""


class ScenarioInconclusiveError(RuntimeError):
    """A fault of the scenario never fired: the run proves nothing about the client."""


class _ChaosSession:
    """Session state: the lazily started environment and every scenario result."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.seed: int = config.getoption("stormproof_seed")
        self.weaken: Weakening | None = config.getoption("stormproof_weaken")
        self.allow_inconclusive: bool = config.getoption("stormproof_allow_inconclusive")
        self.results: list[ScenarioResult] = []
        self.matrix_cells: dict[str, MatrixCell] = {}
        self.started: set[str] = set()
        self.finished: set[str] = set()
        self.scenario_ids: list[str] = []  # the scenarios collected to run (not matrix cases)
        self._stack = ExitStack()
        self._environment: ChaosEnvironment | None = None
        self._start_error: str | None = None
        self._project: ProjectConfig | None = None

    def project(self) -> ProjectConfig:
        """The project's stormproof configuration (`--stormproof-config`, else the one found from
        pytest's root folder, else the bundled demo)."""
        from stormproof.chaos.services import active_config

        if self._project is None:
            given = self.config.getoption("stormproof_config")
            self._project = active_config(given, start=self.config.rootpath)
        return self._project

    def environment(self) -> ChaosEnvironment:
        from stormproof.chaos.runner import HARNESS_ERROR, ChaosEnvironmentError, start_environment
        from stormproof.chaos.services import ConfigError
        from stormproof.chaos.toxiproxy import ToxiproxyError

        # A start that failed is not tried again for every scenario: each one reports it at once.
        if self._start_error is not None:
            raise ScenarioBrokenError(self._start_error)
        if self._environment is None:
            environment_file = self.config.getoption("stormproof_environment")
            try:
                project = self.project()
                toxiproxy_url = project.toxiproxy_url(self.config.getoption("toxiproxy_url"))
                self._environment = self._stack.enter_context(
                    start_environment(
                        config=project,
                        in_process=self.config.getoption("stormproof_in_process"),
                        seed=self.seed,
                        toxiproxy_url=None if environment_file else toxiproxy_url,
                        environment_file=environment_file,
                    )
                )
            except (ChaosEnvironmentError, ConfigError, ToxiproxyError, OSError) as exc:
                self._start_error = f"{HARNESS_ERROR}: the chaos environment did not start: {exc}"
                raise ScenarioBrokenError(self._start_error) from exc
        return self._environment

    def runner(self, *, matrix: bool = False) -> ScenarioRunner:
        from stormproof.chaos.report import AllureObserver
        from stormproof.chaos.runner import ScenarioRunner

        return ScenarioRunner(
            self.environment(),
            seed=self.seed,
            observer=AllureObserver(),
            weaken=self.weaken,
            pictures="unless-passed" if matrix else "always",
        )

    @property
    def started_environment(self) -> ChaosEnvironment | None:
        """The environment if it was started (None: no test or scenario needed it yet)."""
        return self._environment

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
        help="use this running Toxiproxy instead of the embedded one (default: $TOXIPROXY_URL, "
        "else the project configuration's backend)",
    )
    group.addoption(
        "--stormproof-config",
        default=None,
        help="the project's stormproof.toml or pyproject.toml (default: found from the rootdir)",
    )
    group.addoption(
        "--stormproof-in-process",
        action="store_true",
        default=False,
        help="run the embedded proxy and providers in threads of this process, not children",
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
        "--stormproof-matrix",
        action="store_true",
        default=False,
        help="pact files yield the fault matrix (each interaction x each fault class) instead "
        "of a provider verification",
    )
    group.addoption(
        "--stormproof-select",
        default=None,
        help="run only scenarios whose name, service, tag or fault kind contains this text "
        "(case-insensitive; commas separate alternatives)",
    )
    group.addoption(
        "--allow-inconclusive",
        dest="stormproof_allow_inconclusive",
        action="store_true",
        default=False,
        help="a scenario whose fault never fired is skipped instead of failing the run",
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
    config.addinivalue_line("markers", "matrix: a case of the contract-derived fault matrix")
    config.stash[_SESSION_KEY] = state = _ChaosSession(config)
    config.pluginmanager.register(_MatrixCells(state), "stormproof-matrix-cells")


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
    """Apply `--stormproof-select` to scenario items; a selection that matches none is an error."""
    from stormproof.chaos.scenario import matches_selection

    text = config.getoption("stormproof_select")
    if not text:
        return
    scenarios = [item for item in items if isinstance(item, ScenarioItem)]
    drop = [item for item in scenarios if not matches_selection(item.scenario, text)]
    if (scenarios and len(drop) == len(scenarios)) or not scenarios:
        names = ", ".join(sorted(item.scenario.name for item in scenarios)) or "none collected"
        raise pytest.UsageError(
            f"--stormproof-select {text!r} matches no scenario (it matches a name, service, tag "
            f"or fault kind; commas separate alternatives). Scenarios: {names}"
        )
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = [item for item in items if item not in drop]


def pytest_collection_finish(session: pytest.Session) -> None:
    """Start the chaos environment before any test runs when scenarios were collected, so a
    backend that cannot be reached is one clear error instead of one per scenario."""
    if session.config.option.collectonly:
        return
    _session(session.config).scenario_ids = [
        item.nodeid
        for item in session.items
        if isinstance(item, ScenarioItem) and not isinstance(item, MatrixItem)
    ]
    if any(isinstance(item, ScenarioItem) for item in session.items):
        try:
            _session(session.config).environment()
        except ScenarioBrokenError as exc:
            raise pytest.UsageError(str(exc)) from None


def _shown(path: Path, root: Path) -> Path:
    """`path` relative to the run's root folder when it is inside it."""
    try:
        return path.relative_to(root)
    except ValueError:
        return path


class ScenarioFile(pytest.File):
    """A scenario file: one test item."""

    def collect(self) -> Iterator[ScenarioItem]:
        """Load and validate the file; a bad file is a collection error naming file and field."""
        from stormproof.chaos.scenario import ScenarioFileError, load_scenario
        from stormproof.chaos.services import ConfigError

        try:
            scenario = load_scenario(self.path, config=_session(self.config).project())
        except (ScenarioFileError, ConfigError) as exc:
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
        from stormproof.chaos.report import attach_scenario_file, label_scenario
        from stormproof.chaos.runner import HARNESS_ERROR, INCONCLUSIVE

        state = _session(self.config)
        scenario = self.scenario
        runner = state.runner(matrix=isinstance(self, MatrixItem))
        endpoint = runner.environment.endpoint(scenario.service)
        label_scenario(scenario, state.seed, endpoint.client_url)
        self.attach_source(attach_scenario_file)
        result = self.result = runner.run(scenario)
        state.results.append(result)
        if result.skip_reason is not None:
            pytest.skip(result.skip_reason)
        if result.inconclusive:
            summary = f"{INCONCLUSIVE}:\n{result.inconclusive_message()}"
            if state.allow_inconclusive:
                pytest.skip(summary)
            raise ScenarioInconclusiveError(summary)
        lead = result.primary
        if lead is None:
            return
        more = len(result.findings) - 1
        summary = f"{lead.category}: {lead.message}" + (f" (+{more} more)" if more else "")
        if lead.category == HARNESS_ERROR:
            raise ScenarioBrokenError(summary)
        raise ScenarioFailedError(summary)

    def attach_source(self, attach: Callable[..., None]) -> None:
        """Attach the file the scenario came from."""
        attach(self.path)

    def repr_failure(
        self,
        excinfo: pytest.ExceptionInfo[BaseException],
        style: Any = None,
    ) -> str:
        """All findings of a failed scenario, without a traceback."""
        where = _shown(self.path, self.config.rootpath)
        if isinstance(excinfo.value, ScenarioInconclusiveError):
            return f"scenario {self.scenario.name} ({where}):\n{excinfo.value}"
        if isinstance(excinfo.value, ScenarioFailedError | ScenarioBrokenError):
            found = str(excinfo.value) if self.result is None else self.result.failure_message()
            return f"scenario {self.scenario.name} ({where}):\n{found}"
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int | None, str]:
        """Where the scenario comes from."""
        return self.path, None, f"chaos scenario {self.scenario.name}"


class MatrixItem(ScenarioItem):
    """One matrix case: a pact interaction under a fault class, run as its derived scenario."""

    def __init__(self, *, case: MatrixCase, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.case = case
        self.add_marker("matrix")

    def attach_source(self, attach: Callable[..., None]) -> None:
        """Attach the derived case as the scenario file `--emit` would write."""
        from stormproof.chaos.matrix import case_yaml

        attach(Path(f"{self.scenario.name}.yaml"), case_yaml(self.case))

    def runtest(self) -> None:
        """Run the case; its verdict travels with the report (to the controller under xdist)."""
        try:
            super().runtest()
        finally:
            from stormproof.chaos.runner import HARNESS_ERROR

            result, verdict = self.result, "broken"
            if result is not None:
                harness = result.primary is not None and result.primary.category == HARNESS_ERROR
                verdict = "broken" if harness else result.verdict
            case = self.case
            # A plain tuple: xdist sends user properties from the worker to the controller.
            cell = (case.service, case.interaction.description, case.fault.name, verdict)
            self.user_properties.append(("stormproof_matrix", cell))


class PactFile(pytest.File):
    """A pact file: one provider verification item."""

    def collect(self) -> Iterator[ContractItem | MatrixItem]:
        """One item that verifies the pact's provider against this file; with
        `--stormproof-matrix`, one item per matrix case of its interactions instead."""
        from stormproof.chaos.pact import read_pact

        try:
            provider = str(read_pact(self.path)["provider"]["name"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise self.CollectError(f"{self.path}: not a readable pact file: {exc}") from None
        if self.config.getoption("stormproof_matrix"):
            yield from self._matrix(provider)
            return
        yield ContractItem.from_parent(self, name=f"verify {provider}", provider=provider)

    def _matrix(self, provider: str) -> Iterator[MatrixItem]:
        from stormproof.chaos.matrix import service_cases
        from stormproof.chaos.scenario import ScenarioFileError
        from stormproof.chaos.services import ConfigError

        project = _session(self.config).project()
        declaration = project.by_pact_provider(provider)
        if declaration is None:
            raise self.CollectError(
                f"{self.path}: no service in {project.source} declares pact_provider {provider!r}"
            )
        try:
            cases, _ = service_cases(project, declaration, files=[self.path])
        except (ConfigError, ScenarioFileError) as exc:
            raise self.CollectError(str(exc)) from None
        for case in cases:
            name = f"{case.interaction.description} @ {case.fault.name}"
            yield MatrixItem.from_parent(self, name=name, scenario=case.scenario, case=case)


class ContractItem(pytest.Item):
    """Verify one provider against one pact file (the reference provider, started for it)."""

    def __init__(self, *, provider: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.provider = provider
        self.funcargs: dict[str, Any] = {}
        self.add_marker("contract")

    def runtest(self) -> None:
        """Run the Pact verifier; fail naming each broken interaction and field."""
        from stormproof.chaos.pact import verify_provider
        from stormproof.chaos.report import label_contract, record_verification

        label_contract(self.provider, self.path.name)
        project = _session(self.config).project()
        result = verify_provider(self.provider, [self.path], config=project)
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


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int) -> None:
    """Print the scorecard after a run that included scenarios (after a Ctrl-C, it counts those
    the interrupt cut short or kept from running)."""
    from stormproof.chaos.report import print_scorecard

    state = _session(terminalreporter.config)
    scenarios = [r for r in state.results if "matrix" not in r.scenario.tags]
    unfinished = 0
    if exitstatus == pytest.ExitCode.INTERRUPTED:
        unfinished = sum(1 for nodeid in state.scenario_ids if nodeid not in state.finished)
    if scenarios or unfinished:
        terminalreporter.write_line("")
        print_scorecard(scenarios, interrupted=unfinished)
    if state.matrix_cells:
        from stormproof.chaos.matrix import print_grid

        terminalreporter.write_line("")
        print_grid(list(state.matrix_cells.values()))


class _MatrixCells:
    """Collects the matrix cells from the reports (every worker's, under xdist)."""

    def __init__(self, state: _ChaosSession) -> None:
        self.state = state

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        from stormproof.chaos.matrix import MatrixCell

        for name, value in report.user_properties:
            if name == "stormproof_matrix":
                fields = [str(part) for part in value]  # type: ignore[attr-defined]
                cell = MatrixCell(*fields)
                if not self.state.matrix_cells:
                    self._load_drawing(report)
                self.state.matrix_cells[report.nodeid] = cell

    def _load_drawing(self, report: pytest.TestReport) -> None:
        # The controller of a parallel run idles while its workers run the cases: it loads the
        # plotting library now rather than after the last case, when it draws the grid. Never
        # where the cases run: the import would hold the GIL the client under test needs.
        config = self.state.config
        if getattr(report, "node", None) is None or hasattr(config, "workerinput"):
            return
        from stormproof.chaos.report._matrix_grid import load_drawing

        threading.Thread(target=load_drawing, name="stormproof-load-drawing", daemon=True).start()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item) -> Generator[None, object, object]:
    """Remember which tests started and which ended (to mark an interrupted run)."""
    state = _session(item.config)
    state.started.add(item.nodeid)
    outcome = yield
    state.finished.add(item.nodeid)
    return outcome


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Show a failed scenario's findings once in Allure: allure-pytest (which this wraps) writes
    the exception line as the message and the terminal's report, which repeats it, as the trace."""
    report = yield
    failure = call.excinfo.value if call.excinfo is not None else None
    ours = ScenarioFailedError | ScenarioBrokenError | ScenarioInconclusiveError
    if isinstance(item, ScenarioItem) and isinstance(failure, ours):
        from stormproof.chaos.report import show_failure_once

        lead = item.result.primary if item.result is not None else None
        rest = [] if item.result is None else [f for f in item.result.findings if f is not lead]
        details = "\n".join(f"{f.category}: {f.message}" for f in rest)
        show_failure_once(item.config, str(failure), details)
    return report


def _identity(item: pytest.Item) -> TestIdentity:
    from allure_pytest.utils import allure_full_name, get_history_id

    from stormproof.chaos.report import TestIdentity

    full_name = allure_full_name(item)
    labels: list[tuple[str, str]] = [("framework", "pytest")]
    if isinstance(item, ScenarioItem):
        scenario = item.scenario
        labels += [("epic", scenario.service), ("feature", ", ".join(scenario.fault_kinds))]
        labels += [("story", scenario.name)]
    elif isinstance(item, ContractItem):
        labels += [("epic", "contracts"), ("feature", item.provider)]
    return TestIdentity(item.name, full_name, get_history_id(full_name, [], {}), tuple(labels))


def _mark_interrupted(session: pytest.Session, results_dir: Path) -> None:
    from stormproof.chaos.report import mark_interrupted

    state = _session(session.config)
    unfinished = [item for item in session.items if item.nodeid not in state.finished]
    cut_short = [_identity(i) for i in unfinished if i.nodeid in state.started]
    not_run = [_identity(i) for i in unfinished if i.nodeid not in state.started]
    mark_interrupted(results_dir, cut_short=cut_short, not_run=not_run)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Write Allure categories and environment next to the results; after a Ctrl-C, mark the
    tests it cut short or kept from running as interrupted."""
    from stormproof.chaos.report import provider_categories, write_results_metadata

    state = _session(session.config)
    results_dir = getattr(session.config.option, "allure_report_dir", None)
    if not results_dir:
        return
    if exitstatus == pytest.ExitCode.INTERRUPTED:
        _mark_interrupted(session, Path(results_dir))
    if state.matrix_cells and not hasattr(session.config, "workerinput"):
        from stormproof.chaos.report import write_matrix_summary

        # Once, by the controller (under xdist), from every worker's cells.
        write_matrix_summary(Path(results_dir), list(state.matrix_cells.values()))
    environment = state.started_environment
    if environment is not None:
        theirs = provider_categories(environment.adapters.values())
        write_results_metadata(Path(results_dir), environment.describe(), theirs)
    else:
        write_results_metadata(Path(results_dir), {"backend": "none (no chaos scenario ran)"})


@pytest.fixture(scope="session")
def chaos_environment(pytestconfig: pytest.Config) -> ChaosEnvironment:
    """The chaos environment (embedded proxy and providers unless configured otherwise)."""
    return _session(pytestconfig).environment()


@pytest.fixture(autouse=True)
def _chaos_cleanup(request: pytest.FixtureRequest) -> Iterator[None]:
    """After a test that used the chaos environment, through whichever fixture: every toxic is
    removed, every proxy enabled and every provider fault cleared, as after a scenario. What the
    test left behind fails that test (it would change the next one), unless it asked for the
    clean-up with `chaos_rollback`. Its teardown runs after the test's own fixtures'."""
    yield
    environment = _session(request.config).started_environment
    if environment is None or "chaos_environment" not in request.fixturenames:
        return
    from stormproof.chaos.runner import HARNESS_ERROR, LEFTOVER_FAULT, roll_back
    from stormproof.chaos.toxiproxy import ToxiproxyClient

    try:
        with ToxiproxyClient(environment.toxiproxy_url) as client:
            left = roll_back(environment, client)
    except Exception as exc:  # the proxy, a provider's adapter: as the runner says it
        pytest.fail(
            f"{HARNESS_ERROR}: could not roll the chaos environment back after the test: "
            f"{type(exc).__name__}: {exc}",
            pytrace=False,
        )
    if left and "chaos_rollback" not in request.fixturenames:
        pytest.fail(
            f"{LEFTOVER_FAULT}: the test left {'; '.join(left)} (removed now; use the "
            "`chaos_rollback` fixture to have them removed on purpose)",
            pytrace=False,
        )


@pytest.fixture
def toxiproxy(chaos_environment: ChaosEnvironment) -> Iterator[ToxiproxyClient]:
    """A Toxiproxy API client for the environment's proxy.

    Like every test that uses the chaos environment, one that uses this fixture is rolled back
    after it, and what it left behind fails it unless it asked for `chaos_rollback`.
    """
    from stormproof.chaos.toxiproxy import ToxiproxyClient

    with ToxiproxyClient(chaos_environment.toxiproxy_url) as client:
        yield client


@pytest.fixture
def chaos_rollback(chaos_environment: ChaosEnvironment) -> ChaosEnvironment:
    """The environment, rolled back after the test without failing it: every toxic removed,
    every proxy enabled, every provider fault cleared."""
    return chaos_environment


@pytest.fixture
def run_scenario(
    pytestconfig: pytest.Config, chaos_rollback: ChaosEnvironment
) -> Callable[[Scenario | dict[str, Any] | str | Path], ScenarioResult]:
    """Run a scenario (a `Scenario`, a dict in the file format, or a file path) and return the
    result; assert on `result.passed`, `result.calls`, `result.breaker_path`, ..."""
    state = _session(pytestconfig)

    def run(spec: Scenario | dict[str, Any] | str | Path) -> ScenarioResult:
        from stormproof.chaos.scenario import Scenario, load_scenario, parse_scenario

        if isinstance(spec, Scenario):
            scenario = spec
        elif isinstance(spec, dict):
            scenario = parse_scenario(spec)
        else:
            scenario = load_scenario(spec)
        result = state.runner().run(scenario)
        state.results.append(result)
        return result

    return run
