"""Framework integrations: training rounds a policy saves, and the best score it keeps.

Each part runs the same sweep with and without an early-termination policy (same seeds, so
the same configurations in the same order) and prints, per policy, the training rounds
actually run (the callback ends a stopped trial's training at its next round) and the best
validation score, both as ratios to the sweep without a policy.

**LightGBM** (``lightgbm_rows``): scikit-learn's bundled breast-cancer data (binary, 569
samples, a fixed 70/30 split), ``lightgbm.train`` with ``LightGBMCallback`` for up to 200
rounds; random ``learning_rate`` (log 0.001..0.3), ``num_leaves`` (4..64),
``min_data_in_leaf`` (5..50), ``feature_fraction`` (0.5..1) and ``lambda_l2`` (log
0.001..10); metric ``valid-binary_logloss``, minimize. 30 trials a seed, run one at a time
(``hypersweep.tune``, threads), so a policy's decisions do not depend on timing; seeds 0..4.

**PyTorch Lightning** (``lightning_rows``): scikit-learn's bundled digits (8x8 images, 10
classes, 1797 samples, a fixed 70/30 split), a one-hidden-layer MLP trained with SGD
(momentum 0.9) for up to 15 epochs by a ``pytorch_lightning.Trainer`` with
``LightningCallback``; random ``lr`` (log 0.0001..0.5), ``hidden`` (8..128), ``dropout``
(0..0.5) and ``weight_decay`` (log 0.00001..0.01); metric ``val_loss``, minimize. 16 trials a
seed, one at a time. The policies are the same kinds with intervals in epochs: Bandit and
median stopping judge every epoch after a delay of 3, ASHA has rungs at 2 and 6 epochs. A
"round" is an epoch. Measured with 2 seeds (``lightning_rows(2)``, 77 s of CPU on a loaded
2-core machine): of the 480 epochs the sweep without a policy trains, Bandit ran 169 (0.35),
median stopping 266 (0.55), ASHA 197 (0.41), each keeping the same best ``val_loss``
(best/none 1.000: the best trial was never stopped).

Columns: ``rounds`` = boosting rounds run over all trials (sum over seeds); ``ratio`` = that
over the rounds without a policy; ``best`` = the best validation loss (mean over seeds);
``best/none`` = none's best over this one (1: as good, below 1: worse); ``s`` = wall seconds.

Each part is a function returning rows; ``PARTS`` lists them (other frameworks add theirs).

Run: ``OMP_NUM_THREADS=1 python bench/bench_integrations.py`` (about a minute on 2 cores);
``--seeds 2`` for a quicker look.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
import warnings
from collections.abc import Callable
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")

from hypersweep import (
    AshaPolicy,
    BanditPolicy,
    MedianStoppingPolicy,
    RandomParameterSampling,
    loguniform,
    quniform,
    tune,
    uniform,
)

#: (label, policy) compared in every part; None is the sweep without a policy.
POLICIES: list[tuple[str, Any]] = [
    ("none", None),
    ("bandit 10%", BanditPolicy(slack_factor=0.1, evaluation_interval=10, delay_evaluation=20)),
    ("median", MedianStoppingPolicy(evaluation_interval=10, delay_evaluation=20)),
    ("asha", AshaPolicy(min_resource=20, reduction_factor=3)),
]

Row = dict[str, Any]


def lightgbm_rows(seeds: int, trials: int = 30, rounds: int = 200) -> list[Row]:
    """The LightGBM part: one row per policy."""
    import lightgbm as lgb
    from sklearn.datasets import load_breast_cancer
    from sklearn.model_selection import train_test_split

    from hypersweep.integrations import LightGBMCallback

    X, y = load_breast_cancer(return_X_y=True)
    X_train, X_valid, y_train, y_valid = train_test_split(X, y, test_size=0.3, random_state=0,
                                                          stratify=y)

    def objective(params: dict[str, Any], run: Any) -> None:
        train = lgb.Dataset(X_train, y_train)
        valid = lgb.Dataset(X_valid, y_valid, reference=train)
        settings = {"objective": "binary", "verbosity": -1, "num_threads": 1, "seed": 0,
                    "num_leaves": int(params["num_leaves"]),
                    "min_data_in_leaf": int(params["min_data_in_leaf"]),
                    "learning_rate": params["learning_rate"],
                    "feature_fraction": params["feature_fraction"],
                    "lambda_l2": params["lambda_l2"]}
        lgb.train(settings, train, num_boost_round=rounds, valid_sets=[valid],
                  valid_names=["valid"], callbacks=[LightGBMCallback()])

    space = {"learning_rate": loguniform(-6.9, -1.2), "num_leaves": quniform(4, 64, 1),
             "min_data_in_leaf": quniform(5, 50, 1), "feature_fraction": uniform(0.5, 1.0),
             "lambda_l2": loguniform(-6.9, 2.3)}
    return _compare(objective, space, "valid-binary_logloss", "minimize", seeds, trials)


def lightning_rows(seeds: int, trials: int = 16, epochs: int = 15) -> list[Row]:
    """The PyTorch Lightning part: one row per policy."""
    import logging

    import pytorch_lightning as pl
    import torch
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    from torch.utils.data import DataLoader, TensorDataset

    from hypersweep.integrations.lightning import LightningCallback

    logging.getLogger("pytorch_lightning").setLevel(logging.ERROR)  # no banner per trial
    torch.set_num_threads(1)
    X, y = load_digits(return_X_y=True)
    X_train, X_valid, y_train, y_valid = train_test_split(X / 16.0, y, test_size=0.3,
                                                          random_state=0, stratify=y)

    def tensors(X: Any, y: Any) -> TensorDataset:
        return TensorDataset(torch.tensor(X, dtype=torch.float32), torch.tensor(y))

    train_set, valid_set = tensors(X_train, y_train), tensors(X_valid, y_valid)

    class MLP(pl.LightningModule):
        def __init__(self, params: dict[str, Any]) -> None:
            super().__init__()
            hidden = int(params["hidden"])
            self.net = torch.nn.Sequential(torch.nn.Linear(64, hidden), torch.nn.ReLU(),
                                           torch.nn.Dropout(params["dropout"]),
                                           torch.nn.Linear(hidden, 10))
            self.params = params

        def training_step(self, batch: Any, batch_idx: int) -> Any:
            x, target = batch
            return torch.nn.functional.cross_entropy(self.net(x), target)

        def validation_step(self, batch: Any, batch_idx: int) -> None:
            x, target = batch
            self.log("val_loss", torch.nn.functional.cross_entropy(self.net(x), target))

        def configure_optimizers(self) -> Any:
            return torch.optim.SGD(self.parameters(), lr=self.params["lr"], momentum=0.9,
                                   weight_decay=self.params["weight_decay"])

    def objective(params: dict[str, Any], run: Any) -> None:
        torch.manual_seed(0)
        trainer = pl.Trainer(max_epochs=epochs, callbacks=[LightningCallback("val_loss")],
                             accelerator="cpu", logger=False, enable_checkpointing=False,
                             enable_progress_bar=False, enable_model_summary=False,
                             num_sanity_val_steps=0)
        trainer.fit(MLP(params), DataLoader(train_set, batch_size=64, shuffle=True),
                    DataLoader(valid_set, batch_size=512))

    space = {"lr": loguniform(-9.2, -0.7), "hidden": quniform(8, 128, 8),
             "dropout": uniform(0.0, 0.5), "weight_decay": loguniform(-11.5, -4.6)}
    return _compare(objective, space, "val_loss", "minimize", seeds, trials,
                    _epoch_policies(epochs))


def _epoch_policies(epochs: int) -> list[tuple[str, Any]]:
    """POLICIES with intervals in epochs: judged from the 3rd epoch on."""
    return [("none", None),
            ("bandit 10%", BanditPolicy(slack_factor=0.1, evaluation_interval=1,
                                        delay_evaluation=3)),
            ("median", MedianStoppingPolicy(evaluation_interval=1, delay_evaluation=3)),
            ("asha", AshaPolicy(min_resource=2, reduction_factor=3, max_resource=epochs))]


def _compare(objective: Callable[[dict[str, Any], Any], Any], space: dict[str, Any],
             metric: str, goal: str, seeds: int, trials: int,
             policies: list[tuple[str, Any]] | None = None) -> list[Row]:
    """Run the sweep once per policy and seed; rounds = primary-metric points logged."""
    rows: list[Row] = []
    for label, policy in policies or POLICIES:
        spent, bests, started = 0, [], time.perf_counter()
        for seed in range(seeds):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                result = tune(objective, RandomParameterSampling(space, seed=seed), metric, goal,
                              max_total_runs=trials, policy=policy)
            for values in result.get_metrics().values():
                logged = values.get(metric, [])
                spent += len(logged) if isinstance(logged, list) else 1
            assert result.best_value is not None
            bests.append(result.best_value)
        rows.append({"policy": label, "rounds": spent, "best": statistics.mean(bests),
                     "seconds": time.perf_counter() - started})
    base = rows[0]
    for row in rows:
        row["ratio"] = row["rounds"] / base["rounds"]
        # as a ratio where 1 is as good as running everything and below 1 is worse
        row["kept"] = (base["best"] / row["best"] if goal == "minimize"
                       else row["best"] / base["best"])
    return rows


#: (title, part): each part takes the number of seeds and returns rows.
PARTS: list[tuple[str, Callable[[int], list[Row]]]] = [
    ("LightGBM, breast cancer, 30 trials x 200 rounds, valid-binary_logloss (minimize)",
     lightgbm_rows),
    ("PyTorch Lightning, digits MLP, 16 trials x 15 epochs, val_loss (minimize)",
     lightning_rows),
]


def _print(title: str, rows: list[Row]) -> None:
    print(f"\n{title}")
    print(f"{'policy':<12}{'rounds':>9}{'ratio':>8}{'best':>10}{'best/none':>11}{'s':>7}")
    for row in rows:
        print(f"{row['policy']:<12}{row['rounds']:>9}{row['ratio']:>8.2f}{row['best']:>10.4f}"
              f"{row['kept']:>11.3f}{row['seconds']:>7.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=5)
    args = parser.parse_args()
    for title, part in PARTS:
        _print(f"{title}, {args.seeds} seeds", part(args.seeds))


if __name__ == "__main__":
    main()
