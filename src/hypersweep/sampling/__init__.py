"""Sampling methods: given the space, finished and pending trials, propose configurations.

The samplers' modules load on first use (`hypersweep.sampling.registry`): random search does
not import the Gaussian process.

Examples
--------
>>> from hypersweep.sampling import RandomParameterSampling
>>> from hypersweep.space import normal
>>> len(RandomParameterSampling({"x": normal(0, 1)}, seed=0).preview(3))
3
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hypersweep.sampling import base
from hypersweep.sampling.base import (
    FinishedTrial,
    Sampler,
    register_sampler,
    sampler_from_dict,
)
from hypersweep.sampling.registry import built_in, sampler_class

__all__ = [
    "BUILT_IN",
    "SAMPLERS",
    "BayesianParameterSampling",
    "FinishedTrial",
    "GridParameterSampling",
    "RandomParameterSampling",
    "Sampler",
    "TPEParameterSampling",
    "register_sampler",
    "sampler_from_dict",
]

_CLASSES = {
    "RandomParameterSampling": "random",
    "GridParameterSampling": "grid",
    "BayesianParameterSampling": "bayesian",
    "TPEParameterSampling": "tpe",
}


def __getattr__(name: str) -> Any:
    kind = _CLASSES.get(name)
    if kind is not None:
        value: Any = sampler_class(kind)
    elif name == "BUILT_IN":
        value = built_in()
    elif name == "SAMPLERS":  # every entry a class: the built-in ones imported
        built_in()
        value = base.SAMPLERS
    else:
        raise AttributeError(f"module 'hypersweep.sampling' has no attribute {name!r}")
    globals()[name] = value
    return value


if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from hypersweep.sampling.base import SAMPLERS as SAMPLERS
    from hypersweep.sampling.bayesian import (
        BayesianParameterSampling as BayesianParameterSampling,
    )
    from hypersweep.sampling.grid import GridParameterSampling as GridParameterSampling
    from hypersweep.sampling.random import RandomParameterSampling as RandomParameterSampling
    from hypersweep.sampling.tpe import TPEParameterSampling as TPEParameterSampling

    BUILT_IN: tuple[type[Sampler], ...]
