"""What the store cannot hold: refused by ``run.log`` in the trial, skipped by the reader.

The store keeps metric values as doubles, steps as signed 64-bit integers, text as UTF-8 without
NUL (PostgreSQL), tag names of at most 255 characters and times as datetimes. A trial that logs
anything else gets a clear :class:`MetricValueError`; a journal line that says it anyway (a
script writing the file itself, a corrupt disk) is skipped with a reason and a count.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from hypersweep.tracking import JournalReader, OfflineRun, TrialRun
from hypersweep.tracking.journal import SKIPPED, JournalWriter
from hypersweep.tracking.storable import MAX_LIST_VALUES, STEP_MAX, STEP_MIN, MetricValueError

HUGE = 10**400

# (call, the words the message must contain): each is refused before anything is written.
REFUSED = [
    (lambda run: run.log("m", HUGE), ["'m'", "float"]),
    (lambda run: run.log("m", -HUGE), ["'m'", "float"]),
    (lambda run: run.log("m", 10**5000), ["'m'", "5001 digits"]),  # beyond int->str limit too
    (lambda run: run.log_list("l", [1.0, HUGE]), ["'l'", "float"]),
    (lambda run: run.log_row("r", a=1, b=[HUGE]), ["'r'", "float"]),
    (lambda run: run.log("m", 1.0, step=2**64), ["'m'", "18446744073709551616", "64-bit"]),
    (lambda run: run.log("m", 1.0, step=STEP_MAX + 1), ["'m'", "64-bit"]),
    (lambda run: run.log("m", 1.0, step=STEP_MIN - 1), ["'m'", "64-bit"]),
    (lambda run: run.log("\ud800", 1.0), ["'\\ud800'", "surrogate"]),
    (lambda run: run.log("m", "a\udfffb"), ["'m'", "'a\\udfffb'", "surrogate"]),
    (lambda run: run.log_list("l", ["ok", "\ud800"]), ["'l'", "surrogate"]),
    (lambda run: run.log_row("r", **{"\ud800": 1}), ["'r'", "surrogate"]),
    (lambda run: run.log("a\x00b", 1.0), ["'a\\x00b'", "NUL"]),
    (lambda run: run.log_list("a\x00b", [1]), ["NUL"]),
    (lambda run: run.tag("k\x00", "v"), ["'k\\x00'", "NUL"]),
    (lambda run: run.tag("k", "v\x00"), ["'k'", "NUL"]),
    (lambda run: run.tag("k" * 256, "v"), ["255"]),
    (lambda run: run.set_tags({"k": HUGE}), ["'k'", "float"]),
    (lambda run: run.log_list("l", [0.5] * (MAX_LIST_VALUES + 1)), ["'l'", "100000"]),
    (lambda run: run.tag("k", "\ud800"), ["'k'", "surrogate"]),
]


@pytest.mark.parametrize(("call", "words"), REFUSED)
def test_trial_run_refuses_what_cannot_be_stored(
    tmp_path: Path, call, words: list[str]
) -> None:
    run = TrialRun("t", str(tmp_path / "m.jsonl"))
    with pytest.raises(MetricValueError) as caught:
        call(run)
    message = str(caught.value)
    assert isinstance(caught.value, ValueError)
    for word in words:
        assert word in message, message
    assert "\n" not in message and len(message) < 400  # one line, the value abbreviated
    reader = JournalReader(tmp_path / "m.jsonl")
    assert reader.read() == [] and reader.corrupt == 0  # nothing half-written


@pytest.mark.parametrize(("call", "words"), REFUSED)
def test_offline_run_refuses_the_same(call, words: list[str]) -> None:
    with pytest.raises(MetricValueError):
        call(OfflineRun())


def test_a_refused_log_does_not_use_up_a_step(tmp_path: Path) -> None:
    run = TrialRun("t", str(tmp_path / "m.jsonl"))
    run.log("m", 1.0)
    with pytest.raises(MetricValueError):
        run.log("m", HUGE)
    run.log("m", 2.0)
    assert [r.step for r in JournalReader(tmp_path / "m.jsonl").read()] == [0, 1]


def test_storable_extremes_are_kept(tmp_path: Path) -> None:
    """NaN and ±inf are metric values (a diverged loss); the 64-bit edges are steps."""
    path = tmp_path / "m.jsonl"
    run = TrialRun("t", str(path))
    big = int(1.7e308)
    run.log("loss", math.nan)
    run.log("loss", math.inf, step=STEP_MAX)
    run.log("loss", -math.inf, step=STEP_MIN)
    run.log("loss", big, step=-1)  # negative steps are allowed: the column is signed
    run.log("note", "nul \x00 inside a value is fine: values are stored as escaped JSON")
    run.log_list("l", [math.nan, big, -big, "é✓"])
    run.log_row("r", x=math.inf, y="z")
    run.tag("t" * 255, "ok")
    run.fail("bad \x00 details \ud800 are made printable, never refused")
    recs = JournalReader(path).read()
    assert [r.kind for r in recs] == ["metric"] * 5 + ["list", "row", "tag", "fail"]
    assert math.isnan(recs[0].value)
    assert [(r.value, r.step) for r in recs[1:4]] == [
        (math.inf, STEP_MAX), (-math.inf, STEP_MIN), (big, -1)]
    assert recs[5].value[1:] == [big, -big, "é✓"]
    assert recs[8].value == "bad \\x00 details \\ud800 are made printable, never refused"


def test_writer_refuses_a_line_longer_than_the_reader_takes(tmp_path: Path) -> None:
    path = tmp_path / "m.jsonl"
    writer = JournalWriter(path)
    writer.MAX_LINE = 200
    with pytest.raises(MetricValueError, match=r"'xs'.*200"):
        writer.write("list", "xs", list(range(100)))
    writer.write("list", "xs", list(range(10)))
    assert len(JournalReader(path).read()) == 1


# ---------------------------------------------------------------------- the reader's side
GOOD = b'{"t":1.5,"k":"metric","n":"a","v":1,"s":0}'

# (line, words of the reason): each is skipped, and the lines around it are read.
UNSTORABLE_LINES = [
    (b'{"t":1,"k":"metric","n":"a","v":1' + b"0" * 400 + b"}", "float"),
    (b'{"t":1,"k":"list","n":"a","v":[1,' + b"9" * 400 + b"]}", "float"),
    (b'{"t":1,"k":"metric","n":"a","v":1,"s":18446744073709551616}', "64-bit"),
    (b'{"t":1,"k":"metric","n":"a","v":1,"s":-9223372036854775809}', "64-bit"),
    (b'{"t":1e999,"k":"metric","n":"a","v":1}', "time"),
    (b'{"t":NaN,"k":"metric","n":"a","v":1}', "time"),
    (b'{"t":-1e12,"k":"metric","n":"a","v":1}', "time"),
    (b'{"t":1e300,"k":"metric","n":"a","v":1}', "time"),
    (b'{"t":1,"k":"metric","n":"\\ud800","v":1}', "surrogate"),
    (b'{"t":1,"k":"metric","n":"a","v":"\\udc00"}', "surrogate"),
    (b'{"t":1,"k":"metric","n":"\xed\xa0\x80","v":1}', "UTF-8"),  # raw surrogate bytes
    (b'{"t":1,"k":"row","n":"r","v":{"\\ud800":1}}', "surrogate"),
    (b'{"t":1,"k":"metric","n":"a\\u0000","v":1}', "NUL"),
    (b'{"t":1,"k":"tag","n":"k","v":"\\u0000"}', "NUL"),
    (b'{"t":1,"k":"tag","n":"' + b"k" * 300 + b'","v":1}', "255"),
    (b'{"t":1,"k":"list","n":"l","v":3}', "list"),
    (b'{"t":1,"k":"list","n":"l","v":[' + b"1," * MAX_LIST_VALUES + b"1]}", "at most"),
    (b'{"t":1,"k":"metric","n":"a","v":' + b"[" * 5000 + b"]" * 5000 + b"}", "JSON"),
    (b"[" * 100_000, "JSON"),
    (b'{"t":1,"k":"metric","n":"a","v":' + b"[" * 40 + b"]" * 40 + b"}", "nested"),
    (b'{"t":1,"k":"metric","n":"a","v":1' + b"0" * 5000 + b"}", "JSON"),
    (b"\xff\xfe\x00garbage", "UTF-8"),
    (b'{"t":true,"k":"metric","n":"a","v":1}', "time"),
    (b'{"t":1,"k":"metric","n":"a","v":1,"s":true}', "step"),
    (b'{"t":1,"k":"metric","n":5,"v":1}', "name"),
    (b'{"t":1,"k":"skipped","n":"","v":"forged"}', "kind"),
    (b"null", "JSON object"),
]


@pytest.mark.parametrize(("line", "reason"), UNSTORABLE_LINES)
def test_reader_skips_what_cannot_be_stored_with_a_reason(
    tmp_path: Path, line: bytes, reason: str
) -> None:
    path = tmp_path / "m.jsonl"
    path.write_bytes(GOOD + b"\n" + line + b"\n" + GOOD + b"\n")
    reader = JournalReader(path)
    recs = reader.read()
    assert reader.offset == path.stat().st_size  # consumed: never retried
    assert reader.corrupt == 1
    assert [r.kind for r in recs] == ["metric", SKIPPED, "metric"]
    skipped = recs[1]
    assert skipped.offset == len(GOOD) + 1
    assert isinstance(skipped.value, str) and reason in skipped.value, skipped.value
    assert f"byte {len(GOOD) + 1}" in skipped.value
    skipped.value.encode("utf-8")  # the reason itself is storable text
    assert "\x00" not in skipped.value and len(skipped.value) < 600
    assert reader.read() == []
    # Read again from the start (a restarted controller): the same records, the same skip.
    assert JournalReader(path).read() == recs


def test_reader_counts_skips_across_reads(tmp_path: Path) -> None:
    path = tmp_path / "m.jsonl"
    path.write_bytes(b"junk\n" + GOOD + b"\n")
    reader = JournalReader(path)
    first = reader.read()
    with open(path, "ab") as f:
        f.write(b"more junk\n")
    second = reader.read()
    assert [r.kind for r in first] == [SKIPPED, "metric"]
    assert [r.kind for r in second] == [SKIPPED]
    assert second[0].value.startswith("2 journal lines")
    assert first[0].value.startswith("1 journal line ")


def test_an_enormous_line_is_skipped_without_holding_it(tmp_path: Path) -> None:
    path = tmp_path / "m.jsonl"
    reader = JournalReader(path)
    reader.CHUNK = 64
    reader.MAX_LINE = 1000
    line = b'{"t":1,"k":"list","n":"xs","v":[' + b"1," * 2000 + b"1]}"
    path.write_bytes(GOOD + b"\n" + line[:1500])  # the huge line is still being written
    assert [r.kind for r in reader.read()] == ["metric"]
    assert reader.offset == len(GOOD) + 1  # not consumed while incomplete
    with open(path, "ab") as f:
        f.write(line[1500:] + b"\n" + GOOD + b"\n")
    recs = reader.read()
    assert [r.kind for r in recs] == [SKIPPED, "metric"]
    assert "1000" in recs[0].value and str(len(line) + 1) in recs[0].value
    assert reader.offset == path.stat().st_size


def test_long_lines_under_the_limit_are_read(tmp_path: Path) -> None:
    path = tmp_path / "m.jsonl"
    JournalWriter(path).write("list", "xs", list(range(3000)))
    reader = JournalReader(path)
    reader.CHUNK = 64
    (rec,) = reader.read()
    assert rec.value == list(range(3000)) and reader.corrupt == 0
