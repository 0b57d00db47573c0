"""The ``hypersweep`` command line: run, watch and inspect sweeps described in v2 YAML.

Every command goes through the public api objects (`Workspace`, `Experiment`,
`HyperDriveRun`, `Run`) and the `Store`; none holds sweep logic of its own.

Examples
--------
>>> from click.testing import CliRunner
>>> CliRunner().invoke(cli, ["--help"]).exit_code
0
"""

import importlib
from typing import Any

# Each command module registers its commands on `cli` when imported, which `cli` does when
# one of them is first asked for (`hypersweep.cli.main.COMMANDS`).
from hypersweep.cli.main import COMMANDS
from hypersweep.cli.main import cli as cli
from hypersweep.cli.main import main as main

_COMMAND_MODULES = frozenset(COMMANDS.values())

__all__ = sorted({"cli", "main", *_COMMAND_MODULES})


def __getattr__(name: str) -> Any:
    """``hypersweep.cli.<command module>``, imported on first use."""
    if name in _COMMAND_MODULES:
        return importlib.import_module(f"hypersweep.cli.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
