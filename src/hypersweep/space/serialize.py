"""The v2 YAML mapping form of expressions and search spaces (``{type: uniform, ...}``).

This is the ``search_space`` of an Azure ML ``type: sweep`` job::

    learning_rate: {type: loguniform, min_value: -6, max_value: -1}
    batch_size: {type: choice, values: [16, 32, 64]}
    model:
      type: choice
      values:
        - {name: svm, C: {type: uniform, min_value: 0.1, max_value: 10}}
        - {name: tree, depth: {type: randint, upper: 8}}

Inside an option mapping, a mapping value is always an expression and anything else a
literal, which keeps the form unambiguous. Round trips are exact: ints stay ints, floats
floats, bools bools, and ``"1"`` stays a string.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from hypersweep.errors import ConfigError
from hypersweep.space.choices import Choice, RandInt
from hypersweep.space.expressions import Expression
from hypersweep.space.normal_family import LogNormal, Normal, QLogNormal, QNormal
from hypersweep.space.uniform_family import LogUniform, QLogUniform, QUniform, Uniform
from hypersweep.space.values import describe

_CLASSES: dict[str, Callable[..., Expression]] = {
    cls.kind: cls
    for cls in (Choice, RandInt, Uniform, QUniform, LogUniform, QLogUniform,
                Normal, QNormal, LogNormal, QLogNormal)
}
_KEYS: dict[str, tuple[str, ...]] = {
    cls.kind: cls.arg_names
    for cls in (Choice, RandInt, Uniform, QUniform, LogUniform, QLogUniform,
                Normal, QNormal, LogNormal, QLogNormal)
}


def expression_to_dict(expr: Expression) -> dict[str, Any]:
    """The YAML mapping form of an expression.

    Examples
    --------
    >>> from hypersweep.space import loguniform
    >>> expression_to_dict(loguniform(-6, -1))
    {'type': 'loguniform', 'min_value': -6, 'max_value': -1}
    """
    if isinstance(expr, Choice):
        values = [
            {k: expression_to_dict(v) if isinstance(v, Expression) else v for k, v in o.items()}
            if isinstance(o, Mapping) else o
            for o in expr.options
        ]
        return {"type": "choice", "values": values}
    return {"type": expr.kind, **dict(zip(expr.arg_names, expr.args, strict=True))}


def expression_from_dict(data: Any, name: str) -> Expression:
    """Parse the YAML mapping form of the expression of parameter ``name`` (a dotted path).

    Every problem is a :class:`ConfigError` that starts with ``name``.

    Examples
    --------
    >>> expression_from_dict({"type": "randint", "upper": 5}, "depth")
    randint(5)
    """
    if isinstance(data, Expression):
        return data
    if not isinstance(data, Mapping):
        raise ConfigError(f"{name}: expected an expression mapping such as "
                          f"{{type: uniform, min_value: 0, max_value: 1}} (got {describe(data)})")
    if "type" not in data:
        raise ConfigError(f"{name}: missing key 'type' (one of {', '.join(_CLASSES)})")
    kind = data["type"]
    if not isinstance(kind, str) or kind.lower() not in _CLASSES:
        raise ConfigError(f"{name}: unknown type {describe(kind)} (expected one of "
                          f"{', '.join(_CLASSES)})")
    kind = kind.lower()
    expected = _KEYS[kind]
    for key in data:
        if key != "type" and key not in expected:
            raise ConfigError(f"{name}: unknown key {describe(key)} for {kind} "
                              f"(expected {', '.join(expected)})")
    for key in expected:
        if key not in data:
            raise ConfigError(f"{name}: missing key {key!r} for {kind}")
    args = [data[key] for key in expected]
    if kind == "choice":
        args = [_options(args[0], name)]
    try:
        return _CLASSES[kind](*args)
    except ConfigError as err:
        raise ConfigError(f"{name}: {err}") from None


def _options(values: Any, name: str) -> list[Any]:
    if isinstance(values, str | bytes | Mapping) or not isinstance(values, list | tuple):
        raise ConfigError(f"{name}: choice expects 'values' to be a list (got {describe(values)})")
    return [
        {k: expression_from_dict(v, f"{name}.{k}") if isinstance(v, Mapping) else v
         for k, v in option.items()}
        if isinstance(option, Mapping) else option
        for option in values
    ]
