"""Function trials: tune a Python objective in this process (threads) or in worker processes.

- :func:`tune` — the loop: ``tune(objective, sampling, "loss", "minimize", max_total_runs=100)``.
- :class:`Sweep` — ask/tell, for loops you write yourself; ``tune`` is built on it.
- :class:`Trial` — what ``ask`` gives and what the objective logs to (the script run API).
- :class:`TrialCanceled` — raised by ``run.log`` in a trial the policy stopped.

Names load on first use: process workers import this package and should start fast.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "tune": "hypersweep.functions.tune",
    "Sweep": "hypersweep.functions.sweep",
    "FunctionSweepRun": "hypersweep.functions.sweep",
    "Trial": "hypersweep.functions.trial",
    "TrialCanceled": "hypersweep.functions.trial",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'hypersweep.functions' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


if TYPE_CHECKING:  # pragma: no cover
    from hypersweep.functions.sweep import FunctionSweepRun as FunctionSweepRun
    from hypersweep.functions.sweep import Sweep as Sweep
    from hypersweep.functions.trial import Trial as Trial
    from hypersweep.functions.trial import TrialCanceled as TrialCanceled
    from hypersweep.functions.tune import tune as tune
