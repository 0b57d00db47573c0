"""Objectives for tests/integrations that worker processes import (module level, picklable)."""

from __future__ import annotations

import time
from typing import Any

from hypersweep.integrations import Reporter

ROUNDS = 200


def reported_curve(params: dict[str, Any], run: Any) -> dict[str, int]:
    """Log a flat curve through a Reporter found by itself, until the sweep says stop.

    Returns how many rounds ran (as an extra metric), so a test can see where training ended.
    """
    reporter = Reporter()
    assert reporter.run is run  # the trial's own run, with no argument
    level = 0.9 if params["curve"] == "good" else 0.1
    rounds = 0
    for step in range(ROUNDS):
        reporter.log({"accuracy": level, "text": "skipped"}, step=step)
        rounds += 1
        if reporter.should_stop():
            break
        if level < 0.5:
            time.sleep(0.01)  # bad curves log slowly so a worker's stop flag reaches them
    return {"rounds": rounds}
