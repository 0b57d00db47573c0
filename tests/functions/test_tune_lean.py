"""What a function sweep loads and keeps: random search loads no model-based sampler, no
process controller and no numpy; trials' points leave memory once stored; samplers load on
first use."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from hypersweep import ConfigError, RandomParameterSampling, Sweep, choice, uniform
from hypersweep.sampling import sampler_from_dict

MODEL_BASED = ("hypersweep.sampling.bayesian", "hypersweep.sampling.tpe",
               "hypersweep.sampling._acquisition", "hypersweep.sampling._gp",
               "hypersweep.controller")


def _loaded_after(code: str) -> set[str]:
    script = f"import json, sys\n{code}\nprint(json.dumps(sorted(sys.modules)))\n"
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         check=True)
    return set(json.loads(out.stdout.splitlines()[-1]))


def test_a_random_tune_loads_no_model_based_sampler_no_controller_and_no_numpy() -> None:
    # numpy alone costs a fresh process about 40 ms, more than a hundred trials of a tune.
    loaded = _loaded_after(
        "import hypersweep as hs\n"
        "s = hs.RandomParameterSampling({'x': hs.uniform(0, 1), 'k': hs.choice('a', 'b'),"
        " 'lr': hs.loguniform(-5, -1), 'n': hs.qnormal(0, 1, 0.5), 'r': hs.randint(4),"
        " 'm': hs.choice({'c': hs.qloguniform(0, 3, 1)}, 'none')}, seed=1)\n"
        "r = hs.tune(lambda p, run: p['x'], s, 'loss', 'minimize', max_total_runs=20)\n"
        "assert r.get_status() == 'Completed' and len(r.get_children()) == 20\n")
    unneeded = {*MODEL_BASED, "numpy", "scipy"}
    assert not loaded & unneeded, sorted(loaded & unneeded)


def test_a_one_objective_tune_loads_no_pareto_code_and_sqlite_no_sqlalchemy(tmp_path) -> None:
    # What only results with several objectives (the Pareto front, the outcomes) or another
    # database need stays out of a fresh process's first tune: it is import time, every run.
    # A SQLite file's sweep, its trials and its best run, are read on the sqlite3 driver:
    # SQLAlchemy (~0.1 s) is the faces'.
    url = f"sqlite:///{tmp_path / 'hs.db'}"
    loaded = _loaded_after(
        "import hypersweep as hs\n"
        "s = hs.RandomParameterSampling({'x': hs.uniform(0, 1)}, seed=1)\n"
        "r = hs.tune(lambda p, run: p['x'], s, 'loss', 'minimize', max_total_runs=5)\n"
        f"w = hs.Workspace({str(tmp_path)!r}, store={url!r})\n"
        "r = hs.tune(lambda p, run: p['x'], s, 'loss', 'minimize', max_total_runs=5,"
        " workspace=w)\n"
        "assert r.get_status() == 'Completed' and len(r.get_children()) == 5\n"
        "assert r.get_best_run_by_primary_metric().id.startswith(r.id)\n")
    assert "hypersweep.store.sqlite" in loaded
    unneeded = {"hypersweep.pareto", "hypersweep.spec.outcomes", "hypersweep.store.sql",
                "sqlalchemy", "alembic"}
    assert not loaded & unneeded, sorted(loaded & unneeded)


def test_a_sampler_named_in_a_stored_sweep_loads_when_it_is_built() -> None:
    loaded = _loaded_after(
        "from hypersweep.sampling import sampler_from_dict\n"
        "from hypersweep.space import uniform\n"
        "assert 'hypersweep.sampling.tpe' not in sys.modules\n"
        "s = sampler_from_dict({'type': 'tpe', 'seed': 2}, {'x': uniform(0, 1)})\n"
        "assert type(s).__name__ == 'TPEParameterSampling' and s.seed == 2\n")
    assert "hypersweep.sampling.tpe" in loaded
    assert "hypersweep.sampling.bayesian" not in loaded


def test_an_unknown_sampler_is_refused_with_every_choice_in_order() -> None:
    with pytest.raises(ConfigError, match=r"expected random, grid, bayesian or tpe\)"):
        sampler_from_dict("randm", {"x": uniform(0, 1)})
    with pytest.raises(ConfigError, match="unknown key 'sed' for bayesian"):
        sampler_from_dict({"type": "bayesian", "sed": 1}, {"x": uniform(0, 1)})


def test_every_sampler_is_listed_as_a_class() -> None:
    import hypersweep.sampling as sampling

    assert list(sampling.SAMPLERS)[:4] == ["random", "grid", "bayesian", "tpe"]
    assert all(isinstance(cls, type) for cls in sampling.SAMPLERS.values())
    listed = tuple(sampling.SAMPLERS[k] for k in ("random", "grid", "bayesian", "tpe"))
    assert listed == sampling.BUILT_IN


def test_stored_points_leave_memory_and_still_name_what_was_logged() -> None:
    sweep = Sweep(RandomParameterSampling({"k": choice("a", "b"), "x": uniform(0, 1)}, seed=4),
                  "loss", "minimize", max_total_runs=6)
    sweep.flush_size = 1  # every change written at once
    asked = []
    while (trial := sweep.ask()) is not None:
        asked.append(trial)
        for step in range(3):
            trial.log("los", trial.params["x"] + step)  # a typo: the sweep cannot rank
        sweep.tell(trial)
    result = sweep.finish()
    assert len(asked) == 6 and all(t.points == [] for t in asked)
    # Ended trials are let go, by the driver and by its engine: their records hold them.
    assert sweep.trials == [] and sweep.engine.trials == {}
    series = result.get_metrics()
    assert sorted(len(m["los"]) for m in series.values()) == [3] * 6
    assert result.get_status() == "Failed"
    assert "'los'" in (result._store.get_sweep(result.id).error or "")
