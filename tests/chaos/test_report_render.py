"""The HTML report: rendered by Allure 2 (npm `allure-commandline`, installed on first use) from
results, as one file that makes no request to any host outside the machine."""

import base64
import binascii
import json
import re
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from typer.testing import CliRunner

from stormproof.chaos.cli import app
from stormproof.chaos.report import categories, render_html, write_results_metadata

RESULT = {
    "uuid": "8b1c1d1e-0000-4000-8000-000000000001",
    "historyId": "h1",
    "name": "payments-breaker-lifecycle",
    "fullName": "stormproof.chaos.scenarios#payments-breaker-lifecycle",
    "status": "failed",
    "statusDetails": {"message": "Breaker did not open: stayed CLOSED"},
    "stage": "finished",
    "start": 1795940112965,
    "stop": 1795940113965,
    "labels": [{"name": "epic", "value": "payments"}, {"name": "feature", "value": "outage"}],
    "attachments": [
        {"name": "timeline.html", "source": "a1-attachment.html", "type": "text/html"},
    ],
}

LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1", "allure.local"}

# Text in the vendored libraries of Allure's page that names a host but is never requested: XML
# namespace names (identifiers the DOM takes, not addresses it loads) and links to documentation in
# the libraries' warning messages and license comments. Exact prefixes, so anything else fails.
NEVER_REQUESTED = (
    "http://www.w3.org/",
    "https://github.com/highlightjs/highlight.js/",
    "https://handlebarsjs.com/api-reference/runtime-options.html",
    "http://marionettejs.com/docs/",
    "http://fontawesome.io",
)
# Where a browser loads what a URL names: an outside host here is a request, allowed or not.
REQUESTING = re.compile(
    r"""(?:\bsrc\s*=|\bhref\s*=|\burl\(|@import|\bfetch\(|\.open\(|sendBeacon\()\s*["'`]?\s*"""
    r"""((?:https?:)?//[^\s"'`)<>]+)""",
    re.IGNORECASE,
)
URL = re.compile(r"""(?:https?:)?//[A-Za-z0-9][A-Za-z0-9.-]*\.[A-Za-z]{2,}[^\s"'`)<>\\]*""")
BASE64 = re.compile(r"[A-Za-z0-9+/]{64,}={0,2}")


@pytest.fixture(autouse=True)
def _tools_in_the_venv(monkeypatch):
    # Allure is installed once per environment, beside the packages, not in the user's home.
    monkeypatch.setenv("STORMPROOF_TOOLS_DIR", str(Path(sys.prefix) / "stormproof-tools"))


def _results(folder: Path) -> Path:
    folder.mkdir()
    (folder / f"{RESULT['uuid']}-result.json").write_text(json.dumps(RESULT))
    page = "<!DOCTYPE html><table><tr><th>call</th><th>attempt</th></tr></table><p>attempts</p>"
    (folder / "a1-attachment.html").write_text(page)
    write_results_metadata(folder, {"backend": "embedded"})
    return folder


def _texts(text: str, depth: int = 0) -> list[str]:
    """The text and every text inlined in it as base64 (Allure's single file inlines its scripts,
    styles, data and attachments so)."""
    found = [text]
    if depth > 3:
        return found
    for match in BASE64.finditer(text):
        try:
            decoded = base64.b64decode(match.group(0), validate=True).decode("utf-8")
        except (binascii.Error, ValueError):
            continue  # not base64 text: an image, or a word that only looks like base64
        found += _texts(decoded, depth + 1)
    return found


def outside_references(page: Path) -> tuple[list[str], list[str]]:
    """URLs of hosts outside the machine in the report's files: (requested, any other)."""
    requested: list[str] = []
    others: list[str] = []
    for path in page.parent.rglob("*"):
        if path.suffix not in {".html", ".js", ".css"}:
            continue
        for text in _texts(path.read_text(encoding="utf-8", errors="replace")):
            for url in REQUESTING.findall(text):
                if (
                    urlsplit(url if "//" not in url[:2] else f"http:{url}").hostname
                    not in LOCAL_HOSTS
                ):
                    requested.append(url)
            for url in URL.findall(text):
                host = urlsplit(url if not url.startswith("//") else f"http:{url}").hostname
                if host not in LOCAL_HOSTS and not url.startswith(NEVER_REQUESTED):
                    others.append(url)
    return requested, others


def test_render_writes_one_html_file_without_outside_hosts(tmp_path):
    page = render_html(_results(tmp_path / "results"), tmp_path / "report", name="stormproof")
    assert page == tmp_path / "report" / "index.html"
    assert [p.name for p in page.parent.iterdir()] == ["index.html"]
    text = page.read_text()
    decoded = "\n".join(_texts(text))
    assert "payments-breaker-lifecycle" in decoded  # the results are inlined: one file to hand on
    assert "<p>attempts</p>" in decoded  # and so are the attachments
    requested, others = outside_references(page)
    assert requested == []
    assert others == []


def test_the_scan_finds_an_analytics_tag_and_a_link(tmp_path):
    page = tmp_path / "index.html"
    tag = "https://www.googletagmanager.com/gtag/js?id=G-X"
    inlined = base64.b64encode(f'fetch("https://collect.example.org/x");{"a" * 80}'.encode())
    page.write_text(
        f'<script async src="{tag}"></script><a>see http://example.com/doc</a>'
        f'<script src="data:text/javascript;base64,{inlined.decode()}"></script>'
        '<svg xmlns="http://www.w3.org/2000/svg"></svg><img src="http://127.0.0.1:9/x.png">'
    )
    requested, others = outside_references(page)
    assert requested == [tag, "https://collect.example.org/x"]
    assert others == [tag, "http://example.com/doc", "https://collect.example.org/x"]


def test_report_command_renders_existing_results(tmp_path):
    results = _results(tmp_path / "results")
    outcome = CliRunner().invoke(
        app, ["report", "--output", str(results), "--report", str(tmp_path / "html")]
    )
    assert outcome.exit_code == 0, outcome.output
    assert (tmp_path / "html" / "index.html").exists()


def test_categories_match_the_failure_message_words():
    rules = categories()
    names = [rule["name"] for rule in rules]
    assert "Breaker did not open" in names
    assert names.count("Harness error") == 1
    rule = next(r for r in rules if r["name"] == "Breaker did not open")
    assert rule["messageRegex"] == ".*Breaker did not open.*"
