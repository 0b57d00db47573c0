"""The command group imports a command's module only when the command is used: every command
is still listed, found and run, and a command does not import what the others need."""

from __future__ import annotations

import importlib
import subprocess
import sys

from click.testing import CliRunner

from hypersweep.cli import cli
from hypersweep.cli.main import COMMANDS


def test_every_registered_command_is_listed() -> None:
    for module in set(COMMANDS.values()):
        importlib.import_module(f"hypersweep.cli.{module}")
    # (a command added to a module but not to COMMANDS would be missing from --help)
    defined = {name: command.callback.__module__.rsplit(".", 1)[1]  # type: ignore[union-attr]
               for name, command in cli.commands.items()}
    assert defined == COMMANDS


def test_help_lists_every_command() -> None:
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0
    listed = result.output.split("Commands:", 1)[1].split()
    assert all(name in listed for name in COMMANDS)


def _modules_after(*argv: str) -> set[str]:
    code = ("import sys; from hypersweep.cli import cli; from click.testing import CliRunner; "
            f"result = CliRunner().invoke(cli, {list(argv)!r}); "
            "assert result.exit_code == 0, result.output; "
            "print(' '.join(sorted(m for m in sys.modules if m.startswith('hypersweep'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    return set(out.split())


def test_a_command_imports_only_its_module(tmp_path: object) -> None:
    loaded = _modules_after("ls", "--workspace", str(tmp_path))
    assert "hypersweep.cli.inspect" in loaded
    assert not {"hypersweep.cli.logs", "hypersweep.cli.control", "hypersweep.cli.ui",
                "hypersweep.cli.replay"} & loaded
    assert "hypersweep.cli.validate" in _modules_after("validate", "--help")
