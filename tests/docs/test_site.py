"""The documentation site builds strictly (any warning fails), needs no outside host when read,
and publishes the shipped scenario schema; the README's relative links resolve."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from stormproof.chaos.scenario._schema import SCHEMA_FILE
from tests.docs._snippets import ROOT

MKDOCS = [sys.executable, "-m", "mkdocs"]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    done = subprocess.run(
        [*MKDOCS, "build", "--strict", "--site-dir", str(out)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    log = done.stdout + done.stderr
    assert done.returncode == 0, log[-4000:]
    assert "WARNING" not in log, log[-4000:]
    return out


def test_the_site_builds_strictly_and_publishes_the_schema(site: Path):
    assert (site / "scenario.schema.json").read_bytes() == SCHEMA_FILE.read_bytes()
    reference = (site / "scenario-reference" / "index.html").read_text(encoding="utf-8")
    assert 'href="../scenario.schema.json"' in reference
    assert "generated:" not in reference  # every marker was replaced
    assert "deadline_tolerance_s" in reference


def test_the_site_loads_nothing_from_outside_hosts(site: Path):
    loads = re.compile(r"""<(?:script|link|img|iframe)\b[^>]*\b(?:src|href)=["'](?:https?:)?//""")
    css_imports = re.compile(r"""@import\s+url\(["']?(?:https?:)?//|url\(["']?https?://""")
    offenders = [
        str(path.relative_to(site))
        for path in site.rglob("*")
        if path.suffix in (".html", ".css")
        and (loads.search(text := path.read_text(encoding="utf-8")) or css_imports.search(text))
    ]
    assert not offenders


README = ROOT / "README.md"


def _anchors(page: Path) -> set[str]:
    """GitHub's and MkDocs' heading ids (lowercase, punctuation dropped, spaces to dashes)."""
    ids = set()
    for line in page.read_text(encoding="utf-8").splitlines():
        if heading := re.match(r"#{1,6} (.*)", line):
            title = re.sub(r"\{#([\w-]+)\}", "", heading[1]).strip()
            ids.add(re.sub(r"[^\w\- ]", "", title.lower()).replace(" ", "-"))
        ids.update(re.findall(r"\{#([\w-]+)\}", line))
    return ids


def _readme_links() -> list[str]:
    text = re.sub(r"```.*?```", "", README.read_text(encoding="utf-8"), flags=re.S)
    return re.findall(r"\]\(([^)\s]+)\)", text)


def test_the_readmes_relative_links_resolve():
    links = [link for link in _readme_links() if not urlsplit(link).scheme]
    assert links
    problems = []
    for link in links:
        parts = urlsplit(link)
        target = (ROOT / unquote(parts.path)) if parts.path else README
        if not target.exists():
            problems.append(f"{link}: no file {target.relative_to(ROOT)}")
        elif parts.fragment and parts.fragment not in _anchors(target):
            problems.append(f"{link}: no heading #{parts.fragment} in {target.name}")
    assert not problems, "\n".join(problems)
