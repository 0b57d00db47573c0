"""NoTerminationPolicy: every trial runs to completion (Azure's default, ``policy=None``)."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any, ClassVar

from hypersweep.frozen import FrozenRecord
from hypersweep.policies.base import MAXIMIZE, Decision, EarlyTerminationPolicy, Objective


class NoTerminationPolicy(EarlyTerminationPolicy, FrozenRecord):
    """Never stop a trial early: every trial runs to completion (the default).

    Examples
    --------
    >>> NoTerminationPolicy().evaluate({"HD_x_0": [0.1, 0.2]}, {"HD_x_0"}, 2)
    []
    >>> NoTerminationPolicy().to_dict()
    {'type': 'none'}
    """

    type: ClassVar[str] = "none"

    def is_eligible(self, interval: int) -> bool:
        return False  # no interval is ever judged, so runners skip all work

    def evaluate(
        self,
        series: Mapping[str, Sequence[float]],
        running: Collection[str],
        interval: int,
        *,
        reporter: str | None = None,
        objective: Objective = MAXIMIZE,
    ) -> list[Decision]:
        return []

    def to_dict(self) -> dict[str, Any]:
        return {"type": "none"}
