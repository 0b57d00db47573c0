"""Sweep the digits classifier: 16 trials, 2 at a time, on the embedded default workspace."""

from pathlib import Path

from hypersweep import (
    Experiment,
    HyperDriveConfig,
    PrimaryMetricGoal,
    RandomParameterSampling,
    ScriptRunConfig,
    Workspace,
    choice,
    loguniform,
)

here = Path(__file__).parent
sampling = RandomParameterSampling(
    {
        "alpha": loguniform(-12, -2),  # exponents: alpha in [e^-12, e^-2]
        "eta0": loguniform(-7, 0),
        "loss": choice("hinge", "log_loss", "modified_huber"),
    },
    seed=7,
)
config = HyperDriveConfig(
    run_config=ScriptRunConfig(source_directory=here, script="train.py",
                               arguments=["--epochs", 10]),
    hyperparameter_sampling=sampling,
    primary_metric_name="accuracy",
    primary_metric_goal=PrimaryMetricGoal.MAXIMIZE,
    max_total_runs=16,
    max_concurrent_runs=2,
)

if __name__ == "__main__":
    run = Experiment(Workspace(), "digits-sgd").submit(config)
    run.wait_for_completion(show_output=True)
    best = run.get_best_run_by_primary_metric()
    assert best is not None
    print(f"best trial {best.id}: accuracy {max(best.get_metrics()['accuracy']):.4f} "
          f"with {best.get_hyperparameters()}")
