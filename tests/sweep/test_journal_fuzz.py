"""Fuzz the controller's side of the metrics journal: no journal content can make it raise.

A journal is arbitrary bytes and JSON lines shaped like records with extreme values (NaN, ±inf,
integers far beyond 64 bits and beyond float range, times out of any calendar, lone
surrogates as escapes and as raw bytes, NUL, deep nesting, unknown kinds), with good records
between them. What the controller does with each batch — read it with `JournalReader`, turn it
into points and tags with `ingest.to_points`, write those to a real store — must never raise;
every good record must be stored; and reading the journal again from its start (a restarted
controller) must store nothing twice and skip the same lines.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from itertools import count
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hypersweep.engine.ingest import JOURNAL_WARNING_TAG, to_points
from hypersweep.store import Status, Store, SweepRecord, TrialRecord, new_sweep_id, open_store
from hypersweep.tracking import JournalReader
from hypersweep.tracking.journal import KINDS, SKIPPED

pytestmark = pytest.mark.slow

# Lone surrogates come out of st.text only when asked for the Cs category.
texts = st.text(
    alphabet=st.characters(codec=None, categories=["L", "N", "P", "S", "Z", "C", "Cs"]),
    max_size=12,
)
names = st.one_of(texts, st.sampled_from(["a", "\ud800", "a\x00b", "é", "k" * 300, ""]))
huge_ints = st.one_of(
    st.integers(),
    st.integers(min_value=-(10**400), max_value=10**400),
    st.sampled_from([2**63, -(2**63) - 1, 2**64, 10**308 * 2, 10**400, -(10**400)]),
)
numbers = st.one_of(st.floats(allow_nan=True, allow_infinity=True), huge_ints)
scalars = st.one_of(st.none(), st.booleans(), numbers, texts)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4),
                            st.dictionaries(texts, inner, max_size=3)),
    max_leaves=12,
)
times = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.sampled_from([1e999, -1e12, 1e300, 253402300800, -62135596801, 1.7e9]),
    st.text(max_size=3), st.none(), st.booleans(),
)
kinds = st.one_of(st.sampled_from([*sorted(KINDS), SKIPPED, "bogus"]), scalars)
steps = st.one_of(st.none(), huge_ints, st.booleans(), st.floats(), texts)


@st.composite
def record_lines(draw: st.DrawFn) -> bytes:
    """One JSON object shaped like a journal record, some keys missing, values extreme."""
    obj = {}
    for key, strategy in (("t", times), ("k", kinds), ("n", names), ("v", values), ("s", steps)):
        if draw(st.integers(0, 9)) > 0:
            obj[key] = draw(strategy)
    escaped = draw(st.booleans())
    text = json.dumps(obj, ensure_ascii=escaped)  # escaped: "\ud800"; raw: the code point
    return text.encode("utf-8", "surrogatepass")  # the codec trick: surrogates as raw bytes


# Lines json.dumps will not write: numbers too long to parse, nesting past the recursion limit.
crafted_lines = st.one_of(
    st.integers(1, 6000).map(lambda n: b'{"t":1,"k":"metric","n":"a","v":' + b"9" * n + b"}"),
    st.integers(1, 3000).map(
        lambda d: b'{"t":1,"k":"list","n":"a","v":' + b"[" * d + b"]" * d + b"}"),
    st.integers(1, 3000).map(lambda d: b"[" * d),
    st.sampled_from([b"", b" ", b"\r", b"NaN", b"{}", b"null", b'{"t":1}']),
)

segments = st.one_of(
    st.tuples(st.just("raw"), st.binary(max_size=300)),
    st.tuples(st.just("record"), record_lines()),
    st.tuples(st.just("crafted"), crafted_lines),
    st.tuples(st.just("good"), st.just(b"")),
)


def build_journal(parts: list[tuple[str, bytes]], end_partial: bytes) -> tuple[bytes, list[int]]:
    """The journal's bytes and the offsets of its good records (each on a line of its own)."""
    data = bytearray()
    good: list[int] = []
    for kind, payload in parts:
        if kind == "good":
            good.append(len(data))
            payload = json.dumps({"t": 1.7e9, "k": "metric", "n": "good",
                                  "v": len(good), "s": len(good)}).encode()
        data += payload + b"\n"
    return bytes(data + end_partial), good


