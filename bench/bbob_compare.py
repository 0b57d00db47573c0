"""Paired comparison of two ``bench_bbob.py --json`` runs of the same sampler: is a change real?

The goal table of ``bench_bbob.py`` counts functions where a median over 12 seeds is lowest;
many functions sit within 10% of the best peer, and a change that does nothing moved that count
by one or two (and moved a function above or below random) between two machines. This compares
run against run, seed by seed: every (function, seed) pair ran the same BBOB instance in both
files, so the log10 ratio of the two regrets at a budget is one paired sample, and their mean
over all pairs, with its standard error, says whether the change helps (< 0), hurts (> 0), or
cannot be told from zero (|mean| under two standard errors).

Printed per dimension and budget: the mean paired log10 ratio ± its standard error and as a
factor, how many pairs got better or worse, the same per function group, and the functions whose
own mean moved by more than two standard errors (of 24 functions about one does so by chance
alone). Regrets are floored at 1e-8 as in the goal table.

Run::

    python bench/bench_bbob.py --methods gp --dims 5 --seeds 12 --json /tmp/before.json
    # ... change the sampler ...
    python bench/bench_bbob.py --methods gp --dims 5 --seeds 12 --json /tmp/after.json
    python bench/bbob_compare.py /tmp/before.json /tmp/after.json [--method gp]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_bbob import GROUPS, group_of, log_ratio, mean_and_error

Runs = dict[tuple[int, int, int], list[float]]  # (function, dimension, seed) -> regret curve


def load_runs(path: str, method: str) -> tuple[Runs, list[int]]:
    """The regret curves of ``method`` in a ``bench_bbob.py --json`` file, and its budgets."""
    data = json.loads(Path(path).read_text())
    runs = {(c["function"], c["dim"], c["seed"]): c["regret"]
            for c in data["curves"] if c["method"] == method}
    return runs, list(data["budgets"])


def paired_logs(before: Runs, after: Runs, budget: int,
                keep: set[tuple[int, int, int]]) -> list[float]:
    """log10(after / before) at ``budget`` for each pair in ``keep`` that both ran that long."""
    logs = (log_ratio(before[key], after[key], budget) for key in sorted(keep))
    return [r for r in logs if r is not None]


def describe(logs: list[float]) -> str:
    """``mean ± SE (xfactor), better/worse of n``; a '*' where |mean| > 2 SE."""
    if len(logs) < 2:
        return "too few pairs"
    mean, se = mean_and_error(logs)
    mark = "*" if abs(mean) > 2 * se else " "
    better, worse = sum(x < 0 for x in logs), sum(x > 0 for x in logs)
    return (f"{mean:+.3f} ± {se:.3f}{mark} (x{10 ** mean:.2f}), better {better} / worse "
            f"{worse} of {len(logs)}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", help="bench_bbob.py --json file of the reference run")
    parser.add_argument("after", help="bench_bbob.py --json file of the changed run")
    parser.add_argument("--method", default="gp", help="the method compared (default gp)")
    args = parser.parse_args(argv)
    before, budgets = load_runs(args.before, args.method)
    after, _ = load_runs(args.after, args.method)
    common = set(before) & set(after)
    if not common:
        print(f"no (function, dimension, seed) run of {args.method!r} in both files")
        return 1
    print(f"{args.method}: log10(after / before) of the regret, paired by function and seed "
          f"(< 0: the change helps; * where |mean| > 2 standard errors)")
    for dim in sorted({d for _, d, _ in common}):
        for budget in budgets:
            in_dim = {k for k in common if k[1] == dim}
            overall = describe(paired_logs(before, after, budget, in_dim))
            print(f"\nd{dim}, {budget} trials: {overall}")
            for group, fids in GROUPS.items():
                keys = {k for k in in_dim if k[0] in fids}
                if keys:
                    print(f"  {group:<15} {describe(paired_logs(before, after, budget, keys))}")
            moved = []
            for fid in sorted({k[0] for k in in_dim}):
                logs = paired_logs(before, after, budget, {k for k in in_dim if k[0] == fid})
                if len(logs) >= 2:
                    mean, se = mean_and_error(logs)
                    if abs(mean) > 2 * se:
                        moved.append(f"f{fid} ({group_of(fid)}) x{10 ** mean:.2f}")
            print("  functions moved beyond 2 SE: " + (", ".join(moved) or "none"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
