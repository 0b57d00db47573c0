"""The metrics journal: atomic appends, tailing with partial lines, corrupt lines, odd values."""

from __future__ import annotations

import json
import math
import os
import threading
from pathlib import Path

import pytest

from hypersweep.tracking import JournalReader, JournalRecord, JournalWriter
from hypersweep.tracking.journal import SKIPPED, to_json_value
from hypersweep.tracking.safe_open import DIRECTORY_FLAGS


def test_roundtrip_offsets_and_fields(tmp_path: Path) -> None:
    path = tmp_path / "m.jsonl"
    with JournalWriter(path) as w:
        w.write("metric", "loss", 0.5, step=0)
        w.write("list", "xs", [1, 2.5, "a"])
        w.write("row", "curve", {"epoch": 1, "loss": 0.4}, step=0)
        w.write("tag", "model", "svm")
        w.write("complete", "")
    reader = JournalReader(path)
    recs = reader.read()
    assert [(r.kind, r.name, r.value, r.step) for r in recs] == [
        ("metric", "loss", 0.5, 0),
        ("list", "xs", [1, 2.5, "a"], None),
        ("row", "curve", {"epoch": 1, "loss": 0.4}, 0),
        ("tag", "model", "svm", None),
        ("complete", "", None, None),
    ]
    raw = path.read_bytes()
    for rec in recs:  # the offset is where the record's line starts
        assert raw[rec.offset :].startswith(b"{")
        assert rec.offset == 0 or raw[rec.offset - 1 : rec.offset] == b"\n"
    assert reader.offset == len(raw)
    assert all(isinstance(r, JournalRecord) and r.time > 0 for r in recs)
    assert reader.read() == []  # nothing new


def test_reader_resumes_from_offset(tmp_path: Path) -> None:
    path = tmp_path / "m.jsonl"
    w = JournalWriter(path)
    for i in range(5):
        w.write("metric", "acc", i / 10, step=i)
    first = JournalReader(path).read()
    resumed = JournalReader(path, offset=first[2].offset).read()
    assert [r.step for r in resumed] == [2, 3, 4]
    assert resumed[0].offset == first[2].offset


def test_non_finite_floats_survive(tmp_path: Path) -> None:
    path = tmp_path / "m.jsonl"
    w = JournalWriter(path)
    for v in (math.nan, math.inf, -math.inf):
        w.write("metric", "loss", v)
    values = [r.value for r in JournalReader(path).read()]
    assert math.isnan(values[0]) and values[1] == math.inf and values[2] == -math.inf


def test_missing_file_then_created(tmp_path: Path) -> None:
    path = tmp_path / "later.jsonl"
    reader = JournalReader(path)
    assert reader.read() == []
    JournalWriter(path).write("metric", "a", 1)
    assert [r.value for r in reader.read()] == [1]


def test_partial_line_is_kept_for_next_read(tmp_path: Path) -> None:
    path = tmp_path / "m.jsonl"
    line1 = b'{"t":1.0,"k":"metric","n":"a","v":1,"s":0}\n'
    line2 = b'{"t":2.0,"k":"metric","n":"a","v":2,"s":1}\n'
    path.write_bytes(line1 + line2[:17])
    reader = JournalReader(path)
    assert [r.value for r in reader.read()] == [1]
    assert reader.offset == len(line1)
    assert reader.read() == []  # still partial
    with open(path, "ab") as f:
        f.write(line2[17:])
    recs = reader.read()
    assert [(r.value, r.step, r.offset) for r in recs] == [(2, 1, len(line1))]
    assert reader.corrupt == 0


def test_corrupt_lines_are_skipped_and_counted(tmp_path: Path) -> None:
    path = tmp_path / "m.jsonl"
    good = '{"t":1.0,"k":"metric","n":"a","v":1}\n'
    bad = [
        "not json\n",
        '{"t":1.0,"k":"nonsense","n":"a","v":1}\n',
        '{"k":"metric","n":"a","v":1}\n',  # no time
        "[1, 2]\n",
        '{"t":1.0,"k":"metric","n":"a","v":1,"s":"x"}\n',
        "\xff\xfe garbage\n",
    ]
    path.write_bytes(
        good.encode() + "".join(bad).encode("latin-1") + good.encode() + b"\n"  # + empty line
    )
    reader = JournalReader(path)
    recs = reader.read()
    assert [r.kind for r in recs] == ["metric"] + [SKIPPED] * len(bad) + ["metric"]
    assert reader.corrupt == len(bad)
    assert [r.step for r in recs if r.kind == SKIPPED] == list(range(1, len(bad) + 1))


def test_long_lines_and_small_chunks(tmp_path: Path) -> None:
    path = tmp_path / "m.jsonl"
    w = JournalWriter(path)
    w.write("list", "big", list(range(3000)))
    w.write("metric", "a", 1)
    reader = JournalReader(path)
    reader.CHUNK = 64  # force lines much longer than one read
    recs = reader.read()
    assert [r.name for r in recs] == ["big", "a"]
    assert recs[0].value == list(range(3000))


