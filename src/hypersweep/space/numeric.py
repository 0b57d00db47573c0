"""What the numeric expressions share: ``quantize(post(base_distribution(u)))``.

A numeric expression draws from a base distribution (uniform in [a, b], in
:mod:`.uniform_family`; normal(a, b), in :mod:`.normal_family`), optionally exponentiates it
(``log``) and optionally rounds it to multiples of ``q`` (``quantized``). `NumericExpression`
holds the parts that do not depend on the base distribution: argument checks, overflow
checks, decoding and encoding, and the lattice a quantized expression takes its values on.
Samplers ask for it by name.
Semantics follow Azure ML (``/work/shared/AZURE.md``): the bounds of the log expressions are
**exponents**, ``loguniform(-6, -1)`` lies in ``[e**-6, e**-1]``.
"""

from __future__ import annotations

import math
import sys
from abc import abstractmethod
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from hypersweep.errors import ConfigError
from hypersweep.space.expressions import Expression
from hypersweep.space.values import decimals, number

if TYPE_CHECKING:
    import numpy as np

__all__ = ["NumericExpression", "lattice_values"]

# Normal quantiles of u = 0 or 1 are infinite; clip u just inside the interval instead.
_U_EPS = 2.0**-53
# The largest |z| a normal expression ever draws (u clipped as above):
# math.nextafter(NormalDist().inv_cdf(1.0 - _U_EPS), math.inf), one step up because scipy's
# ndtri (model-based samplers) may differ from it in the last bit: a bound, never short.
# Written out, as tests/space checks: the statistics module costs a fresh import 1 ms.
_Z_MAX = 8.209536151601387
# The largest exponent x with e**x finite (709.78...).
_LOG_MAX = math.log(sys.float_info.max)
# Integer results must fit an int64 before they become Python ints.
_INT_LIMIT = 2**62


def _exp(x: float) -> float:
    """``e ** x``, infinite where it overflows (as numpy's ``exp`` gives it)."""
    try:
        return math.exp(x)
    except OverflowError:
        return math.inf


def _power_of_ten(n: int) -> float:
    # numpy's np.round(v, n) scales by this, built the same way (exact to 1e8, then times ten)
    if n < 9:
        return 10.0**n
    value = 1e9
    for _ in range(n - 9):
        value *= 10.0
    return value


def lattice_values(k: Sequence[float], q: int | float) -> list[Any]:
    """``k * q`` for lattice indices ``k`` (floats holding integers, or not finite): Python ints
    for an int ``q`` (infinite indices clip to the int64 range, NaN is 0), else floats rounded
    to q's decimals, so that ``3 * 0.1`` is ``0.3``.

    Examples
    --------
    >>> lattice_values([3.0, -1.0], 0.1), lattice_values([2.0, math.nan], 5)
    ([0.3, -0.1], [10, 0])
    """
    if isinstance(q, int):
        limit = _INT_LIMIT // q
        return [(0 if i != i else int(max(-limit, min(limit, i)))) * q for i in k]
    scale = _power_of_ten(decimals(q))
    out = []
    for i in k:
        v = i * q
        y = v * scale
        # np.round(v, decimals) + 0.0: round half to even at q's decimals; -0.0 becomes 0.0
        out.append(round(y) / scale + 0.0 if math.isfinite(y) else v)
    return out


def _quantize(x: Sequence[float], q: int | float) -> list[Any]:
    """``round(x / q) * q`` (half to even) as :func:`lattice_values` gives it."""
    k = []
    for v in x:
        t = v / q
        k.append(float(round(t)) if math.isfinite(t) else t)
    return lattice_values(k, q)


