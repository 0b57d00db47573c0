"""What a trial's environment needs so that unchanged Azure ML scripts log to hypersweep.

The controller calls :func:`trial_environment` once per trial launch and adds the variables it
returns to the trial's environment:

- ``MLFLOW_TRACKING_URI=hypersweep:`` when MLflow and hypersweep's MLflow store plugin are
  importable (the ``mlflow`` extra), so v2 scripts' ``mlflow.log_metric`` and autologging land
  in the trial's journal (see :mod:`hypersweep.tracking.mlflow_store`); with it
  ``MLFLOW_RUN_ID`` (the trial's id, as Azure sets it) and ``MLFLOW_EXPERIMENT_NAME``. Nothing
  MLflow-related is set when the user's environment variables already choose a tracking URI.
- ``PYTHONPATH`` extended with hypersweep's ``azureml`` shim folder when the real
  ``azureml-core`` is not installed, so v1 scripts' ``from azureml.core import Run`` reaches
  hypersweep's ``Run``. The shim exists only on that trial's path: nothing is installed, and
  the user's own interpreter never sees it.

Trials run on the controller's interpreter, so what it can import is what a trial can. The
checks are import-system look-ups, made once per process.

Examples
--------
>>> env = trial_environment({"MLFLOW_TRACKING_URI": "http://localhost:5000"})
>>> "MLFLOW_TRACKING_URI" in env
False
"""

from __future__ import annotations

import functools
import importlib.util
import os
from collections.abc import Mapping
from pathlib import Path

__all__ = ["SHIM_DIR", "TRACKING_URI", "azureml_core_installed", "mlflow_plugin_available",
           "trial_environment"]



def _shim_dir() -> str:
    # Located, never imported: the shims re-export hypersweep.api's Run, a floor above this one.
    # find_spec of a subpackage imports only its parent, hypersweep, which is imported already.
    spec = importlib.util.find_spec("hypersweep.shims")
    assert spec is not None and spec.submodule_search_locations, "hypersweep.shims is missing"
    return str(Path(next(iter(spec.submodule_search_locations))).resolve())


#: Folder holding the ``azureml`` shim package (put on a trial's ``PYTHONPATH``).
SHIM_DIR = _shim_dir()

#: The tracking URI that selects :class:`hypersweep.tracking.mlflow_store.HypersweepStore`.
TRACKING_URI = "hypersweep:"

_ENV_TRIAL_ID = "HYPERSWEEP_TRIAL_ID"
_ENV_EXPERIMENT = "HYPERSWEEP_EXPERIMENT"


def _has_module(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):  # a parent package that fails to import, or a bad spec
        return False


@functools.lru_cache(maxsize=1)
def mlflow_plugin_available() -> bool:
    """Whether MLflow is installed and will find hypersweep's store for ``hypersweep:``.

    MLflow loads tracking stores from the ``mlflow.tracking_store`` entry point group, so the
    plugin counts only when this installation of hypersweep declares that entry point.
    """
    if not _has_module("mlflow"):
        return False
    from importlib.metadata import entry_points

    return any(
        ep.name == "hypersweep" and ep.value.startswith("hypersweep.")
        for ep in entry_points(group="mlflow.tracking_store")
    )


@functools.lru_cache(maxsize=1)
def azureml_core_installed() -> bool:
    """Whether the real ``azureml.core`` is importable (then the shim stays out of the way).

    Checked in a process whose path does not hold the shim, i.e. the controller's.
    """
    return _has_module("azureml.core")


def trial_environment(base_env: Mapping[str, str]) -> dict[str, str]:
    """The variables to add to (or override in) a trial's environment.

    Parameters
    ----------
    base_env : Mapping[str, str]
        The trial's environment so far: the user's ``environment_variables`` and what the
        controller sets (``HYPERSWEEP_TRIAL_ID`` …). Variables the user set win: a
        ``MLFLOW_TRACKING_URI`` there turns the MLflow part off, a ``PYTHONPATH`` there is
        kept (the shim is appended).

    Returns
    -------
    dict[str, str]
        Only the variables to set; empty when there is nothing to do. Safe to call outside a
        sweep (then no ``MLFLOW_RUN_ID``).

    Examples
    --------
    >>> env = trial_environment({"HYPERSWEEP_TRIAL_ID": "HD_1_0", "PYTHONPATH": "/mine"})
    >>> env.get("PYTHONPATH", "/mine").startswith("/mine")
    True
    """
    out: dict[str, str] = {}
    if "MLFLOW_TRACKING_URI" not in base_env and mlflow_plugin_available():
        out["MLFLOW_TRACKING_URI"] = TRACKING_URI
        trial_id = base_env.get(_ENV_TRIAL_ID)
        # As on Azure: the trial is the MLflow run that mlflow.start_run() resumes.
        if trial_id and "MLFLOW_RUN_ID" not in base_env:
            out["MLFLOW_RUN_ID"] = trial_id
        experiment = base_env.get(_ENV_EXPERIMENT)
        if experiment and "MLFLOW_EXPERIMENT_NAME" not in base_env:
            out["MLFLOW_EXPERIMENT_NAME"] = experiment
    if not azureml_core_installed():
        # The trial inherits the controller's environment, so its PYTHONPATH is the base
        # one when the user set one, else the controller's.
        current = base_env.get("PYTHONPATH", os.environ.get("PYTHONPATH", ""))
        parts = [p for p in current.split(os.pathsep) if p]
        if SHIM_DIR not in parts:
            parts.append(SHIM_DIR)
        out["PYTHONPATH"] = os.pathsep.join(parts)
    return out
