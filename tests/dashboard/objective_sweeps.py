"""Real sweeps with several objectives and constraints, run by ask/tell in a workspace (fast),
for the command line, dashboard and figure tests."""

from __future__ import annotations

from typing import Any

from hypersweep import RandomParameterSampling, Sweep, Workspace, choice, uniform

#: The objectives, by how many a sweep has.
OBJECTIVES = {1: [("acc", "maximize")],
              2: [("acc", "maximize"), ("ms", "minimize")],
              3: [("acc", "maximize"), ("ms", "minimize"), ("energy", "minimize")]}
#: The constraint a constrained sweep has.
LIMIT = {"metric": "mem", "max": 80}
#: The trial that fails (logging nothing).
FAILED = 3


def metrics(index: int, params: dict[str, Any]) -> dict[str, float]:
    """What a trial logs: ``acc`` trades against ``ms`` and ``energy``; ``mem`` grows with
    ``x`` (so the most accurate trials break the memory limit)."""
    x, y = params["x"], params["y"]
    return {"acc": x, "ms": 10 * x * x + (index % 3) + y, "energy": 5 * (1 - y) + x,
            "mem": 100 * x}


def objective_sweep(workspace: Workspace, objectives: int = 2, constrained: bool = True,
                    trials: int = 16, seed: int = 0, experiment: str = "pareto") -> str:
    """Run a sweep of ``trials`` (one of them fails) and return its id."""
    sweep = Sweep(RandomParameterSampling({"x": uniform(0, 1), "y": uniform(0, 1),
                                           "opt": choice("sgd", "adam")}, seed=seed),
                  objectives=OBJECTIVES[objectives],
                  constraints=[LIMIT] if constrained else None, workspace=workspace,
                  experiment_name=experiment, max_total_runs=trials)
    index = 0
    while (trial := sweep.ask()) is not None:
        if index == FAILED:
            sweep.tell(trial, status="Failed", error="ValueError: bad batch")
        else:
            sweep.tell(trial, metrics(index, trial.params))
        index += 1
    return sweep.finish().id
