"""A tiny Keras 3 training, used unchanged as a script trial, as a function trial's objective
and outside a sweep (tests/integrations/test_keras.py). Run it with ``KERAS_BACKEND=torch``.

A linear regression on generated data: the "good" case learns (its validation loss falls each
epoch), the "bad" one has learning rate 0 and pauses after each epoch, so that a script
trial's stop (a SIGTERM, a second or so after the policy's decision) arrives mid-training.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import keras
import numpy as np

from hypersweep.integrations.keras import KerasCallback

EPOCHS = 5
#: case -> (learning rate, seconds of pause after each epoch)
CASES = {"good": (0.1, 0.0), "bad": (0.0, 2.0)}


class Pause(keras.callbacks.Callback):
    def __init__(self, seconds: float) -> None:
        super().__init__()
        self.seconds = seconds

    def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
        time.sleep(self.seconds)


def train(case: str, epochs: int = EPOCHS) -> int:
    """Train; return how many epochs ran."""
    lr, pause = CASES[case]
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(128, 4)).astype("float32")
    y = x @ np.array([[1.0], [-2.0], [0.5], [3.0]], dtype="float32")
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(lr), loss="mse")
    # The pause first: a SIGTERM during it is seen by the callback at this same epoch's end.
    history = model.fit(x, y, validation_split=0.25, epochs=epochs, batch_size=16, verbose=0,
                        callbacks=[Pause(pause), KerasCallback("val_loss")])
    return len(history.history["loss"])


def objective(params: dict[str, Any], run: Any) -> dict[str, int]:
    """A function trial: the very same training."""
    return {"epochs_trained": train(params["case"])}


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--case", default="good")
    parser.add_argument("--epochs", type=int, default=EPOCHS)
    args = parser.parse_args()
    print(f"backend {keras.backend.backend()}, trained {train(args.case, args.epochs)} epochs",
          flush=True)
