"""Run scenarios and screenshot their timeline pages in headless Chromium, to look at them.

Writes, for each scenario, the timeline page Allure attaches (picture beside the attempts table)
and a screenshot of it as Chromium shows it. Needs Chromium (`apt-get install -y chromium`).

    python scripts/timeline_screenshots.py [--out docs/images] [SCENARIO ...]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from stormproof.chaos.report import timeline_html, timeline_png
from stormproof.chaos.runner import ScenarioRunner, start_environment
from stormproof.chaos.scenario import default_scenario_dir, load_scenario
from stormproof.chaos.services import active_config

DEFAULT = ("users-breaker-lifecycle", "users-seeded-toxicity-retries-win")


def screenshot(page: Path, target: Path, width: int = 2000, height: int = 1000) -> None:
    """Screenshot `page` with headless Chromium into `target` (PNG)."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        sys.exit("timeline_screenshots: error: Chromium is missing: apt-get install -y chromium")
    subprocess.run(  # noqa: S603 - fixed command
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
         f"--screenshot={target}", f"--window-size={width},{height}", page.as_uri()],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenarios", nargs="*", default=list(DEFAULT))
    parser.add_argument("--out", type=Path, default=Path("docs/images"))
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    config = active_config()
    with start_environment(config=config, seed=args.seed) as environment:
        runner = ScenarioRunner(environment, seed=args.seed)
        for name in args.scenarios:
            scenario = load_scenario(default_scenario_dir() / f"{name}.yaml", config=config)
            result = runner.run(scenario)
            picture = timeline_png(result)
            (args.out / f"timeline-{name}.png").write_bytes(picture)
            with tempfile.TemporaryDirectory() as work:
                page = Path(work) / "timeline.html"
                page.write_text(timeline_html(result, picture), encoding="utf-8")
                screenshot(page, args.out / f"timeline-page-{name}.png")
            print(f"{name}: {result.verdict}; wrote {args.out}/timeline-{name}.png and "
                  f"timeline-page-{name}.png")  # fmt: skip


if __name__ == "__main__":
    main()
