"""Messages the controllers (script and function sweeps) raise about a sweep's records."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable

from hypersweep.store import MetricPoint

__all__ = ["missing_primary_metric", "unusable_value"]

_SHOWN = 40  # characters of an unusable value quoted in a message


def unusable_value(point: MetricPoint) -> str | None:
    """How a logged value that cannot rank reads in a message (None if it can rank).

    Examples
    --------
    >>> from datetime import datetime, timezone
    >>> def point(value, text=None):
    ...     return MetricPoint(0, 0, "score", 0, value, text, "scalar",
    ...                        datetime.now(timezone.utc))
    >>> unusable_value(point(None, '"0.086"')), unusable_value(point(float("nan")))
    ("a string ('0.086')", 'NaN')
    >>> unusable_value(point(None, "true")), unusable_value(point(0.5)) is None
    ('a boolean (True)', True)
    """
    if point.value is not None:
        return "NaN" if math.isnan(point.value) else None
    try:
        value = json.loads(point.text or "null")
    except ValueError:
        value = point.text
    if isinstance(value, str):
        shown = value if len(value) <= _SHOWN else value[:_SHOWN - 1] + "…"
        return f"a string ({shown!r})"
    if isinstance(value, bool):
        return f"a boolean ({value})"
    if value is None:
        return "None"
    return f"a {type(value).__name__} ({str(point.text)[:_SHOWN]})"


def missing_primary_metric(name: str, logged: Iterable[str], if_nothing: str,
                           unusable: str | None = None,
                           by: str = "the first completed trial") -> str:
    """Say that no trial logged the primary metric as a number, with the likeliest fix.

    When the metric *was* logged, but as something that cannot rank (``unusable``: a string,
    NaN, from `unusable_value`), that is the message. Otherwise a misspelled metric name is
    the usual cause, so a close match among the ``logged`` names is offered first;
    ``if_nothing`` is the advice when the trials logged nothing at all. ``by`` says whose
    records were looked at.

    Examples
    --------
    >>> missing_primary_metric("acuracy", ["accuracy", "loss"], "log something").split(". ")[-1]
    "Did you mean 'accuracy'?"
    >>> missing_primary_metric("score", ["score"], "", unusable="a string ('0.086')")[:55]
    "primary metric 'score' was logged as a string ('0.086')"
    """
    if unusable is not None:
        return (f"primary metric {name!r} was logged as {unusable} by {by}, never as a "
                f"number; without a number no trial can be ranked. Log a number, e.g. "
                f"run.log({name!r}, float(value)).")
    import difflib  # only when a metric is missing: it is most of this module's import

    names = sorted(set(logged))
    close = difflib.get_close_matches(name, [n for n in names if n != name], n=1)
    if name in names:  # as a list or a row only: nothing a policy or a ranking can read
        hint = f"It was logged only in lists or rows; log it with run.log({name!r}, value)."
    elif close:
        hint = f"Did you mean {close[0]!r}?"
    elif names:
        hint = f"The trials logged: {', '.join(names)}."
    else:
        hint = if_nothing
    return (f"primary metric {name!r} was not logged by {by}; "
            f"without it no trial can be ranked. {hint}")
