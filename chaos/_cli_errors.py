"""How every `stormproof` command reports an error or a warning: one prefix, no traceback."""

from __future__ import annotations

import typer

ERROR_PREFIX = "stormproof: error: "
WARNING_PREFIX = "stormproof: warning: "


def cli_error(message: str, code: int = 2) -> typer.Exit:
    """Print `stormproof: error: message` on stderr; return the `typer.Exit` to raise.

    Args:
        message: What went wrong and, where it helps, what to do.
        code: The exit status: 2 for bad input, 1 for a failure met while working.
    """
    typer.secho(f"{ERROR_PREFIX}{message}", fg=typer.colors.RED, err=True)
    return typer.Exit(code)


def cli_warning(message: str) -> None:
    """Print `stormproof: warning: message` on stderr."""
    typer.secho(f"{WARNING_PREFIX}{message}", fg=typer.colors.YELLOW, err=True)
