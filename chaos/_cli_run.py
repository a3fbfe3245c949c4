"""`stormproof run` (contracts + the chaos scenarios, scorecard, Allure) and `stormproof report`."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from stormproof.chaos._cli_errors import cli_error, cli_warning
from stormproof.chaos._options import SCENARIO_SUFFIXES

if TYPE_CHECKING:
    from stormproof.chaos.services import ProjectConfig

DEFAULT_OUTPUT = Path("stormproof-out/allure-results")
DEFAULT_REPORT = Path("stormproof-out/allure-report")

# Options `stormproof run` shares with `stormproof matrix`.
ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config",
        help="stormproof.toml or pyproject.toml (default: found from here, else the demo)",
    ),
]
OutputOption = Annotated[Path, typer.Option("--output", "-o", help="folder for the Allure results")]
ReportOption = Annotated[Path, typer.Option(help="folder for the HTML report")]
NoHtmlOption = Annotated[bool, typer.Option("--no-html", help="do not render the HTML report")]
SeedOption = Annotated[int, typer.Option(help="seed of toxicity rolls, jitter and backoff")]
AllowInconclusiveOption = Annotated[
    bool,
    typer.Option(
        "--allow-inconclusive",
        help="a scenario whose fault never fired is reported, not a failure of the run",
    ),
]
WeakenOption = Annotated[
    str | None, typer.Option(hidden=True, help="test only: weaken the clients")
]

_INI = """[pytest]
addopts =
filterwarnings =
    ignore::DeprecationWarning
