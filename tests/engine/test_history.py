"""The sampler's history as the engine keeps it (`hypersweep.engine.history`): a view is the
list of the trials ended when it was taken, whatever ends after (in or out of index order, or
again); a sampler gets the same objects from one view to the next, and the same proposals as
from a plain list; and what the engine keeps of an ended trial is no object the GC walks."""

from __future__ import annotations

import gc
import random

from hypersweep.engine.history import History
from hypersweep.sampling import FinishedTrial, TPEParameterSampling
from hypersweep.space import choice, uniform


def _trial(i: int) -> FinishedTrial:
    return FinishedTrial({"x": i / 10, "kind": "ab"[i % 2]}, score=float(i), values=(float(i),))


def _add(history: History, i: int, trial: FinishedTrial) -> None:
    history.add(i, trial.params, trial.score, trial.values, trial.violations)


def test_a_view_is_a_snapshot_whatever_ends_after_it() -> None:
    history, trials = History(), [_trial(i) for i in range(6)]
    for i in (0, 2, 3):
        _add(history, i, trials[i])
    view = history.view()
    assert list(view) == [trials[0], trials[2], trials[3]]
    _add(history, 1, trials[1])  # out of index order: goes before trials the view holds
    _add(history, 5, trials[5])
    _add(history, 2, FinishedTrial({"x": 0.2, "kind": "a"}, score=None))  # ended again
    assert list(view) == [trials[0], trials[2], trials[3]] and len(view) == 3
    now = history.view()
    assert list(now) == [trials[0], trials[1],
                         FinishedTrial({"x": 0.2, "kind": "a"}, score=None), trials[3],
                         trials[5]]
    _add(history, 4, trials[4])
    assert len(now) == 5 and len(history.view()) == 6


def test_a_view_reads_as_the_list_it_stands_for() -> None:
    history, warm = History(), [_trial(10), _trial(11)]
    trials = [_trial(i) for i in range(4)]
    for i, trial in enumerate(trials):
        _add(history, i, trial)
    view, expected = history.view(warm), warm + trials
    assert view == expected and expected == view and view != expected[:-1]
    assert [view[i] for i in range(-6, 6)] == expected + expected
    assert view[1:5] == expected[1:5] and view[::-2] == expected[::-2]
    assert view[0] is warm[0] and len(view) == 6 and view.index(trials[2]) == 4
    assert view == history.view(warm) and History().view() == []


def test_a_sampler_gets_the_same_objects_at_every_proposal() -> None:
    history = History()
    for i in range(3):
        _add(history, i, _trial(i))
    first = list(history.view())
    _add(history, 3, _trial(3))
    _add(history, 5, _trial(5))
    second = history.view()
    assert [first[i] is second[i] for i in range(3)] == [True] * 3 and len(list(second)) == 5
    _add(history, 4, _trial(4))  # out of order after a view: the engine's lists are copied
    third = history.view()
    assert [third[i] is second[i] for i in range(4)] == [True] * 4
    assert third[4] == _trial(4) and third[4] is third[4] and third[5] is second[4]


def test_tpe_proposes_the_same_from_a_view_as_from_a_list() -> None:
    space = {"x": uniform(0.0, 1.0), "kind": choice("a", "b", "c")}
    by_list, by_view = TPEParameterSampling(space, seed=3), TPEParameterSampling(space, seed=3)
    rng, history, finished = random.Random(0), History(), []
    for i in range(40):
        got = by_list.propose(1, finished, [])
        assert by_view.propose(1, history.view(), []) == got
        trial = FinishedTrial(got[0], score=None if i % 7 == 3 else rng.random())
        finished.append(trial)
        _add(history, i, trial)


def test_the_kept_trials_are_no_objects_the_gc_walks() -> None:
    history = History()
    for i in range(2000):
        _add(history, i, _trial(i))
    # A tuple is untracked once what it holds is: a pass may see a trial's tuple before
    # the values tuple in it, so the second pass does it.
    gc.collect()
    gc.collect()
    assert not any(gc.is_tracked(entry) for entry in history._entries)
    view = history.view()
    assert view[5] == _trial(5)  # what a sampler read is an object again
    assert gc.is_tracked(history._entries[5]) and not gc.is_tracked(history._entries[6])
