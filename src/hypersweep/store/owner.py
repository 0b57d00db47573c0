"""Who drives a sweep: the owner token a controller writes in the sweep's ``controller`` field.

A controller claims its sweep with a token naming its host and process (`new_owner_token`),
refreshes the claim's heartbeat every few seconds, and gives it up when it stops. Anyone can
read the token back (`parse_owner_token`) to tell whether that controller still runs: on its
own host at once, from its process; elsewhere only from a heartbeat fresher than
`STALE_AFTER`. Light to import: the CLI asks this between two user actions.

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
import socket
import uuid
from dataclasses import dataclass

from hypersweep.errors import SweepBusyError

__all__ = ["STALE_AFTER", "OwnerToken", "new_owner_token", "parse_owner_token", "sweep_busy"]

#: Seconds without a heartbeat after which a controller counts as gone, on any host.
STALE_AFTER = 15.0


def new_owner_token() -> str:
    """A token naming this process as a sweep's controller: ``host:pid:start:id``.

    The process start time (clock ticks since boot, ``-`` where there is no ``/proc``) tells
    this process from a later one given the same pid; the fresh id tells two controllers of
    one process apart.
    """
    from hypersweep.execution.local import process_start_ticks

    ticks = process_start_ticks(os.getpid())
    start = "-" if ticks is None else str(ticks)
    return f"{socket.gethostname()}:{os.getpid()}:{start}:{uuid.uuid4().hex[:8]}"


@dataclass(frozen=True)
class OwnerToken:
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
        if self.pid is None or self.host != socket.gethostname():
            return None
        from hypersweep.execution.local import same_process_alive

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
