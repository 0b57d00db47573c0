"""Run the model-based samplers' linear algebra on one BLAS thread.

The matrices a sampler factorises are small (a few hundred rows). Multithreaded OpenBLAS on
them costs more in thread wake-ups than it saves, and on a busy machine (trials running on
every core, which is the point of a sweep) it is 5-10x slower than one thread: we measured
300 ms versus 35 ms per proposal. ``threadpoolctl`` (a scikit-learn dependency) switches
the thread count for the duration of a call; without it this is a no-op.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

_controller: Any = None


@contextlib.contextmanager
def one_blas_thread() -> Iterator[None]:
    """Limit BLAS to one thread inside the ``with`` block (when threadpoolctl is present)."""
    global _controller
    if _controller is None:
        try:
            from threadpoolctl import ThreadpoolController
        except ImportError:  # optional: only speed depends on it
            _controller = False
        else:
            _controller = ThreadpoolController()
    if _controller is False:
        yield
        return
    with _controller.limit(limits=1, user_api="blas"):
        yield
