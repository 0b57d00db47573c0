"""Running function trials: in the caller's thread, in a thread pool, or in worker processes.

Every runner is a loop over :meth:`Sweep.ask` / :meth:`Sweep.tell`; the sweep records and
judges, the runner only executes.

- **Serial** (one trial at a time, threads): the objective runs in the caller's thread: no
  hand-off at all, the fastest path for cheap objectives.
- **Threads**: a ``ThreadPoolExecutor``; each worker logs straight into the sweep (which holds
  a lock), and a stopped trial's next ``run.log`` raises :class:`TrialCanceled`.
- **Processes** (CPU-bound objectives, no GIL): a ``multiprocessing.Pool`` with the
  ``forkserver`` context (``spawn`` where there is none; never ``fork``: the parent has
  threads and database connections). The objective is pickled once per worker. Metrics flow
  back through one ``multiprocessing`` queue, in logging order per worker, and the trial's end
  (value, or traceback) follows its metrics on the same queue, so nothing is told before it is
  recorded. Stop requests flow the other way through a shared byte per worker slot: the
  sweep's stop decision raises the flag, and the worker's next ``run.log`` raises
  :class:`TrialCanceled`.
- **Devices and cores** (``resources_per_trial``): the sweep places each trial
  (``trial.record.placement``); its task sets ``CUDA_VISIBLE_DEVICES`` and the thread counts
  in the worker's environment and pins the worker to the trial's cores *before* the
  objective is loaded, and each worker runs one trial only (``maxtasksperchild=1``): CUDA
  and OpenMP read their settings once per process, so a reused worker would keep the last
  trial's devices.
- **A worker that dies** (a crash in native code, the out-of-memory killer, ``os._exit``)
  fails only its own trial: each slot records the pid of the worker running its trial, the
  runner notices that pid gone, and the pool starts a replacement. (``ProcessPoolExecutor``
  was not used for this reason: one dead worker breaks the whole pool and kills the other
  workers' trials with it.)

This module must stay cheap to import: process workers import it to unpickle their task.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
import traceback
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from hypersweep.functions.trial import LOGGING_KINDS, TrialCanceled
from hypersweep.tracking.context import BaseRun, running

if TYPE_CHECKING:
    import multiprocessing.context
    from concurrent.futures import Future

    from hypersweep.functions.driver import FunctionDriver as Sweep
    from hypersweep.functions.trial import Trial

__all__ = ["Objective", "check_picklable", "run_processes", "run_serial", "run_threads"]

Objective = Callable[[dict[str, Any], Any], Any]

#: Seconds a running trial gets to notice a stop (its next ``run.log``): after Ctrl-C, and in
#: worker processes before the worker of a trial that ignores the stop is ended.
STOP_GRACE = 5.0
#: Seconds between the process runner's checks for dead workers and overdue stops.
CHECK_INTERVAL = 0.1


def result_value(value: Any) -> float | Mapping[str, Any] | None:
    """What an objective's return value logs: a number (the primary metric), a mapping of
    metrics, or nothing (None). Anything else is a mistake worth failing the trial for."""
    if type(value) is float:  # the common case, before the slower checks
        return value
    if value is None or isinstance(value, Mapping):
        return value
    if isinstance(value, bool) or not hasattr(value, "__float__"):
        raise TypeError(f"the objective returned {type(value).__name__} {value!r}; return a "
                        "number (the primary metric), a dict of metrics, or None")
    return float(value)


def _trial_error() -> str:
    return traceback.format_exc()


# ---------------------------------------------------------------------- in this process
def _run_one(sweep: Sweep, objective: Objective, trial: Trial) -> None:
    """Run one trial in this thread and tell the sweep how it ended.

    ``KeyboardInterrupt`` is not a trial failure: it is re-raised for the runner to stop the
    sweep.
    """
    trial.raise_on_stop = True
    try:
        with running(trial):  # framework callbacks deep inside find the trial's run
            value = result_value(objective(trial.params, trial))
    except TrialCanceled:
        sweep.tell(trial, status="Canceled")
    except Exception:
        sweep.tell(trial, status="Failed", error=_trial_error())
    else:
        sweep.tell(trial, value)


def run_serial(sweep: Sweep, objective: Objective) -> None:
    """One trial at a time in the caller's thread."""
    while (trial := sweep.ask()) is not None:
        _run_one(sweep, objective, trial)


