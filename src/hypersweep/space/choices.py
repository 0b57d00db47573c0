"""The discrete expressions: ``choice`` (including nested option mappings) and ``randint``."""

from __future__ import annotations

import itertools
import numbers
import sys
import types
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from hypersweep.errors import ConfigError
from hypersweep.space.expressions import Expression
from hypersweep.space.values import canon, check_key, describe, literal

if TYPE_CHECKING:
    import numpy as np

# Beyond 2**53 a float u * upper can no longer reach every integer below upper.
_RANDINT_LIMIT = 2**53


def _indices(column: Sequence[float], n: int) -> list[int]:
    """``floor(u * n)`` kept inside ``0 .. n-1`` (``u`` near 1 may round up to ``n``; NaN is 0)."""
    top = n - 1
    return [0 if not (k := u * n) >= 1.0 else top if k >= n else int(k) for u in column]


def _option(value: Any) -> Any:
    """Validate one ``choice`` option; a mapping becomes a read-only mapping."""
    if not isinstance(value, Mapping):
        return literal(value, "choice")
    if not value:
        raise ConfigError("choice expects option mappings to be non-empty (got {})")
    frozen: dict[str, Any] = {}
    for key, item in value.items():
        check_key(key, "choice")
        if isinstance(item, Mapping):
            # A plain mapping here would be ambiguous with the YAML form of an expression.
            raise ConfigError(f"choice expects the values of an option mapping to be "
                              f"expressions or literals (got a mapping for {describe(key)}); "
                              "nest mappings with choice()")
        frozen[key] = item if isinstance(item, Expression) else literal(item, f"choice ({key})")
    return types.MappingProxyType(frozen)


class Choice(Expression):
    """``choice(*options)``: one of the options, uniformly.

    An option may be a mapping of names to expressions or literals; its sampled value is a
    dict, and a :class:`~hypersweep.space.SearchSpace` flattens it to dotted names.
    The options must be distinct (``1``, ``1.0``, ``True`` and ``"1"`` are all distinct).

    Unit-cube layout: one dimension picks the option (``floor(u * len(options))``), followed
    by the dimensions of every expression inside every mapping option, in order.
    """

    __slots__ = ("_n_dims", "_nested", "_options")
    _n_dims: int
    _nested: tuple[tuple[int, list[tuple[str, Any, int, int]]], ...]
    _options: tuple[Any, ...]
    kind = "choice"
    arg_names = ("values",)

    def __init__(self, options: Sequence[Any]) -> None:
        opts = tuple(_option(o) for o in options)
        if not opts:
            raise ConfigError("choice expects at least one option (got none)")
        seen: set[Any] = set()
        for o in opts:
            key = canon(o)
            if key in seen:
                raise ConfigError(f"choice expects distinct options (got {describe(o)} twice)")
            seen.add(key)
        # For each mapping option: (index, [(key, expression or literal, start, stop)]).
        nested, dims = [], 1
        for i, o in enumerate(opts):
            if isinstance(o, Mapping):
                items = []
                for key, item in o.items():
                    width = item.n_dims if isinstance(item, Expression) else 0
                    items.append((key, item, dims, dims + width))
                    dims += width
                nested.append((i, items))
        object.__setattr__(self, "_options", opts)
        object.__setattr__(self, "_nested", tuple(nested))
        object.__setattr__(self, "_n_dims", dims)

    @property
    def options(self) -> tuple[Any, ...]:
        """The options; mapping options are read-only mappings."""
        return self._options

    def __reduce__(self) -> tuple[Any, ...]:
        # One argument, the options; read-only mappings travel as dicts.
        return Choice, (tuple(dict(o) if isinstance(o, Mapping) else o for o in self._options),)

    @property
    def args(self) -> tuple[Any, ...]:
        return self._options

    @property
    def has_mappings(self) -> bool:
        """Whether some option is a mapping (a nested search space)."""
        return bool(self._nested)

    @property
    def n_dims(self) -> int:
        return self._n_dims

    @property
    def is_finite(self) -> bool:
        return all(
            item.is_finite for _, items in self._nested for _, item, _, _ in items
            if isinstance(item, Expression)
        )

    def _cardinality(self, base: float) -> int | None:
        total = 0
        for o in self._options:
            if not isinstance(o, Mapping):
                total += 1
                continue
            count = 1
            for item in o.values():
                if isinstance(item, Expression):
                    inner = item._cardinality(base)
                    if inner is None:
                        return None
                    count *= inner
            total += count
        return total

    def _values(self, base: float) -> list[Any]:
        out: list[Any] = []
        for o in self._options:
            if not isinstance(o, Mapping):
                out.append(o)
                continue
            columns = [item._values(base) if isinstance(item, Expression) else [item]
                       for item in o.values()]
            combos = itertools.product(*columns)
            out.extend(dict(zip(o.keys(), combo, strict=True)) for combo in combos)
        return out

    def _overflow(self, base: float) -> str | None:
        for _, items in self._nested:
            for key, item, _, _ in items:
                problem = item._overflow(base) if isinstance(item, Expression) else None
                if problem is not None:
                    # "key: ..." for a leaf, "key.inner: ..." through a nested choice
                    return f"{key}{'.' if isinstance(item, Choice) else ': '}{problem}"
        return None

    def _decode(self, columns: Sequence[Sequence[float]], base: float) -> list[Any]:
        index = _indices(columns[0], len(self._options))
        options = self._options
        out: list[Any] = [options[i] for i in index]
        for i, items in self._nested:
            rows = [row for row, k in enumerate(index) if k == i]
            if not rows:
                continue
            keys = [key for key, _, _, _ in items]
            values = [
                item._decode([[column[r] for r in rows] for column in columns[start:stop]], base)
                if isinstance(item, Expression) else [item] * len(rows)
                for _, item, start, stop in items
            ]
            for row, row_values in zip(rows, zip(*values, strict=True), strict=True):
                out[row] = dict(zip(keys, row_values, strict=True))
        return out

    def _find(self, value: Any) -> int:
        if isinstance(value, Mapping):
            for i, o in enumerate(self._options):
                if isinstance(o, Mapping) and set(o) == set(value) and all(
                    isinstance(item, Expression) or canon(item) == canon(value[key])
                    for key, item in o.items()
                ):
                    return i
        else:
            key = canon(value)
            for i, o in enumerate(self._options):
                if not isinstance(o, Mapping) and canon(o) == key:
                    return i
        raise ConfigError(f"{describe(self)}: {describe(value)} is not one of the options")

    def _encode(self, values: Sequence[Any], base: float) -> np.ndarray:
        import numpy as np

        out = np.full((len(values), self.n_dims), 0.5)
        nested = dict(self._nested)
        for row, value in enumerate(values):
            i = self._find(value)
            out[row, 0] = (i + 0.5) / len(self._options)
            for key, item, start, stop in nested.get(i, ()):
                if isinstance(item, Expression):
                    out[row, start:stop] = item._encode([value[key]], base)[0]
        return out

    def _key(self) -> tuple[Any, ...]:
        return (self.kind, tuple(canon(o) for o in self._options))

    def __repr__(self) -> str:
        shown = (repr(dict(o)) if isinstance(o, Mapping) else repr(o) for o in self._options)
        return f"choice({', '.join(shown)})"


