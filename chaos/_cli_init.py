"""`stormproof init`: a commented starting configuration and one example scenario."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Annotated

import typer

from stormproof.chaos._cli_errors import cli_error

_FILES = {"stormproof.toml": "stormproof.toml", "scenarios/example.yaml": "example.yaml"}


def init_command(
    *,
    directory: Annotated[
        Path, typer.Argument(help="Folder to write into (default: the current folder).")
    ] = Path(),
) -> None:
    """Write stormproof.toml and scenarios/example.yaml to start from (never overwrites)."""
    templates = resources.files("stormproof.chaos").joinpath("templates")
    targets = {directory / name: template for name, template in _FILES.items()}
    existing = [str(path) for path in targets if path.exists()]
    if existing:
        raise cli_error(f"not overwriting {', '.join(existing)}; nothing was written")
    from stormproof.chaos.scenario._schema import SCHEMA_FILE  # noqa: PLC0415

    for path, template in targets.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        text = templates.joinpath(template).read_text(encoding="utf-8")
        if path.suffix == ".yaml":
            # Editors with the YAML language server complete and check the file against it.
            text = f"# yaml-language-server: $schema={SCHEMA_FILE}\n{text}"
        path.write_text(text, encoding="utf-8")
        typer.echo(f"wrote {path}")
    typer.echo(
        "Next: point [services.orders] at your client and provider (or rename it), then run "
        "`stormproof run`."
    )