class NumericExpression(Expression):
    """A numeric expression: ``quantize(post(base_distribution(u)))``.

    Subclasses choose the base distribution (uniform in [a, b] or normal(a, b)), whether the
    result is exponentiated (``log``) and whether it is quantized (``q``).
    """

    __slots__ = ("_a", "_b", "_q")
    _a: int | float
    _b: int | float
    _q: Any
    log: ClassVar[bool] = False
    quantized: ClassVar[bool] = False

    def __init__(self, a: Any, b: Any, q: Any = None) -> None:
        names = self.arg_names
        a = number(a, names[0], self.kind)
        b = number(b, names[1], self.kind)
        if self.quantized:
            q = number(q, "q", self.kind)
            if q <= 0:
                raise ConfigError(f"{self.kind} expects q > 0 (got {q})")
            if isinstance(q, int) and q > _INT_LIMIT:  # its multiples must fit an int64
                raise ConfigError(f"{self.kind} expects an integer q <= 2**62 (got {q})")
        object.__setattr__(self, "_a", a)
        object.__setattr__(self, "_b", b)
        object.__setattr__(self, "_q", q)
        self._check(a, b)
        self.check_logbase(math.e)
        self._warn(a, b)

    def _check(self, a: int | float, b: int | float) -> None:
        raise NotImplementedError

    def _warn(self, a: int | float, b: int | float) -> None:
        """Warn about arguments that are valid but rarely meant (called after the checks)."""

    @property
    def args(self) -> tuple[Any, ...]:
        return (self._a, self._b, self._q) if self.quantized else (self._a, self._b)

    @property
    def q(self) -> int | float | None:
        """The quantization step, or ``None``."""
        return self._q

    @abstractmethod
    def _raw(self, u: np.ndarray) -> np.ndarray:
        """Base distribution: uniform in [a, b] or normal(a, b), before log and q (arrays)."""

    @abstractmethod
    def _raw_values(self, u: Sequence[float]) -> list[float]:
        """:meth:`_raw` of plain floats, without numpy (decoding)."""

    @abstractmethod
    def _raw_extremes(self) -> tuple[float, float]:
        """The least and greatest values :meth:`_raw` ever returns."""

    @abstractmethod
    def _exp_overflow(self, limit: float, base: str) -> str:
        """The message when the largest exponent exceeds ``limit`` (``base**x`` overflows)."""

    def _overflow(self, base: float) -> str | None:
        lo, hi = self._raw_extremes()
        if not self.log and not (math.isfinite(lo) and math.isfinite(hi)):
            return (f"{self.kind} expects |mu| + {_Z_MAX:.2f} * sigma to fit a float "
                    f"(got {self._args_text(2)})")
        if self.log:
            scale = math.log(base)
            if max(lo * scale, hi * scale) > _LOG_MAX:
                shown = "e" if base == math.e else f"{base:g}"
                return self._exp_overflow(_LOG_MAX / scale, shown)
            lo, hi = math.exp(lo * scale), math.exp(hi * scale)
        if self.quantized and not (math.isfinite(abs(lo) / self._q)
                                   and math.isfinite(abs(hi) / self._q)):
            return (f"{self.kind} expects value / q to fit a float for every value "
                        f"(got {self._args_text(3)})")
        return None

    def _args_text(self, count: int) -> str:
        return ", ".join(f"{n}={v}" for n, v in zip(self.arg_names[:count], self.args,
                                                    strict=False))

    @abstractmethod
    def _unraw(self, x: np.ndarray) -> np.ndarray:
        """Inverse of :meth:`_raw`."""

    def _decode(self, columns: Sequence[Sequence[float]], base: float) -> list[Any]:
        x = self._raw_values(columns[0])
        if self.log:
            scale = math.log(base)
            x = [_exp(v * scale) for v in x]
        return _quantize(x, self._q) if self.quantized else x

    def snap_to_lattice(self, unit: np.ndarray) -> np.ndarray:
        """``encode(decode(unit))`` of a quantized expression (natural log), vectorised: each
        unit point moved to the point of the lattice value it decodes to.

        Model-based samplers search the unit cube; snapping keeps them from telling apart
        points that are one configuration.

        Examples
        --------
        >>> from hypersweep.space import quniform
        >>> import numpy as np
        >>> quniform(0, 10, 5).snap_to_lattice(np.array([0.1, 0.3])).tolist()
        [0.0, 0.5]
        """
        import numpy as np

        with np.errstate(all="ignore"):
            v = self._raw(unit)
            if self.log:
                v = np.exp(v)
            v = np.rint(v / self._q) * self._q
            if self.log:
                v = np.log(v)
            back = self._unraw(v)
        return np.clip(np.nan_to_num(back, nan=0.0), 0.0, 1.0)

    def _encode(self, values: Sequence[Any], base: float) -> np.ndarray:
        import numpy as np

        x = np.array([number(v, "values", f"{self!r}.encode") for v in values], dtype=float)
        if self.log:
            with np.errstate(all="ignore"):
                x = np.log(x) / math.log(base)
        with np.errstate(all="ignore"):
            u = self._unraw(x)
        return np.clip(np.nan_to_num(u, nan=0.0), 0.0, 1.0).reshape(-1, 1)