def test_max_bytes_reads_in_slices(tmp_path: Path) -> None:
    path = tmp_path / "m.jsonl"
    w = JournalWriter(path)
    for i in range(100):
        w.write("metric", "a", i, step=i)
    reader = JournalReader(path)
    got: list[int] = []
    while batch := reader.read(max_bytes=500):
        assert len(batch) < 100
        got += [r.step or 0 for r in batch]
    assert got == list(range(100))


def test_concurrent_appends_never_interleave(tmp_path: Path) -> None:
    path = tmp_path / "m.jsonl"
    w = JournalWriter(path)
    payload = "x" * 3000  # lines of a few KB

    def work(k: int) -> None:
        for i in range(200):
            w.write("metric", f"t{k}", payload, step=i)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    reader = JournalReader(path)
    recs = reader.read()
    assert reader.corrupt == 0 and len(recs) == 800
    for k in range(4):
        assert [r.step for r in recs if r.name == f"t{k}"] == list(range(200))


def test_unicode_names_and_values(tmp_path: Path) -> None:
    path = tmp_path / "m.jsonl"
    JournalWriter(path).write("tag", '模型 "name"\n', "ünï ✓")
    (rec,) = JournalReader(path).read()
    assert rec.name == '模型 "name"\n' and rec.value == "ünï ✓"
    assert path.read_bytes().count(b"\n") == 1  # newlines inside names are escaped


class _Scalar:
    """Stands in for a torch tensor: only ``.item()``."""

    def __init__(self, v: float) -> None:
        self.v = v

    def item(self) -> float:
        return self.v


def test_to_json_value_conversions() -> None:
    assert to_json_value(_Scalar(0.25), "m") == 0.25
    assert to_json_value({"a": (1, _Scalar(2.0))}, "m") == {"a": [1, 2.0]}
    np = pytest.importorskip("numpy")
    assert to_json_value(np.float32(0.5), "m") == 0.5
    assert type(to_json_value(np.int64(3), "m")) is int
    assert to_json_value(np.bool_(True), "m") is True
    assert to_json_value(np.array([1.5, 2.5]), "m") == [1.5, 2.5]
    json.dumps(to_json_value(np.arange(3), "m"))


def test_to_json_value_rejects_with_metric_name() -> None:
    with pytest.raises(TypeError, match=r"'accuracy'.*object"):
        to_json_value(object(), "accuracy")
    with pytest.raises(TypeError, match="'accuracy'"):
        to_json_value([1, {2, 3}], "accuracy")


def test_reader_started_inside_a_line_begins_at_the_next(tmp_path: Path) -> None:
    """An offset of a record + 1 (what was ingested) is no line start: nothing to report there."""
    path = tmp_path / "m.jsonl"
    w = JournalWriter(path)
    w.write("metric", "a", 1, step=0)
    first = JournalReader(path).read()[0]
    reader = JournalReader(path, offset=first.offset + 1)
    assert reader.read() == [] and reader.corrupt == 0
    w.write("metric", "a", 2, step=1)
    assert [(r.value, r.kind) for r in reader.read()] == [(2, "metric")]
    assert reader.corrupt == 0


def test_reader_opens_the_journal_through_the_folder_descriptor(tmp_path: Path) -> None:
    """Given a descriptor on the journal's folder, the reader opens the journal by name
    relative to it (not by resolving its path): the folder held is the one read, even once
    its path leads elsewhere; a link at the journal's name is still served only inside the
    folder, and a reader closed before its first read goes by its path."""
    trial = tmp_path / "trial"
    trial.mkdir()
    folder = os.open(trial, DIRECTORY_FLAGS)
    try:
        reader = JournalReader(trial / "metrics.jsonl", folder=folder)
        assert reader.read() == []  # nothing logged yet
        moved = tmp_path / "moved"
        trial.rename(moved)  # the path now leads nowhere; the descriptor still holds it
        JournalWriter(moved / "metrics.jsonl").write("metric", "a", 1, step=0)
        assert [r.value for r in reader.read()] == [1]
        JournalWriter(moved / "metrics.jsonl").write("metric", "a", 2, step=1)
        assert [r.value for r in reader.read()] == [2]  # the same file, held open
        reader.close()

        outside = tmp_path / "outside.jsonl"
        JournalWriter(outside).write("metric", "secret", 9)
        os.symlink(outside, moved / "out.jsonl")
        refused = JournalReader(moved / "out.jsonl", folder=folder).read()
        assert [r.kind for r in refused] == [SKIPPED] and "out.jsonl" in refused[0].value
        os.symlink("metrics.jsonl", moved / "in.jsonl")
        inside = JournalReader(moved / "in.jsonl", folder=folder)
        assert [r.value for r in inside.read()] == [1, 2]

        unread = JournalReader(moved / "metrics.jsonl", folder=folder)
        unread.close()
    finally:
        os.close(folder)
    assert [r.value for r in unread.read()] == [1, 2]  # by its path: the descriptor is gone
