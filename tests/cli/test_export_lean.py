"""What `hypersweep export` and `ls` load: a one-objective sweep's export reads records and
writes text, so it imports neither numpy (the sweep's space, sampler and policy are not built)
nor the tables the other read commands print with; `ls` reads each sweep's stored metadata and
objectives, not its whole spec. Their output is what it always was."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from hypersweep import RandomParameterSampling, Workspace, choice, tune, uniform

_EXPORT = """import json, sys
from hypersweep.cli import main
try:
    main()
except SystemExit as end:
    assert not end.code, end.code
print(json.dumps(sorted(sys.modules)), file=sys.stderr)
"""


def _objective(params: dict, run: object) -> None:
    run.log("loss", params["x"] if params["k"] != "inf" else float("inf"))  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def sweep(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    folder = tmp_path_factory.mktemp("lean")
    result = tune(_objective, RandomParameterSampling(
        {"x": uniform(-1, 1), "k": choice("a", "inf", 3, 2.5, True)}, seed=2),
        primary_metric_name="loss", primary_metric_goal="minimize", max_total_runs=30,
        workspace=Workspace(folder))
    return folder, result.id


@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_an_export_loads_no_numpy_and_no_table_printer(sweep: tuple[Path, str],
                                                       fmt: str) -> None:
    folder, sweep_id = sweep
    done = subprocess.run([sys.executable, "-c", _EXPORT, "export", sweep_id, "--format", fmt,
                           "--workspace", str(folder)], capture_output=True, text=True,
                          check=True)
    loaded = set(json.loads(done.stderr.splitlines()[-1]))
    unneeded = {"numpy", "rich", "hypersweep.policies", "hypersweep.sampling",
                "hypersweep.pareto", "hypersweep.space.space"}
    assert not loaded & unneeded, sorted(loaded & unneeded)
    if fmt == "json":
        rows = json.loads(done.stdout)
        assert len(rows) == 30 and {r["k"] for r in rows} == {"a", "inf", 3, 2.5, True}
        assert "Infinity" in {r["best_primary_metric"] for r in rows}


def test_ls_loads_no_numpy_and_lists_what_it_did(sweep: tuple[Path, str]) -> None:
    folder, sweep_id = sweep
    done = subprocess.run([sys.executable, "-c", _EXPORT, "ls", "--json",
                           "--workspace", str(folder)], capture_output=True, text=True,
                          check=True)
    loaded = set(json.loads(done.stderr.splitlines()[-1]))
    unneeded = {"numpy", "hypersweep.policies", "hypersweep.sampling", "hypersweep.pareto",
                "hypersweep.space.space"}
    assert not loaded & unneeded, sorted(loaded & unneeded)
    [row] = json.loads(done.stdout)
    assert (row["sweep_id"], row["trials"], row["primary_metric"]) == (sweep_id, 30, "loss")
    exported = json.loads(subprocess.run(
        [sys.executable, "-c", _EXPORT, "export", sweep_id, "--format", "json",
         "--workspace", str(folder)], capture_output=True, text=True, check=True).stdout)
    # the best loss any trial logged (minimised; "Infinity" is the JSON text of inf)
    assert row["best"] == min(r["best_primary_metric"] for r in exported
                              if not isinstance(r["best_primary_metric"], str))
