"""The sampler's history of ended trials: kept by the engine, handed out without a copy.

A sweep asks its sampler at every proposal batch (every trial, for a model-based one), and each
time the sampler is handed every trial that ended so far. Copying that list per proposal cost
O(n) a proposal, O(n^2) a sweep; keeping a `FinishedTrial` object per ended trial made every
full collection of the cyclic GC walk one more object a trial (~90 ms a pass at 100,000
trials, one pass every ~7,000 trials). So `History` keeps each ended trial as a plain tuple of
its fields, which the GC stops tracking after its first pass (its parameters as a tuple of
names and one of values: numbers and strings, not tracked either), and `History.view` hands
out a read-only `Sequence` of the trials ended by then, whose items are made `FinishedTrial`
objects on first access and kept: a sampler that only counts the history (random search)
makes none; one that reads it (TPE) gets the same objects at every proposal, as its cache of
encoded rows needs.

A view is a snapshot: trials ending later do not show in it, even when they end out of index
order and so go before trials it holds. An end appends (in index order) or, out of order,
inserts; the engine's lists are copied before an insert (or a change) only when a view of them
has been handed out since the last copy, so a view read in another thread (the process
driver's proposals) never sees them move.

Examples
--------
>>> history = History()
>>> history.add(1, {"x": 0.5}, 0.5, (0.5,), None)
>>> history.add(0, {"x": 0.1}, None, None, None)   # ended after trial 1
>>> view = history.view()
>>> [t.params["x"] for t in view], view[1].score, view[1] is view[1]
([0.1, 0.5], 0.5, True)
>>> history.add(2, {"x": 0.9}, 0.9, (0.9,), None)
>>> len(view), len(history.view()), view == history.view()[:2]
(2, 3, True)
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, overload

from hypersweep.sampling import FinishedTrial

__all__ = ["History", "HistoryView"]

#: An ended trial as kept: FinishedTrial's fields, or (once a view gave it out) the object.
_Entry = tuple[Any, ...] | FinishedTrial


class History:
    """Ended trials in index order, each as the sampler sees it (see the module's notes)."""

    def __init__(self) -> None:
        self._entries: list[_Entry] = []
        self._indexes: list[int] = []  # each entry's trial index, ascending
        self._shared = False  # a view holds `_entries` as it is now
        self._names: dict[tuple[str, ...], tuple[str, ...]] = {}  # one tuple a set of names

    def __len__(self) -> int:
        return len(self._entries)

    def add(self, index: int, params: Mapping[str, Any], score: float | None,
            values: tuple[float, ...] | None, violations: tuple[float, ...] | None) -> None:
        """Trial ``index`` ended with these `FinishedTrial` fields (again: they replace the
        ones it ended with before)."""
        # The parameters as two tuples, not the dict: a tuple holding a dict (any object
        # the GC can track, tracked or not) is never untracked.
        names = tuple(params)
        entry = (self._names.setdefault(names, names), tuple(params.values()), score, values,
                 violations)
        indexes = self._indexes
        if not indexes or index > indexes[-1]:  # the common case: ended in index order
            indexes.append(index)
            self._entries.append(entry)
            return
        at = bisect.bisect_left(indexes, index)
        if self._shared:  # a view holds these: change a copy
            self._entries = self._entries.copy()
            self._shared = False
        if at < len(indexes) and indexes[at] == index:
            self._entries[at] = entry
        else:
            indexes.insert(at, index)
            self._entries.insert(at, entry)

    def view(self, before: Sequence[FinishedTrial] = ()) -> HistoryView:
        """The trials ended so far, after ``before`` (earlier sweeps' trials), read-only."""
        self._shared = True
        return HistoryView(before, self._entries, len(self._entries))


class HistoryView(Sequence[FinishedTrial]):
    """A read-only snapshot of a `History`, after the trials ``before`` it; compares equal
    to any sequence of the same trials (a list, another view)."""

    __slots__ = ("_before", "_entries", "_start", "_stop")

    def __init__(self, before: Sequence[FinishedTrial], entries: list[_Entry],
                 stop: int) -> None:
        self._before = before
        self._entries = entries  # shared with the History: only [:stop] is ours
        self._start = len(before)
        self._stop = stop

    def __len__(self) -> int:
        return self._start + self._stop

    def _made(self, i: int) -> FinishedTrial:
        entry = self._entries[i]
        if type(entry) is tuple:
            # Kept, so a sampler is handed the very same object at every proposal.
            names, values, *rest = entry
            entry = self._entries[i] = FinishedTrial(dict(zip(names, values, strict=True)),
                                                     *rest)
        return entry  # type: ignore[return-value]

    @overload
    def __getitem__(self, i: int) -> FinishedTrial: ...

    @overload
    def __getitem__(self, i: slice) -> list[FinishedTrial]: ...

    def __getitem__(self, i: int | slice) -> FinishedTrial | list[FinishedTrial]:
        if isinstance(i, slice):
            return [self[k] for k in range(*i.indices(len(self)))]
        n = len(self)
        if i < 0:
            i += n
        if not 0 <= i < n:
            raise IndexError("history index out of range")
        start = self._start
        return self._before[i] if i < start else self._made(i - start)

    def __iter__(self) -> Iterator[FinishedTrial]:
        yield from self._before
        for i in range(self._stop):
            yield self._made(i)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence) or isinstance(other, (str, bytes)):
            return NotImplemented
        return len(self) == len(other) and all(a == b for a, b in zip(self, other,
                                                                         strict=True))

    __hash__ = None  # type: ignore[assignment]  # equal to lists, which have none

    def __repr__(self) -> str:
        return f"HistoryView({list(self)!r})"
