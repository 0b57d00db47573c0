"""numpy's PCG64 stream of uniform floats, in pure Python: random search without numpy.

Random search and :meth:`Expression.sample` draw their unit points from PCG64 seeded the way
``np.random.PCG64(seed)`` and ``np.random.default_rng(seed)`` seed it (a ``SeedSequence`` of
the seed). Doing the same in Python gives the same numbers bit for bit, so a sweep proposes
what it always did, while a random sweep never imports numpy: importing numpy is about 40 ms,
more than `tune` spends on a hundred trials. A draw costs about a microsecond; random search
draws a handful per trial.

The algorithms are numpy's (``numpy/random/bit_generator.pyx``, ``pcg64.h``): O'Neill's
``seed_seq_fe`` hashing for the seed, the 128-bit LCG with the XSL-RR output for the stream,
53 high bits for a double, and Lemire's method for a bounded integer. tests/space checks them
against numpy.

Examples
--------
>>> stream = UnitStream(1)
>>> row = stream.rows(1, 2)[0]
>>> import numpy as np
>>> row == np.random.default_rng(1).random((1, 2))[0].tolist()
True
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["UnitStream"]

_MASK32 = 0xFFFF_FFFF
_MASK64 = 0xFFFF_FFFF_FFFF_FFFF
_MASK128 = (1 << 128) - 1
_MULTIPLIER = 0x2360_ED05_1FC6_5DA4_4385_DF64_9FCC_F645  # PCG's 128-bit default
# seed_seq_fe's constants, as numpy's SeedSequence spells them
_INIT_A, _MULT_A = 0x43B0_D7E5, 0x931E_8875
_INIT_B, _MULT_B = 0x8B51_F9DD, 0x58F3_8DED
_MIX_MULT_L, _MIX_MULT_R = 0xCA01_F9DD, 0x4973_F715
_POOL_SIZE = 4
_DOUBLE_UNIT = 1.0 / 9007199254740992.0  # 2**-53
_BULK = 4096  # from this many floats at once, numpy draws them (the same numbers)


def _words(value: int) -> list[int]:
    """A non-negative int as 32-bit words, least significant first (0 is one word)."""
    if value < 0:
        raise ValueError(f"seed entropy must be non-negative (got {value})")
    words = [value & _MASK32]
    value >>= 32
    while value:
        words.append(value & _MASK32)
        value >>= 32
    return words


def _seed_words(entropy: int | Sequence[int], n_words: int) -> list[int]:
    """``SeedSequence(entropy).generate_state(n_words, np.uint32)``."""
    data = _words(entropy) if isinstance(entropy, int) else [w for e in entropy
                                                             for w in _words(int(e))]
    hash_const = _INIT_A

    def hashmix(value: int) -> int:
        nonlocal hash_const
        value ^= hash_const
        hash_const = (hash_const * _MULT_A) & _MASK32
        value = (value * hash_const) & _MASK32
        return value ^ (value >> 16)

    def mix(x: int, y: int) -> int:
        result = (_MIX_MULT_L * x - _MIX_MULT_R * y) & _MASK32
        return result ^ (result >> 16)

    pool = [hashmix(data[i] if i < len(data) else 0) for i in range(_POOL_SIZE)]
    for i_src in range(_POOL_SIZE):
        for i_dst in range(_POOL_SIZE):
            if i_src != i_dst:
                pool[i_dst] = mix(pool[i_dst], hashmix(pool[i_src]))
    for word in data[_POOL_SIZE:]:
        for i_dst in range(_POOL_SIZE):
            pool[i_dst] = mix(pool[i_dst], hashmix(word))
    out, hash_const = [], _INIT_B
    for i in range(n_words):
        value = pool[i % _POOL_SIZE] ^ hash_const
        hash_const = (hash_const * _MULT_B) & _MASK32
        value = (value * hash_const) & _MASK32
        out.append(value ^ (value >> 16))
    return out


def _output(state: int) -> int:
    """PCG64's output of a 128-bit LCG state: XSL-RR (xor the halves, rotate by the top 6
    bits)."""
    value = ((state >> 64) ^ state) & _MASK64
    rotation = state >> 122
    return ((value >> rotation) | (value << (64 - rotation))) & _MASK64


class UnitStream:
    """Uniform floats in [0, 1) from PCG64, the same as ``np.random.default_rng(entropy)``.

    Parameters
    ----------
    entropy : int or sequence of int
        What ``np.random.SeedSequence`` would take: a seed, or several (``[seed, k, 1]``).

    Examples
    --------
    >>> stream = UnitStream([7, 3, 1])
    >>> stream.advance(10)
    >>> 0.0 <= stream.random() < 1.0
    True
    """

    __slots__ = ("_half", "_increment", "_state")

    def __init__(self, entropy: int | Sequence[int]) -> None:
        w = _seed_words(entropy, 8)
        # generate_state(4, uint64) viewed as four little-endian 64-bit words
        seed = ((w[1] << 96) | (w[0] << 64) | (w[3] << 32) | w[2])
        sequence = ((w[5] << 96) | (w[4] << 64) | (w[7] << 32) | w[6])
        self._increment = ((sequence << 1) | 1) & _MASK128
        self._state = 0
        self._step()
        self._state = (self._state + seed) & _MASK128
        self._step()
        self._half: int | None = None  # the unused upper half of a 64-bit draw (32-bit draws)

    def _step(self) -> None:
        self._state = (self._state * _MULTIPLIER + self._increment) & _MASK128

    def _next64(self) -> int:
        self._step()
        return _output(self._state)

    def advance(self, delta: int) -> None:
        """Skip ``delta`` 64-bit draws (``PCG64.advance``): one float is one draw."""
        # The LCG's jump ahead: compose x -> m x + c with itself, by the bits of delta.
        multiplier, increment = _MULTIPLIER, self._increment
        acc_mult, acc_plus = 1, 0
        delta &= _MASK128
        while delta:
            if delta & 1:
                acc_mult = (acc_mult * multiplier) & _MASK128
                acc_plus = (acc_plus * multiplier + increment) & _MASK128
            increment = ((multiplier + 1) * increment) & _MASK128
            multiplier = (multiplier * multiplier) & _MASK128
            delta >>= 1
        self._state = (acc_mult * self._state + acc_plus) & _MASK128
        self._half = None

    def random(self) -> float:
        """The next float in [0, 1) (``Generator.random()``)."""
        return (self._next64() >> 11) * _DOUBLE_UNIT

    def rows(self, n: int, d: int) -> list[list[float]]:
        """The next ``n * d`` floats as ``n`` rows (``Generator.random((n, d)).tolist()``)."""
        if n * d >= _BULK:
            return self._rows_by_numpy(n, d)
        # `random` with the LCG's step inline and the state in a local: random search draws
        # every trial's floats here, and three calls a float were most of a draw's cost.
        state, increment = self._state, self._increment
        rows = []
        for _ in range(n):
            row = []
            for _ in range(d):
                state = (state * _MULTIPLIER + increment) & _MASK128
                row.append((_output(state) >> 11) * _DOUBLE_UNIT)
            rows.append(row)
        self._state = state
        return rows

    def _rows_by_numpy(self, n: int, d: int) -> list[list[float]]:
        # Many rows at once (a preview, a sample): numpy's PCG64 from this very state draws
        # the same numbers 50x faster, and the state comes back to go on from.
        import numpy as np

        bits = np.random.PCG64(0)
        bits.state = {"bit_generator": "PCG64",
                      "state": {"state": self._state, "inc": self._increment},
                      "has_uint32": int(self._half is not None), "uinteger": self._half or 0}
        rows: list[list[float]] = np.random.Generator(bits).random((n, d)).tolist()
        state = bits.state
        self._state = int(state["state"]["state"])
        self._half = int(state["uinteger"]) if state["has_uint32"] else None
        return rows

    def _next32(self) -> int:
        if self._half is not None:
            value, self._half = self._half, None
            return value
        value = self._next64()
        self._half = value >> 32
        return value & _MASK32

    def integer(self, high: int) -> int:
        """An int in ``[0, high)`` (``Generator.integers(high)``, for high < 2**32).

        Examples
        --------
        >>> import numpy as np
        >>> UnitStream(5).integer(10) == int(np.random.default_rng(5).integers(10))
        True
        """
        if not 0 < high <= 1 << 32:
            raise ValueError(f"integer expects 0 < high <= 2**32 (got {high})")
        if high == 1:
            return 0
        # Lemire's multiply-and-reject on 32-bit draws, as numpy's buffered bounded path
        product = self._next32() * high
        if (product & _MASK32) < high:
            threshold = (_MASK32 - (high - 1)) % high
            while (product & _MASK32) < threshold:
                product = self._next32() * high
        return product >> 32
