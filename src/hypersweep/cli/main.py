"""The ``hypersweep`` command group: shared options, workspace opening, one-line errors.

User mistakes (a bad sweep file, an unknown id, a sweep already driven elsewhere) end with
``error: <one line>`` on stderr and exit status 1, never a traceback.

Examples
--------
>>> from click.testing import CliRunner
>>> CliRunner().invoke(cli, ["show", "--help"]).exit_code
0
"""

from __future__ import annotations

import functools
import importlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from hypersweep.errors import ConfigError, StoreError

F = TypeVar("F", bound=Callable[..., Any])


class CliError(click.ClickException):
    """A user-facing failure: printed as ``error: <message>``, exit status 1."""

    def show(self, file: Any = None) -> None:
        click.echo(f"error: {self.format_message()}", err=True)


#: Each command and the module of ``hypersweep.cli`` that defines it: a module is imported
#: when one of its commands is first needed (``hypersweep ls`` need not import what ``logs``
#: or ``run`` do), and ``--help`` lists every command from here.
COMMANDS = {
    "best": "inspect", "ls": "inspect", "show": "inspect", "export": "export",
    "cancel": "control", "resume": "control", "run": "control",
    "logs": "logs", "replay": "replay", "report": "ui", "ui": "ui", "validate": "validate",
}


class _Group(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*COMMANDS, *self.commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in COMMANDS:
            # (the module registers its commands on `cli` as it is imported)
            importlib.import_module(f"hypersweep.cli.{COMMANDS[cmd_name]}")
        return super().get_command(ctx, cmd_name)

    def invoke(self, ctx: click.Context) -> Any:
        from hypersweep.cli._errors import capture_errors, disk_full_message, failure_line

        with capture_errors():  # a controller thread's death is reported once, in one line
            try:
                return super().invoke(ctx)
            except (ConfigError, StoreError) as err:
                raise CliError(failure_line(err) if str(err) else repr(err)) from None
            except OSError as err:
                full = disk_full_message(err)
                if full is None:
                    raise
                raise CliError(full) from None


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="hypersweep")
def cli() -> None:
    """Hyperparameter sweeps with Azure ML sweep-job semantics, on this machine.

    Records live in .hypersweep/ in the current folder unless --workspace/--store (or
    HYPERSWEEP_WORKSPACE / HYPERSWEEP_STORE) say otherwise. A sweep may be named by a unique
    prefix of its id (HD_65589a22, or 65589a22), a trial by that and its number (65589a22_3).
    """


def workspace_options(func: F) -> F:
    """Add ``--workspace`` and ``--store`` (and their environment variables) to a command."""

    @click.option("--workspace", "workspace_dir", envvar="HYPERSWEEP_WORKSPACE",
                  metavar="DIR", help="Workspace folder [default: ./.hypersweep].")
    @click.option("--store", "store_url", envvar="HYPERSWEEP_STORE", metavar="URI",
                  help="Record store URL, e.g. postgresql://user@host/db "
                       "[default: SQLite in the workspace].")
    @functools.wraps(func)
    def wrapper(*args: Any, workspace_dir: str | None, store_url: str | None,
                **kwargs: Any) -> Any:
        return func(*args, workspace=WorkspaceRef(workspace_dir, store_url), **kwargs)

    return wrapper  # type: ignore[return-value]


class WorkspaceRef:
    """Where the records are; opened only when a command needs them."""

    def __init__(self, path: str | None, store: str | None) -> None:
        self.path = Path(path or ".hypersweep")
        self.store = store or None

    def exists(self) -> bool:
        return self.store is not None or (self.path / "hypersweep.db").is_file()

    def open(self, create: bool = False, read_only: bool = False) -> Any:
        """The `Workspace`; a read command in a folder without one is an error.

        ``read_only`` (the read commands) opens a SQLite store without writing anything, so
        a workspace on a read-only mount can still be read. A command that writes is refused
        up front on a folder it cannot write.
        """
        from hypersweep.api.workspace import Workspace

        if not create and not self.exists():
            raise CliError(f"no hypersweep workspace at {os.fspath(self.path)} "
                           "(run a sweep first, or pass --workspace DIR)")
        if not read_only and self.is_read_only():
            raise CliError(f"workspace {os.fspath(self.path)} is read-only: this command "
                           "records to it (read commands such as ls and show still work)")
        return Workspace(self.path, store=self.store, read_only=read_only)

    def is_read_only(self) -> bool:
        """Whether the records here cannot be written: a SQLite workspace whose folder (or,
        before it exists, its nearest parent) is a read-only mount, immutable, or another
        user's. A database server (--store) decides for itself."""
        if self.store is not None:
            return False
        folder = self.path.absolute()
        while not folder.exists() and folder != folder.parent:
            folder = folder.parent
        return not os.access(folder, os.W_OK)


