"""Exports keep every number exactly: parse the file back and compare with the records."""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Callable
from typing import Any

import pytest
from click.testing import Result
from tests.cli.conftest import Project

from hypersweep import Workspace

_NON_FINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


def parse_json_value(value: Any) -> Any:
    """The documented JSON form: numbers as JSON numbers, NaN/±inf as "NaN"/"Infinity"/..."""
    return _NON_FINITE.get(value, value) if isinstance(value, str) else value


def parse_csv_cell(text: str) -> Any:
    """The documented CSV form: an int, else Python's float text (nan, inf), else "" (none)."""
    if text == "":
        return None
    try:
        return int(text)
    except ValueError:
        return float(text)

# The trial logs its parameter as the score; `inf` makes the score infinite.
EXTREME = """\
import argparse
from hypersweep import Run
p = argparse.ArgumentParser(); p.add_argument("--p"); p.add_argument("--big")
a, _ = p.parse_known_args()
Run.get_context().log("score", float(a.p))
"""

SWEEP = """\
type: sweep
trial:
  command: python extreme.py --p ${{search_space.p}} --big ${{search_space.big}}
search_space:
  p: {type: choice, values: [1.2e-12, 5.0e-324, 1.7976931348623157e+308, -0.0, 0.1, 1e300]}
  big: {type: choice, values: [9007199254740993, 123456789012345678901234567890]}
sampling_algorithm: grid
objective: {primary_metric: score, goal: maximize}
limits: {max_total_trials: 12, max_concurrent_trials: 4}
"""

EXPECTED_P = [1.2e-12, 5e-324, 1.7976931348623157e308, -0.0, 0.1, 1e300]


def _same(a: Any, b: Any) -> bool:
    """Exact equality that tells -0.0 from 0.0, NaN from NaN, and 1 from 1.0."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return (math.isnan(a) and math.isnan(b)) or (
            a == b and math.copysign(1, a) == math.copysign(1, b))
    return bool(a == b)


def _records(project: Project, sweep_id: str) -> dict[str, dict[str, Any]]:
    """What the store holds, per trial: the exact values an export must reproduce."""
    store = Workspace(project.workspace).store
    best = store.best_values([sweep_id], "score", True)
    return {t.id: {**t.params, "status": t.status.value, "best_primary_metric": best.get(t.id)}
            for t in store.list_trials(sweep_id)}


@pytest.fixture
def extreme_sweep(project: Project, invoke: Callable[..., Result]) -> str:
    (project.root / "extreme.py").write_text(EXTREME)
    project.write(SWEEP)
    result = invoke("run", "sweep.yml", "--json")
    assert result.exit_code == 0, result.output
    return str(json.loads(result.stdout)["sweep_id"])


def test_json_and_csv_round_trip_every_number(
    project: Project, invoke: Callable[..., Result], extreme_sweep: str,
) -> None:
    records = _records(project, extreme_sweep)
    assert len(records) == 12
    assert sorted({r["p"] for r in records.values()}, key=repr) == sorted(EXPECTED_P, key=repr)
    assert {r["big"] for r in records.values()} == {2**53 + 1, 123456789012345678901234567890}

    result = invoke("export", extreme_sweep, "--format", "json")
    assert result.exit_code == 0, result.stderr
    rows = json.loads(result.stdout)  # strict JSON: no NaN/Infinity tokens
    assert len(rows) == 12
    for row in rows:
        expected = records[row["run_id"]]
        for key in ("p", "big", "status", "best_primary_metric"):
            got = parse_json_value(row[key])
            assert _same(got, expected[key]), (key, row[key], expected[key])

    result = invoke("export", extreme_sweep, "--format", "csv")
    assert result.exit_code == 0, result.stderr
    table = list(csv.DictReader(io.StringIO(result.stdout)))
    assert len(table) == 12
    for row in table:
        expected = records[row["run_id"]]
        for key in ("p", "big", "best_primary_metric"):
            got = parse_csv_cell(row[key])
            assert _same(got, expected[key]), (key, row[key], expected[key])


def test_json_export_keeps_tiny_values(
    project: Project, invoke: Callable[..., Result], extreme_sweep: str,
) -> None:
    """The reported case: 1.2e-12 became 0.0 (pandas rounds to 10 decimals)."""
    rows = json.loads(invoke("export", extreme_sweep, "--format", "json").stdout)
    assert 1.2e-12 in [row["p"] for row in rows]
    assert 1.2e-12 in [row["best_primary_metric"] for row in rows]
    assert 2**53 + 1 in [row["big"] for row in rows]


@pytest.mark.parametrize("value", [
    1.2e-12, 5e-324, 1.7976931348623157e308, -0.0, 0.0, float("nan"), float("inf"),
    float("-inf"), 2**53 + 1, -(2**70), 0.1, None, "text", True,
])
def test_cell_encodings_parse_back(value: Any) -> None:
    from hypersweep.cli._export import csv_cell, json_value

    text = json.dumps(json_value(value), allow_nan=False)
    assert _same(parse_json_value(json.loads(text)), value)
    if isinstance(value, (bool, str)) or value is None:
        return
    assert _same(parse_csv_cell(csv_cell(value)), value)
