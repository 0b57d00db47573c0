"""`FrozenRecord`: frozen dataclasses, made at first use, sharing one eq, hash and repr.

``@dataclass(frozen=True)`` writes six methods of every class as source text and compiles each
(``__init__``, ``__repr__``, ``__eq__``, ``__hash__``, ``__setattr__``, ``__delattr__``): about
half a million instructions apiece, paid by every process that merely imports the class. A
subclass of :class:`FrozenRecord` takes three of them from the base, written once: they read
the class's fields and give what dataclasses' generated ones give (equal when of the same class
with equal compared fields, the hash of those fields, ``Name(field=value, ...)`` with ``...``
for a record that contains itself). And it is made a frozen dataclass, by dataclasses itself
(compiling ``__init__`` and the frozen pair), only at its first use: an instance made, its
fields read (``dataclasses.fields``, ``is_dataclass``), a subclass defined. A fresh process's
first ``tune`` imports 26 records and uses 11 (30M instructions fewer than making all at
import); a script trial's ``Run.get_context()`` imports 3 and uses none before it logs (6M
fewer, a tenth of its cost). Made, it is a dataclass (``fields``, ``replace``, ``asdict``),
frozen as dataclasses freeze (their own ``__setattr__``); type checkers see it as one from the
start (``dataclass_transform``). A mistake in a record's fields (one without a default after one
with) is raised at its first use, not its definition: tests/test_frozen_records.py uses every
record of the package.

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
import threading
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


# Re-entrant: making a class a dataclass first makes its record bases dataclasses.
_MAKING = threading.RLock()
_MADE: set[type] = set()


def made(cls: type) -> type:
    """``cls``, a subclass of `FrozenRecord`, made a frozen dataclass if it is not yet one.

    >>> class Pair(FrozenRecord):
    ...     left: int
    ...     right: int = 0
    >>> "__dataclass_fields__" in vars(Pair), "__dataclass_fields__" in vars(made(Pair))
    (False, True)
    """
    if cls not in _MADE:
        with _MAKING:
            # another thread may have made it meanwhile, or this one be making it now
            # (dataclasses sets the fields before it writes the methods)
            if "__dataclass_fields__" not in cls.__dict__:
                dataclass(frozen=True, eq=False, repr=False)(cls)
                _MADE.add(cls)
    return cls


#: The methods of `FrozenRecord` that make an instance's class (its generated ones then answer).
_FIRST_USE = ("__init__", "__setattr__", "__delattr__")


class _Made:
    """An attribute dataclasses gives a class (``__dataclass_fields__``, read by ``fields``,
    ``is_dataclass`` and a subclass's making; ``__dataclass_params__``), for a record class
    not yet made: reading it makes the class, whose own attribute then hides this one."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, record: object, cls: type) -> Any:
        if cls is FrozenRecord:  # the base is not a dataclass
            raise AttributeError(self.name)
        return made(cls).__dict__[self.name]


@dataclass_transform(frozen_default=True, field_specifiers=(dataclasses.field,))
class FrozenRecord:
    """Base of a record: each subclass is made a frozen dataclass at first use, with value
    equality, hash and repr as ``@dataclass(frozen=True)`` would generate them (see the
    module)."""

    __slots__ = ()
    __dataclass_fields__ = _Made()
    __dataclass_params__ = _Made()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # Made at first use only where that use reaches this base: an instance's first
        # __init__ (not a mixin's, nor an inherited record's), and no record base whose own
        # making would hand this class its generated methods.
        if (any(getattr(cls, name) is not getattr(FrozenRecord, name) for name in _FIRST_USE)
                or any(issubclass(base, FrozenRecord) for base in cls.__mro__[1:-1]
                       if base is not FrozenRecord)):
            made(cls)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Reached only before the class is made: making it gives it its own __init__.
        made(self.__class__).__init__(self, *args, **kwargs)  # type: ignore[misc]

    def __setattr__(self, name: str, value: Any) -> None:
        # Reached only by an instance of a class not yet made (a copy or an unpickled one):
        # the made class's own frozen __setattr__ answers.
        made(self.__class__)
        setattr(self, name, value)

    def __delattr__(self, name: str) -> None:
        made(self.__class__)
        delattr(self, name)

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
