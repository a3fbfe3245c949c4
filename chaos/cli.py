"""The `stormproof` command line.

Each subcommand lives in its own `chaos/_cli_*.py` module and is registered here; the modules import
their heavy dependencies inside the command so `stormproof --help` stays fast.
"""

from __future__ import annotations

import typer

from stormproof.chaos import __version__
from stormproof.chaos._cli_init import init_command
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


@app.callback()
def _root() -> None:
    """Contract testing and fault injection for service clients."""


@app.command()
def version() -> None:
    """Print the stormproof version."""
    typer.echo(f"stormproof {__version__}")


app.command("init")(init_command)
app.command("providers")(providers_command)
app.command("run")(run_command)
app.command("report")(report_command)
app.command("proxy")(proxy_command)
app.add_typer(pact_app, name="pact")


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    main()