def run_threads(sweep: Sweep, objective: Objective, workers: int) -> None:
    """Up to ``workers`` trials at once in a thread pool."""
    # Here, not at the top: a serial tune (the default) has no use for concurrent.futures.
    from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor
    from concurrent.futures import wait as wait_futures

    pool = ThreadPoolExecutor(workers, thread_name_prefix=f"hypersweep-{sweep.id[:11]}")
    in_flight: set[Future[None]] = set()
    try:
        while True:
            while len(in_flight) < workers and (trial := sweep.ask()) is not None:
                in_flight.add(pool.submit(_run_one, sweep, objective, trial))
            if not in_flight:
                return
            done, in_flight = wait_futures(in_flight, return_when=FIRST_COMPLETED)
            for future in done:
                future.result()  # a KeyboardInterrupt from an objective comes out here
    except KeyboardInterrupt:
        sweep.cancel()  # running trials' next run.log raises TrialCanceled
        with contextlib.suppress(KeyboardInterrupt):  # a second Ctrl-C: leave them
            wait_futures(in_flight, timeout=STOP_GRACE)
        raise
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


# ---------------------------------------------------------------------- in worker processes
def check_picklable(objective: Objective) -> None:
    """Raise a TypeError saying what to do when ``objective`` cannot reach a worker process."""
    name = getattr(objective, "__qualname__", repr(objective))
    advice = ("define it at module level (not a lambda, a nested function or a method of a "
              "local class), or use executor='thread'")
    import pickle  # pickle, queue and signal only where trials run in processes

    try:
        pickle.dumps(objective)
    except Exception as err:
        raise TypeError(f"executor='process' sends the objective to worker processes, but "
                        f"{name} cannot be pickled ({err}); {advice}") from None
    main = sys.modules.get("__main__")
    if getattr(objective, "__module__", None) == "__main__" and not getattr(main, "__file__",
                                                                           None):
        raise TypeError(f"executor='process': {name} is defined interactively (in __main__ of "
                        f"a notebook or REPL), where worker processes cannot import it; move it "
                        f"to a module, or use executor='thread'")


def _context() -> multiprocessing.context.BaseContext:
    import multiprocessing  # only where trials run in processes: `tune` starts faster

    method = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
    return multiprocessing.get_context(method)


# Worker-process globals, set once by the pool's initializer.
_PICKLED: bytes = b""
_OBJECTIVE: Objective | None = None
_LOAD_ERROR: str | None = None
_QUEUE: Any = None
_FLAGS: Any = None
_PIDS: Any = None


def _init_worker(objective: bytes, messages: Any, flags: Any, pids: Any) -> None:
    global _PICKLED, _QUEUE, _FLAGS, _PIDS
    _PICKLED, _QUEUE, _FLAGS, _PIDS = objective, messages, flags, pids


def _load_objective() -> Objective | None:
    """The objective, unpickled at the worker's first trial (after its devices are set: the
    objective's module may import CUDA libraries). Loaded here, not by multiprocessing: a
    worker that cannot import it would otherwise die at start, and the pool would replace it
    forever. Instead each trial fails with the reason."""
    global _OBJECTIVE, _LOAD_ERROR
    if _OBJECTIVE is None and _LOAD_ERROR is None:
        import pickle

        try:
            _OBJECTIVE = pickle.loads(_PICKLED)
        except BaseException:
            _LOAD_ERROR = ("the worker process could not load the objective (is its module "
                           "importable from a fresh process?):\n" + _trial_error())
    return _OBJECTIVE


