"""The `stormproof` command line.

Each subcommand lives in its own `chaos/_cli_*.py` module and is registered here; the modules import
their heavy dependencies inside the command so `stormproof --help` stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from stormproof.chaos import __version__
from stormproof.chaos._cli_errors import cli_error
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
    """Console-script entry point: usage errors get the same prefix as every other error."""
    try:
        code = app(standalone_mode=False)
    except typer.Abort:
        raise SystemExit(cli_error("aborted", 130).exit_code) from None
    except Exception as exc:
        # Click's own errors (a bad option, a missing argument) carry their message and status;
        # typer raises them from click or from its own copy of click, so they are told apart by
        # what they carry rather than by class.
        message = getattr(exc, "format_message", None)
        if not callable(message):
            raise
        text = str(message())
        status = int(getattr(exc, "exit_code", 2))
        if not text:  # `stormproof` alone: the help was the answer
            raise SystemExit(status) from None
        context = getattr(exc, "ctx", None)
        if context is not None:
            text += f" (see `{context.command_path} --help`)"
        raise SystemExit(cli_error(text, status).exit_code) from None
    raise SystemExit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()
