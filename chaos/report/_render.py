"""Rendering Allure results to HTML with the npm package `allure` (installed on first use)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from stormproof.chaos.report._allure_files import allurerc

ALLURE_NPM_VERSION = "3.18.0"
_INSTALL_TIMEOUT_S = 600
_RENDER_TIMEOUT_S = 600


class ReportRenderError(RuntimeError):
    """The HTML report could not be rendered; the message says why and what to do."""


def tools_dir() -> Path:
    """Where the local Allure install lives (`STORMPROOF_TOOLS_DIR`, else the user cache)."""
    configured = os.environ.get("STORMPROOF_TOOLS_DIR")
    base = Path(configured) if configured else Path.home() / ".cache" / "stormproof"
    return base / f"allure-{ALLURE_NPM_VERSION}"


def ensure_allure() -> Path:
    """The `allure` executable, installing the npm package into `tools_dir()` if needed.

    Raises:
        ReportRenderError: Node.js/npm are missing or the install failed.
    """
    target = tools_dir()
    binary = target / "node_modules" / ".bin" / "allure"
    if binary.exists():
        return binary
    npm = shutil.which("npm")
    if npm is None or shutil.which("node") is None:
        raise ReportRenderError(
            "Node.js and npm are needed to render the HTML report (install Node.js 18 or newer); "
            "the Allure results are kept and `stormproof report` renders them later"
        )
    target.mkdir(parents=True, exist_ok=True)
    command = [
        npm, "install", "--prefix", str(target), "--no-audit", "--no-fund", "--loglevel=error",
        f"allure@{ALLURE_NPM_VERSION}",
    ]  # fmt: skip
    try:
        done = subprocess.run(  # noqa: S603 - fixed command, no shell
            command, capture_output=True, text=True, timeout=_INSTALL_TIMEOUT_S, check=False
        )
    except subprocess.TimeoutExpired as exc:
        raise ReportRenderError(
            f"installing allure with npm took over {_INSTALL_TIMEOUT_S} s"
        ) from exc
    if done.returncode != 0 or not binary.exists():
        raise ReportRenderError(
            f"`npm install allure@{ALLURE_NPM_VERSION}` failed: {done.stderr.strip()[-500:]}"
        )
    return binary


def render_html(results_dir: Path, report_dir: Path, *, name: str = "stormproof") -> Path:
    """Render `results_dir` into a single-file HTML report in `report_dir`.

    Returns:
        The path of the report's HTML file.

    Raises:
        ReportRenderError: no results, Node.js missing, or Allure failed.
    """
    if not results_dir.is_dir() or not any(results_dir.glob("*-result.json")):
        raise ReportRenderError(
            f"no Allure results in {results_dir}: run `stormproof run --output {results_dir}` first"
        )
    binary = ensure_allure()
    report_dir = report_dir.resolve()
    with tempfile.TemporaryDirectory(prefix="stormproof-allure-") as work:
        config = Path(work) / "allurerc.mjs"
        config.write_text(allurerc(results_dir.resolve(), report_dir, name))
        command = [
            str(binary), "generate", str(results_dir.resolve()), "--config", str(config),
            "--output", str(report_dir),
        ]  # fmt: skip
        try:
            done = subprocess.run(  # noqa: S603 - fixed command, no shell
                command, cwd=work, capture_output=True, text=True,
                timeout=_RENDER_TIMEOUT_S, check=False,
            )  # fmt: skip
        except subprocess.TimeoutExpired as exc:
            raise ReportRenderError(f"allure generate took over {_RENDER_TIMEOUT_S} s") from exc
    if done.returncode != 0:
        raise ReportRenderError(f"allure generate failed: {(done.stderr or done.stdout)[-800:]}")
    page = report_dir / "index.html"
    if not page.exists():
        found = sorted(report_dir.rglob("*.html"))
        if not found:
            raise ReportRenderError(f"allure generate wrote no HTML file into {report_dir}")
        page = found[0]
    return page
