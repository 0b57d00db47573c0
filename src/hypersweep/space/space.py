"""``SearchSpace``: named expressions, their unit-cube layout, flat configurations and grids."""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from hypersweep.errors import ConfigError
from hypersweep.space.choices import Choice
from hypersweep.space.expressions import Expression
from hypersweep.space.serialize import expression_from_dict, expression_to_dict
from hypersweep.space.values import check_key, describe, parse_logbase

if TYPE_CHECKING:
    import numpy as np

Pairs = tuple[tuple[str, Any], ...]


def _flatten(prefix: str, value: Any, out: dict[str, Any]) -> None:
    # Only mapping options of a choice produce dicts, so every dict here is a nested space.
    if isinstance(value, dict):
        for key, item in value.items():
            _flatten(f"{prefix}.{key}", item, out)
    else:
        out[prefix] = value


def _leaf_names(name: str, expr: Expression, out: dict[str, None]) -> None:
    if isinstance(expr, Choice) and expr.has_mappings:
        for option in expr.options:
            if not isinstance(option, Mapping):
                out[name] = None
                continue
            for key, item in option.items():
                if isinstance(item, Expression):
                    _leaf_names(f"{name}.{key}", item, out)
                else:
                    out[f"{name}.{key}"] = None
    else:
        out[name] = None


def _fragments(name: str, expr: Expression, base: float, grid: bool) -> list[Pairs]:
    """Every value of ``expr`` as flat ``(name, value)`` pairs, in grid order."""
    if grid and not isinstance(expr, Choice):
        raise ConfigError(f"{name}: grid sampling supports only choice (got {describe(expr)})")
    if not isinstance(expr, Choice):
        return [((name, value),) for value in expr._values(base)]
    out: list[Pairs] = []
    for option in expr.options:
        if not isinstance(option, Mapping):
            out.append(((name, option),))
            continue
        columns = [
            _fragments(f"{name}.{key}", item, base, grid) if isinstance(item, Expression)
            else [((f"{name}.{key}", item),)]
            for key, item in option.items()
        ]
        out.extend(tuple(itertools.chain.from_iterable(c)) for c in itertools.product(*columns))
    return out


def _row_builder(n: int) -> Callable[..., list[dict[str, Any]]]:
    """A function ``build(columns, *names)`` returning one dict per row of ``columns``.

    Building the dicts is most of the cost of sampling; a dict display (``{k0: a0, ...}``) is
    about 1.5x faster than ``dict(zip(names, row))``. As ``collections.namedtuple`` does, we
    generate that code once per arity. Only generated identifiers enter the source: the
    parameter names arrive as arguments, so no user text is ever compiled.
    """
    keys = ", ".join(f"k{i}" for i in range(n))
    values = ", ".join(f"a{i}" for i in range(n))
    pairs = ", ".join(f"k{i}: a{i}" for i in range(n))
    source = (f"def build(columns, {keys}):\n"
              f"    return [{{{pairs}}} for {values}{',' if n == 1 else ''} in zip(*columns)]\n")
    namespace: dict[str, Any] = {}
    exec(source, namespace)
    return namespace["build"]


def _unflatten(name: str, config: Mapping[str, Any]) -> Any:
    """The (possibly nested) value of top-level parameter ``name`` in a flat configuration."""
    if name in config:
        return config[name]
    prefix = name + "."
    nested: dict[str, Any] = {}
    for key, value in config.items():
        if isinstance(key, str) and key.startswith(prefix):
            *path, leaf = key[len(prefix):].split(".")
            node = nested
            for part in path:
                node = node.setdefault(part, {})
            node[leaf] = value
    if not nested:
        raise ConfigError(f"{name}: missing from the configuration {describe(dict(config))}")
    return nested


