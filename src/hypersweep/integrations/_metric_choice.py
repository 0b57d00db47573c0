"""Which of a framework's metrics a deep-learning callback logs, and under which names.

Shared by the Lightning, Keras and Transformers callbacks (``metrics=`` of each).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypeAlias

__all__ = ["MetricChoice", "pick_metrics"]

#: What a callback's ``metrics=`` accepts: None (all), a name, names, or a renaming mapping.
MetricChoice: TypeAlias = str | Sequence[str] | Mapping[str, str] | None


def pick_metrics(available: Mapping[str, Any], metrics: MetricChoice) -> dict[str, Any]:
    """The metrics to log, under the names to log them as.

    ``metrics`` None keeps every one; a name or a list of names keeps those present; a mapping
    keeps its keys present and renames each to its value (so the sweep's primary metric name
    need not be the framework's).

    Examples
    --------
    >>> pick_metrics({"val_loss": 0.5, "train_loss": 0.4}, None)
    {'val_loss': 0.5, 'train_loss': 0.4}
    >>> pick_metrics({"val_loss": 0.5, "train_loss": 0.4}, "val_loss")
    {'val_loss': 0.5}
    >>> pick_metrics({"val_acc": 0.9}, {"val_acc": "accuracy", "val_f1": "f1"})
    {'accuracy': 0.9}
    """
    if metrics is None:
        return dict(available)
    if isinstance(metrics, str):
        metrics = [metrics]
    names = metrics if isinstance(metrics, Mapping) else {m: m for m in metrics}
    return {names[key]: available[key] for key in names if key in available}
