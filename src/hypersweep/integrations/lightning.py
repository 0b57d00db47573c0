"""PyTorch Lightning: a callback that logs each epoch's validation metrics and stops early.

``Trainer(callbacks=[LightningCallback()])`` logs ``trainer.callback_metrics`` (what the
module logged with ``self.log``) after every validation run of ``fit``, and ends training at
the end of the epoch once the sweep's early-termination policy has stopped the trial. The same
training code runs in a script trial, in a function trial (``hypersweep.tune``) and outside a
sweep, where the metrics are printed (see :class:`~hypersweep.integrations.reporting.Reporter`).

Under distributed training (DDP) only global rank 0 logs, and rank 0's decision to stop is
broadcast through the trainer's strategy, so every rank leaves the training loop at the same
epoch (a rank that stopped alone would leave the others waiting in a collective). In a script
trial the sweep's stop is a SIGTERM, which Lightning also handles itself (it ends ``fit``
within a batch on every rank).

Works with either import name, ``lightning.pytorch`` (the ``lightning`` package) or
``pytorch_lightning``: the one the program already imported, else the one installed.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from types import ModuleType
from typing import Any

from hypersweep.integrations._metric_choice import MetricChoice, pick_metrics
from hypersweep.integrations.reporting import Reporter
from hypersweep.tracking.context import BaseRun

__all__ = ["LightningCallback"]


def _lightning() -> ModuleType:
    """The Lightning package this program trains with (``Callback`` must be its own class:
    the trainer calls hooks only of callbacks of its package)."""
    for name in ("lightning.pytorch", "pytorch_lightning"):
        if name in sys.modules:
            return sys.modules[name]
    for name in ("lightning", "pytorch_lightning"):
        try:
            found = importlib.util.find_spec(name) is not None
        except (ImportError, ValueError):
            found = False
        if found:
            return importlib.import_module("lightning.pytorch" if name == "lightning" else name)
    raise ImportError("hypersweep.integrations.lightning needs PyTorch Lightning: "
                      "pip install 'hypersweep[lightning]'")


pl = _lightning()


class LightningCallback(pl.Callback):  # type: ignore[name-defined]
    """Log the validation metrics each epoch; stop training when the sweep says so.

    Parameters
    ----------
    metrics : str, list of str or dict, optional
        Which of ``trainer.callback_metrics`` to log: all numeric scalars by default; names
        to keep; or ``{"val_acc": "accuracy"}`` to keep and rename (the sweep's primary metric
        name need not be the module's).
    run : run, optional
        Where to log. Default: the current trial's run, found by itself (a function trial's,
        a script trial's), else an offline run that prints.

    Each epoch's values are logged with ``step`` the epoch number (from 0). Epochs without a
    validation run (no validation data or step) log the training metrics at the epoch's end.

    Examples
    --------
    >>> import torch, pytorch_lightning as pl
    >>> class Model(pl.LightningModule):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.net = torch.nn.Linear(2, 1)
    ...     def training_step(self, batch, batch_idx):
    ...         return self.net(batch[0]).pow(2).mean()
    ...     def validation_step(self, batch, batch_idx):
    ...         self.log("val_loss", self.net(batch[0]).pow(2).mean())
    ...     def configure_optimizers(self):
    ...         return torch.optim.SGD(self.parameters(), lr=0.1)
    >>> data = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.ones(4, 2)))
    >>> trainer = pl.Trainer(max_epochs=2, callbacks=[LightningCallback("val_loss")],
    ...                      logger=False, enable_checkpointing=False, enable_progress_bar=False,
    ...                      enable_model_summary=False, num_sanity_val_steps=0)
    >>> trainer.fit(Model(), data, data)  # doctest: +ELLIPSIS
    Attempted to log scalar metric val_loss:
    ...
    Attempted to log scalar metric val_loss:
    ...
    """

    def __init__(self, metrics: MetricChoice = None,
                 run: BaseRun | None = None) -> None:
        super().__init__()
        self.metrics = metrics
        self.run = run
        self.reporter: Reporter | None = None
        self._logged_epoch = -1

    def setup(self, trainer: Any, pl_module: Any, stage: str) -> None:
        """Find the run at the start of ``fit`` (so one callback serves several trainings)."""
        if stage == "fit":
            self.reporter = Reporter(self.run) if trainer.is_global_zero else None
            self._logged_epoch = -1

    def on_validation_end(self, trainer: Any, pl_module: Any) -> None:
        """Log the metrics of a validation run during ``fit`` (not the sanity check)."""
        if trainer.sanity_checking or trainer.state.fn != "fit":  # TrainerFn, a str enum
            return
        self._report(trainer)

    def on_train_epoch_end(self, trainer: Any, pl_module: Any) -> None:
        """Training without validation: log what the epoch logged."""
        if not trainer.enable_validation and self._logged_epoch != trainer.current_epoch:
            self._report(trainer)

    def _report(self, trainer: Any) -> None:
        stop = False
        if self.reporter is not None:  # global rank 0
            values = pick_metrics(trainer.callback_metrics, self.metrics)
            self.reporter.log(values, step=trainer.current_epoch)
            stop = self.reporter.should_stop()
        self._logged_epoch = trainer.current_epoch
        # Every rank calls this at the same point: rank 0's decision reaches all of them.
        if trainer.strategy.broadcast(stop, src=0):
            trainer.should_stop = True
