"""Early-termination policies: each names running trials to stop; none kills anything.

Azure's policies (``BanditPolicy``, ``MedianStoppingPolicy``, ``TruncationSelectionPolicy``,
``NoTerminationPolicy``) and ours (``AshaPolicy``, ``HyperbandPolicy``) share one pure protocol,
:class:`EarlyTerminationPolicy`; :class:`PolicyRunner` feeds them reports one at a time (what the
controller uses) and :func:`replay` re-simulates finished learning curves under a policy.
With several objectives or constraints, ASHA and Hyperband rank trials by all of them
(:mod:`.ranking`); the others judge the first objective, which :func:`policy_note` says.

What a sweep without a policy needs (the protocol, ``NoTerminationPolicy``, the runner) is
imported with the package, and `replay`; each other policy and the ranking (and with it
``hypersweep.pareto``) when first named, so a plain ``tune`` does not load them.

Examples
--------
>>> from hypersweep.policies import BanditPolicy, replay
>>> report = replay({"a": [0.5, 0.7, 0.9], "b": [0.2, 0.3, 0.35]}, BanditPolicy(slack_factor=0.2))
>>> report.stopped_at
{'b': 1}
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from hypersweep.lazy import lazy_exports
from hypersweep.policies.base import Decision, EarlyTerminationPolicy, Evidence, Objective
from hypersweep.policies.none import NoTerminationPolicy

# Eager although cheap to defer: the submodule `replay` would otherwise shadow the function.
from hypersweep.policies.replay import ReplayReport, replay, simulate
from hypersweep.policies.runner import PolicyRunner

if TYPE_CHECKING:
    from hypersweep.policies.asha import AshaPolicy
    from hypersweep.policies.bandit import BanditPolicy
    from hypersweep.policies.hyperband import HyperbandPolicy
    from hypersweep.policies.median import MedianStoppingPolicy
    from hypersweep.policies.ranking import RungRanking, crowding_distance, rank_points
    from hypersweep.policies.serialize import POLICIES
    from hypersweep.policies.truncation import TruncationSelectionPolicy

# Name -> the module that defines it, imported on first use (PEP 562).
_LAZY = {
    "AshaPolicy": ".asha",
    "BanditPolicy": ".bandit",
    "HyperbandPolicy": ".hyperband",
    "MedianStoppingPolicy": ".median",
    "TruncationSelectionPolicy": ".truncation",
    "RungRanking": ".ranking",
    "crowding_distance": ".ranking",
    "rank_points": ".ranking",
    "POLICIES": ".serialize",
}


__getattr__, __dir__ = lazy_exports(__name__, _LAZY, globals())


def policy_from_dict(mapping: Any) -> EarlyTerminationPolicy:
    """Build a policy from its v2 ``early_termination`` mapping (see
    `hypersweep.policies.serialize.policy_from_dict`, which loads every policy: no policy, or
    one given as an object, is answered without it).

    Examples
    --------
    >>> policy_from_dict(None)
    NoTerminationPolicy()
    >>> policy_from_dict({"type": "median_stopping", "evaluation_interval": 2})
    MedianStoppingPolicy(evaluation_interval=2, delay_evaluation=0)
    """
    if mapping is None:
        return NoTerminationPolicy()
    if isinstance(mapping, EarlyTerminationPolicy):
        return mapping
    from hypersweep.policies.serialize import policy_from_dict as from_mapping

    return from_mapping(mapping)


def policy_note(policy: EarlyTerminationPolicy | None, objectives: Sequence[str],
                constraints: int | Sequence[str] = 0) -> str | None:
    """A warning when ``policy`` does not use every objective and constraint, else None (see
    `hypersweep.policies.notes.policy_note`; no policy needs no note, nor loads the others).

    Examples
    --------
    >>> policy_note(None, ["accuracy", "latency"]) is None
    True
    >>> policy_note(BanditPolicy(slack_factor=0.1), ["accuracy"], 1)[:40]
    'early_termination: bandit ignores the co'
    """
    if objectives and (policy is None or policy.type == "none"):
        return None
    from hypersweep.policies.notes import policy_note as note

    return note(policy, objectives, constraints)


__all__ = [
    "POLICIES",
    "AshaPolicy",
    "BanditPolicy",
    "Decision",
    "EarlyTerminationPolicy",
    "Evidence",
    "HyperbandPolicy",
    "MedianStoppingPolicy",
    "NoTerminationPolicy",
    "Objective",
    "PolicyRunner",
    "ReplayReport",
    "RungRanking",
    "TruncationSelectionPolicy",
    "crowding_distance",
    "policy_from_dict",
    "policy_note",
    "rank_points",
    "replay",
    "simulate",
]
