"""The ``hypersweep`` command line: run, watch and inspect sweeps described in v2 YAML.

Every command goes through the public api objects (`Workspace`, `Experiment`,
`HyperDriveRun`, `Run`) and the `Store`; none holds sweep logic of its own.

Examples
--------
>>> from click.testing import CliRunner
>>> CliRunner().invoke(cli, ["--help"]).exit_code
0
"""

# Each command module registers its commands on `cli` when imported.
from hypersweep.cli import control, inspect, logs, replay, ui, validate
from hypersweep.cli.main import cli, main

__all__ = ["cli", "control", "inspect", "logs", "main", "replay", "ui", "validate"]
