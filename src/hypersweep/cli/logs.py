"""``hypersweep logs TRIAL_ID [--follow] [--stderr]``: a trial's captured output.

Examples
--------
>>> from click.testing import CliRunner
>>> CliRunner().invoke(cli, ["logs", "--help"]).exit_code
0
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click

from hypersweep.cli.main import CliError, WorkspaceRef, cli, open_trial, workspace_options
from hypersweep.execution.trial_files import UnsafePathError, open_trial_file
from hypersweep.store.records import Status


@cli.command()
@click.argument("trial_id")
@click.option("--follow", "-f", is_flag=True,
              help="Keep printing new output until the trial ends.")
@click.option("--stderr", "use_stderr", is_flag=True, help="Show standard error instead.")
@click.option("--interval", default=0.2, show_default=True, hidden=True)
@workspace_options
def logs(trial_id: str, follow: bool, use_stderr: bool, interval: float,
         workspace: WorkspaceRef) -> None:
    """Print a trial's standard output (or --stderr); --follow until it ends."""
    run = open_trial(workspace.open(), trial_id)
    path: Path = run.stderr_path if use_stderr else run.log_path
    offset = _copy(path, 0)
    while follow:
        ended = Status(run.get_status()).is_terminal  # read before the file: no output is lost
        offset = _copy(path, offset)
        if ended:
            break
        time.sleep(interval)


def _copy(path: Path, offset: int) -> int:
    """Write the bytes of ``path`` from ``offset`` to stdout; return the new offset."""
    try:
        # a trial may have swapped its log for a link to any file: never follow it out
        with open_trial_file(path.parent, path.name) as handle:
            handle.seek(offset)
            data = handle.read()
    except FileNotFoundError:
        return offset
    except UnsafePathError as err:
        raise CliError(f"{err}: not shown") from None
    if data:
        out = click.get_binary_stream("stdout")
        out.write(data)
        out.flush()
        sys.stdout.flush()
    return offset + len(data)
