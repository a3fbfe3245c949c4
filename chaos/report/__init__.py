"""Reports: the terminal scorecard, the attempt timeline, and Allure results and HTML."""

from stormproof.chaos.report._allure_files import (
    categories,
    provider_categories,
    write_results_metadata,
)
from stormproof.chaos.report._allure_observer import (
    AllureObserver,
    attach_scenario_file,
    label_contract,
    label_scenario,
    record_verification,
    show_failure_once,
)
from stormproof.chaos.report._attempt_table import timeline_html
from stormproof.chaos.report._interrupted import TestIdentity, mark_interrupted
from stormproof.chaos.report._matrix_grid import grid_png, write_matrix_summary
from stormproof.chaos.report._render import ReportRenderError, ensure_allure, render_html
from stormproof.chaos.report._scorecard import print_scorecard, scorecard_table
from stormproof.chaos.report._timeline import timeline_json
from stormproof.chaos.report._timeline_picture import timeline_png

__all__ = [
    "AllureObserver",
    "ReportRenderError",
    "TestIdentity",
    "attach_scenario_file",
    "categories",
    "ensure_allure",
    "grid_png",
    "label_contract",
    "label_scenario",
    "mark_interrupted",
    "print_scorecard",
    "provider_categories",
    "record_verification",
    "render_html",
    "scorecard_table",
    "show_failure_once",
    "timeline_html",
    "timeline_json",
    "timeline_png",
    "write_matrix_summary",
    "write_results_metadata",
]
