"""Sampling methods: given the space, finished and pending trials, propose configurations.

Examples
--------
>>> from hypersweep.sampling import RandomParameterSampling
>>> from hypersweep.space import normal
>>> len(RandomParameterSampling({"x": normal(0, 1)}, seed=0).preview(3))
3
"""

from hypersweep.sampling.base import (
    SAMPLERS,
    FinishedTrial,
    Sampler,
    register_sampler,
    sampler_from_dict,
)
from hypersweep.sampling.bayesian import BayesianParameterSampling
from hypersweep.sampling.grid import GridParameterSampling
from hypersweep.sampling.random import RandomParameterSampling
from hypersweep.sampling.registry import BUILT_IN
from hypersweep.sampling.tpe import TPEParameterSampling

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
