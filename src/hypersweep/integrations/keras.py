"""Keras 3: a callback that logs each epoch's metrics and stops training early.

``model.fit(..., callbacks=[KerasCallback()])`` logs the epoch's ``logs`` (``loss``,
``val_loss`` and the compiled metrics) at the end of every epoch, and sets
``model.stop_training`` once the sweep's early-termination policy has stopped the trial, so
``fit`` returns after that epoch. The same training code runs in a script trial, in a function
trial (``hypersweep.tune``) and outside a sweep, where the metrics are printed (see
:class:`~hypersweep.integrations.reporting.Reporter`).

Keras picks its backend when first imported, from ``KERAS_BACKEND`` or ``~/.keras/keras.json``,
and defaults to TensorFlow. When nothing chose one (or the one chosen is not installed) and
Keras is not imported yet, this module chooses the first installed of TensorFlow, PyTorch and
JAX, so that ``import hypersweep.integrations.keras`` works with any one of them. Set
``KERAS_BACKEND`` before importing Keras to choose yourself.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from typing import Any

from hypersweep.integrations._metric_choice import MetricChoice, pick_metrics
from hypersweep.integrations.reporting import Reporter
from hypersweep.tracking.context import BaseRun

__all__ = ["KerasCallback"]

#: Keras backend name -> the module it needs, in the order tried when nothing chose one.
_BACKENDS = {"tensorflow": "tensorflow", "torch": "torch", "jax": "jax"}


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def _configured_backend() -> str:
    """The backend Keras would pick: ``KERAS_BACKEND``, else its config file, else TensorFlow."""
    chosen = os.environ.get("KERAS_BACKEND")
    if chosen:
        return chosen
    home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    try:
        with open(os.path.join(home, "keras.json"), encoding="utf-8") as file:
            return str(json.load(file).get("backend") or "tensorflow")
    except (OSError, ValueError, AttributeError):
        return "tensorflow"


def choose_backend() -> str | None:
    """Set ``KERAS_BACKEND`` to an installed backend when the configured one is not installed.

    Returns the backend set, or None when nothing was changed (Keras is imported already, or
    its backend is installed, or none is). Called once, on import of this module.

    Examples
    --------
    >>> import keras                 # imported already: its backend stays
    >>> choose_backend() is None
    True
    """
    if "keras" in sys.modules:
        return None
    configured = _configured_backend()
    if _installed(_BACKENDS.get(configured, configured)):
        return None
    for backend, module in _BACKENDS.items():
        if _installed(module):
            os.environ["KERAS_BACKEND"] = backend
            return backend
    return None


choose_backend()

import keras  # noqa: E402  (after the backend is chosen: Keras reads it once, at import)


class KerasCallback(keras.callbacks.Callback):
    """Log the metrics at each epoch's end; stop training when the sweep says so.

    Parameters
    ----------
    metrics : str, list of str or dict, optional
        Which of the epoch's ``logs`` to log: all numeric scalars by default; names to keep;
        or ``{"val_accuracy": "accuracy"}`` to keep and rename.
    run : run, optional
        Where to log. Default: the current trial's run, found by itself (a function trial's,
        a script trial's), else an offline run that prints.

    Each epoch's values are logged with ``step`` the epoch number (from 0, or from
    ``initial_epoch``).

    Examples
    --------
    >>> import numpy as np
    >>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    >>> model.compile(optimizer="sgd", loss="mse")
    >>> x = np.ones((8, 2), dtype="float32")
    >>> history = model.fit(x, x[:, :1], validation_split=0.25, epochs=2, verbose=0,
    ...                     callbacks=[KerasCallback("val_loss")])  # doctest: +ELLIPSIS
    Attempted to log scalar metric val_loss:
    ...
    Attempted to log scalar metric val_loss:
    ...
    """

    def __init__(self, metrics: MetricChoice = None, run: BaseRun | None = None) -> None:
        super().__init__()
        self.metrics = metrics
        self.run = run
        self.reporter: Reporter | None = None

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        """Find the run at the start of ``fit`` (so one callback serves several trainings)."""
        self.reporter = Reporter(self.run)

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        """Log the epoch's metrics; ask Keras to stop when the trial was stopped."""
        if self.reporter is None:  # fit without on_train_begin (a subclass that skips it)
            self.reporter = Reporter(self.run)
        self.reporter.log(pick_metrics(logs or {}, self.metrics), step=epoch)
        if self.reporter.should_stop():
            self.model.stop_training = True
