"""Running a transaction again while the database stays locked, for the SQL stores.

Examples
--------
>>> tries = []
>>> def once():
...     tries.append(1)
...     if len(tries) < 3:
...         raise TimeoutError("database is locked")
...     return "done"
>>> retrying(once, lambda err: is_lock_message(str(err))), len(tries)
('done', 3)
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import TypeVar

__all__ = ["RETRIES", "is_lock_message", "retrying"]

T = TypeVar("T")

#: Attempts at a transaction while the database stays locked (a PostgreSQL deadlock too).
RETRIES = 8


def is_lock_message(message: str) -> bool:
    """Whether a driver's error message says the database was locked or busy."""
    message = message.lower()
    return "locked" in message or "busy" in message


def retrying(once: Callable[[], T], transient: Callable[[Exception], bool]) -> T:
    """``once()``, run again while it raises an error ``transient`` accepts, after a wait
    doubling from 10 ms to 1 s (jittered, so that waiting writers do not retry in step), up
    to :data:`RETRIES` attempts; the last attempt's error is raised."""
    delay = 0.01
    for _ in range(RETRIES - 1):
        try:
            return once()
        except Exception as err:
            if not transient(err):
                raise
        time.sleep(delay * (1 + random.random()))
        delay = min(delay * 2, 1.0)
    return once()
