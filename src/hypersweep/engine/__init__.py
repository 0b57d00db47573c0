"""The sweep engine (floor 3): one pure state machine under both drivers, and the lease.

`SweepEngine` decides (budget, concurrency, deadlines, trial timeouts, the sampler's history,
the policy, failures, notices, the end and the best trial); `hypersweep.controller` (trial
processes) and `hypersweep.functions` (Python functions) carry its decisions out.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hypersweep.lazy import lazy_exports

if TYPE_CHECKING:
    from hypersweep.engine.state import (
        REASON_EARLY_TERMINATION,
        REASON_FAILED_TRIALS,
        REASON_MAX_DURATION,
        REASON_ORPHANED,
        REASON_TRIAL_TIMEOUT,
        REASON_USER_CANCEL,
        Snapshot,
        Stop,
        SweepEngine,
        TrialState,
    )

# Name -> the module that defines it, imported on first use (PEP 562): `hypersweep.engine.lease`
# alone needs only the store, and the CLI asks it between two user actions; the state machine
# loads the spec, the sampler's and the policies' modules, and numpy.
_LAZY = {name: ".state" for name in (
    "REASON_EARLY_TERMINATION", "REASON_FAILED_TRIALS", "REASON_MAX_DURATION", "REASON_ORPHANED",
    "REASON_TRIAL_TIMEOUT", "REASON_USER_CANCEL", "Snapshot", "Stop", "SweepEngine", "TrialState",
)}


__getattr__, __dir__ = lazy_exports(__name__, _LAZY, globals())


__all__ = [
    "REASON_EARLY_TERMINATION",
    "REASON_FAILED_TRIALS",
    "REASON_MAX_DURATION",
    "REASON_ORPHANED",
    "REASON_TRIAL_TIMEOUT",
    "REASON_USER_CANCEL",
    "Snapshot",
    "Stop",
    "SweepEngine",
    "TrialState",
]
