"""The fenced code blocks of the README and of docs/*.md, with the marker saying how each is tested.

A block is run by tests/docs/test_snippets.py unless the line before its fence is a marker:

- `<!-- snippet: output -->`: what a command prints, shown for reading, never run;
- `<!-- snippet: tested-by PATH -->`: the test file PATH runs or checks it (and names the page).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
PAGES = [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]
RUN_LANGUAGES = ("python", "console")

_FENCE = re.compile(r"^(?P<indent> *)(?P<fence>`{3,}|~{3,})(?P<info>[^`\n]*)$")
_MARKER = re.compile(r"^<!-- snippet: (?P<kind>output|tested-by) ?(?P<arg>\S*) -->$")


@dataclass(frozen=True)
class Snippet:
    """One fenced block of a page."""

    page: Path
    line: int  # of the opening fence, 1-based
    language: str
    code: str
    marker: str | None  # "output", "tested-by", or None (run here)
    tested_by: str | None

    @property
    def where(self) -> str:
        """`docs/page.md:12`, for messages and test ids."""
        return f"{self.page.relative_to(ROOT)}:{self.line}"


def snippets(page: Path) -> list[Snippet]:
    """Every fenced block of a page, in order."""
    lines = page.read_text(encoding="utf-8").splitlines()
    found: list[Snippet] = []
    index = 0
    while index < len(lines):
        opening = _FENCE.match(lines[index])
        if not opening:
            index += 1
            continue
        fence, indent = opening["fence"], opening["indent"]
        end = index + 1
        while end < len(lines) and lines[end].strip() != fence:
            end += 1
        body = [line.removeprefix(indent) for line in lines[index + 1 : end]]
        previous = lines[index - 1].strip() if index else ""
        marker = _MARKER.match(previous)
        found.append(
            Snippet(
                page=page,
                line=index + 1,
                language=opening["info"].strip().split(" ")[0],
                code="\n".join(body) + "\n",
                marker=marker["kind"] if marker else None,
                tested_by=(marker["arg"] or None) if marker else None,
            )
        )
        index = end + 1
    return found


def all_snippets() -> list[Snippet]:
    """Every fenced block of every page."""
    return [snippet for page in PAGES for snippet in snippets(page)]


def blocks(page: Path, language: str) -> list[str]:
    """The code of a page's blocks in one language, in order."""
    return [s.code for s in snippets(page) if s.language == language]
