"""The sampler, asked off the controller's thread.

A model-based sampler may think for a tenth of a second or more on a long history; the
controller must go on reading metrics, applying the policy and noticing exits meanwhile. So
the loop *asks* for proposals, carries on, and *takes* them when they are ready. A fast
sampler (random, grid) answers within the short grace the loop gives it, so its trials start
in the same step, as if it had been called directly.

Only the worker thread ever calls the sampler, one request at a time, on a snapshot of the
history made when asking: proposals stay a function of (seed, history), as the sampling
layer promises, whatever the timing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from hypersweep.sampling import FinishedTrial, Sampler


class Proposals:
    """One request at a time to ``sampler.propose``, answered on a worker thread.

    Examples
    --------
    >>> from hypersweep.sampling import RandomParameterSampling
    >>> from hypersweep.space import uniform
    >>> proposals = Proposals(RandomParameterSampling({"x": uniform(0, 1)}, seed=0))
    >>> proposals.ask(2, [], [])
    >>> len(proposals.take(timeout=5.0) or [])
    2
    >>> proposals.close()
    """

    def __init__(self, sampler: Sampler) -> None:
        self.sampler = sampler
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hypersweep-sampler")
        self._future: Future[list[dict[str, Any]]] | None = None
        self.asked = 0

    @property
    def in_flight(self) -> bool:
        """True from :meth:`ask` until :meth:`take` hands the answer over."""
        return self._future is not None

    def ask(self, n: int, finished: Sequence[FinishedTrial],
            pending: Sequence[Mapping[str, Any]]) -> None:
        """Start proposing ``n`` configurations from this history (``finished``: a snapshot
        the engine will not change, such as its `~hypersweep.engine.history.HistoryView`;
        ``pending``: copied)."""
        if self._future is not None:
            raise RuntimeError("a proposal is already in flight; take it first")
        self.asked = n
        # The engine's view as it is, not a list of it: a snapshot already, safe to read in
        # the sampler's thread, where a copy cost O(ended trials) of this process's CPU at
        # every proposal (and made each trial's FinishedTrial, which random search never reads).
        self._future = self._pool.submit(self.sampler.propose, n, finished,
                                         [dict(p) for p in pending])

    def take(self, timeout: float = 0.0) -> list[dict[str, Any]] | None:
        """The answer, waiting up to ``timeout`` seconds; None while still thinking.

        The sampler's own errors are raised here, in the controller's thread.
        """
        if self._future is None:
            return None
        try:
            result = self._future.result(timeout=timeout)
        except FutureTimeout:
            return None
        finally:
            if self._future is not None and self._future.done():
                self._future = None
        return result

    def close(self) -> None:
        """Drop an unanswered request and let the worker thread end."""
        if self._future is not None:
            self._future.cancel()
            self._future = None
        self._pool.shutdown(wait=False, cancel_futures=True)
