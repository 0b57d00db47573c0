"""``hypersweep logs TRIAL_ID [--follow] [--stderr] [--json]``: a trial's captured output.

Examples
--------
>>> from click.testing import CliRunner
>>> CliRunner().invoke(cli, ["logs", "--help"]).exit_code
0
"""

from __future__ import annotations

import codecs
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from hypersweep.cli._format import echo_json
from hypersweep.cli.main import CliError, WorkspaceRef, cli, open_trial, workspace_options
from hypersweep.execution.trial_files import UnsafePathError, open_trial_file
from hypersweep.store.records import Status


@cli.command()
@click.argument("trial_id")
@click.option("--follow", "-f", is_flag=True,
              help="Keep printing new output until the trial ends.")
@click.option("--stderr", "use_stderr", is_flag=True, help="Show standard error instead.")
@click.option("--json", "as_json", is_flag=True,
              help="Print JSON: {run_id, status, stream, text}; with --follow one such "
                   "object a line as output arrives, the last with the final status.")
@click.option("--interval", default=0.2, show_default=True, hidden=True)
@workspace_options
def logs(trial_id: str, follow: bool, use_stderr: bool, as_json: bool, interval: float,
         workspace: WorkspaceRef) -> None:
    """Print a trial's standard output (or --stderr); --follow until it ends."""
    run = open_trial(workspace.open(read_only=True), trial_id)
    path: Path = run.stderr_path if use_stderr else run.log_path
    emit = _Json(run, "stderr" if use_stderr else "stdout") if as_json else _write_raw
    if as_json and not follow:
        assert isinstance(emit, _Json)
        emit.whole(_read(path, 0), run.get_status())
        return
    offset = _copy(path, 0, emit)
    while follow:
        status = run.get_status()  # read before the file: no output is lost
        offset = _copy(path, offset, emit)
        if Status(status).is_terminal:
            if isinstance(emit, _Json):
                emit.end(status)
            break
        time.sleep(interval)


def _read(path: Path, offset: int) -> bytes:
    """The bytes of ``path`` from ``offset`` (none while the file does not exist yet)."""
    try:
        # a trial may have swapped its log for a link to any file: never follow it out
        with open_trial_file(path.parent, path.name) as handle:
            handle.seek(offset)
            return handle.read()
    except FileNotFoundError:
        return b""
    except UnsafePathError as err:
        raise CliError(f"{err}: not shown") from None


def _copy(path: Path, offset: int, emit: Callable[[bytes], None]) -> int:
    """Hand the bytes of ``path`` from ``offset`` to ``emit``; return the new offset."""
    data = _read(path, offset)
    if data:
        emit(data)
    return offset + len(data)


def _write_raw(data: bytes) -> None:
    # A log's bytes go out as they are (no decoding); text printed before them comes first.
    sys.stdout.flush()
    sys.stdout.buffer.write(data)
    sys.stdout.buffer.flush()


class _Json:
    """Output as JSON objects; text decoded as UTF-8 across chunk boundaries."""

    def __init__(self, run: Any, stream: str) -> None:
        self.head = {"run_id": run.id, "stream": stream}
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")

    def whole(self, data: bytes, status: str) -> None:
        echo_json({**self.head, "status": status, "text": data.decode("utf-8", "replace")})

    def __call__(self, data: bytes) -> None:
        text = self._decoder.decode(data)
        if text:
            click.echo(json.dumps({**self.head, "text": text}, ensure_ascii=False))

    def end(self, status: str) -> None:
        rest = self._decoder.decode(b"", final=True)
        click.echo(json.dumps({**self.head, "text": rest, "status": status},
                              ensure_ascii=False))
