"""The function driver: trials are Python calls, in this process (threads) or worker processes.

- `FunctionDriver` — ask/tell over the sweep engine, records written behind.
- `Trial` — what ``ask`` gives and what the objective logs to (the script run API).
- `TrialCanceled` — raised by ``run.log`` in a trial that something stopped.
- `hypersweep.functions.pool` — the loops that run an objective (serial, threads, processes).

The faces users call, `hypersweep.tune` and `hypersweep.Sweep`, live in `hypersweep.api`.
Names load on first use: process workers import this package and should start fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hypersweep.lazy import lazy_exports

_EXPORTS = {
    "FunctionDriver": "hypersweep.functions.driver",
    "Trial": "hypersweep.functions.trial",
    "TrialCanceled": "hypersweep.functions.trial",
}

__all__ = sorted(_EXPORTS)


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())


if TYPE_CHECKING:  # pragma: no cover
    from hypersweep.functions.driver import FunctionDriver as FunctionDriver
    from hypersweep.functions.trial import Trial as Trial
    from hypersweep.functions.trial import TrialCanceled as TrialCanceled
