"""The sweep engine (floor 3): one pure state machine under both drivers, and the lease.

`SweepEngine` decides (budget, concurrency, deadlines, trial timeouts, the sampler's history,
the policy, failures, notices, the end and the best trial); `hypersweep.controller` (trial
processes) and `hypersweep.functions` (Python functions) carry its decisions out.
"""

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
