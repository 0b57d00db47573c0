"""``from azureml.core import Run`` inside a trial: hypersweep's ``Run``.

This package is hypersweep's stand-in, on the trial's ``PYTHONPATH`` only because the real
``azureml-core`` is not installed. It provides ``Run`` and nothing else; ask for anything else
and the ``ImportError`` says so.

Examples
--------
>>> from azureml.core import Run          # doctest: +SKIP
>>> Run.get_context().log("accuracy", 0.9)  # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any

from hypersweep.api.run import Run

__all__ = ["Run"]


def __getattr__(name: str) -> Any:
    # `from azureml.core import Workspace` turns this AttributeError into an ImportError.
    raise AttributeError(
        f"azureml.core.{name} is not available: inside a hypersweep trial, azureml.core is "
        "hypersweep's stand-in and provides only Run (install azureml-core for the rest)"
    )
