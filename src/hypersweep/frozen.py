"""`frozen_record`: frozen dataclasses that compile only their ``__init__``.

``@dataclass(frozen=True)`` writes six methods of every class as source text and compiles each
(``__init__``, ``__repr__``, ``__eq__``, ``__hash__``, ``__setattr__``, ``__delattr__``): about
half a million instructions apiece, so the two dozen records a fresh process imports for its
first ``tune`` cost it ~90 million instructions, a quarter of hypersweep's own CPU there. A
class decorated ``@frozen_record`` on :class:`FrozenRecord` is a dataclass whose ``__init__``
alone is generated; the five others are :class:`FrozenRecord`'s, written once and reading the
class's fields. They give what dataclasses' generated methods give: equal when of the same
class with equal compared fields, the hash of the hashed fields, ``Name(field=value, ...)``
(``...`` for a record that contains itself), and ``FrozenInstanceError`` for any assignment or
deletion once ``__init__`` has set a field (``__init__`` sets each field once, through the
guard; ``__post_init__`` normalises with ``object.__setattr__`` as before). Type checkers see
a frozen dataclass (``dataclass_transform(frozen_default=True)``).

Examples
--------
>>> from dataclasses import field
>>> @frozen_record
... class Point(FrozenRecord):
...     x: int
...     y: int = 0
...     label: str = field(default="", compare=False)
>>> Point(1, 2, "a") == Point(1, 2, "b"), hash(Point(1, 2)) == hash((1, 2))
(True, True)
>>> Point(1), Point(1) == (1, 0)
(Point(x=1, y=0, label=''), False)
>>> Point(1).x = 2
Traceback (most recent call last):
...
dataclasses.FrozenInstanceError: cannot assign to field 'x'
"""

from __future__ import annotations

import dataclasses
import reprlib
from collections.abc import Callable
from dataclasses import FrozenInstanceError, dataclass
from operator import attrgetter
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from typing_extensions import dataclass_transform
else:
    def dataclass_transform(**_: Any) -> Any:  # typing's own is 3.11+; only checkers read it
        return lambda decorated: decorated

__all__ = ["FrozenRecord", "frozen_record"]

R = TypeVar("R")


def _getter(names: list[str]) -> Callable[[Any], tuple[Any, ...]]:
    if len(names) > 1:
        return attrgetter(*names)  # a tuple of the attributes, in C
    if names:
        one = attrgetter(names[0])
        return lambda record: (one(record),)
    return lambda record: ()


class _Plan:
    """What the methods read of one record class: its compared, hashed and shown fields."""

    __slots__ = ("compared", "fields", "hashed", "shown")

    def __init__(self, cls: type) -> None:
        fields = dataclasses.fields(cls)
        self.fields = frozenset(f.name for f in fields)
        self.compared = _getter([f.name for f in fields if f.compare])
        # dataclasses' rule: a field's own hash flag, else its compare flag
        self.hashed = _getter([f.name for f in fields
                               if (f.compare if f.hash is None else f.hash)])
        self.shown = tuple(f.name for f in fields if f.repr)


# one plan a class, made at its first use (a lost race makes an equal plan twice)
_PLANS: dict[type, _Plan] = {}


def _plan(cls: type) -> _Plan:
    plan = _PLANS.get(cls)
    if plan is None:
        plan = _PLANS[cls] = _Plan(cls)
    return plan


@dataclass_transform(frozen_default=True, field_specifiers=(dataclasses.field,))
def frozen_record(cls: type[R]) -> type[R]:
    """Make ``cls`` (a subclass of :class:`FrozenRecord`) a frozen dataclass, compiling only its
    ``__init__`` (see the module)."""
    if not issubclass(cls, FrozenRecord):
        raise TypeError(f"{cls.__qualname__}: a frozen_record derives from FrozenRecord")
    return dataclass(eq=False, repr=False)(cls)


class FrozenRecord:
    """Base of a `frozen_record`: value equality, hash, repr and frozen fields as
    ``@dataclass(frozen=True)`` would generate them (see the module)."""

    __slots__ = ()

    def __setattr__(self, name: str, value: Any) -> None:
        # __init__'s first setting of each field passes; nothing else does
        if name in self.__dict__ or name not in _plan(self.__class__).fields:
            raise FrozenInstanceError(f"cannot assign to field {name!r}")
        object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        raise FrozenInstanceError(f"cannot delete field {name!r}")

    def __eq__(self, other: object) -> bool:
        if other.__class__ is self.__class__:
            compared = _plan(self.__class__).compared
            return bool(compared(self) == compared(other))
        return NotImplemented

    def __hash__(self) -> int:
        return hash(_plan(self.__class__).hashed(self))

    @reprlib.recursive_repr()
    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}"
                          for name in _plan(self.__class__).shown)
        return f"{self.__class__.__qualname__}({shown})"