class RandInt(Expression):
    """``randint(upper)``: an integer in ``[0, upper)`` — ``upper`` is exclusive."""

    __slots__ = ("_upper",)
    _upper: int
    kind = "randint"
    arg_names = ("upper",)

    def __init__(self, upper: Any) -> None:
        if isinstance(upper, numbers.Integral) and not isinstance(upper, bool):
            upper = int(upper)  # a numpy integer
        if isinstance(upper, bool) or not isinstance(upper, int) or upper < 1:
            raise ConfigError(f"randint expects upper to be a positive int (got {describe(upper)})")
        if upper > _RANDINT_LIMIT:
            raise ConfigError(f"randint expects upper <= 2**53 (got {upper})")
        object.__setattr__(self, "_upper", upper)

    @property
    def upper(self) -> int:
        """The exclusive upper bound."""
        return self._upper

    @property
    def args(self) -> tuple[Any, ...]:
        return (self._upper,)

    @property
    def is_finite(self) -> bool:
        return True

    def _cardinality(self, base: float) -> int | None:
        return self._upper

    def _values(self, base: float) -> list[Any]:
        return list(range(self._upper))

    def _decode(self, columns: Sequence[Sequence[float]], base: float) -> list[Any]:
        return _indices(columns[0], self._upper)

    def _encode(self, values: Sequence[Any], base: float) -> np.ndarray:
        out = []
        for v in values:
            if isinstance(v, bool) or not isinstance(v, numbers.Integral):
                raise ConfigError(f"{describe(self)}: expected an int (got {describe(v)})")
            out.append((min(max(int(v), 0), self._upper - 1) + 0.5) / self._upper)
        import numpy as np

        return np.array(out, dtype=float).reshape(-1, 1)


def choice(*options: Any) -> Choice:
    """One of ``options``, uniformly; a single list, tuple or ``range`` gives the options.

    Options are ``str``, ``int``, ``float``, ``bool``, ``None``, or a mapping of names to
    expressions or literals (a nested space; its value is a dict). Lists as options are
    refused: a value must travel as one command-line argument.

    Examples
    --------
    >>> choice(16, 32, 64)
    choice(16, 32, 64)
    >>> choice(range(3))
    choice(0, 1, 2)
    >>> from hypersweep.space import quniform
    >>> choice({"kernel": "rbf", "C": quniform(0, 10, 1)}, "linear").sample(2, seed=2)
    [{'kernel': 'rbf', 'C': 3}, 'linear']
    """
    numpy = sys.modules.get("numpy")  # an array means numpy is imported already
    arrays = (numpy.ndarray,) if numpy is not None else ()
    if len(options) == 1 and isinstance(options[0], (list, tuple, range, *arrays)):
        first: Any = options[0]
        options = tuple(first.tolist() if isinstance(first, arrays) else first)
    return Choice(options)


def randint(upper: int) -> RandInt:
    """An integer in ``[0, upper)``.

    Examples
    --------
    >>> randint(5).sample(4, seed=0)
    [3, 1, 0, 0]
    """
    return RandInt(upper)
