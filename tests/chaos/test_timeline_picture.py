"""The timeline picture and page: labels on lanes never overlap, row labels are never cut, every
attempt's details are written out, and matplotlib loads only when a picture is drawn."""

import io
import re
import subprocess
import sys

from matplotlib.image import imread

from stormproof.chaos.report import timeline_html, timeline_png
from stormproof.chaos.report._lanes import Placed, stack
from stormproof.chaos.report._timeline_picture import _PLOT_PX, outcome_summary
from stormproof.chaos.runner import (
    AttemptRecord,
    BreakerTransition,
    CallRecord,
    PhaseRecord,
    ScenarioResult,
    Witness,
)
from stormproof.chaos.scenario import default_scenario_dir, load_scenario

LONG = "failures: " + "get_user_with_a_very_long_operation_name_that_goes_on" + " #1"


def _attempt(number, offset, outcome="ServiceUnavailableError", status=503, **kw):
    return AttemptRecord(
        attempt=number, method="GET", path="/users/usr_1", offset_s=offset, elapsed_s=0.002,
        outcome=outcome, status_code=status, breaker_state="CLOSED", idempotency_key=None,
        will_retry=kw.get("will_retry", False), backoff_s=kw.get("backoff_s"),
        error=kw.get("error"), retry_after_s=kw.get("retry_after_s"),
    )  # fmt: skip


def _result():
    scenario = load_scenario(default_scenario_dir() / "users-breaker-lifecycle.yaml")
    first = _attempt(1, 0.010, will_retry=True, backoff_s=0.25, error="HTTP 503: busy",
                     retry_after_s=0.25)  # fmt: skip
    second = _attempt(2, 0.262, outcome="ok", status=200)
    call = CallRecord(
        phase="failures", op="get_user_with_a_very_long_operation_name_that_goes_on", index=0,
        outcome="ok", attempts=2, elapsed_s=0.26, offset_s=0.009, breaker_after="CLOSED",
        idempotency_key=None, error=None, attempt_records=(first, second),
    )  # fmt: skip
    fast = CallRecord(
        phase="open", op="get_user", index=0, outcome="CircuitOpenError", attempts=0,
        elapsed_s=0.0001, offset_s=0.3, breaker_after="OPEN", idempotency_key=None,
        error="circuit breaker is open",
    )  # fmt: skip
    failures = PhaseRecord(name="failures", breaker_start="CLOSED", calls=[call])
    down = "proxy down (connections refused)"
    failures.witnesses = [Witness(down, True, "2 attempts", "client evidence")]
    # Three changes 1 ms apart: their labels cannot share a level.
    failures.transitions = [
        BreakerTransition("CLOSED", "OPEN", 0.280),
        BreakerTransition("OPEN", "HALF_OPEN", 0.281),
        BreakerTransition("HALF_OPEN", "CLOSED", 0.282),
    ]
    open_phase = PhaseRecord(name="open", breaker_start="CLOSED", calls=[fast])
    return ScenarioResult(scenario=scenario, seed=1, phases=[failures, open_phase])


def _overlapping(labels, levels):
    pairs = []
    for i, (a, la) in enumerate(zip(labels, levels, strict=True)):
        for b, lb in list(zip(labels, levels, strict=True))[i + 1 :]:
            if la == lb and a.start < b.end and b.start < a.end:
                pairs.append((a, b))
            deeper, upper = (a, b) if la > lb else (b, a)
            if la != lb and upper.start <= deeper.point <= upper.end:
                pairs.append((deeper, upper))  # a leader line through a label
    return pairs


def test_close_labels_go_on_levels_where_nothing_overlaps():
    labels = [Placed(p + 3, p + 3 + 120, p) for p in (100, 101, 102, 110, 400, 405, 700)]
    levels = stack(labels, gap=8)
    assert _overlapping(labels, levels) == []
    assert levels[4] != levels[5]
    assert min(levels) == 0
    assert max(levels) <= 4  # levels are reused once a label ends: not one level per label


def test_the_overlap_check_finds_labels_on_one_level():
    labels = [Placed(103, 223, 100), Placed(104, 224, 101)]
    assert _overlapping(labels, [0, 0]) != []


def test_the_picture_is_wide_enough_for_whole_row_labels():
    picture = timeline_png(_result())
    height, width, _ = imread(io.BytesIO(picture), format="png").shape
    # The row label (70 characters, once cut at 40) and the row's summary fit beside the plot.
    assert len(LONG) > 60
    assert width > _PLOT_PX + 7 * len(LONG) // 2
    assert height > 200


def test_the_page_shows_every_attempt_and_the_fault_evidence():
    result = _result()
    page = timeline_html(result, timeline_png(result))
    assert LONG in page
    assert "HTTP 503: busy" in page  # the attempt's error
    assert "<td>0.250</td><td>0.250</td>" in page  # backoff and Retry-After
    assert "failed fast, no request" in page
    assert "circuit breaker is open" in page
    assert "<td>2 attempts</td><td>client evidence</td>" in page
    assert "//" not in re.sub(r"base64,[A-Za-z0-9+/=]+", "", page)  # nothing to fetch
    assert outcome_summary(result.calls[0]) == "✗ 503, ✓ 200 → ok"


def test_importing_the_report_package_does_not_load_matplotlib():
    code = "import sys, stormproof.chaos.report; print('matplotlib' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
