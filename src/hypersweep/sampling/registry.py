"""The built-in sampling methods, registered under their v2 ``type`` in the order listed.

A new sampler is one module (a :class:`~hypersweep.sampling.base.Sampler` with ``kind`` and
``settings``) and one line here; :func:`~hypersweep.sampling.base.sampler_from_dict` then
builds it, and its error messages list it, without knowing the class.

A built-in sampler's module is imported when the sampler is first used, not before: random
search must not pay for the Gaussian process's SciPy imports. Until then its entry in
`SAMPLERS` is a stand-in that imports the module when it is called or asked its
``settings``, and takes its place; `built_in` imports them all.

Examples
--------
>>> from hypersweep.sampling.base import SAMPLERS
>>> list(SAMPLERS)[:4]
['random', 'grid', 'bayesian', 'tpe']
>>> [cls.__name__ for cls in built_in()]
['RandomParameterSampling', 'GridParameterSampling', 'BayesianParameterSampling', \
'TPEParameterSampling']
"""

from __future__ import annotations

import importlib
from typing import Any, cast

from hypersweep.sampling.base import SAMPLERS, Sampler, register_sampler

__all__ = ["built_in", "sampler_class"]

# v2 type -> (module, class), in the order error messages list them
_BUILT_IN = {
    "random": ("hypersweep.sampling.random", "RandomParameterSampling"),
    "grid": ("hypersweep.sampling.grid", "GridParameterSampling"),
    "bayesian": ("hypersweep.sampling.bayesian", "BayesianParameterSampling"),
    "tpe": ("hypersweep.sampling.tpe", "TPEParameterSampling"),
}


class _Deferred:
    """A built-in sampler's place in `SAMPLERS` until its module is imported: called, or
    asked its ``settings``, it imports the class (which then takes the place) and answers
    as the class would."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.__name__ = _BUILT_IN[kind][1]

    @property
    def settings(self) -> tuple[str, ...]:
        return tuple(sampler_class(self.kind).settings)

    def __call__(self, *args: Any, **kwargs: Any) -> Sampler:
        return sampler_class(self.kind)(*args, **kwargs)


def sampler_class(kind: str) -> type[Sampler]:
    """The built-in sampler class of v2 type ``kind``, its module imported now.

    >>> sampler_class("grid").__name__
    'GridParameterSampling'
    """
    module, name = _BUILT_IN[kind]
    cls: type[Sampler] = getattr(importlib.import_module(module), name)
    if isinstance(SAMPLERS.get(kind), _Deferred):
        SAMPLERS[kind] = cls  # in its place: the order of the listing stays
    else:
        register_sampler(cls)
    return cls


def built_in() -> tuple[type[Sampler], ...]:
    """Every built-in sampler class, imported, in the order listed.

    >>> built_in()[-1].kind
    'tpe'
    """
    return tuple(sampler_class(kind) for kind in _BUILT_IN)


for _kind in _BUILT_IN:
    SAMPLERS.setdefault(_kind, cast("type[Sampler]", _Deferred(_kind)))
