"""The controller's view of a stored sweep configuration."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from hypersweep.controller.commands import TrialCommand, trial_command
from hypersweep.errors import ConfigError


@dataclass(frozen=True)
class SweepSettings:
    """Limits, objective and trial definition of one sweep, read from its stored config.

    ``timeout`` and ``trial_timeout`` are seconds; ``None`` means no limit.
    ``max_failed_trials`` is the explicit cap on failed trials; ``None`` applies the
    fail-fast rule instead (see `hypersweep.controller.failures`).
    """

    primary_metric: str
    maximize: bool
    max_total_trials: int
    max_concurrent_trials: int
    timeout: float | None
    trial_timeout: float | None
    command: TrialCommand
    environment_variables: dict[str, str] = field(default_factory=dict)
    resume_from: list[str] = field(default_factory=list)
    resume_child_runs: list[str] = field(default_factory=list)
    max_failed_trials: int | None = None

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> SweepSettings:
        """Read the settings from a sweep's stored config (``HyperDriveConfig.to_dict()``)."""
        try:
            objective = config["objective"]
            limits = config["limits"]
            trial = config["trial"]
            return cls(
                primary_metric=str(objective["primary_metric"]),
                maximize=str(objective["goal"]).lower() == "maximize",
                max_total_trials=int(limits["max_total_trials"]),
                max_concurrent_trials=int(
                    limits.get("max_concurrent_trials") or limits["max_total_trials"]
                ),
                timeout=_seconds(limits.get("timeout")),
                trial_timeout=_seconds(limits.get("trial_timeout")),
                command=trial_command(trial),
                environment_variables=dict(trial.get("environment_variables", {})),
                resume_from=list(config.get("resume_from", [])),
                resume_child_runs=list(config.get("resume_child_runs", [])),
                max_failed_trials=_count(limits.get("max_failed_trials")),
            )
        except (KeyError, TypeError, ValueError) as err:
            raise ConfigError(f"stored sweep config is incomplete or invalid: {err!r}") from err

    def oriented(self, value: float) -> float:
        """A metric value turned so that larger is better (what samplers and policies see)."""
        return value if self.maximize else -value


def _seconds(value: Any) -> float | None:
    return None if value is None else float(value)


def _count(value: Any) -> int | None:
    return None if value is None else int(value)
