"""Early-termination policies: each names running trials to stop; none kills anything.

Azure's policies (``BanditPolicy``, ``MedianStoppingPolicy``, ``TruncationSelectionPolicy``,
``NoTerminationPolicy``) and ours (``AshaPolicy``, ``HyperbandPolicy``) share one pure protocol,
:class:`EarlyTerminationPolicy`; :class:`PolicyRunner` feeds them reports one at a time (what the
controller uses) and :func:`replay` re-simulates finished learning curves under a policy.
With several objectives or constraints, ASHA and Hyperband rank trials by all of them
(:mod:`.ranking`); the others judge the first objective, which :func:`policy_note` says.

What a sweep without a policy needs (the protocol, ``NoTerminationPolicy``, the runner) is
imported with the package; each other policy, the ranking (and with it ``hypersweep.pareto``)
and `replay` when first named, so a plain ``tune`` does not load them. `replay`, `simulate`
and `ReplayReport` live in the private module ``_replay``: a public submodule named
``replay`` would shadow the function of that name once imported on its own.

Examples
--------
>>> from hypersweep.policies import BanditPolicy, replay
>>> report = replay({"a": [0.5, 0.7, 0.9], "b": [0.2, 0.3, 0.35]}, BanditPolicy(slack_factor=0.2))
>>> report.stopped_at
{'b': 1}
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hypersweep.lazy import lazy_exports
from hypersweep.policies.base import Decision, EarlyTerminationPolicy, Evidence, Objective
from hypersweep.policies.none import NoTerminationPolicy
from hypersweep.policies.runner import PolicyRunner

if TYPE_CHECKING:
    from hypersweep.policies._replay import ReplayReport, replay, simulate
    from hypersweep.policies.asha import AshaPolicy
    from hypersweep.policies.bandit import BanditPolicy
    from hypersweep.policies.hyperband import HyperbandPolicy
    from hypersweep.policies.median import MedianStoppingPolicy
    from hypersweep.policies.notes import policy_note
    from hypersweep.policies.ranking import RungRanking, crowding_distance, rank_points
    from hypersweep.policies.serialize import POLICIES, policy_from_dict
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
    "policy_from_dict": ".serialize",
    "policy_note": ".notes",
    "ReplayReport": "._replay",
    "replay": "._replay",
    "simulate": "._replay",
}


__getattr__, __dir__ = lazy_exports(__name__, _LAZY, globals())


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