class Trials:
    """Fresh trials of one sweep in a real store, and a folder for their journals."""

    def __init__(self, store: Store, folder: Path) -> None:
        self.store = store
        self.folder = folder
        self.sweep_id = new_sweep_id()
        self._numbers = count()
        store.create_sweep(SweepRecord(self.sweep_id, "fuzz", Status.RUNNING, {},
                                       datetime.now(timezone.utc)))

    def new(self) -> tuple[str, Path]:
        number = next(self._numbers)
        trial_id = f"{self.sweep_id}_{number}"
        self.store.create_trial(TrialRecord(trial_id, self.sweep_id, number, {},
                                            Status.RUNNING, datetime.now(timezone.utc)))
        return trial_id, self.folder / f"{number}.jsonl"


@pytest.fixture(scope="module")
def sqlite_trials(tmp_path_factory: pytest.TempPathFactory) -> Trials:
    folder = tmp_path_factory.mktemp("fuzz")
    return Trials(open_store(f"sqlite:///{folder}/store.db"), folder)


@pytest.fixture
def postgres_trials(postgres_url: str, tmp_path: Path) -> Trials:
    return Trials(open_store(postgres_url), tmp_path)


def ingest_journal(store: Store, trial_id: str, path: Path, max_bytes: int | None) -> tuple:
    """What the controller does each poll, until the journal has nothing new."""
    reader = JournalReader(path)
    added = 0
    tags: dict[str, str] = {}
    records = []
    while True:
        before = reader.offset
        batch = reader.read(max_bytes=max_bytes)
        if reader.offset == before:
            break
        records += batch
        points, batch_tags = to_points(batch)
        added += store.add_metrics(trial_id, points)
        if batch_tags:
            store.set_tags(trial_id, batch_tags)
            tags.update(batch_tags)
    assert reader.read() == []
    return reader, records, added, tags


def check_journal(trials: Trials, journal: bytes, good: list[int],
                  max_bytes: int | None) -> None:
    trial_id, path = trials.new()
    path.write_bytes(journal)
    store = trials.store
    reader, records, added, tags = ingest_journal(store, trial_id, path, max_bytes)
    assert reader.offset == journal.rfind(b"\n") + 1  # all whole lines consumed, once
    skipped = [r for r in records if r.kind == SKIPPED]
    assert reader.corrupt == len(skipped)
    if skipped:
        assert store.get_tags(trial_id)[JOURNAL_WARNING_TAG] == skipped[-1].value
    stored = store.get_metrics(trial_id, "good")
    assert [(p.seq, p.value) for p in stored] == [(o, i + 1) for i, o in enumerate(good)]
    # A restarted controller reads the journal again from its start: nothing new, same skips.
    _, records_again, added_again, tags_again = ingest_journal(store, trial_id, path, None)
    assert added_again == 0 and records_again == records and tags_again == tags
    assert len(store.get_metrics(trial_id)) == added


journals = st.tuples(
    st.lists(segments, max_size=12),
    st.one_of(st.just(b""), st.binary(max_size=20).filter(lambda b: b"\n" not in b)),
    st.one_of(st.none(), st.integers(1, 4000)),
)


@settings(max_examples=600, suppress_health_check=[HealthCheck.too_slow,
                                                    HealthCheck.data_too_large])
@given(journal=journals)
def test_no_journal_makes_ingest_raise(sqlite_trials: Trials, journal) -> None:
    parts, end_partial, max_bytes = journal
    check_journal(sqlite_trials, *build_journal(parts, end_partial), max_bytes)


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.binary(max_size=4000))
def test_no_bytes_make_ingest_raise(sqlite_trials: Trials, data: bytes) -> None:
    check_journal(sqlite_trials, data, [], None)


@pytest.mark.postgres
@settings(max_examples=100, suppress_health_check=[HealthCheck.too_slow,
                                                   HealthCheck.data_too_large,
                                                   HealthCheck.function_scoped_fixture])
@given(journal=journals)
def test_no_journal_makes_ingest_raise_on_postgres(postgres_trials: Trials, journal) -> None:
    """PostgreSQL refuses more than SQLite does (NUL in text, over-long tag keys)."""
    parts, end_partial, max_bytes = journal
    check_journal(postgres_trials, *build_journal(parts, end_partial), max_bytes)
