"""Launching, watching and stopping trials; never blocks the controller.

Examples
--------
>>> from hypersweep.execution import LocalProcessExecutor, TrialSpec
>>> LocalProcessExecutor().running()
set()
"""

from typing import Any

from hypersweep.execution.base import Executor, TrialExit, TrialSpec
from hypersweep.execution.factory import executor_from_uri
from hypersweep.execution.local import LocalProcessExecutor
from hypersweep.execution.workdir import prepare_workdir, snapshot_source

__all__ = [
    "DaskExecutor",
    "Executor",
    "LocalProcessExecutor",
    "TrialExit",
    "TrialSpec",
    "executor_from_uri",
    "prepare_workdir",
    "snapshot_source",
]


def __getattr__(name: str) -> Any:
    # DaskExecutor on first use only: importing hypersweep must never import Dask.
    if name == "DaskExecutor":
        from hypersweep.execution.dask import DaskExecutor

        return DaskExecutor
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
