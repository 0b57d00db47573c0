"""A trial process's environment, made on the machine that runs it.

A trial's environment has two parts. The sweep's part travels with the trial
(:attr:`TrialSpec.env <hypersweep.execution.base.TrialSpec>`): its environment variables, the
``HYPERSWEEP_*`` variables, its devices and thread counts. The machine's part does not: its own
environment, the azureml shim on ``PYTHONPATH`` and the MLflow plugin's variables where this
machine has them (:func:`hypersweep.tracking.integrations.trial_environment`), and the folder
of the interpreter that runs the trial's side first on ``PATH`` (``python`` in a command is
that interpreter, as on Azure the environment's own python comes first). The local executor
makes it with the controller's environment; a Dask worker with its own, so nothing of the
controller's environment reaches a trial on another machine (docs/cluster.md).

Examples
--------
>>> import os, sys
>>> env = process_environment({"PATH": "/usr/bin", "HOME": "/home/me"},
...                           {"HYPERSWEEP_TRIAL_ID": "HD_1_0", "LR": "0.1"}, shim=None)
>>> env["HOME"], env["LR"], env["PYTHONUNBUFFERED"]
('/home/me', '0.1', '1')
>>> env["PATH"].split(os.pathsep) == [os.path.dirname(sys.executable), "/usr/bin"]
True
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping

from hypersweep.tracking.integrations import trial_environment

__all__ = ["process_environment"]


def process_environment(machine: Mapping[str, str], trial: Mapping[str, str],
                        shim: str | None) -> dict[str, str]:
    """The whole environment of a trial's process on this machine.

    Parameters
    ----------
    machine : mapping
        This machine's environment (the process's own ``os.environ``, as a dict).
    trial : mapping
        The sweep's part (`TrialSpec.env`): it wins over ``machine``. A ``PATH`` or
        ``PYTHONPATH`` in it replaces the machine's, and the shim and interpreter folder are
        added to it.
    shim : str or None
        This machine's azureml shim for ``PYTHONPATH`` (`tracking.integrations.shim_path`);
        None: no shim.
    """
    env = dict(machine)
    env["PYTHONUNBUFFERED"] = "1"
    env.update(trial)
    # The plugins' decisions read the sweep's own variables (a MLFLOW_TRACKING_URI there turns
    # the MLflow part off); the shim's PYTHONPATH starts from the sweep's, else this machine's.
    env.update(trial_environment(trial, shim, machine))
    env["PATH"] = os.pathsep.join([os.path.dirname(sys.executable), env.get("PATH", "")])
    return env
