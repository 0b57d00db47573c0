"""Launching, watching and stopping trials; never blocks the controller.

Examples
--------
>>> from hypersweep.execution import LocalProcessExecutor, TrialSpec
>>> LocalProcessExecutor().running()
set()
"""

from typing import TYPE_CHECKING

from hypersweep.lazy import lazy_exports

if TYPE_CHECKING:
    from hypersweep.execution.base import Executor, TrialExit, TrialSpec
    from hypersweep.execution.dask import DaskExecutor
    from hypersweep.execution.factory import executor_from_uri
    from hypersweep.execution.local import LocalProcessExecutor
    from hypersweep.execution.workdir import prepare_workdir, snapshot_source

# Name -> its module, imported on first use (PEP 562): the lease reads a controller's process
# through `hypersweep.execution.processes`, which must not import the local executor, and
# importing hypersweep must never import Dask.
_LAZY = {
    "DaskExecutor": ".dask",
    "Executor": ".base",
    "TrialExit": ".base",
    "TrialSpec": ".base",
    "executor_from_uri": ".factory",
    "LocalProcessExecutor": ".local",
    "prepare_workdir": ".workdir",
    "snapshot_source": ".workdir",
}

__getattr__, __dir__ = lazy_exports(__name__, _LAZY, globals())

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
