"""The `stormproof` command line.

Each subcommand lives in its own `chaos/_cli_*.py` module and is registered here; the modules import
their heavy dependencies inside the command so `stormproof --help` stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from stormproof.chaos import __version__
from stormproof.chaos._cli_init import init_command
from stormproof.chaos._cli_matrix import matrix_command
from stormproof.chaos._cli_pact import pact_app
from stormproof.chaos._cli_proxy import proxy_command
from stormproof.chaos._cli_run import report_command, run_command
from stormproof.providers._cli import providers_command

app = typer.Typer(
    name="stormproof",
    help="Contract testing and fault injection for service clients.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"stormproof {__version__}")
        raise typer.Exit


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Contract testing and fault injection for service clients."""


@app.command("schema")
def schema_command(
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write a fresh schema here.")
    ] = None,
) -> None:
    """Print the path of the scenario files' JSON Schema (or write it with --output)."""
    from stormproof.chaos.scenario._schema import SCHEMA_FILE, schema_text  # noqa: PLC0415

    if output is None:
        typer.echo(str(SCHEMA_FILE))
        return
    output.write_text(schema_text(), encoding="utf-8")
    typer.echo(f"wrote {output}")


@app.command()
def version() -> None:
    """Print the stormproof version."""
    typer.echo(f"stormproof {__version__}")


app.command("init")(init_command)
app.command("providers")(providers_command)
app.command("run")(run_command)
app.command("matrix")(matrix_command)
app.command("report")(report_command)
app.command("proxy")(proxy_command)
app.add_typer(pact_app, name="pact")


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    main()
