"""`stormproof pact publish|verify|can-i-deploy`: the Pact Broker steps (optional at run time).

Every command needs `PACT_BROKER_BASE_URL` and `PACT_BROKER_TOKEN` (or `PACT_BROKER_USERNAME` and
`PACT_BROKER_PASSWORD`); without them it says what is missing and exits with status 2.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from stormproof.chaos._cli_errors import cli_error

if TYPE_CHECKING:
    from stormproof.chaos.pact import BrokerConfig

_WIP_DAYS = 30

pact_app = typer.Typer(
    name="pact",
    help="Pact Broker steps: publish pacts, verify providers from the broker, can-i-deploy.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

VersionOption = Annotated[
    str | None,
    typer.Option(
        "--version",
        envvar="STORMPROOF_PACT_VERSION",
        help="Application version to publish or check (default: the git commit).",
        show_default=False,
    ),
]
BranchOption = Annotated[
    str | None,
    typer.Option(
        "--branch",
        envvar="STORMPROOF_PACT_BRANCH",
        help="Git branch of that version (default: the checked-out branch).",
        show_default=False,
    ),
]


def _config() -> BrokerConfig:
    from stormproof.chaos.pact import BrokerConfig, BrokerConfigError  # noqa: PLC0415 - fast --help

    try:
        return BrokerConfig.from_env()
    except BrokerConfigError as exc:
        raise cli_error(str(exc), 2) from None


def _version(given: str | None) -> str:
    from stormproof.chaos.pact import git_commit  # noqa: PLC0415

    version = given or git_commit()
    if not version:
        raise cli_error("no version: not in a git repository; pass --version", 2)
    return version


def _branch(given: str | None) -> str | None:
    from stormproof.chaos.pact import git_branch  # noqa: PLC0415

    return given or git_branch()


def _project_pacts() -> Path:
    from stormproof.chaos.services import ConfigError, active_config  # noqa: PLC0415

    try:
        pacts = active_config().pacts
    except ConfigError as exc:
        raise cli_error(str(exc), 2) from None
    if pacts is None:
        raise cli_error("the project declares no pacts folder: give --pact-dir", 2)
    return pacts


def _declared_providers() -> list[str]:
    from stormproof.chaos.services import ConfigError, active_config  # noqa: PLC0415

    try:
        services = active_config().services.values()
    except ConfigError as exc:
        raise cli_error(str(exc), 2) from None
    return [s.pact_provider for s in services if s.pact_provider]


def _relative(path: Path) -> Path:
    """`path` as the user would write it from here (relative when it is below the cwd)."""
    try:
        return path.resolve().relative_to(Path.cwd().resolve())
    except ValueError:
        return path


def _consumers(pact_dir: Path) -> list[str]:
    from stormproof.chaos.pact import read_pact  # noqa: PLC0415

    names = {str(read_pact(path)["consumer"]["name"]) for path in sorted(pact_dir.glob("*.json"))}
    return sorted(names)


@pact_app.command("publish")
def publish_command(
    *,
    pact_dir: Annotated[
        Path | None,
        typer.Option("--pact-dir", help="Folder of pact files (default: the project's pacts)."),
    ] = None,
    version: VersionOption = None,
    branch: BranchOption = None,
    tag: Annotated[
        list[str] | None, typer.Option("--tag", help="Extra version tag (repeatable).")
    ] = None,
    build_url: Annotated[
        str | None, typer.Option("--build-url", help="Link to the CI build.")
    ] = None,
) -> None:
    """Publish the consumer pacts with the git commit and branch."""
    from stormproof.chaos.pact import publish_pacts  # noqa: PLC0415

    config = _config()
    pact_dir = pact_dir or _project_pacts()
    the_version, the_branch = _version(version), _branch(branch)
    try:
        result = publish_pacts(
            config,
            pact_dir,
            version=the_version,
            branch=the_branch,
            tags=tag or (),
            build_url=build_url,
        )
    except FileNotFoundError as exc:
        raise cli_error(str(exc), 2) from None
    typer.echo(result.output.rstrip())
    if not result.ok:
        raise cli_error(f"publishing failed (pact exit status {result.returncode})", 1)
    consumers = ", ".join(_consumers(pact_dir)) or "no consumer"
    shown = _relative(pact_dir)
    typer.echo(f"published {shown} as {consumers} {the_version} (branch {the_branch or '-'})")


@pact_app.command("verify")
def verify_command(
    *,
    provider: Annotated[
        list[str] | None,
        typer.Option(
            "--provider",
            help="Provider to verify, repeatable (default: every declared pact provider).",
        ),
    ] = None,
    version: VersionOption = None,
    branch: BranchOption = None,
    base_url: Annotated[
        str | None,
        typer.Option(
            "--base-url",
            help="A running provider (test mode) to verify; by default the reference provider "
            "is started on a free 127.0.0.1 port.",
        ),
    ] = None,
    include_wip_since: Annotated[
        str | None,
        typer.Option(
            "--include-wip-since",
            help=f"Include work-in-progress pacts since this date (default: {_WIP_DAYS} days ago).",
            show_default=False,
        ),
    ] = None,
    publish: Annotated[
        bool, typer.Option("--publish/--no-publish", help="Publish the verification results.")
    ] = True,
) -> None:
    """Verify providers against the pacts the broker selects, and publish the results."""
    from stormproof.chaos.pact import verify_from_broker  # noqa: PLC0415

    config = _config()
    the_version, the_branch = _version(version), _branch(branch)
    try:
        since = (
            date.fromisoformat(include_wip_since)
            if include_wip_since
            else date.today() - timedelta(days=_WIP_DAYS)
        )
    except ValueError:
        raise cli_error(
            f"--include-wip-since must be a date (YYYY-MM-DD), got {include_wip_since!r}", 2
        ) from None
    names = provider or _declared_providers()
    if base_url is not None and len(names) != 1:
        raise cli_error("--base-url verifies one provider: give exactly one --provider", 2)
    failed = 0
    for name in names:
        try:
            result = verify_from_broker(
                config,
                name,
                provider_version=the_version,
                provider_branch=the_branch,
                base_url=base_url,
                include_wip_since=since,
                publish=publish,
            )
        except ValueError as exc:
            raise cli_error(str(exc), 2) from None
        typer.echo(result.summary())
        failed += not result.passed
    if failed:
        raise cli_error(f"{failed} of {len(names)} provider(s) failed verification", 1)


@pact_app.command("can-i-deploy")
def can_i_deploy_command(
    *,
    pacticipant: Annotated[
        str | None,
        typer.Option(
            "--pacticipant", help="Application to check (default: the consumer of the pacts)."
        ),
    ] = None,
    version: VersionOption = None,
    to_environment: Annotated[
        str, typer.Option("--to-environment", help="Environment to deploy to.")
    ] = "production",
) -> None:
    """Ask the broker whether this version can be deployed (exit status 0: yes, 1: no)."""
    from stormproof.chaos.pact import can_i_deploy  # noqa: PLC0415

    config = _config()
    if pacticipant is None:
        consumers = _consumers(_project_pacts())
        if len(consumers) != 1:
            found = ", ".join(consumers) or "none"
            raise cli_error(f"--pacticipant: give the application (consumers found: {found})", 2)
        pacticipant = consumers[0]
    result = can_i_deploy(
        config, pacticipant, version=_version(version), to_environment=to_environment
    )
    typer.echo(result.output.rstrip())
    if not result.ok:
        raise typer.Exit(1)
