"""Search spaces: parameter expressions (Azure ML semantics) and the ``SearchSpace`` of a sweep.

Examples
--------
>>> from hypersweep.space import SearchSpace, choice, loguniform
>>> space = SearchSpace({"lr": loguniform(-6, -1), "batch_size": choice(16, 32, 64)})
>>> space.to_dict()["batch_size"]
{'type': 'choice', 'values': [16, 32, 64]}
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hypersweep.lazy import lazy_exports

if TYPE_CHECKING:
    from hypersweep.space.choices import (
        Choice,
        RandInt,
        choice,
        randint,
    )
    from hypersweep.space.expressions import ExponentWarning, Expression
    from hypersweep.space.normal_family import (
        LogNormal,
        Normal,
        QLogNormal,
        QNormal,
        lognormal,
        normal,
        qlognormal,
        qnormal,
    )
    from hypersweep.space.serialize import expression_from_dict, expression_to_dict
    from hypersweep.space.space import SearchSpace
    from hypersweep.space.uniform_family import (
        LogUniform,
        QLogUniform,
        QUniform,
        Uniform,
        loguniform,
        qloguniform,
        quniform,
        uniform,
    )
    from hypersweep.space.values import config_key

# Name -> the module that defines it, imported on first use (PEP 562): the space's modules
# import numpy, and a face that only checks a name or a text (`hypersweep.space.values`, as
# the config readers do) should not pay for it.
_LAZY = {
    "Choice": ".choices",
    "RandInt": ".choices",
    "choice": ".choices",
    "randint": ".choices",
    "ExponentWarning": ".expressions",
    "Expression": ".expressions",
    "LogNormal": ".normal_family",
    "Normal": ".normal_family",
    "QLogNormal": ".normal_family",
    "QNormal": ".normal_family",
    "lognormal": ".normal_family",
    "normal": ".normal_family",
    "qlognormal": ".normal_family",
    "qnormal": ".normal_family",
    "expression_from_dict": ".serialize",
    "expression_to_dict": ".serialize",
    "SearchSpace": ".space",
    "LogUniform": ".uniform_family",
    "QLogUniform": ".uniform_family",
    "QUniform": ".uniform_family",
    "Uniform": ".uniform_family",
    "loguniform": ".uniform_family",
    "qloguniform": ".uniform_family",
    "quniform": ".uniform_family",
    "uniform": ".uniform_family",
    "config_key": ".values",
}

__getattr__, __dir__ = lazy_exports(__name__, _LAZY, globals())

__all__ = [
    "Choice",
    "ExponentWarning",
    "Expression",
    "LogNormal",
    "LogUniform",
    "Normal",
    "QLogNormal",
    "QLogUniform",
    "QNormal",
    "QUniform",
    "RandInt",
    "SearchSpace",
    "Uniform",
    "choice",
    "config_key",
    "expression_from_dict",
    "expression_to_dict",
    "lognormal",
    "loguniform",
    "normal",
    "qlognormal",
    "qloguniform",
    "qnormal",
    "quniform",
    "randint",
    "uniform",
]
