"""HyperDrive's seed scenario: tune a CNN's learning rate, keep probability and batch size.

Needs the ``torch`` extra (``pip install torch==2.13.0`` is the CPU build here).
``train.py`` uses the GPU when there is one; see ``resources_per_trial`` below to give each
trial its own.
"""

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
    uniform,
)

here = Path(__file__).parent
sampling = RandomParameterSampling(
    {
        "learning_rate": loguniform(-6, -1),  # e^-6 .. e^-1 = 0.0025 .. 0.37
        "keep_probability": uniform(0.5, 0.95),
        "batch_size": choice(16, 32, 64, 128),
    },
    seed=1,
)
config = HyperDriveConfig(
    run_config=ScriptRunConfig(source_directory=here, script="train.py"),
    hyperparameter_sampling=sampling,
    primary_metric_name="accuracy",
    primary_metric_goal=PrimaryMetricGoal.MAXIMIZE,
    max_total_runs=12,
    max_concurrent_runs=2,
    # On a machine with GPUs, give each trial one of its own (and two cores); trials then
    # run as many at once as there are GPUs, each seeing its own as cuda:0:
    # resources_per_trial={"gpu": 1, "cpu": 2},
)

if __name__ == "__main__":
    run = Experiment(Workspace(), "digits-cnn").submit(config)
    run.wait_for_completion(show_output=True)
    frame = run.to_dataframe().sort_values("best_primary_metric", ascending=False)
    columns = ["learning_rate", "keep_probability", "batch_size", "best_primary_metric"]
    print(frame[columns].head().to_string(index=False))
