"""`stormproof matrix`: every pact interaction x every fault class, derived, run in parallel."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import Annotated

import typer

from stormproof.chaos._cli_errors import cli_error, cli_warning
from stormproof.chaos._cli_run import (
    DEFAULT_OUTPUT,
    DEFAULT_REPORT,
    AllowInconclusiveOption,
    ConfigOption,
    NoHtmlOption,
    OutputOption,
    ReportOption,
    SeedOption,
    WeakenOption,
    _render,
    load_project,
)

#: Cases mostly wait on timeouts and deadlines, so more workers than cores pay off.
DEFAULT_WORKERS = min(8, 4 * (os.cpu_count() or 1))

_INI = """[pytest]
addopts =
filterwarnings =
    ignore::DeprecationWarning
"""


def matrix_command(  # typer passes every option by keyword
    *,
    select: Annotated[
        str | None,
        typer.Option(
            help="only cases whose name, service, tag or fault kind contains this text (commas "
            "separate alternatives; fault classes and retry-safe/not-retry-safe are tags)"
        ),
    ] = None,
    workers: Annotated[
        int,
        typer.Option(
            min=1, help="worker processes, each with its own proxy and providers (1: serial)"
        ),
    ] = DEFAULT_WORKERS,
    emit: Annotated[
        Path | None,
        typer.Option(
            help="write the selected cases as scenario files into this folder and stop (they "
            "load and run as hand-written ones)"
        ),
    ] = None,
    config: ConfigOption = None,
    output: OutputOption = DEFAULT_OUTPUT,
    report: ReportOption = DEFAULT_REPORT,
    no_html: NoHtmlOption = False,
    seed: SeedOption = 0,
    allow_inconclusive: AllowInconclusiveOption = False,
    weaken: WeakenOption = None,
) -> None:
    """Run the fault matrix derived from the project's pacts: one case per interaction and fault
    class, its expectation derived from the contract and the client's policy; print a grid."""
    import pytest  # noqa: PLC0415 - keep --help fast

    from stormproof.chaos._run_tally import RunTally  # noqa: PLC0415
    from stormproof.chaos.matrix import build_matrix, emit_case  # noqa: PLC0415
    from stormproof.chaos.scenario import ScenarioFileError, matches_selection  # noqa: PLC0415
    from stormproof.chaos.services import ConfigError  # noqa: PLC0415

    project = load_project(config, weaken)
    if project.pacts is None:
        raise cli_error(f'{project.source} names no pacts folder: add `pacts = "..."`')
    try:
        matrix = build_matrix(project)
    except (ConfigError, ScenarioFileError) as exc:
        raise cli_error(str(exc)) from None
    cases = [c for c in matrix.cases if select is None or matches_selection(c.scenario, select)]
    if not cases:
        what = (
            f"--select {select!r} matches none of the {len(matrix.cases)} cases"
            if select
            else "the pacts give no case"
        )
        why = "; ".join(
            f"{e.service}: {e.reason}" for e in matrix.excluded if e.interaction is None
        )
        raise cli_error(f"{what}{f' ({why})' if why else ''}")
    rows = {(c.service, c.interaction.description) for c in cases}
    typer.echo(
        f"stormproof matrix: {len(cases)} cases, {len(rows)} interactions x "
        f"{len({c.fault.name for c in cases})} fault classes"
    )
    not_applicable: dict[tuple[str, str], int] = {}
    for left in matrix.excluded:
        if left.fault is None:
            where = f"{left.service}: {left.interaction}" if left.interaction else left.service
            typer.echo(f"  left out {where}: {left.reason}")
        else:
            key = (left.fault, left.reason)
            not_applicable[key] = not_applicable.get(key, 0) + 1
    for (fault, reason), count in sorted(not_applicable.items()):
        typer.echo(f"  {fault} does not apply to {count} interaction(s): {reason}")
    if emit is not None:
        for case in cases:
            emit_case(case, emit)
        typer.secho(f"wrote {len(cases)} scenario files to {emit}", fg=typer.colors.GREEN)
        return
    pacts = project.pacts.resolve()
    args = ["--stormproof-config", str(project.source), "--stormproof-matrix"]
    args += ["--stormproof-pacts", str(pacts), str(pacts), "--stormproof-seed", str(seed)]
    # Cleaned here, once: with --clean-alluredir each xdist worker would clean it as it starts,
    # wiping what a faster worker already wrote.
    shutil.rmtree(output, ignore_errors=True)
    args += ["--alluredir", str(output.resolve())]
    # No assertion rewriting: the cases assert nothing, and it costs each worker seconds; nor the
    # plugins the cases never use, which each worker would import.
    for plugin in ("cacheprovider", "pact", "hypothesispytest", "anyio"):
        args += ["-p", f"no:{plugin}"]
    args += ["-q", "--tb=no", "-r", "fE", "--no-header"]
    args += ["--assert=plain"]
    shared = project.toxiproxy_url(os.environ.get("TOXIPROXY_URL"))
    if shared is not None and workers > 1:
        # Each worker names its proxies after the services: on one server they would replace
        # each other's.
        cli_warning(f"the cases run in one worker: workers would share the Toxiproxy at {shared}")
        workers = 1
    if workers > 1:
        args += ["-p", "xdist", "-n", str(min(workers, len(cases)))]
    if select:
        args += ["--stormproof-select", select]
    if weaken:
        args += ["--stormproof-weaken", weaken]
    if allow_inconclusive:
        args += ["--allow-inconclusive"]
    tally = RunTally()
    with tempfile.TemporaryDirectory(prefix="stormproof-matrix-") as work:
        ini = Path(work) / "pytest.ini"
        ini.write_text(_INI)
        with contextlib.chdir(pacts):
            code = pytest.main(["-c", str(ini), "--rootdir", str(pacts), *args], plugins=[tally])
    if not no_html:
        _render(output, report)
    if code == pytest.ExitCode.INTERRUPTED:
        raise typer.Exit(130)
    if code == pytest.ExitCode.USAGE_ERROR:
        raise cli_error("the matrix could not start (see the error above)")
    if code != 0:
        raise cli_error("the matrix failed (see the grid above)", int(code) or 1)
    tally.conclude("matrix cases", total=len(cases))


__all__ = ["matrix_command"]
