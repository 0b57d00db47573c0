"""bench/bench_mixed.py runs end to end on a tiny run, and every space holds the optimum."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("cocoex")  # the BBOB suite: the `bench` extra (coco-experiment)
pytest.importorskip("optuna")

SCRIPT = Path(__file__).resolve().parents[1] / "bench" / "bench_mixed.py"


@pytest.mark.slow
def test_a_tiny_run_prints_and_saves_the_tables(tmp_path: Path) -> None:
    out = tmp_path / "mixed.json"
    run = subprocess.run(
        [sys.executable, str(SCRIPT), "--functions", "8", "--dims", "5", "--seeds", "1",
         "--budgets", "3,12", "--spaces", "mixed", "--methods", "random,tpe",
         "--json", str(out)],
        capture_output=True, text=True, check=False, cwd=tmp_path,
        env={**os.environ, "OMP_NUM_THREADS": "1"}, timeout=300)
    assert run.returncode == 0, run.stderr
    for heading in ("Per task", "Per space type", "lowest median regret"):
        assert heading in run.stdout
    saved = json.loads(out.read_text())
    [tpe] = [c for c in saved["curves"] if c["method"] == "tpe"]
    assert (tpe["space"], tpe["function"], tpe["dim"], tpe["seed"]) == ("mixed", 8, 5, 0)
    assert len(tpe["regret"]) == 12
    assert tpe["regret"] == sorted(tpe["regret"], reverse=True)  # best so far never worsens
    assert min(tpe["regret"]) >= 0.0
    assert "mixed f8 d5 b12" in saved["summary"]["tasks"]


@pytest.mark.parametrize("space", ["cat", "fewcat", "int", "log", "mixed"])
def test_the_minimiser_is_a_point_of_every_space(space: str, monkeypatch: pytest.MonkeyPatch
                                                 ) -> None:
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        monkeypatch.setenv(var, "1")  # what the import would set for the rest of the session
    monkeypatch.syspath_prepend(str(SCRIPT.parent))
    import bench_mixed

    task = bench_mixed.MixedTask(space, 8, 5, 2)
    config: dict[str, object] = {}
    for j, kind in enumerate(task.kinds):
        name, x = f"x{j:02d}", float(task.x_opt[j])
        if kind == "c":
            [config[name]] = [k for k, v in task.levels[name].items() if v == x]
        elif kind == "i":
            config[name] = round(x - task.shift[name]) + (5 if j % 2 == 0 else 0)
        elif kind == "l":
            config[name] = float(np.exp(bench_mixed.LOG_LOW * (1 - (x + 5) / 10)))
        else:
            config[name] = x
    assert task.vector(config) == pytest.approx(task.x_opt, abs=1e-9)
    assert set(task.kinds) == set(bench_mixed.SPACES[space])