class SearchSpace(Mapping[str, Expression]):
    """A validated mapping of parameter names to expressions.

    Names are non-empty strings without ``.``: dots join the names of nested spaces
    (``model.C``), so a flat configuration can always be read back unambiguously.
    Parameters keep declaration order, which is the grid order (last parameter fastest)
    and the order of unit-cube dimensions.

    Parameters
    ----------
    mapping : Mapping[str, Expression]
        Parameter name to expression, e.g. ``{"lr": uniform(0.01, 0.1)}``.

    Examples
    --------
    >>> from hypersweep.space import choice, uniform
    >>> space = SearchSpace({"lr": uniform(0.0, 1.0), "bs": choice(16, 32)})
    >>> space.names, space.n_dims
    (('lr', 'bs'), 2)
    >>> space.decode([[0.5, 0.9]])
    [{'lr': 0.5, 'bs': 32}]
    """

    def __init__(self, mapping: Mapping[str, Expression]) -> None:
        if not isinstance(mapping, Mapping):
            raise ConfigError(f"search space expects a mapping of parameter names to "
                              f"expressions (got {describe(mapping)})")
        if not mapping:
            raise ConfigError("search space expects at least one parameter (got none)")
        params: dict[str, Expression] = {}
        for name, expr in mapping.items():
            check_key(name, "search space")
            if not isinstance(expr, Expression):
                raise ConfigError(f"{name}: expected an expression such as uniform(0, 1) "
                                  f"(got {describe(expr)})")
            params[name] = expr
        self._params = params
        self._slices, start = [], 0
        for expr in params.values():
            self._slices.append(slice(start, start + expr.n_dims))
            start += expr.n_dims
        self._n_dims = start
        leaves: dict[str, None] = {}
        for name, expr in params.items():
            _leaf_names(name, expr, leaves)
        self._names = tuple(leaves)
        self._nested = any(isinstance(e, Choice) and e.has_mappings for e in params.values())
        self._build = None if self._nested else _row_builder(len(params))

    # Mapping protocol: the top-level parameters.
    def __getitem__(self, name: str) -> Expression:
        return self._params[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._params)

    def __len__(self) -> int:
        return len(self._params)

    def __repr__(self) -> str:
        return f"SearchSpace({self._params!r})"

    @property
    def names(self) -> tuple[str, ...]:
        """Every flat (dotted) parameter name a configuration may contain, in order."""
        return self._names

    @property
    def n_dims(self) -> int:
        """Number of unit-cube dimensions (nested options add their own)."""
        return self._n_dims

    @property
    def is_finite(self) -> bool:
        """Whether every parameter takes finitely many values."""
        return all(expr.is_finite for expr in self._params.values())

    @property
    def cardinality(self) -> int | None:
        """Number of configurations (with ``logbase="e"``), ``None`` when infinite."""
        return self._cardinality(math.e)

    def _cardinality(self, base: float) -> int | None:
        total = 1
        for expr in self._params.values():
            count = expr._cardinality(base)
            if count is None:
                return None
            total *= count
        return total

    def check_logbase(self, logbase: float | str) -> None:
        """Refuse (`ConfigError`, naming the parameter) a ``logbase`` under which some value
        would overflow a float; samplers that take a ``logbase`` call this.

        Examples
        --------
        >>> from hypersweep.space import loguniform
        >>> SearchSpace({"lr": loguniform(-3, 400)}).check_logbase(10)
        Traceback (most recent call last):
          ...
        hypersweep.errors.ConfigError: lr: loguniform expects max_value <= 308.25 so that \
10**max_value fits a float (got 400)
        """
        base = parse_logbase(logbase)
        for name, expr in self._params.items():
            problem = expr._overflow(base)
            if problem is not None:
                joint = "." if isinstance(expr, Choice) else ": "
                raise ConfigError(f"{name}{joint}{problem}")

    def decode(self, unit: Any, logbase: float | str = "e") -> list[dict[str, Any]]:
        """Map points of the unit cube, shape ``(n, n_dims)``, to flat configurations.

        Parameters of options not chosen are absent; literals of a chosen option mapping
        appear under their dotted name.
        """
        rows = unit.tolist() if hasattr(unit, "tolist") else unit  # numpy: at C speed
        width = self._n_dims
        try:
            if any(len(row) != width for row in rows):
                raise TypeError
            dims = [list(map(float, column)) for column in zip(*rows, strict=True)]
        except (TypeError, ValueError):
            got = f"shape {unit.shape}" if hasattr(unit, "shape") else describe(unit)
            raise ValueError(f"decode expects an array of shape (n, {width}) of numbers in "
                             f"[0, 1) (got {got})") from None
        if not dims:
            return []
        base = parse_logbase(logbase)
        columns = [expr._decode(dims[s], base)
                   for expr, s in zip(self._params.values(), self._slices, strict=True)]
        names = tuple(self._params)
        if self._build is not None:
            return self._build(columns, *names)
        out = []
        for row in zip(*columns, strict=True):
            config: dict[str, Any] = {}
            for name, value in zip(names, row, strict=True):
                _flatten(name, value, config)
            out.append(config)
        return out

    def encode(self, configs: Sequence[Mapping[str, Any]],
               logbase: float | str = "e") -> np.ndarray:
        """Map flat configurations to the unit cube, shape ``(n, n_dims)``; inverse of decode.

        Dimensions of options not chosen are 0.5.
        """
        import numpy as np

        base = parse_logbase(logbase)
        out = np.empty((len(configs), self._n_dims))
        for (name, expr), s in zip(self._params.items(), self._slices, strict=True):
            values = [_unflatten(name, c) for c in configs]
            try:
                out[:, s] = expr._encode(values, base)
            except ConfigError as err:
                raise ConfigError(f"{name}: {err}") from None
        return out

    def grid(self) -> Iterator[dict[str, Any]]:
        """All configurations of an all-``choice`` space: Cartesian product in declaration
        order, last parameter fastest; options that are mappings expand their own choices.

        Raises :class:`ConfigError` (at once) naming the first parameter that is not a choice.

        Examples
        --------
        >>> from hypersweep.space import choice
        >>> list(SearchSpace({"a": choice(1, 2), "b": choice("x", "y")}).grid())[:2]
        [{'a': 1, 'b': 'x'}, {'a': 1, 'b': 'y'}]
        """
        return self._product(math.e, grid=True)

    def _enumerate(self, base: float) -> Iterator[dict[str, Any]]:
        """All configurations of a finite space (any discrete expressions), in grid order."""
        return self._product(base, grid=False)

    def _product(self, base: float, grid: bool) -> Iterator[dict[str, Any]]:
        columns = [_fragments(name, expr, base, grid) for name, expr in self._params.items()]
        return (dict(itertools.chain.from_iterable(c)) for c in itertools.product(*columns))

    def to_dict(self) -> dict[str, Any]:
        """The v2 YAML ``search_space`` mapping (see :mod:`hypersweep.space.serialize`)."""
        return {name: expression_to_dict(expr) for name, expr in self._params.items()}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SearchSpace:
        """Parse a v2 YAML ``search_space`` mapping; values may also be expressions.

        Examples
        --------
        >>> SearchSpace.from_dict({"lr": {"type": "uniform", "min_value": 0, "max_value": 1}})
        SearchSpace({'lr': uniform(0, 1)})
        """
        if isinstance(data, SearchSpace):
            return data
        if not isinstance(data, Mapping):
            raise ConfigError(f"search_space: expected a mapping of parameter names to "
                              f"expressions (got {describe(data)})")
        params = {}
        for name, value in data.items():
            check_key(name, "search_space")
            params[name] = expression_from_dict(value, name)
        return cls(params)

    def to_json(self) -> str:
        """JSON text of :meth:`to_dict`, for storage."""
        return json.dumps(self.to_dict())

    @classmethod
    def from_json(cls, text: str) -> SearchSpace:
        """Inverse of :meth:`to_json`."""
        try:
            data = json.loads(text)
        except (TypeError, ValueError) as err:
            raise ConfigError(f"search_space: invalid JSON ({err})") from None
        return cls.from_dict(data)
