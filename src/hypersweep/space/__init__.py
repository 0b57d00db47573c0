"""Search spaces: parameter expressions (Azure ML semantics) and the ``SearchSpace`` of a sweep.

Examples
--------
>>> from hypersweep.space import SearchSpace, choice, loguniform
>>> space = SearchSpace({"lr": loguniform(-6, -1), "batch_size": choice(16, 32, 64)})
>>> space.to_dict()["batch_size"]
{'type': 'choice', 'values': [16, 32, 64]}
"""

from hypersweep.space.choice import Choice, RandInt, choice, randint
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
