"""Hugging Face Transformers: a ``TrainerCallback`` that logs each evaluation and stops early.

``Trainer(..., callbacks=[TransformersCallback()])`` logs the metrics of every evaluation the
trainer runs during ``train`` (``eval_loss`` and what ``compute_metrics`` returns; set
``eval_strategy="epoch"`` or ``"steps"`` in ``TrainingArguments``), and sets
``control.should_training_stop`` once the sweep's early-termination policy has stopped the
trial, so training ends right after that evaluation (or, in a single process, after the step
during which a script trial's stop arrived). The same training code runs in a script
trial, in a function trial (``hypersweep.tune``) and outside a sweep, where the metrics are
printed (see :class:`~hypersweep.integrations.reporting.Reporter`).

In distributed training (``torchrun``, ``accelerate launch``) only the main process logs, and
its decision to stop is broadcast to every process, so all of them end at the same step.
"""

from __future__ import annotations

from typing import Any

import transformers

from hypersweep.integrations._metric_choice import MetricChoice, pick_metrics
from hypersweep.integrations.reporting import Reporter
from hypersweep.tracking.context import BaseRun

__all__ = ["TransformersCallback"]


def _everyone_agrees(stop: bool, world_size: int) -> bool:
    """The main process's ``stop``, on every process of a distributed run."""
    if world_size <= 1:
        return stop
    import torch.distributed as dist  # only here: torch is the Trainer's, loaded already

    if not (dist.is_available() and dist.is_initialized()):
        return stop
    decision = [stop]
    dist.broadcast_object_list(decision, src=0)
    return bool(decision[0])


class TransformersCallback(transformers.TrainerCallback):
    """Log the metrics of each evaluation; stop training when the sweep says so.

    Parameters
    ----------
    metrics : str, list of str or dict, optional
        Which of the evaluation's metrics to log: all numeric scalars by default (with the
        trainer's ``eval_`` prefix: ``eval_loss``, ``eval_accuracy``...); names to keep; or
        ``{"eval_accuracy": "accuracy"}`` to keep and rename.
    run : run, optional
        Where to log. Default: the current trial's run, found by itself (a function trial's,
        a script trial's), else an offline run that prints.

    Each evaluation's values are logged with ``step`` the trainer's global step (optimizer
    steps so far). Evaluations outside ``train`` (``trainer.evaluate()`` afterwards) are
    logged too, and stop nothing.

    Examples
    --------
    >>> from transformers import TrainerControl, TrainerState, TrainingArguments
    >>> callback = TransformersCallback(["eval_loss"])
    >>> args = TrainingArguments(output_dir="out", report_to=[])
    >>> state, control = TrainerState(global_step=10), TrainerControl()
    >>> callback.on_train_begin(args, state, control)
    >>> callback.on_evaluate(args, state, control, metrics={"eval_loss": 0.5, "epoch": 1.0})
    Attempted to log scalar metric eval_loss:
    0.5
    >>> control.should_training_stop
    False
    """

    def __init__(self, metrics: MetricChoice = None, run: BaseRun | None = None) -> None:
        self.metrics = metrics
        self.run = run
        self.reporter: Reporter | None = None
        self._alone = True  # one process: nothing to agree with between evaluations

    def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        """Find the run at the start of ``train`` (so one callback serves several trainings)."""
        self.reporter = Reporter(self.run) if state.is_world_process_zero else None
        self._alone = args.world_size <= 1

    def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        """In one process, end at this step when the trial was stopped since the last
        evaluation (a script trial's SIGTERM, a timeout). Several processes agree only at
        evaluations, where they all are."""
        if self._alone and self.reporter is not None and self.reporter.should_stop():
            control.should_training_stop = True

    def on_evaluate(self, args: Any, state: Any, control: Any,
                    metrics: dict[str, Any] | None = None, **kwargs: Any) -> None:
        """Log the evaluation's metrics; ask the trainer to stop when the trial was stopped."""
        stop = False
        if state.is_world_process_zero:
            if self.reporter is None:  # an evaluation before (or without) train
                self.reporter = Reporter(self.run)
            self.reporter.log(pick_metrics(metrics or {}, self.metrics), step=state.global_step)
            stop = self.reporter.should_stop()
        if _everyone_agrees(stop, args.world_size):
            control.should_training_stop = True
