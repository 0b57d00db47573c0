"""`FrozenRecord` gives what ``@dataclass(frozen=True)`` generates, on the same fields."""

from __future__ import annotations

import dataclasses
from dataclasses import field
from typing import Any

import pytest

from hypersweep.frozen import FrozenRecord
from hypersweep.spec import Limits
from hypersweep.store import MetricPoint, SweepRecord, TrialRecord


def _fields() -> list[Any]:
    """The same fields for both classes (a Field object belongs to the class it is made in)."""
    return [("number", int), ("name", str, field(default="a")),
            ("note", str, field(default="", compare=False)),
            ("shown", Any, field(default=None, repr=False)),
            ("extra", tuple[int, ...], field(default=(), hash=False))]


Generated = dataclasses.make_dataclass("Generated", _fields(), frozen=True)
# A subclass of FrozenRecord is made a dataclass as it is defined: the same fields, as a body
Shared = type("Shared", (FrozenRecord,), {
    "__annotations__": {name: kind for name, kind, *_ in _fields()},
    **{name: default for name, _, *given in _fields() for default in given}})


class Empty(FrozenRecord):
    pass


class One(FrozenRecord):
    only: int


CASES = [
    ((1,), (1,)), ((1, "b"), (1, "b")), ((1, "a", "x"), (1, "a", "y")),
    ((1, "a", "", [1]), (1, "a", "", [2])), ((1, "a", "", None, (1,)), (1, "a", "", None, (2,))),
    ((1,), (2,)), ((1, "a"), (1, "b")),
]


@pytest.mark.parametrize(("first", "second"), CASES)
def test_equality_hash_and_repr_are_the_generated_ones(first: tuple[Any, ...],
                                                       second: tuple[Any, ...]) -> None:
    g1, g2, s1, s2 = Generated(*first), Generated(*second), Shared(*first), Shared(*second)
    assert (s1 == s2) == (g1 == g2)
    assert (s1 != s2) == (g1 != g2)
    assert repr(s1) == repr(g1).replace("Generated", "Shared")
    try:
        expected = hash(g1)
    except TypeError:  # an unhashable field value: both refuse
        with pytest.raises(TypeError):
            hash(s1)
    else:
        assert hash(s1) == expected


def test_only_the_same_class_compares_equal() -> None:
    assert Shared(1) != Generated(1)
    assert Shared(1) != (1, "a", "", None, ())
    assert Shared(1).__eq__((1,)) is NotImplemented


def test_records_without_fields_or_with_one() -> None:
    assert Empty() == Empty() and hash(Empty()) == hash(()) and repr(Empty()) == "Empty()"
    assert One(3) == One(3) != One(4) and hash(One(3)) == hash((3,))
    assert repr(One(3)) == "One(only=3)"


def test_a_record_that_contains_itself_shows_dots() -> None:
    shown = []
    for cls in (Shared, Generated):
        holder: list[Any] = []
        record = cls(1, name=holder)  # type: ignore[arg-type]
        holder.append(record)
        shown.append(repr(record).replace(cls.__name__, "Record"))
    assert shown[0] == shown[1] == "Record(number=1, name=[...], note='', extra=())"


def test_records_stay_frozen() -> None:
    record = Shared(1)
    with pytest.raises(dataclasses.FrozenInstanceError):
        record.number = 2  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        del record.name  # type: ignore[misc]
    assert dataclasses.replace(record, number=2) == Shared(2)


@pytest.mark.parametrize("cls", [SweepRecord, TrialRecord, MetricPoint, Limits])
def test_the_store_and_spec_records_use_it(cls: type) -> None:
    assert issubclass(cls, FrozenRecord) and cls.__dataclass_params__.frozen  # type: ignore[attr-defined]
