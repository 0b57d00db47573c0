"""What the model-based samplers' tests share: a space with every expression and a nested
choice, an objective on it, a sequential ask/tell loop, and a validity check of a proposal."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from hypersweep.sampling import FinishedTrial
from hypersweep.space import (
    SearchSpace,
    choice,
    lognormal,
    loguniform,
    normal,
    qlognormal,
    qloguniform,
    qnormal,
    quniform,
    randint,
    uniform,
)

EVERY = {
    "u": uniform(-1.0, 2.0),
    "qu": quniform(0, 10, 2),
    "lu": loguniform(-4.0, 0.0),
    "qlu": qloguniform(0.0, 4.0, 1),
    "n": normal(0.0, 1.0),
    "qn": qnormal(5.0, 2.0, 0.5),
    "ln": lognormal(0.0, 0.5),
    "qln": qlognormal(1.0, 0.5, 1),
    "ri": randint(7),
    "c": choice("a", "b", "c"),
    "model": choice({"kind": "svm", "C": loguniform(-3.0, 3.0), "k": choice("rbf", "poly")},
                    {"kind": "tree", "depth": randint(8), "split": quniform(0.1, 0.9, 0.1)},
                    "linear"),
}


def every_objective(p: Mapping[str, Any]) -> float:
    """On `EVERY`: smooth in the numeric params, prefers c == 'b' and the tree option."""
    value = -(p["u"] - 0.5) ** 2 - 0.1 * (p["ri"] - 3) ** 2 - (p["c"] != "b")
    return value + (0.5 if p.get("model.kind") == "tree" else 0.0)


def run(sampler: Any, objective: Callable[[Mapping[str, Any]], float | None], budget: int,
        batch: int = 1) -> list[FinishedTrial]:
    """Propose ``batch`` at a time and score each at once, until ``budget`` trials ended."""
    finished: list[FinishedTrial] = []
    while len(finished) < budget:
        for config in sampler.propose(batch, finished, []):
            finished.append(FinishedTrial(config, objective(config)))
    return finished


def check_valid(space: SearchSpace, config: Mapping[str, Any]) -> None:
    """On `EVERY`: every value is one the space can produce, and exactly the active names
    are present."""
    encoded = space.encode([config])
    again = space.decode(encoded)[0]
    assert set(again) == set(config)
    for name, value in config.items():
        if isinstance(value, float):
            assert math.isclose(again[name], value, rel_tol=1e-9, abs_tol=1e-12), name
        else:
            assert again[name] == value and type(again[name]) is type(value), name
    assert ((encoded >= 0.0) & (encoded <= 1.0)).all()
    assert -1.0 <= config["u"] <= 2.0 and config["qu"] in range(0, 11, 2)
    assert math.exp(-4) <= config["lu"] <= 1.0 and isinstance(config["qlu"], int)
    assert config["ri"] in range(7) and config["c"] in ("a", "b", "c")
    assert config["qn"] * 2 == round(config["qn"] * 2)
    if config.get("model.kind") == "svm":
        assert math.exp(-3) <= config["model.C"] <= math.exp(3)
        assert config["model.k"] in ("rbf", "poly")
    if config.get("model.kind") == "tree":
        assert config["model.depth"] in range(8)
        assert any(math.isclose(config["model.split"], v / 10) for v in range(1, 10))
