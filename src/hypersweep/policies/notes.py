"""What a policy does with several objectives or constraints, in a sentence for the user.

Azure's policies (Bandit, Median stopping, Truncation selection) compare one number per trial;
in a sweep with several objectives they judge the first objective alone and ignore the
constraints (:meth:`EarlyTerminationPolicy.evaluate_objectives`' default), which a user may
not expect: a trial on the Pareto front can be stopped for its first objective. The faces
(``validate``, the run summary, the dashboard) show :func:`policy_note` so it is said once,
before the sweep runs; policies with ``multi_objective`` need no note.

Examples
--------
>>> from hypersweep.policies import AshaPolicy, BanditPolicy
>>> policy_note(BanditPolicy(slack_factor=0.1), ["accuracy", "latency"])
'early_termination: bandit acts on the first objective (accuracy) only; asha and hyperband \
rank trials by all objectives'
>>> policy_note(AshaPolicy(), ["accuracy", "latency"]) is None
True
"""

from __future__ import annotations

from collections.abc import Sequence

from hypersweep.policies.base import EarlyTerminationPolicy
from hypersweep.policies.serialize import POLICY_TYPES, policy_class


def _joined(words: Sequence[str]) -> str:
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} and {words[-1]}"


def policy_note(policy: EarlyTerminationPolicy | None, objectives: Sequence[str],
                constraints: int | Sequence[str] = 0) -> str | None:
    """A warning when ``policy`` does not use every objective and constraint, else None.

    Parameters
    ----------
    policy : EarlyTerminationPolicy or None
        The sweep's policy (None and ``NoTerminationPolicy`` stop nothing: no note).
    objectives : sequence of str
        The objectives' metric names, the primary first.
    constraints : int or sequence of str
        The constraints (their number, or their names).

    Examples
    --------
    >>> from hypersweep.policies import MedianStoppingPolicy, NoTerminationPolicy
    >>> policy_note(MedianStoppingPolicy(), ["accuracy"], ["latency <= 20"])
    'early_termination: median_stopping ignores the constraints (it compares accuracy alone); \
asha and hyperband rank infeasible trials last'
    >>> policy_note(MedianStoppingPolicy(), ["a", "b"], 1)
    'early_termination: median_stopping acts on the first objective (a) only and ignores the \
constraints; asha and hyperband rank trials by all objectives and infeasible trials last'
    >>> policy_note(NoTerminationPolicy(), ["a", "b"]) is None
    True
    """
    if not objectives:
        raise ValueError("objectives: expected at least one metric name")
    constrained = (constraints if isinstance(constraints, int) else len(constraints)) > 0
    several = len(objectives) > 1
    if policy is None or policy.type == "none" or policy.multi_objective:
        return None
    if not several and not constrained:
        return None
    ranking = _joined(sorted(t for t in POLICY_TYPES if policy_class(t).multi_objective))
    if several:
        ignores = " and ignores the constraints" if constrained else ""
        last = " and infeasible trials last" if constrained else ""
        return (f"early_termination: {policy.type} acts on the first objective "
                f"({objectives[0]}) only{ignores}; {ranking} rank trials by all objectives{last}")
    return (f"early_termination: {policy.type} ignores the constraints (it compares "
            f"{objectives[0]} alone); {ranking} rank infeasible trials last")
