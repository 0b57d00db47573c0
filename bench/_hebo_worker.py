"""One HEBO run on one BBOB problem, for bench_bbob.py, in HEBO's own interpreter.

HEBO 0.3.6 pins numpy<1.25, so it cannot share hypersweep's environment: bench_bbob.py runs
``<hebo python> bench/_hebo_worker.py FID DIM INSTANCE SEED BUDGET`` and reads the last
line of stdout, ``{"values": [f of each trial], "seconds": sampler seconds}``. Seeds numpy,
torch and random from SEED, so a run is deterministic. Imports nothing of hypersweep.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import json  # noqa: E402
import random  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402


def main(argv: list[str]) -> int:
    fid, dim, instance, seed, budget = (int(a) for a in argv)
    import cocoex
    import numpy as np
    import torch
    from hebo.design_space.design_space import DesignSpace
    from hebo.optimizers.hebo import HEBO

    torch.set_num_threads(1)
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    suite = cocoex.Suite("bbob", "", f"function_indices:{fid} dimensions:{dim} "
                                     f"instance_indices:{instance}")
    problem = next(iter(suite))
    names = [f"x{i:02d}" for i in range(dim)]
    space = DesignSpace().parse([{"name": n, "type": "num", "lb": -5.0, "ub": 5.0}
                                 for n in names])
    opt = HEBO(space, scramble_seed=seed)
    values: list[float] = []
    spent = 0.0
    while len(values) < budget:
        start = time.perf_counter()
        rec = opt.suggest(n_suggestions=1)
        spent += time.perf_counter() - start
        f = float(problem(rec[names].to_numpy(dtype=float)[0]))
        start = time.perf_counter()
        opt.observe(rec, np.array([[f]]))
        spent += time.perf_counter() - start
        values.append(f)
    print(json.dumps({"values": values, "seconds": spent}))
    return 0


if __name__ == "__main__":
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sys.exit(main(sys.argv[1:]))
