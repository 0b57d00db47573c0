"""Sampling methods: given the space, finished and pending trials, propose configurations.

Examples
--------
>>> from hypersweep.sampling import RandomParameterSampling
>>> from hypersweep.space import normal
>>> len(RandomParameterSampling({"x": normal(0, 1)}, seed=0).preview(3))
3
"""

from hypersweep.sampling.base import FinishedTrial, Sampler, sampler_from_dict
from hypersweep.sampling.bayesian import BayesianParameterSampling
from hypersweep.sampling.grid import GridParameterSampling
from hypersweep.sampling.random import RandomParameterSampling
from hypersweep.sampling.tpe import TPEParameterSampling

__all__ = [
    "BayesianParameterSampling",
    "FinishedTrial",
    "GridParameterSampling",
    "RandomParameterSampling",
    "Sampler",
    "TPEParameterSampling",
    "sampler_from_dict",
]
