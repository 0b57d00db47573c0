"""`FrozenRecord`: frozen dataclasses with one ``__eq__``, ``__hash__`` and ``__repr__``.

``@dataclass(frozen=True)`` writes six methods of every class as source text and compiles each
(``__init__``, ``__repr__``, ``__eq__``, ``__hash__``, ``__setattr__``, ``__delattr__``): about
half a million instructions apiece, so the two dozen records a fresh process imports for its
first ``tune`` cost it ~90 million instructions, a quarter of hypersweep's own CPU there. A
subclass of :class:`FrozenRecord` is made a frozen dataclass when it is defined, compiling only
``__init__`` and the frozen pair, and takes the other three from the base: written once,
reading the class's fields, and giving what dataclasses' generated methods give (equal when of
the same class with equal compared fields, the hash of those fields, ``Name(field=value, ...)``
with ``...`` for a record that contains itself). It is still a dataclass (``fields``,
``replace``, ``asdict``), frozen as dataclasses freeze (their own ``__setattr__``), and type
checkers see it as one (``dataclass_transform``).

Examples
--------
>>> from dataclasses import FrozenInstanceError, field
>>> class Point(FrozenRecord):
...     x: int
...     y: int = 0
...     label: str = field(default="", compare=False)
>>> Point(1, 2, "a") == Point(1, 2, "b"), hash(Point(1, 2)) == hash((1, 2))
(True, True)
>>> Point(1), Point(1) == (1, 0)
(Point(x=1, y=0, label=''), False)
>>> try:
...     Point(1).x = 2
... except FrozenInstanceError as err:
...     print(err)
cannot assign to field 'x'
"""

from __future__ import annotations

import dataclasses
import reprlib
from collections.abc import Callable
from dataclasses import dataclass
from operator import attrgetter
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from typing_extensions import dataclass_transform
else:
    def dataclass_transform(**_: Any) -> Any:  # typing's own is 3.11+; only checkers read it
        return lambda decorated: decorated

__all__ = ["FrozenRecord"]


def _getter(names: list[str]) -> Callable[[Any], tuple[Any, ...]]:
    if len(names) > 1:
        return attrgetter(*names)  # a tuple of the attributes, in C
    if names:
        one = attrgetter(names[0])
        return lambda record: (one(record),)
    return lambda record: ()


class _Plan:
    """What the methods read of one record class: its compared, hashed and shown fields."""

    __slots__ = ("compared", "hashed", "shown")

    def __init__(self, cls: type) -> None:
        fields = dataclasses.fields(cls)
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
class FrozenRecord:
    """Base of a record: each subclass is made a frozen dataclass, with value equality, hash
    and repr as ``@dataclass(frozen=True)`` would generate them (see the module)."""

    __slots__ = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        dataclass(frozen=True, eq=False, repr=False)(cls)

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
