"""bench/bench_bbob.py runs end to end on a tiny BBOB run and prints and saves its tables."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

pytest.importorskip("cocoex")  # the BBOB suite: the `bench` extra (coco-experiment)

SCRIPT = Path(__file__).resolve().parents[1] / "bench" / "bench_bbob.py"


@pytest.fixture
def bench_bbob(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """The bench module, imported as a script's sibling would import it."""
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        monkeypatch.setenv(var, "1")  # what the import would set for the rest of the session
    monkeypatch.syspath_prepend(str(SCRIPT.parent))
    return importlib.import_module("bench_bbob")


@pytest.mark.slow
def test_a_tiny_run_prints_and_saves_the_tables(tmp_path: Path) -> None:
    out = tmp_path / "bbob.json"
    run = subprocess.run(
        [sys.executable, str(SCRIPT), "--functions", "1", "--dims", "2", "--seeds", "1",
         "--budgets", "3,5", "--methods", "random,gp", "--jobs", "1", "--no-timing",
         "--json", str(out)],
        capture_output=True, text=True, check=False, cwd=tmp_path,
        env={**os.environ, "OMP_NUM_THREADS": "1"}, timeout=300)
    assert run.returncode == 0, run.stderr
    for heading in ("Per function", "Per group", "lowest median regret",
                    "Never worse than random", "Worst group ratio"):
        assert heading in run.stdout
    saved = json.loads(out.read_text())
    [gp] = [c for c in saved["curves"] if c["method"] == "gp"]
    assert (gp["function"], gp["dim"], gp["seed"], gp["instance"]) == (1, 2, 0, 1)
    assert len(gp["regret"]) == 5
    assert gp["regret"] == sorted(gp["regret"], reverse=True)  # best so far never worsens
    assert min(gp["regret"]) >= 0.0
    assert "separable d2 b5" in saved["summary"]["groups"]


def test_the_optimum_is_the_value_at_the_known_minimiser(bench_bbob: ModuleType) -> None:
    # BBOB's f_opt values are rounded to hundredths (Hansen et al. 2009).
    f_opt = bench_bbob.optimum(1, 2, 1)
    assert round(f_opt, 2) == pytest.approx(f_opt, abs=1e-9)
    assert bench_bbob.instance_of(0) == 1 and bench_bbob.instance_of(15) == 1


def test_a_cached_peer_run_is_reused_and_ours_is_run_again(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    args = [sys.executable, str(SCRIPT), "--functions", "1", "--dims", "2", "--seeds", "1",
            "--budgets", "3,5", "--methods", "random,sobol,tpe", "--jobs", "1", "--no-timing",
            "--cache", str(cache)]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    runs = [subprocess.run([*args, "--json", str(tmp_path / f"{i}.json")], capture_output=True,
                           text=True, check=False, cwd=tmp_path, env=env, timeout=300)
            for i in range(2)]
    assert [r.returncode for r in runs] == [0, 0], runs[0].stderr + runs[1].stderr
    assert "0 peer runs reused, 2 run and stored" in runs[0].stdout
    assert "2 peer runs reused, 0 run and stored" in runs[1].stdout
    lines = (cache / "peers.jsonl").read_text().splitlines()
    assert sorted(json.loads(line)["key"][0] for line in lines) == ["random", "sobol"]
    first, second = (json.loads((tmp_path / f"{i}.json").read_text()) for i in range(2))
    assert first["curves"] == second["curves"]  # a cached run is the run
    tables = [r.stdout[r.stdout.index("Per function"):r.stdout.index("Mean sampler")]
              for r in runs]
    assert tables[0] == tables[1]


def test_the_cache_skips_a_torn_line_and_keys_by_version(tmp_path: Path,
                                                        bench_bbob: ModuleType) -> None:
    job = ("random", 3, 5, 2, 100, 1.5, "")
    bench_bbob.write_cache(tmp_path, job, [2.0, 1.0], 0.25)
    with open(tmp_path / bench_bbob.CACHE_FILE, "a") as out:
        out.write('{"key": ["sobol", 3, 5, 2, 1')  # a run killed while writing
    stored = bench_bbob.read_cache(tmp_path)
    assert stored == {bench_bbob.cache_key(job): ([2.0, 1.0], 0.25)}
    assert "hypersweep" in bench_bbob.peer_version("random")
    assert bench_bbob.cache_key(("random", 3, 5, 2, 50, 1.5, "")) not in stored  # other length


def _saved_run(path: Path, regret_at_2: dict[tuple[int, int], float]) -> None:
    curves = [{"method": "gp", "function": f, "dim": 5, "seed": s, "instance": 1 + s,
               "regret": [10.0, value]} for (f, s), value in regret_at_2.items()]
    path.write_text(json.dumps({"budgets": [2], "curves": curves}))


def test_the_paired_comparison_finds_a_real_change_and_not_noise(tmp_path: Path) -> None:
    seeds = range(6)
    _saved_run(tmp_path / "before.json", {(f, s): 5.0 for f in (1, 15) for s in seeds})
    # f1: ten times better on every seed; f15: +-10% around the same, a change of nothing
    _saved_run(tmp_path / "after.json", {**{(1, s): 0.5 for s in seeds},
                                         **{(15, s): 5.0 * (1.1 if s % 2 else 1 / 1.1)
                                            for s in seeds}})
    run = subprocess.run(
        [sys.executable, str(SCRIPT.with_name("bbob_compare.py")), str(tmp_path / "before.json"),
         str(tmp_path / "after.json")], capture_output=True, text=True, check=False,
        timeout=120)
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    [moved] = [line for line in lines if "functions moved beyond 2 SE" in line]
    assert "f1 (separable) x0.10" in moved and "f15" not in moved
    [multi] = [line for line in lines if line.strip().startswith("multi-adequate")]
    assert "x1.00" in multi and "better 3 / worse 3 of 6" in multi
    assert any(line.startswith("d5, 2 trials:") and "of 12" in line for line in lines)


def test_a_median_above_random_carries_the_seed_by_seed_comparison(
        bench_bbob: ModuleType, capsys: pytest.CaptureFixture[str]) -> None:
    # f23: the GP's median is above random's, but seed by seed it is as often better as worse
    gp = {0: [10.0, 4.0], 1: [10.0, 5.0], 2: [10.0, 2.0], 3: [10.0, 6.0]}
    random = {0: [10.0, 5.0], 1: [10.0, 4.0], 2: [10.0, 3.0], 3: [10.0, 4.5]}
    curves = {("gp", 23, 5): gp, ("tpe", 23, 5): random, ("random", 23, 5): random}
    summary = bench_bbob.summarise(curves, ["gp", "tpe", "random"], [23], [5], (2,))
    assert summary["worse_than_random"]["gp"] == ["f23 d5 b2"]
    mean, error = summary["paired_with_random"]["gp f23 d5 b2"]
    assert abs(mean) < error  # a tie, which the median alone does not say
    bench_bbob.report(summary, ["gp", "tpe", "random"], [23], [5], (2,))
    assert f"f23 d5 b2 [{mean:+.2f} ± {error:.2f}]" in capsys.readouterr().out
