"""A `frozen_record` behaves as ``@dataclass(frozen=True)`` generates it, on the same fields."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import pytest

from hypersweep.frozen import FrozenRecord, frozen_record
from hypersweep.spec import Limits
from hypersweep.store import MetricPoint, SweepRecord, TrialRecord


@dataclass(frozen=True)
class Generated:
    number: int
    name: str = "a"
    note: str = field(default="", compare=False)
    shown: Any = field(default=None, repr=False)
    extra: tuple[int, ...] = field(default=(), hash=False)


@frozen_record
class Shared(FrozenRecord):
    number: int
    name: str = "a"
    note: str = field(default="", compare=False)
    shown: Any = field(default=None, repr=False)
    extra: tuple[int, ...] = field(default=(), hash=False)


@frozen_record
class Empty(FrozenRecord):
    pass


@frozen_record
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


@pytest.mark.parametrize("record", [Shared(1), Generated(1)])
def test_records_stay_frozen(record: Any) -> None:
    frozen = dataclasses.FrozenInstanceError
    for name in ("number", "note", "shown", "unknown"):
        with pytest.raises(frozen, match=f"cannot assign to field '{name}'"):
            setattr(record, name, 2)
        with pytest.raises(frozen, match=f"cannot delete field '{name}'"):
            delattr(record, name)
    assert record.number == 1 and not hasattr(record, "unknown")
    assert dataclasses.replace(record, number=2) == type(record)(2)
    assert dataclasses.asdict(record) == {"number": 1, "name": "a", "note": "", "shown": None,
                                          "extra": ()}


def test_only_a_frozen_record_class_is_made_one() -> None:
    class Plain:
        number: int

    with pytest.raises(TypeError, match="derives from FrozenRecord"):
        frozen_record(Plain)


@pytest.mark.parametrize("cls", [SweepRecord, TrialRecord, MetricPoint, Limits])
def test_the_store_and_spec_records_are_frozen_records(cls: type) -> None:
    assert issubclass(cls, FrozenRecord) and dataclasses.is_dataclass(cls)
