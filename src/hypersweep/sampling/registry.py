"""The built-in sampling methods, registered under their v2 ``type`` in the order listed.

A new sampler is one module (a :class:`~hypersweep.sampling.base.Sampler` with ``kind`` and
``settings``) and one line here; :func:`~hypersweep.sampling.base.sampler_from_dict` then
builds it, and its error messages list it, without knowing the class.

Examples
--------
>>> from hypersweep.sampling.base import SAMPLERS
>>> list(SAMPLERS)[:4]
['random', 'grid', 'bayesian', 'tpe']
"""

from __future__ import annotations

from hypersweep.sampling.base import register_sampler
from hypersweep.sampling.bayesian import BayesianParameterSampling
from hypersweep.sampling.grid import GridParameterSampling
from hypersweep.sampling.random import RandomParameterSampling
from hypersweep.sampling.tpe import TPEParameterSampling

BUILT_IN = (RandomParameterSampling, GridParameterSampling, BayesianParameterSampling,
            TPEParameterSampling)
"""The samplers every installation has, in the order error messages list them."""

for _sampler in BUILT_IN:
    register_sampler(_sampler)
