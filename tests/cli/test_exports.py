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
from tests.cli.project import Project

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
    from hypersweep.cli._export import csv_cell
    from hypersweep.store.codec import strict_json

    text = json.dumps(strict_json(value), allow_nan=False)
    assert _same(parse_json_value(json.loads(text)), value)
    if isinstance(value, (bool, str)) or value is None:
        return
    assert _same(parse_csv_cell(csv_cell(value)), value)


def test_parquet_round_trips_every_number(
    project: Project, invoke: Callable[..., Result], extreme_sweep: str,
) -> None:
    pq = pytest.importorskip("pyarrow.parquet",
                             reason="pyarrow is not installed: the parquet export is untested")
    from decimal import Decimal

    result = invoke("export", extreme_sweep, "--format", "parquet", "-o", "t.parquet")
    assert result.exit_code == 0, result.stderr
    table = pq.read_table(project.root / "t.parquet")
    # documented types: int64, or decimal128(38, 0) for integers beyond 64 bits; float64
    assert str(table.schema.field("big").type) == "decimal128(38, 0)"
    assert str(table.schema.field("p").type) == "double"
    # a column of the export's own is of its type even with no value (none was terminated)
    assert str(table.schema.field("termination_reason").type) == "string"
    records = _records(project, extreme_sweep)
    rows = table.to_pylist()
    assert len(rows) == 12
    for row in rows:
        expected = records[row["run_id"]]
        for key in ("p", "big", "status", "best_primary_metric"):
            got = row[key]
            if isinstance(got, Decimal):
                got = int(got)
            assert _same(got, expected[key]), (key, row[key], expected[key])


@pytest.mark.parametrize(("values", "arrow_type"), [
    ([1.2e-12, None, float("nan"), float("-inf"), -0.0, 5e-324], "double"),
    ([1, None, 2**63 - 1, -(2**63)], "int64"),
    ([2**64, None, -(10**37)], "decimal128(38, 0)"),
    ([10**40, 1], "string"),
    ([0.5, 2, None], "double"),             # the int is exact as a float
    ([0.5, 2**53 + 1], "string"),           # it is not: both keep their text
    (["a", None, "b"], "string"),
    ([True, False, None], "bool"),
    ([1.5, True, None], "string"),          # numbers with anything else: their text
    ([None, None], "null"),
])
def test_parquet_columns_keep_values(values: list[Any], arrow_type: str, tmp_path: Any) -> None:
    pytest.importorskip("pyarrow", reason="pyarrow is not installed")
    import pyarrow.parquet as pq

    from hypersweep.cli._parquet import to_parquet

    to_parquet(["v"], [{"v": v} for v in values], tmp_path / "t.parquet")
    table = pq.read_table(tmp_path / "t.parquet")
    assert str(table.schema.field("v").type) == arrow_type
    back = table.column("v").to_pylist()
    if arrow_type == "string":
        expected = [None if v is None else (repr(v) if isinstance(v, float) else str(v))
                    for v in values]
        assert back == expected
        return
    from decimal import Decimal

    back = [int(v) if isinstance(v, Decimal) else v for v in back]
    want = [float(v) if arrow_type == "double" and isinstance(v, int) else v for v in values]
    assert all(_same(a, b) or (a is None and b is None) for a, b in zip(back, want, strict=True))