def _take_placement(environment: Mapping[str, str], cores: tuple[int, ...]) -> None:
    """Give this worker process its trial's devices and cores.

    Cores the machine no longer allows (a shrunk container) cost speed, not results: the
    trial runs unpinned and says so, as a script trial's supervisor does.
    """
    os.environ.update(environment)
    if cores and hasattr(os, "sched_setaffinity"):
        try:
            os.sched_setaffinity(0, cores)
        except OSError as err:
            print(f"hypersweep: could not pin the trial to cores {list(cores)} ({err}); "
                  "running it unpinned", file=sys.stderr, flush=True)


class _WorkerRun(BaseRun):
    """The run an objective gets in a worker process: logging goes to the parent's queue."""

    def __init__(self, trial_id: str, sweep_id: str, index: int, slot: int,
                 outputs: str) -> None:
        super().__init__(trial_id, sweep_id, outputs)
        self._index = index
        self._slot = slot

    def should_stop(self) -> bool:
        """Whether the sweep asked this trial to stop (see ``Trial.should_stop``)."""
        return bool(_FLAGS[self._slot])

    def _emit(self, kind: str, name: str, value: Any, step: int | None, label: str) -> None:
        _QUEUE.put(("log", self._index, kind, name, value, step, time.time()))
        if kind in LOGGING_KINDS and _FLAGS[self._slot]:
            raise TrialCanceled(self.id)


def _work(trial_id: str, sweep_id: str, index: int, slot: int, params: dict[str, Any],
          outputs: str, environment: Mapping[str, str] | None = None,
          cores: tuple[int, ...] = ()) -> None:
    """One trial in a worker process; its end goes to the queue after its metrics."""
    _PIDS[slot] = os.getpid()
    if environment or cores:
        _take_placement(environment or {}, cores)
    objective = _load_objective()  # a heavy import is the worker's start, not the trial's
    _QUEUE.put(("begin", index, time.time()))
    if objective is None:
        _QUEUE.put(("end", index, "Failed", None, _LOAD_ERROR))
        return
    try:
        run = _WorkerRun(trial_id, sweep_id, index, slot, outputs)
        with running(run):
            value = result_value(objective(params, run))
        end: tuple[Any, ...] = ("end", index, "Completed", value, None)
    except TrialCanceled:
        end = ("end", index, "Canceled", None, None)
    except KeyboardInterrupt:
        end = ("end", index, "Interrupted", None, None)
    except BaseException:
        end = ("end", index, "Failed", None, _trial_error())
    try:
        _QUEUE.put(end)
    except Exception:  # the value would not pickle (an exotic mapping): fail, don't vanish
        _QUEUE.put(("end", index, "Failed", None, _trial_error()))


