"""A tiny PyTorch Lightning training, used unchanged as a script trial, as a function trial's
objective and outside a sweep (tests/integrations/test_lightning.py).

A linear regression on generated data: the "good" case learns (its validation loss falls each
epoch), the "bad" one has learning rate 0 and pauses after each epoch, so that a script
trial's stop (a SIGTERM, a second or so after the policy's decision) arrives mid-training.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import pytorch_lightning as pl
import torch
from torch.utils.data import DataLoader, TensorDataset

from hypersweep.integrations.lightning import LightningCallback
from hypersweep.tracking.context import OfflineRun

EPOCHS = 5
#: case -> (learning rate, seconds of pause after each epoch)
CASES = {"good": (0.1, 0.0), "bad": (0.0, 2.0)}


class Regression(pl.LightningModule):
    def __init__(self, lr: float) -> None:
        super().__init__()
        self.lr = lr
        self.net = torch.nn.Linear(4, 1)

    def training_step(self, batch: Any, batch_idx: int) -> torch.Tensor:
        x, y = batch
        loss = torch.nn.functional.mse_loss(self.net(x), y)
        self.log("train_loss", loss)
        return loss

    def validation_step(self, batch: Any, batch_idx: int) -> None:
        x, y = batch
        self.log("val_loss", torch.nn.functional.mse_loss(self.net(x), y), sync_dist=True)

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.SGD(self.parameters(), lr=self.lr)


class Pause(pl.Callback):
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        time.sleep(self.seconds)


class StopAfter(OfflineRun):
    """An offline run (it prints) that asks to stop once it has ``n`` values: a policy's
    decision where only the process that logs (global rank 0) learns of it."""

    def __init__(self, n: int) -> None:
        super().__init__()
        self.n = n
        self.logged = 0

    def should_stop(self) -> bool:
        return self.logged >= self.n

    def _emit(self, kind: str, name: str, value: Any, step: int | None, label: str) -> None:
        self.logged += 1
        super()._emit(kind, name, value, step, label)


def train(case: str, epochs: int = EPOCHS, devices: int = 1, stop_after: int = 0) -> int:
    """Train; return how many epochs ran."""
    lr, pause = CASES[case]
    run = StopAfter(stop_after) if stop_after else None  # None: the trial's run, or offline
    torch.manual_seed(0)
    torch.set_num_threads(1)
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(128, 4, generator=generator)
    y = x @ torch.tensor([[1.0], [-2.0], [0.5], [3.0]]) + 0.1 * torch.randn(128, 1,
                                                                          generator=generator)
    train_data = DataLoader(TensorDataset(x[:96], y[:96]), batch_size=16)
    val_data = DataLoader(TensorDataset(x[96:], y[96:]), batch_size=32)
    trainer = pl.Trainer(
        max_epochs=epochs, accelerator="cpu", devices=devices,
        strategy="ddp" if devices > 1 else "auto",
        callbacks=[LightningCallback("val_loss", run=run), Pause(pause)],
        logger=False, enable_checkpointing=False, enable_progress_bar=False,
        enable_model_summary=False, num_sanity_val_steps=0,
    )
    trainer.fit(Regression(lr), train_data, val_data)
    return int(trainer.current_epoch)


def objective(params: dict[str, Any], run: Any) -> dict[str, int]:
    """A function trial: the very same training."""
    return {"epochs_trained": train(params["case"])}


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--case", default="good")
    parser.add_argument("--epochs", type=int, default=EPOCHS)
    parser.add_argument("--devices", type=int, default=1)
    parser.add_argument("--stop-after", type=int, default=0)
    args = parser.parse_args()
    ran = train(args.case, args.epochs, args.devices, args.stop_after)
    print(f"rank {pl.utilities.rank_zero.rank_zero_only.rank} trained {ran} epochs", flush=True)