def test_parquet_arrays_are_built_as_pyarrow_builds_them(tmp_path: Any,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """The arrays of the usual types, built from their buffers, are those pa.array builds
    (every pattern of missing values around a byte's bits), and without pa.array (which
    imports pandas)."""
    pa = pytest.importorskip("pyarrow", reason="pyarrow is not installed")
    import pyarrow.parquet as pq

    from hypersweep.cli._parquet import write_parquet

    samples = {"double": [0.5, -0.0, math.nan, math.inf, 2.0, 5e-324],
               "int64": [1, -(2**63), 2**63 - 1, 0, 7],
               "string": ["a", "", "ünï ✓", "x" * 40, "b"], "bool": [True, False, True],
               "null": [None]}
    columns = {}
    for kind, values in samples.items():
        for n in (1, 7, 8, 9, 17):
            for holes in ({0}, {n - 1}, set(range(0, n, 3)), set(range(n)), set()):
                cells = [None if i in holes else values[i % len(values)] for i in range(n)]
                columns[f"{kind} {n} {sorted(holes)}"] = (kind, cells)
    expected = {name: pa.array(cells, kind) for name, (kind, cells) in columns.items()}
    monkeypatch.setattr(pa, "array", None)  # any call fails
    for name, (kind, cells) in columns.items():
        path = tmp_path / "t.parquet"
        # (in chunks of 16 rows; the type given, as an all-missing column has none of its own)
        write_parquet([name], lambda cells=cells: [[[v] for v in cells[i:i + 16]]
                                                   for i in range(0, len(cells), 16)],
                      path, [None if kind == "null" else kind])
        got = pq.read_table(path).column(0)
        assert got.type == expected[name].type, name
        assert repr(got.to_pylist()) == repr(expected[name].to_pylist()), name


def test_parquet_chunks_are_read_once_unless_a_type_widens(tmp_path: Any) -> None:
    """The file is written as the chunks are read; a column whose type a later chunk widens
    (no value, then ints, then a float; ints, then text) is written again, whole."""
    pq = pytest.importorskip("pyarrow.parquet", reason="pyarrow is not installed")
    from hypersweep.cli._parquet import to_parquet, write_parquet

    reads = []

    def chunks(tables: list[list[list[Any]]]) -> Any:
        reads.append(1)
        return iter(tables)

    steady = [[[1, "a"], [2, None]], [[None, "b"]], [[3, "c"]]]
    assert write_parquet(["i", "s"], lambda: chunks(steady), tmp_path / "s.parquet") == 4
    assert len(reads) == 1
    assert pq.read_table(tmp_path / "s.parquet").to_pylist() == [
        {"i": 1, "s": "a"}, {"i": 2, "s": None}, {"i": None, "s": "b"}, {"i": 3, "s": "c"}]
    widening = [[[None, 1]], [[1, 2]], [[0.5, 3]], [], [[2, "x"]]]
    reads.clear()
    assert write_parquet(["f", "t"], lambda: chunks(widening), tmp_path / "w.parquet") == 4
    assert len(reads) == 2
    rows = [{"f": f, "t": t} for chunk in widening for f, t in chunk]
    to_parquet(["f", "t"], rows, tmp_path / "one.parquet")
    whole, chunked = (pq.read_table(tmp_path / n) for n in ("one.parquet", "w.parquet"))
    assert chunked.equals(whole)
    assert chunked.to_pylist() == [{"f": None, "t": "1"}, {"f": 1.0, "t": "2"},
                                   {"f": 0.5, "t": "3"}, {"f": 2.0, "t": "x"}]


_ODD_VALUES: list[Any] = [
    None, "", "a,b", 'q"x', "line\nbreak", "ünï ✓", 0, -3, 2**70, True, False, 0.1, -0.0,
    1e-300, 5e-324, 1e22, math.nan, math.inf, -math.inf, {"k": [1, 2.5, math.nan]}, [],
    {}, (1, "x"),
]


def test_writers_lay_out_rows_as_the_cell_encoders_do() -> None:
    """The CSV and JSON writers' fast paths (flat rows) write what encoding each cell with
    `csv_cell`, and each row with json.dumps(indent=2), writes: mixed flat and nested rows,
    missing keys, every odd value."""
    from hypersweep.cli._export import csv_cell, strict_json, to_csv, to_json

    columns = ["a", "b é", "c"]
    rows = [{"a": v, "b é": w, "c": u} for v, w, u in zip(
        _ODD_VALUES, _ODD_VALUES[5:] + _ODD_VALUES[:5], _ODD_VALUES[11:] + _ODD_VALUES[:11],
        strict=True)] + [{}, {"a": 1}]
    expected_csv = io.StringIO()
    writer = csv.writer(expected_csv, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows([csv_cell(row.get(c)) for c in columns] for row in rows)
    assert to_csv(columns, rows) == expected_csv.getvalue()
    objects = [json.dumps({c: strict_json(row.get(c)) for c in columns}, indent=2,
                          allow_nan=False, ensure_ascii=False) for row in rows]
    assert to_json(columns, rows) == "[\n" + ",\n".join(
        "  " + text.replace("\n", "\n  ") for text in objects) + "\n]\n"


def _objective(params: dict[str, Any], run: Any) -> None:
    kind = params["kind"]
    if kind == "fail":
        run.log("score", 0.25)
        raise RuntimeError("boom")
    if kind != "silent":
        run.log("score", {"nan": math.nan, "inf": math.inf}.get(kind, params["x"]))


@pytest.mark.parametrize("status_param", [False, True])
def test_rows_laid_out_from_lines_equal_rows_read_by_column(tmp_path: Any,
                                                            status_param: bool) -> None:
    """`TrialExport`'s rows built straight from the trials' lines are the rows its by-column
    path builds (as a dict per trial): failed, unscored, NaN and infinite trials, parameters
    of every kind; a parameter named as another column ("status") takes the by-column path."""
    from hypersweep import RandomParameterSampling, choice, tune, uniform
    from hypersweep.cli._export import TrialExport
    from hypersweep.cli.main import open_sweep

    space = {"x": uniform(-1, 1), "kind": choice(["ok", "fail", "silent", "nan", "inf"]),
             "big": choice([2**70, -3, "text", True])}
    if status_param:
        space["status"] = choice(["a", "b"])
    workspace = Workspace(tmp_path)
    result = tune(_objective, RandomParameterSampling(space, seed=3),
                  primary_metric_name="score", primary_metric_goal="minimize",
                  max_total_runs=40, max_failed_runs=100, workspace=workspace)
    export = TrialExport(open_sweep(workspace, result.id), chunk=7)
    assert (export.params is None) == status_param
    fast = [row for chunk in export.chunks() for row in chunk]
    export.params = None
    slow = [row for chunk in export.chunks() for row in chunk]
    statuses = {"a", "b"} if status_param else {"Completed", "Failed"}
    assert len(fast) == 40 and {row[1] for row in fast} == statuses
    assert {repr(row[-3]) for row in fast} >= {"None", "inf"}  # the best: unscored, NaN, inf
    assert [[repr(v) for v in row] for row in fast] == [[repr(v) for v in row] for row in slow]
    pq = pytest.importorskip("pyarrow.parquet", reason="pyarrow is not installed")
    from hypersweep.cli._parquet import write_parquet

    # the columns' given types (none where a parameter shares the column's name) hold the
    # values as the types read from them do
    assert (export.types[1] is None) == status_param
    write_parquet(export.columns, export.chunks, tmp_path / "given.parquet", export.types)
    write_parquet(export.columns, export.chunks, tmp_path / "read.parquet")
    given, read = ([repr(c.to_pylist()) for c in pq.ParquetFile(tmp_path / name).read().columns]
                   for name in ("given.parquet", "read.parquet"))
    assert given == read


def test_a_chunk_of_flat_rows_is_laid_out_as_json_dumps_with_an_indent() -> None:
    """The column-at-a-time path of the JSON writer (flat values): strings holding its
    separators, braces, newlines, quotes, ``%`` or the text of a non-finite number, keys
    holding ``%`` or braces, and NaN and infinities (the strings "NaN", ...) are laid out as
    json.dumps lays out each object."""
    from hypersweep.cli._export import strict_json, write_json

    tricky = ['},\n    {', '"},\\n    {"', "}", "{", ",\n", "ünï ✓", "", 'q"x', "a\tb", "%s",
              "NaN", "-Infinity", "%(a)s"]
    columns = ["a", "b é", "c %s {}"]
    numbers = [None, 1, -0.0, 2**70, True, 1e-300, math.nan, math.inf, -math.inf, 0.1]
    rows = [[tricky[i % len(tricky)], numbers[i % len(numbers)],
             tricky[(i * 5) % len(tricky)]] for i in range(40)]
    out = io.StringIO()
    assert write_json(columns, [rows[:11], rows[11:]], out) == 40
    objects = [json.dumps(dict(zip(columns, map(strict_json, row), strict=True)), indent=2,
                          ensure_ascii=False, allow_nan=False) for row in rows]
    assert out.getvalue() == "[\n" + ",\n".join(
        "  " + text.replace("\n", "\n  ") for text in objects) + "\n]\n"
