"""The pure-Python PCG64 stream draws numpy's numbers bit for bit, so random search proposes
what it did when numpy drew them, and the decoding without numpy matches numpy's arithmetic."""

from __future__ import annotations

import numpy as np
import pytest

from hypersweep import space as sp
from hypersweep.sampling import RandomParameterSampling
from hypersweep.space.stream import UnitStream

SEEDS = [0, 1, 2, 42, 2**31 - 1, 2**32 + 5, 2**70 + 3, 123456789]


@pytest.mark.parametrize("seed", SEEDS)
def test_draws_equal_numpys_default_rng(seed: int) -> None:
    assert UnitStream(seed).rows(7, 3) == np.random.default_rng(seed).random((7, 3)).tolist()


@pytest.mark.parametrize("entropy", [[1, 2, 1], [0, 0, 0], [5, 2**40, 1], [1, 2, 3, 4, 5, 6]])
def test_several_words_of_entropy_seed_as_a_seed_sequence_does(entropy: list[int]) -> None:
    expected = np.random.Generator(np.random.PCG64(np.random.SeedSequence(entropy)))
    assert UnitStream(entropy).rows(4, 2) == expected.random((4, 2)).tolist()


@pytest.mark.parametrize("delta", [0, 1, 999, 2**64 + 17])
def test_advance_jumps_as_pcg64_advance(delta: int) -> None:
    bits = np.random.PCG64(9)
    bits.advance(delta)
    stream = UnitStream(9)
    stream.advance(delta)
    assert stream.rows(3, 2) == np.random.Generator(bits).random((3, 2)).tolist()


def test_bounded_integers_equal_numpys_including_rejections() -> None:
    for seed in range(40):
        for high in (1, 2, 3, 7, 100, 2**31 + 11, 2**32):
            rng, stream = np.random.default_rng(seed), UnitStream(seed)
            assert [stream.integer(high) for _ in range(6)] == [
                int(rng.integers(high)) for _ in range(6)], (seed, high)
    with pytest.raises(ValueError, match="0 < high"):
        UnitStream(0).integer(0)


def test_a_bulk_draw_by_numpy_continues_the_same_stream() -> None:
    # Many rows at once go through numpy from the same state; what follows must not move.
    stream, expected = UnitStream(3), np.random.default_rng(3)
    stream.integer(10)  # leaves half of a 64-bit draw in the buffer
    expected.integers(10)
    assert stream.rows(1000, 5) == expected.random((1000, 5)).tolist()
    assert stream.integer(1000) == int(expected.integers(1000))
    assert stream.rows(2, 2) == expected.random((2, 2)).tolist()


SPACE = sp.SearchSpace({
    "u": sp.uniform(-3, 7), "q": sp.quniform(0, 10, 0.1), "qi": sp.quniform(-50, 50, 5),
    "lu": sp.loguniform(-6, 1), "qlu": sp.qloguniform(0, 6, 1), "n": sp.normal(2, 3),
    "qn": sp.qnormal(0, 1, 0.25), "ln": sp.lognormal(0, 1), "qln": sp.qlognormal(2, 0.5, 1),
    "r": sp.randint(9), "c": sp.choice("a", "b", "c"),
    "m": sp.choice({"k": "rbf", "C": sp.quniform(0, 10, 1)}, "linear"),
})


def _numpy_decode_of(expr: object, u: np.ndarray) -> list[object]:
    """What the numpy decoding gave, written out with numpy for the comparison."""
    from scipy.special import ndtri

    from hypersweep.space.values import decimals

    kind, args = expr.kind, expr.args  # type: ignore[attr-defined]
    if kind == "randint":
        return np.clip((u * args[0]).astype(np.int64), 0, args[0] - 1).tolist()
    a, b = args[:2]
    x = a + u * (b - a) if "uniform" in kind else a + b * ndtri(np.clip(u, 2.0**-53, 1 - 2.0**-53))
    if "log" in kind:
        x = np.exp(x)
    if kind.startswith("q"):
        q = args[2]
        k = np.rint(x / q)
        if isinstance(q, int):
            return (k.astype(np.int64) * q).tolist()
        return (np.round(k * q, decimals(q)) + 0.0).tolist()
    return x.tolist()


def test_the_arithmetic_decoding_equals_numpys_and_exp_and_quantiles_to_the_last_bits() -> None:
    u = np.random.default_rng(0).random(5000)
    for name in ("u", "q", "qi", "r", "lu", "qlu", "n", "qn", "ln", "qln"):
        got, want = SPACE[name].decode(u), _numpy_decode_of(SPACE[name], u)
        if name in ("u", "q", "qi", "r"):  # plain float arithmetic: bit for bit
            assert got == want and [type(v) for v in got] == [type(v) for v in want], name
        else:  # exp and the normal quantile differ from numpy's / scipy's in the last bits
            assert np.allclose(got, want, rtol=1e-14, atol=1e-13), name


def test_random_search_keeps_its_stream_across_calls_and_resumes() -> None:
    sampler = RandomParameterSampling(SPACE, seed=11)
    at_once = sampler.preview(12)
    in_parts = sampler.propose(5) + sampler.propose(7, [], at_once[:5])
    assert in_parts == at_once
    fresh = RandomParameterSampling(SPACE, seed=11)
    assert fresh.propose(3, [], at_once[:9]) == at_once[9:]  # a resumed sweep goes on


def test_the_written_out_bound_on_normal_draws_is_the_clipped_quantile_stepped_up() -> None:
    import math
    from statistics import NormalDist

    from hypersweep.space.numeric import _U_EPS, _Z_MAX

    assert math.nextafter(NormalDist().inv_cdf(1.0 - _U_EPS), math.inf) == _Z_MAX
    assert max(sp.normal(0, 1).decode([0.0, 1.0 - 2.0**-60]), key=abs) == pytest.approx(-_Z_MAX)
