"""`FrozenRecord` gives what ``@dataclass(frozen=True)`` generates, on the same fields."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import threading
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
# A subclass of FrozenRecord (made a dataclass at first use): the same fields, as a body
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


def _fresh() -> type:
    class Point(FrozenRecord):
        x: int
        y: int = 0

    return Point


def test_a_record_is_made_a_dataclass_at_first_use() -> None:
    for first_use in (lambda cls: cls(1), dataclasses.fields, dataclasses.is_dataclass,
                      lambda cls: type("Sub", (cls,), {"__annotations__": {"z": int},
                                                      "z": 2})(1)):
        cls = _fresh()
        assert "__dataclass_fields__" not in vars(cls)  # defining it compiled nothing
        first_use(cls)
        assert "__dataclass_fields__" in vars(cls) and "__init__" in vars(cls)
        assert cls.__dataclass_params__.frozen  # type: ignore[attr-defined]
        assert cls(1, 2) == cls(1, 2) and repr(cls(1)).endswith("Point(x=1, y=0)")
    assert not dataclasses.is_dataclass(FrozenRecord)


def test_a_subclass_gets_its_own_fields_whichever_class_is_made_first() -> None:
    base = _fresh()

    class Sub(base):  # type: ignore[valid-type,misc]
        z: int = 5

    assert base(1).y == 0 and Sub(1, 2, 3).z == 3 and Sub(1).z == 5
    with pytest.raises(TypeError):
        base(1, 2, 3)


def test_a_record_whose_first_method_is_not_the_base_s_is_made_when_defined() -> None:
    class Mixin:
        def __init__(self, *args: Any) -> None:
            raise AssertionError("the record's own __init__ comes first")

    class Mixed(Mixin, FrozenRecord):
        x: int

    class Custom(FrozenRecord):
        x: int

        def __init__(self, x: int) -> None:
            object.__setattr__(self, "x", x * 2)

    assert "__dataclass_fields__" in vars(Mixed) and "__dataclass_fields__" in vars(Custom)
    assert Mixed(1).x == 1 and Custom(1).x == 2  # dataclass keeps a class's own __init__


def test_an_instance_made_without_init_is_still_frozen() -> None:
    cls = _fresh()
    record = object.__new__(cls)  # as a store's fast readers build records
    with pytest.raises(dataclasses.FrozenInstanceError):
        record.x = 1
    with pytest.raises(dataclasses.FrozenInstanceError):
        del record.x


def test_threads_making_one_class_at_once_all_get_it_made() -> None:
    cls = _fresh()
    start = threading.Barrier(8)
    made: list[Any] = []

    def first_use() -> None:
        start.wait()
        made.append(cls(1))

    workers = [threading.Thread(target=first_use) for _ in range(8)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert made == [cls(1)] * 8


# Run in a fresh interpreter: importing every module (the MLflow store among them) has
# effects on third-party registries the rest of the test session should not inherit.
_EVERY_RECORD = """
import dataclasses, importlib, pkgutil
import hypersweep
from hypersweep.frozen import FrozenRecord
modules = 0
for info in pkgutil.walk_packages(hypersweep.__path__, "hypersweep."):
    if info.name.rsplit(".", 1)[-1] == "__main__":
        continue
    try:
        importlib.import_module(info.name)
    except ModuleNotFoundError as err:  # an optional extra that is not installed
        if (err.name or "").startswith("hypersweep"):
            raise
        continue
    modules += 1
records, pending = [], list(FrozenRecord.__subclasses__())
while pending:
    cls = pending.pop()
    records.append(cls)
    pending.extend(cls.__subclasses__())
for cls in records:
    assert dataclasses.fields(cls) is not None and cls.__dataclass_params__.frozen, cls
print(modules, len(records))
"""


def test_every_record_of_the_package_is_a_valid_frozen_dataclass() -> None:
    """A mistake in a record's fields is raised at its first use: here, for all of them."""
    done = subprocess.run([sys.executable, "-c", _EVERY_RECORD], capture_output=True,
                          text=True, timeout=240, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    modules, records = map(int, done.stdout.split())
    assert modules > 100 and records > 25
