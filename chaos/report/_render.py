"""Rendering Allure results to one HTML file with Allure 2 (npm `allure-commandline`, installed on
first use; it runs on Java).

Allure 2, not Allure 3: Allure 3's HTML loads Google Analytics whatever it is told (allure3 issue
#476), while Allure 2 leaves its analytics out when `ALLURE_NO_ANALYTICS` is set, so the report
makes no request to any host outside the machine. Allure 2 reads `categories.json` from the results.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

ALLURE_NPM_PACKAGE = "allure-commandline"
# 2.34 is the last release of the classic single-page UI; later ones add links to outside hosts
# (a trace viewer), which the report must not carry.
ALLURE_NPM_VERSION = "2.34.0"
_INSTALL_TIMEOUT_S = 600
_RENDER_TIMEOUT_S = 600


class ReportRenderError(RuntimeError):
    """The HTML report could not be rendered; the message says why and what to do."""


def tools_dir() -> Path:
    """Where the local Allure install lives (`STORMPROOF_TOOLS_DIR`, else the user cache)."""
    configured = os.environ.get("STORMPROOF_TOOLS_DIR")
    base = Path(configured) if configured else Path.home() / ".cache" / "stormproof"
    return base / f"{ALLURE_NPM_PACKAGE}-{ALLURE_NPM_VERSION}"


def ensure_allure() -> Path:
    """The `allure` executable, installing the npm package into `tools_dir()` if needed.

    Raises:
        ReportRenderError: Node.js/npm or Java are missing, or the install failed.
    """
    if shutil.which("java") is None:
        raise ReportRenderError(
            "Java 17 or newer is needed to render the HTML report (Allure 2 runs on it); the "
            "Allure results are kept and `stormproof report` renders them later"
        )
    target = tools_dir()
    binary = target / "node_modules" / ".bin" / "allure"
    if binary.exists():
        return binary
    npm = shutil.which("npm")
    if npm is None or shutil.which("node") is None:
        raise ReportRenderError(
            "Node.js and npm are needed to install Allure (install Node.js 18 or newer); "
            "the Allure results are kept and `stormproof report` renders them later"
        )
    target.mkdir(parents=True, exist_ok=True)
    package = f"{ALLURE_NPM_PACKAGE}@{ALLURE_NPM_VERSION}"
    command = [
        npm, "install", "--prefix", str(target), "--no-audit", "--no-fund", "--loglevel=error",
        package,
    ]  # fmt: skip
    try:
        done = subprocess.run(  # noqa: S603 - fixed command, no shell
            command, capture_output=True, text=True, timeout=_INSTALL_TIMEOUT_S, check=False
        )
    except subprocess.TimeoutExpired as exc:
        raise ReportRenderError(
            f"installing {package} with npm took over {_INSTALL_TIMEOUT_S} s"
        ) from exc
    if done.returncode != 0 or not binary.exists():
        raise ReportRenderError(f"`npm install {package}` failed: {done.stderr.strip()[-500:]}")
    return binary


def render_html(results_dir: Path, report_dir: Path, *, name: str = "stormproof") -> Path:
    """Render `results_dir` into a single-file HTML report in `report_dir`.

    Returns:
        The path of the report's HTML file.

    Raises:
        ReportRenderError: no results, Node.js or Java missing, or Allure failed.
    """
    if not results_dir.is_dir() or not any(results_dir.glob("*-result.json")):
        raise ReportRenderError(
            f"no Allure results in {results_dir}: run `stormproof run --output {results_dir}` first"
        )
    binary = ensure_allure()
    command = [
        str(binary), "generate", str(results_dir.resolve()), "--output", str(report_dir.resolve()),
        "--clean", "--single-file", "--name", name,
    ]  # fmt: skip
    environment = {**os.environ, "ALLURE_NO_ANALYTICS": "true"}
    try:
        done = subprocess.run(  # noqa: S603 - fixed command, no shell
            command, capture_output=True, text=True, timeout=_RENDER_TIMEOUT_S, check=False,
            env=environment,
        )  # fmt: skip
    except subprocess.TimeoutExpired as exc:
        raise ReportRenderError(f"allure generate took over {_RENDER_TIMEOUT_S} s") from exc
    page = report_dir / "index.html"
    if done.returncode != 0 or not page.exists():
        raise ReportRenderError(f"allure generate failed: {(done.stderr or done.stdout)[-800:]}")
    return page
