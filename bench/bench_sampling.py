"""How long sampling 100,000 configurations of a 10-parameter mixed space takes.

Each time is also given as a ratio to plain numpy doing the same arithmetic on a
``(100000, 10)`` array (``rng.random`` plus the same inverse-CDF transforms), in this
process, so the numbers mean something on any machine. Building 100,000 dicts is the part
no sampler can avoid; the ratio shows what the rest costs.

Run: ``python bench/bench_sampling.py``
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from scipy.special import ndtri

from hypersweep.sampling import RandomParameterSampling
from hypersweep.space import (
    SearchSpace,
    choice,
    lognormal,
    loguniform,
    normal,
    qlognormal,
    qloguniform,
    qnormal,
    quniform,
    randint,
    uniform,
)

N = 100_000
SPACE = SearchSpace(
    {
        "optimizer": choice("adam", "sgd", "rmsprop"),
        "layers": randint(8),
        "dropout": uniform(0.0, 0.5),
        "width": quniform(16, 512, 16),
        "lr": loguniform(-9, -2),
        "batch": qloguniform(3, 8, 1),
        "momentum": normal(0.9, 0.05),
        "warmup": qnormal(100, 20, 10),
        "weight_decay": lognormal(-8, 1),
        "steps": qlognormal(8, 0.5, 100),
    }
)


def numpy_baseline() -> Any:
    """The same draws and transforms in bare numpy, returning arrays (no dicts)."""
    u = np.random.default_rng(0).random((N, 10))
    options = np.array(["adam", "sgd", "rmsprop"], dtype=object)
    z = ndtri(np.clip(u, 2.0**-53, 1 - 2.0**-53))
    return [
        options[(u[:, 0] * 3).astype(np.int64)],
        (u[:, 1] * 8).astype(np.int64),
        0.5 * u[:, 2],
        np.rint((16 + 496 * u[:, 3]) / 16) * 16,
        np.exp(-9 + 7 * u[:, 4]),
        np.rint(np.exp(3 + 5 * u[:, 5])),
        0.9 + 0.05 * z[:, 6],
        np.round(np.rint((100 + 20 * z[:, 7]) / 10) * 10, 0),
        np.exp(-8 + z[:, 8]),
        np.rint(np.exp(8 + 0.5 * z[:, 9]) / 100) * 100,
    ]


def best_of(fn: Callable[[], Any], repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    random = RandomParameterSampling(SPACE, seed=0)
    sobol = RandomParameterSampling(SPACE, seed=0, rule="sobol")
    assert len(random.preview(N)) == N and math.isfinite(random.preview(1)[0]["lr"])
    base = best_of(numpy_baseline)
    rows = [("numpy baseline (arrays)", base)]
    rows.append(("random, 100k configs", best_of(lambda: random.preview(N))))
    rows.append(("sobol, 100k configs", best_of(lambda: sobol.preview(N))))
    columns = [c.tolist() for c in numpy_baseline()]
    names = list(SPACE)
    rows.append(("dicts alone (unavoidable)", best_of(
        lambda: [dict(zip(names, row, strict=True)) for row in zip(*columns, strict=True)])))
    print(f"{N:,} configurations of a 10-parameter mixed space (best of 5)")
    for label, seconds in rows:
        print(f"  {label:<26} {seconds * 1000:8.1f} ms   ratio {seconds / base:5.2f}")


if __name__ == "__main__":
    main()
