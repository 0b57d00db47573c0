"""Messages the controllers (script and function sweeps) raise about a sweep's records."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def missing_primary_metric(name: str, logged: Iterable[str], if_nothing: str) -> str:
    """Say that no completed trial logged the primary metric, with the likeliest fix.

    A misspelled metric name is the usual cause, so a close match among the logged names is
    offered first; ``if_nothing`` is the advice when the trials logged nothing at all.

    Examples
    --------
    >>> missing_primary_metric("acuracy", ["accuracy", "loss"], "log something").split(". ")[-1]
    "Did you mean 'accuracy'?"
    """
    names = sorted(set(logged))
    close = difflib.get_close_matches(name, names, n=1)
    if close:
        hint = f"Did you mean {close[0]!r}?"
    elif names:
        hint = f"The trials logged: {', '.join(names)}."
    else:
        hint = if_nothing
    return (f"primary metric {name!r} was not logged by the first completed trial; "
            f"without it no trial can be ranked. {hint}")
