"""The controller lease: who drives a sweep, and the one way to claim, keep and give it up.

A driver (the process driver or the function driver) claims its sweep with a token naming its
host and process (`new_owner_token`), refreshes the claim's heartbeat every few seconds, and
gives it up when it stops (`Lease`). Anyone can read the token back (`parse_owner_token`) to
tell whether that driver still runs (`controller_alive`): in this process from the driver
itself, on its host from its process, elsewhere only from a heartbeat fresher than
`STALE_AFTER`. The claim is a compare-and-set in the store, so of several processes taking
over together exactly one wins. Light to import: the CLI asks this between two user actions.

Examples
--------
>>> owner = parse_owner_token("gpu-box:4242:98765:1f2e3d4c")
>>> str(owner), owner.start_ticks
('gpu-box, pid 4242', 98765)
>>> str(sweep_busy("HD_1", "gpu-box:4242:98765:1f2e3d4c"))
'sweep HD_1 is driven by a live controller (gpu-box, pid 4242)'
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from datetime import datetime, timezone

from hypersweep.errors import SweepBusyError
from hypersweep.frozen import FrozenRecord
from hypersweep.store import Store, SweepRecord

__all__ = ["STALE_AFTER", "Lease", "OwnerToken", "claim_sweep", "controller_alive",
           "new_owner_token", "parse_owner_token", "register_driver", "sweep_busy"]

#: Seconds without a heartbeat after which a controller counts as gone, on any host.
STALE_AFTER = 15.0


def _host() -> str:
    """This machine's name, as ``socket.gethostname()`` gives it.

    On POSIX both read the kernel's node name; ``os.uname`` spares every fresh sweep the import
    of ``socket`` (a few milliseconds). Windows has no ``uname``.
    """
    if hasattr(os, "uname"):
        return os.uname().nodename
    import socket

    return socket.gethostname()


def new_owner_token(private: bool = False) -> str:
    """A token naming this process as a sweep's controller: ``host:pid:start:id``.

    The process start time (clock ticks since boot, ``-`` where there is no ``/proc``) tells
    this process from a later one given the same pid; the fresh id tells two controllers of
    one process apart. ``private``: for records no other process reads (in this process's
    memory), which need no start time (this process answers for its own drivers).

    >>> new_owner_token(private=True).split(":")[-3:-1] == [str(os.getpid()), "-"]
    True
    """
    ticks = None
    if not private:
        from hypersweep.execution.processes import process_start_ticks

        ticks = process_start_ticks(os.getpid())
    start = "-" if ticks is None else str(ticks)
    return f"{_host()}:{os.getpid()}:{start}:{os.urandom(4).hex()}"


class OwnerToken(FrozenRecord):
    """Where the controller named by an owner token runs (see `parse_owner_token`)."""

    host: str
    pid: int | None
    start_ticks: int | None

    def __str__(self) -> str:
        return self.host if self.pid is None else f"{self.host}, pid {self.pid}"

    def alive(self) -> bool | None:
        """Whether the owner's process still runs, when this host can tell (else None).

        A pid that runs but started at another time is another process (pid reuse): dead.
        """
        if self.pid is None or self.host != _host():
            return None
        from hypersweep.execution.processes import same_process_alive

        return same_process_alive(self.pid, self.start_ticks)


def parse_owner_token(token: str) -> OwnerToken:
    """Read a token `new_owner_token` made (or an earlier release's ``host:pid:id``)."""
    parts = token.split(":")
    if len(parts) >= 4 and parts[-3].isdigit() and (parts[-2].isdigit() or parts[-2] == "-"):
        start = parts[-2]
        return OwnerToken(":".join(parts[:-3]), int(parts[-3]),
                          int(start) if start.isdigit() else None)
    if len(parts) >= 3 and parts[-2].isdigit():  # host:pid:id, without the start time
        return OwnerToken(":".join(parts[:-2]), int(parts[-2]), None)
    return OwnerToken(token, None, None)


def sweep_busy(sweep_id: str, token: str | None) -> SweepBusyError:
    """The error for a sweep another controller drives, naming its host and pid."""
    if not token:  # it held the sweep, then let go, between two reads
        return SweepBusyError(f"sweep {sweep_id} was taken by another controller a moment "
                              "ago; try again")
    return SweepBusyError(f"sweep {sweep_id} is driven by a live controller "
                          f"({parse_owner_token(token)})")


# The drivers running in this process, by sweep id: their owner token and whether they run.
_LOCAL: dict[str, tuple[str, Callable[[], bool]]] = {}
_LOCAL_LOCK = threading.Lock()


def register_driver(sweep_id: str, owner: str, running: Callable[[], bool]) -> None:
    """Say that this process drives ``sweep_id`` as ``owner`` while ``running()`` is true
    (so `controller_alive` answers from the driver itself, not from this process's pid)."""
    with _LOCAL_LOCK:
        _LOCAL[sweep_id] = (owner, running)


def controller_alive(sweep: SweepRecord) -> bool:
    """Whether the driver recorded as driving the sweep still runs.

    In this process the driver answers, on this host its process (a pid that now runs
    another process counts as dead), elsewhere a heartbeat fresher than `STALE_AFTER`.
    """
    if not sweep.controller:
        return False
    owner = parse_owner_token(sweep.controller)
    if owner.pid == os.getpid() and owner.host == _host():
        with _LOCAL_LOCK:
            local = _LOCAL.get(sweep.id)
        return local is not None and local[0] == sweep.controller and local[1]()
    alive = owner.alive()
    if alive is not None:
        return alive
    if sweep.heartbeat_time is None:
        return False
    age = datetime.now(timezone.utc) - sweep.heartbeat_time
    return age.total_seconds() < STALE_AFTER


def claim_sweep(store: Store, sweep_id: str, owner: str) -> None:
    """Make ``owner`` the sweep's driver, or raise `SweepBusyError` naming the live one.

    A driver whose heartbeat is fresh is live, unless this host can tell that its process
    has ended (killed a moment ago) or is another process now (its pid reused): then the
    claim replaces it at once. The claim is a compare-and-set on the driver seen dead, so of
    several processes taking over together exactly one wins.
    """
    for _ in range(3):  # again only when the holder died or let go between two reads
        sweep = store.get_sweep(sweep_id)
        dead = sweep.controller if sweep.controller and not controller_alive(sweep) else None
        if store.claim_sweep(sweep_id, owner, STALE_AFTER, replacing=dead):
            return
        holder = store.get_sweep(sweep_id)
        if holder.controller and controller_alive(holder):
            break
    raise sweep_busy(sweep_id, holder.controller)


class Lease:
    """One driver's hold on one sweep: claim it, keep its heartbeat fresh, give it up.

    Examples
    --------
    >>> from datetime import datetime, timezone
    >>> from hypersweep.store import MEMORY_URL, Status, SweepRecord
    >>> store = Store(MEMORY_URL)
    >>> _ = store.create_sweep(SweepRecord("HD_l", "e", Status.RUNNING, {},
    ...                                    datetime.now(timezone.utc)))
    >>> lease = Lease(store, "HD_l")
    >>> lease.claim(); lease.beat(), store.get_sweep("HD_l").controller == lease.owner
    (True, True)
    >>> lease.release(); store.get_sweep("HD_l").controller is None
    True
    """

    interval = 2.0  # seconds between heartbeats

    def __init__(self, store: Store, sweep_id: str, owner: str | None = None) -> None:
        self.store = store
        self.sweep_id = sweep_id
        self.owner = owner or new_owner_token()
        self._last_beat = 0.0

    def claim(self, running: Callable[[], bool] | None = None) -> None:
        """Take the sweep (`SweepBusyError` naming a live holder); ``running`` tells this
        process's readers whether the driver still runs."""
        claim_sweep(self.store, self.sweep_id, self.owner)
        self._last_beat = time.monotonic()
        if running is not None:
            register_driver(self.sweep_id, self.owner, running)

    def beat(self, force: bool = False) -> bool:
        """Refresh the heartbeat when it is due; False when another driver holds the sweep."""
        now = time.monotonic()
        if not force and now - self._last_beat < self.interval:
            return True
        self._last_beat = now
        return self.store.heartbeat(self.sweep_id, self.owner)

    def release(self) -> None:
        """Give the sweep up (nothing happens if another driver holds it now)."""
        self.store.release_sweep(self.sweep_id, self.owner)
