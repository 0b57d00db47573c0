"""bench/bench_bbob.py runs end to end on a tiny BBOB run and prints and saves its tables."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("cocoex")  # the BBOB suite: the `bench` extra (coco-experiment)

SCRIPT = Path(__file__).resolve().parents[1] / "bench" / "bench_bbob.py"


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


def test_the_optimum_is_the_value_at_the_known_minimiser(monkeypatch: pytest.MonkeyPatch
                                                         ) -> None:
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        monkeypatch.setenv(var, "1")  # what the import would set for the rest of the session
    sys.path.insert(0, str(SCRIPT.parent))
    try:
        import bench_bbob
    finally:
        sys.path.remove(str(SCRIPT.parent))
    # BBOB's f_opt values are rounded to hundredths (Hansen et al. 2009).
    f_opt = bench_bbob.optimum(1, 2, 1)
    assert round(f_opt, 2) == pytest.approx(f_opt, abs=1e-9)
    assert bench_bbob.instance_of(0) == 1 and bench_bbob.instance_of(15) == 1
