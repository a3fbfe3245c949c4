"""The Quick start of README.md (and of docs/getting-started.md) is the two commands, unchanged,
and each does what its comment says: `./dev run` is `stormproof run`, `./dev test` is what .ci/run
runs (CI runs the whole suite through it; running it again here would recurse)."""

from __future__ import annotations

import subprocess

from tests.docs._snippets import DOCS, ROOT, snippets

QUICK_START = [
    "./dev run     # verify the contracts and run the chaos scenarios: scorecard + Allure report",
    "./dev test    # the whole test suite",
]


def _quick_start_blocks() -> list[list[str]]:
    found = []
    for page in (ROOT / "README.md", DOCS / "getting-started.md"):
        text = page.read_text(encoding="utf-8")
        section = text.split("## Quick start", 1)[1].split("\n## ", 1)[0]
        [block] = [s for s in snippets(page) if s.code.strip() in section and s.code.strip()]
        found.append(block.code.strip().splitlines())
    return found


def test_the_quick_start_is_the_two_commands_on_both_pages():
    assert _quick_start_blocks() == [QUICK_START, QUICK_START]


def test_ci_runs_the_readmes_test_command():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert "./dev test" in ci


def test_dev_run_is_stormproof_run():
    done = subprocess.run(
        [str(ROOT / "dev"), "run", "--help"],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Usage: stormproof run" in done.stdout
    assert "--no-contracts" in done.stdout
