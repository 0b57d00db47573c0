"""`show` pages, `best` and streamed `export` of a sweep read through the store's paged
queries: the same trials, in the same order, as reading them all."""

from __future__ import annotations

import csv
import io
import itertools
import json
import math
from pathlib import Path

import pytest
from click.testing import CliRunner

from hypersweep import RandomParameterSampling, Workspace, tune, uniform
from hypersweep.cli import cli

TRIALS = 30


def objective(params: dict[str, float], run: object) -> None:
    x = params["x"]
    if x < 0.1:
        run.log("score", math.nan)  # type: ignore[attr-defined]
        return
    run.log("score", round(x, 1))  # type: ignore[attr-defined]  # ties
    if x > 0.8:
        raise ValueError("too big")  # Failed, with a value


@pytest.fixture(scope="module")
def sweep(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    folder = tmp_path_factory.mktemp("pages") / "ws"
    result = tune(objective, RandomParameterSampling({"x": uniform(0, 1)}, seed=3), "score",
                  "maximize", TRIALS, workspace=Workspace(folder), max_failed_runs=TRIALS)
    return result.id, str(folder)


def _invoke(sweep: tuple[str, str], *args: str) -> str:
    result = CliRunner().invoke(cli, [*args[:1], sweep[0], *args[1:], "--workspace", sweep[1]],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout


def _json(sweep: tuple[str, str], *args: str) -> dict[str, object]:
    return json.loads(_invoke(sweep, "show", "--json", *args))  # type: ignore[no-any-return]


def test_show_lists_a_page_and_counts_the_rest(sweep: tuple[str, str]) -> None:
    everything = _json(sweep, "--all")
    trials = everything["trials"]
    assert isinstance(trials, list) and len(trials) == TRIALS == everything["trial_count"]
    statuses = everything["status_counts"]
    assert isinstance(statuses, dict) and sum(statuses.values()) == TRIALS
    assert statuses["Failed"] > 0
    scores = [t["best_primary_metric"] for t in trials]
    scored = [s for s in scores if s is not None]
    assert scored == sorted(scored, reverse=True) and scores[len(scored):] == \
        [None] * (TRIALS - len(scored))
    # ties (rounded scores) keep trial order
    for a, b in itertools.pairwise(trials):
        if a["best_primary_metric"] == b["best_primary_metric"]:
            assert a["index"] < b["index"]
    first = _json(sweep)
    assert [t["run_id"] for t in first["trials"]] == [t["run_id"] for t in trials[:20]]
    assert first["page"] == {"order": "metric", "offset": 0, "limit": 20, "shown": 20}
    second = _json(sweep, "--limit", "7", "--page", "2")
    assert [t["run_id"] for t in second["trials"]] == [t["run_id"] for t in trials[7:14]]
    by_number = _json(sweep, "--order", "index", "-n", "5", "--page", "6")
    assert [t["index"] for t in by_number["trials"]] == [25, 26, 27, 28, 29]
    assert _json(sweep, "--page", "9")["trials"] == []


def test_show_text_says_what_it_left_out(sweep: tuple[str, str]) -> None:
    text = _invoke(sweep, "show", "--limit", "4")
    lines = text.splitlines()
    assert any(line.startswith(f"  trials: {TRIALS} (") and "Failed" in line for line in lines)
    assert lines[-1] == f"trials 1-4 of {TRIALS} (best first); --page 2 for the next 4, " \
        "--all for every one"
    best = _json(sweep, "-n", "1")["trials"][0]
    assert f"  best: {best['run_id']}" in text
    assert "trials 1-" not in _invoke(sweep, "show", "--all")
    last = _invoke(sweep, "show", "--limit", "8", "--page", "4").splitlines()[-1]
    assert last == f"trials 25-{TRIALS} of {TRIALS} (best first); --all for every one"
    beyond = _invoke(sweep, "show", "--page", "3").splitlines()[-1]
    assert beyond == f"no trials on page 3: {TRIALS} trials make 2 pages of 20"


def test_best_is_the_first_of_show(sweep: tuple[str, str]) -> None:
    best = json.loads(_invoke(sweep, "best", "--json"))
    first = _json(sweep, "-n", "1")["trials"][0]
    assert (best["run_id"], best["best_primary_metric"]) == (first["run_id"],
                                                               first["best_primary_metric"])


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_export_streams_the_same_rows_in_any_chunk(sweep: tuple[str, str], fmt: str,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    whole = _invoke(sweep, "export", "--format", fmt)
    monkeypatch.setattr("hypersweep.cli._export.CHUNK", 7)
    assert _invoke(sweep, "export", "--format", fmt) == whole
    rows = list(csv.DictReader(io.StringIO(whole))) if fmt == "csv" else json.loads(whole)
    assert [r["run_id"] for r in rows] == [f"{sweep[0]}_{i}" for i in range(TRIALS)]
    shown = {t["run_id"]: t["best_primary_metric"] for t in _json(sweep, "--all")["trials"]}
    for row in rows:
        value = row["best_primary_metric"]
        expected = shown[row["run_id"]]
        if fmt == "csv":
            assert value == ("" if expected is None else repr(expected))
        else:
            assert value == expected


def test_parquet_export_in_chunks_keeps_types(sweep: tuple[str, str], tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    pq = pytest.importorskip("pyarrow.parquet")
    _invoke(sweep, "export", "--format", "parquet", "-o", str(tmp_path / "one.parquet"))
    monkeypatch.setattr("hypersweep.cli._export.CHUNK", 4)
    _invoke(sweep, "export", "--format", "parquet", "-o", str(tmp_path / "many.parquet"))
    one, many = pq.read_table(tmp_path / "one.parquet"), pq.read_table(tmp_path / "many.parquet")
    assert one.schema == many.schema and one.equals(many) and many.num_rows == TRIALS
    assert str(many.schema.field("best_primary_metric").type) == "double"


def test_chunked_parquet_types_agree_with_one_chunk(tmp_path: Path) -> None:
    pq = pytest.importorskip("pyarrow.parquet")
    from hypersweep.cli._parquet import to_parquet, write_parquet

    columns = ["i", "f", "mixed", "big", "text", "odd", "none"]
    rows = [{"i": 1, "f": 0.5, "mixed": 2, "big": 2**70, "text": "a", "odd": True},
            {"i": None, "f": 1, "mixed": 2**53 + 1, "big": 3, "text": None, "odd": "b"},
            {"i": 3, "f": math.inf, "mixed": 0.5, "big": None, "text": "c", "odd": 1}]
    to_parquet(columns, rows, tmp_path / "one.parquet")
    write_parquet(columns, lambda: [[[r.get(c) for c in columns]] for r in rows],
                  tmp_path / "many.parquet")
    one, many = pq.read_table(tmp_path / "one.parquet"), pq.read_table(tmp_path / "many.parquet")
    assert one.equals(many)
    types = {f.name: str(f.type) for f in many.schema}
    assert types == {"i": "int64", "f": "double", "mixed": "string", "big": "decimal128(38, 0)",
                     "text": "string", "odd": "string", "none": "null"}
    write_parquet(columns, lambda: [], tmp_path / "empty.parquet")
    assert pq.read_table(tmp_path / "empty.parquet").num_rows == 0