#: The fewest characters of a sweep id (after ``HD_``) that may name it by prefix.
MIN_PREFIX = 4


def resolve_sweep_id(store: Any, text: str) -> str:
    """The id of the sweep ``text`` names: its whole id, or a unique prefix of it (with or
    without ``HD_``), as git takes a short commit hash.

    Raises `CliError` naming what is wrong: no such sweep, a trial id, or an ambiguous prefix.
    """
    try:
        return str(store.get_sweep(text).id)
    except KeyError:
        pass
    prefix = text if text.startswith("HD_") else f"HD_{text}"
    if len(prefix) - len("HD_") >= MIN_PREFIX:
        matches = sorted(s.id for s in store.list_sweeps() if s.id.startswith(prefix))
        if len(matches) == 1:
            return matches[0]
        if matches:
            shown = ", ".join(matches[:5]) + (", ..." if len(matches) > 5 else "")
            raise CliError(f"{text!r} matches {len(matches)} sweeps ({shown}); "
                           "give more of the id")
    try:
        trial = store.get_trial(text)
    except KeyError:
        pass
    else:
        raise CliError(f"{text!r} is a trial; its sweep is {trial.sweep_id!r}")
    if len(prefix) - len("HD_") < MIN_PREFIX:  # too short to be taken as a prefix: say so
        starting = sorted(s.id for s in store.list_sweeps() if s.id.startswith(prefix))
        hint = ""
        if starting:
            count = (f"{len(starting)} sweep ids start" if len(starting) > 1
                     else "1 sweep id starts")
            hint = f" ({count} with {text!r}, e.g. {starting[0][3:11]})"
        raise CliError(f"no sweep {text!r}: name a sweep by its id or at least {MIN_PREFIX} "
                       f"characters of it{hint}")
    raise CliError(f"no sweep {text!r} in this workspace")


def open_sweep(workspace: Any, sweep_id: str) -> Any:
    """The `HyperDriveRun` of the sweep ``sweep_id`` names (see `resolve_sweep_id`),
    whichever experiment it belongs to; ``run.id`` is its whole id."""
    from hypersweep.api.sweep_run import HyperDriveRun
    from hypersweep.api.workspace import Experiment

    store = workspace.store
    sweep_id = resolve_sweep_id(store, sweep_id)
    return HyperDriveRun(Experiment(workspace, store.get_sweep(sweep_id).experiment), sweep_id)


def open_trial(workspace: Any, trial_id: str) -> Any:
    """The `Run` of trial ``trial_id``: its whole id, or ``<sweep id or prefix>_<number>``."""
    from hypersweep.api.run import Run

    store = workspace.store
    try:
        store.get_trial(trial_id)
    except KeyError:
        head, _, number = trial_id.rpartition("_")
        if head and number.isdigit():
            try:
                whole = f"{resolve_sweep_id(store, head)}_{int(number)}"
                store.get_trial(whole)
                return Run(workspace, whole)
            except (CliError, KeyError):
                pass
        try:
            sweep_id = resolve_sweep_id(store, trial_id)
        except CliError:
            raise CliError(f"no trial {trial_id!r} in this workspace") from None
        count = store.count_trials([sweep_id])[sweep_id]
        command = f"hypersweep {click.get_current_context().info_name}"
        raise CliError(
            f"{trial_id!r} is a sweep, not a trial; name one of its {count} trials by the "
            f"sweep and a number from 0 to {max(count - 1, 0)}, e.g. {command} {trial_id}_0"
        ) from None
    return Run(workspace, trial_id)


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="hypersweep")