def run_processes(sweep: Sweep, objective: Objective, workers: int) -> None:
    """Up to ``workers`` trials at once, each in a worker process."""
    import pickle
    import queue as queue_module
    import signal

    # Here, not at the top: workers import this module, and need none of the executors.
    from hypersweep.execution.placement import Slot
    from hypersweep.execution.processes import same_process_alive as alive  # zombies count dead

    check_picklable(objective)
    placement = sweep.engine.placement
    resources = sweep.spec.resources
    if placement is not None and resources is not None:
        # No idle workers: no more trials run at once than the devices and cores allow.
        workers = min(workers, placement.capacity(resources.gpu, resources.cpu) or workers)
    context = _context()
    messages = context.Queue()
    flags = context.RawArray("b", workers)
    pids = context.RawArray("i", workers)  # slot -> pid of the worker running its trial
    pool = context.Pool(workers, initializer=_init_worker,
                        initargs=(pickle.dumps(objective), messages, flags, pids),
                        maxtasksperchild=None if placement is None else 1)
    free = list(range(workers - 1, -1, -1))
    in_flight: dict[int, tuple[Trial, int, Any]] = {}
    asked: dict[int, float] = {}  # slot -> when its trial was asked to stop

    def handle(message: tuple[Any, ...]) -> None:
        index = message[1]
        entry = in_flight.get(index)
        if entry is None:
            return
        trial, slot, _ = entry
        if message[0] == "begin":
            sweep.begin(trial, message[2])
            return
        if message[0] == "log":
            _, _, kind, name, value, step, when = message
            sweep.ingest(trial, kind, name, value, step, when)
            return
        _, _, status, value, error = message
        end(trial, slot)
        if status == "Interrupted":
            sweep.tell(trial, status="Canceled")
            raise KeyboardInterrupt
        sweep.tell(trial, value, status=status, error=error)

    def end(trial: Trial, slot: int) -> None:
        del in_flight[trial.index]
        pids[slot] = 0
        asked.pop(slot, None)
        free.append(slot)

    def stopper(slot: int) -> Callable[[], None]:
        def stop() -> None:  # called by the sweep, from any thread
            flags[slot] = 1
            asked.setdefault(slot, time.monotonic())
        return stop

    def launch(trial: Trial) -> None:
        slot = free.pop()
        flags[slot] = 0
        pids[slot] = 0
        trial.on_stop = stopper(slot)
        sweep.wait_for_worker(trial)  # a worker may take a while to start
        held = Slot.from_dict(trial.record.placement)
        task = pool.apply_async(_work, (trial.id, sweep.id, trial.index, slot, trial.params,
                                        sweep.outputs_of(trial.id), held.environment(),
                                        held.cores))
        in_flight[trial.index] = (trial, slot, task)

    def drain() -> None:
        while True:
            try:
                handle(messages.get_nowait())
            except queue_module.Empty:
                return

    def reap() -> None:
        """Trials whose worker died (or whose task could not run) fail, after their metrics;
        a trial that ignored a stop for ``STOP_GRACE`` seconds has its worker ended (the
        sweep already recorded it ``Canceled``, which its end then keeps)."""
        now = time.monotonic()
        for slot, since in list(asked.items()):
            if now - since > STOP_GRACE and pids[slot] and alive(pids[slot], None):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pids[slot], signal.SIGKILL)
        lost = [(trial, slot, task) for trial, slot, task in in_flight.values()
                if (task.ready() and not task.successful())
                or (pids[slot] and not alive(pids[slot], None))]
        if not lost:
            return
        time.sleep(0.05)  # let the dead worker's last messages arrive
        drain()
        for trial, slot, task in lost:
            if trial.index not in in_flight:
                continue  # its end arrived after all
            pid = pids[slot]
            end(trial, slot)
            error = (f"the worker process running the trial (pid {pid}) died before the "
                     "trial ended: a crash in native code, the out-of-memory killer, or "
                     "os._exit; metrics it logged until then are kept")
            if task.ready() and not task.successful():
                try:
                    task.get()
                except Exception as err:
                    error = f"the trial could not run in a worker process: {err!r}"
            sweep.tell(trial, status="Failed", error=error)

    try:
        checked = time.monotonic()
        while True:
            while free and (trial := sweep.ask()) is not None:
                launch(trial)
            if not in_flight:
                return
            # checked on a clock, not only when the queue is idle: other trials' metrics
            # must not hide a dead worker
            with contextlib.suppress(queue_module.Empty):
                handle(messages.get(timeout=CHECK_INTERVAL))
            if time.monotonic() - checked >= CHECK_INTERVAL:
                reap()
                checked = time.monotonic()
    except KeyboardInterrupt:
        sweep.cancel()  # raises every running trial's flag
        deadline = time.monotonic() + STOP_GRACE
        try:
            while in_flight and time.monotonic() < deadline:
                try:
                    handle(messages.get(timeout=0.1))
                except queue_module.Empty:
                    reap()
                except KeyboardInterrupt:
                    continue
        except KeyboardInterrupt:
            pass
        raise
    finally:
        # Every trial has been told (or ignored its stop request past the grace): nothing a
        # worker still does matters. terminate, not close + join, which would wait forever
        # on the task of a worker that died.
        pool.terminate()
        pool.join()
        messages.close()
