"""A tiny Hugging Face Transformers training, used unchanged as a script trial, as a function
trial's objective and outside a sweep (tests/integrations/test_transformers.py).

A 2-layer BERT of width 16 built from its config (nothing downloaded) classifies generated
token sequences by their first token. The "good" case learns; the "bad" one has learning
rate 0 and pauses after each evaluation, so that a script trial's stop (a SIGTERM, a second
or so after the policy's decision) arrives mid-training.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import torch
from transformers import (
    BertConfig,
    BertForSequenceClassification,
    Trainer,
    TrainerCallback,
    TrainingArguments,
)

from hypersweep.integrations.transformers import TransformersCallback

EPOCHS = 4
#: case -> (learning rate, seconds of pause after each evaluation)
CASES = {"good": (0.01, 0.0), "bad": (0.0, 2.0)}


class Tokens(torch.utils.data.Dataset):
    """Sequences of 8 token ids; the label says whether the first is below 16."""

    def __init__(self, size: int, seed: int) -> None:
        generator = torch.Generator().manual_seed(seed)
        self.ids = torch.randint(1, 32, (size, 8), generator=generator)
        self.labels = (self.ids[:, 0] < 16).long()

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        return {"input_ids": self.ids[i], "labels": self.labels[i]}


class Pause(TrainerCallback):
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def on_evaluate(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        time.sleep(self.seconds)


def train(case: str, epochs: int = EPOCHS, output_dir: str = "hf-output") -> int:
    """Train; return how many epochs ran."""
    lr, pause = CASES[case]
    torch.manual_seed(0)
    torch.set_num_threads(1)
    config = BertConfig(vocab_size=32, hidden_size=16, num_hidden_layers=2,
                        num_attention_heads=2, intermediate_size=32, max_position_embeddings=16,
                        num_labels=2, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
    args = TrainingArguments(
        output_dir=output_dir, num_train_epochs=epochs, learning_rate=lr, seed=0,
        per_device_train_batch_size=16, per_device_eval_batch_size=64, eval_strategy="epoch",
        save_strategy="no", logging_strategy="no", report_to=[], disable_tqdm=True,
        use_cpu=True)
    trainer = Trainer(model=BertForSequenceClassification(config), args=args,
                      train_dataset=Tokens(128, 0), eval_dataset=Tokens(64, 1),
                      callbacks=[TransformersCallback("eval_loss"), Pause(pause)])
    trainer.train()
    return round(trainer.state.epoch or 0)


def objective(params: dict[str, Any], run: Any) -> dict[str, int]:
    """A function trial: the very same training."""
    return {"epochs_trained": train(params["case"])}


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--case", default="good")
    parser.add_argument("--epochs", type=int, default=EPOCHS)
    args = parser.parse_args()
    print(f"trained {train(args.case, args.epochs)} epochs", flush=True)