"""


def _render(results: Path, report: Path) -> None:
    from stormproof.chaos.report import ReportRenderError, render_html  # noqa: PLC0415 - keep --help fast

    typer.echo(f"Rendering the Allure report from {results} ...")
    try:
        page = render_html(results, report)
    except ReportRenderError as exc:
        cli_warning(f"HTML report not rendered: {exc}")
        return
    typer.secho(f"Allure report: {page}", fg=typer.colors.GREEN)


def load_project(config: Path | None, weaken: str | None) -> ProjectConfig:
    """The project's configuration for a command, after checking `--config` and `--weaken`.

    Raises:
        typer.Exit: With the error printed, when either is wrong or the configuration is invalid.
    """
    from stormproof.chaos.runner import WEAKENINGS  # noqa: PLC0415 - keep --help fast
    from stormproof.chaos.services import ConfigError, active_config  # noqa: PLC0415

    if weaken is not None and weaken not in WEAKENINGS:
        raise cli_error(f"--weaken must be one of {', '.join(WEAKENINGS)}")
    if config is not None and not config.is_file():
        raise cli_error(f"configuration file {config} does not exist")
    try:
        return active_config(config)
    except ConfigError as exc:
        raise cli_error(str(exc)) from None


def run_command(  # typer passes every option by keyword
    *,
    output: OutputOption = DEFAULT_OUTPUT,
    report: ReportOption = DEFAULT_REPORT,
    seed: SeedOption = 0,
    select: Annotated[
        str | None,
        typer.Option(
            help="only scenarios whose name, service, tag or fault kind contains this "
            "(case-insensitive; commas separate alternatives)"
        ),
    ] = None,
    toxiproxy_url: Annotated[
        str | None,
        typer.Option(envvar="TOXIPROXY_URL", help="use this running Toxiproxy (not the embedded)"),
    ] = None,
    environment: Annotated[
        Path | None,
        typer.Option(help="attach to the proxy and providers described by this file"),
    ] = None,
    scenarios: Annotated[
        list[Path] | None,
        typer.Option("--scenarios", help="scenario files or folders (default: the project's)"),
    ] = None,
    pacts: Annotated[
        Path | None,
        typer.Option(help="pact files to verify the providers against (default: the project's)"),
    ] = None,
    config: ConfigOption = None,
    no_contracts: Annotated[
        bool, typer.Option("--no-contracts", help="chaos only: skip provider verification")
    ] = False,
    no_html: NoHtmlOption = False,
    attach_timeout: Annotated[
        float,
        typer.Option(
            envvar="STORMPROOF_ATTACH_TIMEOUT",
            help="with --environment: seconds to wait for Toxiproxy and the providers to answer",
        ),
    ] = 30.0,  # chaos.runner.DEFAULT_ATTACH_TIMEOUT_S, not imported here to keep --help fast
    in_process: Annotated[
        bool,
        typer.Option(
            "--in-process",
            help="run the embedded proxy and providers in threads of this process, not children",
        ),
    ] = False,
    allow_inconclusive: AllowInconclusiveOption = False,
    weaken: WeakenOption = None,
) -> None:
    """Verify the providers' contracts and run the chaos scenarios; print a scorecard, write
    Allure."""
    import pytest  # noqa: PLC0415 - keep --help fast

    from stormproof.chaos._run_tally import RunTally  # noqa: PLC0415
    from stormproof.chaos.scenario import (  # noqa: PLC0415
        ScenarioFileError,
        load_scenarios,
        matches_selection,
    )

    if environment is not None and not environment.is_file():
        raise cli_error(f"environment file {environment} does not exist")
    project = load_project(config, weaken)
    roots = scenarios or list(project.scenarios)
    if not roots:
        raise cli_error(
            f"{project.source} names no scenarios: add `scenarios = [...]` or --scenarios"
        )
    loaded = []
    for root in roots:
        if not root.exists():
            raise cli_error(f"scenario path {root} does not exist")
        try:
            loaded += load_scenarios(root, config=project)
        except ScenarioFileError as exc:
            raise cli_error(str(exc)) from None
    if not loaded:
        listed = ", ".join(str(root) for root in roots)
        kinds = ", ".join(f"*{suffix}" for suffix in SCENARIO_SUFFIXES)
        raise cli_error(f"no scenario files ({kinds}) in {listed}")
    if select is not None and not any(matches_selection(s, select) for s in loaded):
        names = ", ".join(sorted(s.name for s in loaded)) or "none"
        raise cli_error(
            f"--select {select!r} matches no scenario (it matches a name, service, tag or fault "
            f"kind; commas separate alternatives). Scenarios: {names}"
        )
    toxiproxy_url = project.toxiproxy_url(toxiproxy_url)
    if environment is None and toxiproxy_url:
        from stormproof.chaos.toxiproxy import ToxiproxyClient, ToxiproxyError  # noqa: PLC0415

        try:
            with ToxiproxyClient(toxiproxy_url) as reachable:
                reachable.version()
        except ToxiproxyError as exc:
            raise cli_error(f"the Toxiproxy at {toxiproxy_url} cannot be reached: {exc}") from None
    if environment is not None:
        from stormproof.chaos.runner import ChaosEnvironmentError, wait_until_attached  # noqa: PLC0415

        try:
            wait_until_attached(environment, timeout_s=attach_timeout)
        except ChaosEnvironmentError as exc:
            raise cli_error(str(exc)) from None
    args: list[str] = ["--stormproof-config", str(project.source)]
    pacts = pacts or project.pacts
    if not no_contracts:
        if pacts is None or not pacts.is_dir() or not any(pacts.glob("*.json")):
            raise cli_error(
                f"no pact files in {pacts or 'the project'}: pass --pacts DIR, or --no-contracts "
                "for chaos only"
            )
        args += ["--stormproof-pacts", str(pacts.resolve()), str(pacts.resolve())]
    for root in roots:
        args += ["--stormproof-scenarios", str(root.resolve()), str(root.resolve())]
    args += [
        "--alluredir",
        str(output.resolve()),
        "--clean-alluredir",
        "--stormproof-seed",
        str(seed),
    ]
    args += ["-p", "no:cacheprovider", "-v", "--tb=short", "-r", "fE", "--no-header"]
    if select:
        args += ["--stormproof-select", select]
    if environment is not None:
        args += ["--stormproof-environment", str(environment.resolve())]
    elif toxiproxy_url:
        args += ["--toxiproxy-url", toxiproxy_url]
    if weaken:
        args += ["--stormproof-weaken", weaken]
    if allow_inconclusive:
        args += ["--allow-inconclusive"]
    if in_process:
        args += ["--stormproof-in-process"]
    tally = RunTally()
    with tempfile.TemporaryDirectory(prefix="stormproof-run-") as work:
        ini = Path(work) / "pytest.ini"
        ini.write_text(_INI)
        # Test ids read best relative to the folder that holds every scenario and pact file.
        folders = [*roots, *([pacts] if pacts is not None and not no_contracts else [])]
        folders = [p.resolve() if p.is_dir() else p.resolve().parent for p in folders]
        rootdir = os.path.commonpath([str(p) for p in folders])
        # pytest names tests relative to the folder it runs in: run it in the root folder.
        with contextlib.chdir(rootdir):
            code = pytest.main(["-c", str(ini), "--rootdir", rootdir, *args], plugins=[tally])
    interrupted = code == pytest.ExitCode.INTERRUPTED
    if interrupted:
        cli_warning(
            "interrupted; the report marks the scenarios the interrupt cut short or kept from "
            "running as broken, category Interrupted"
        )
    if not no_html:
        _render(output, report)
    if interrupted:
        raise typer.Exit(130)
    if code == pytest.ExitCode.USAGE_ERROR:
        raise cli_error("the run could not start (see the error above)")
    if code != 0:
        raise cli_error("the run failed (see the scorecard above)", int(code) or 1)
    tally.conclude("scenarios" if no_contracts else "contracts and scenarios")


def report_command(
    *,
    output: Annotated[
        Path, typer.Option("--output", "-o", help="folder with the Allure results")
    ] = DEFAULT_OUTPUT,
    report: Annotated[Path, typer.Option(help="folder for the HTML report")] = DEFAULT_REPORT,
) -> None:
    """Render the HTML report again from existing Allure results."""
    from stormproof.chaos.report import ReportRenderError, render_html  # noqa: PLC0415

    try:
        page = render_html(output, report)
    except ReportRenderError as exc:
        raise cli_error(str(exc)) from None
    typer.secho(f"Allure report: {page}", fg=typer.colors.GREEN)


__all__ = ["report_command", "run_command"]
