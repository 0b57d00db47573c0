"""The trial-folder layout: every file and folder name a trial leaves in a workspace.

A workspace folder holds ``runs/<trial-id>/`` (one folder per trial),
``snapshots/<sweep-id>/`` (the source directory as it was at submit) and ``shims/`` (the
``azureml`` shim as a zip archive its script trials import from, one file per version: see
:func:`hypersweep.tracking.integrations.shim_archive`). A trial folder holds::

    stdout.log  stderr.log   the script's output (appended)
    metrics.jsonl            the metrics journal the script appends to
    system.jsonl             the trial's CPU, memory and GPU use, sampled by the executor
    launching                written just before the supervisor starts, which writes its
                             record into it and renames it supervisor.json
    supervisor.json          the supervisor's own record (pid, start time, group, cores, host
                             and boot id), there before the script starts
    exit_status              {"exit_code": ..., "end_time": ...}, written when the script ends
    handle.json              on Dask, the handle the executor returned; a local trial folder
                             written by an earlier version may hold one too (it is still read)
    work/                    the trial's working copy and cwd (hard links into the snapshot)
    work/outputs/            what the trial keeps (``Workspace.outputs_dir``)
    metrics.a<n>.jsonl       on Dask, the journal of retry attempt n (n >= 1)
    outputs_location         on Dask with a shared folder, where the outputs stayed

A local script trial makes eight files and folders: the trial folder, ``work/``,
``work/outputs/``, ``launching`` (which becomes ``supervisor.json``), the two logs, the journal
(the script's first metric) and ``exit_status`` (through a temporary file), plus a hard link
per snapshot file.

Every layer names these through this module. The stdlib-only supervisor
(:mod:`hypersweep.execution._supervise`) cannot import it and spells its two names itself
(``launching`` it is told); tests/execution checks that they agree.

Examples
--------
>>> from pathlib import Path
>>> folder = trial_dir("/ws", "HD_1_0")
>>> folder.as_posix(), journal_path(folder).name, outputs_dir(folder).as_posix()
('/ws/runs/HD_1_0', 'metrics.jsonl', '/ws/runs/HD_1_0/work/outputs')
>>> snapshot_dir(Path("/ws"), "HD_1").as_posix(), shims_dir("/ws").as_posix()
('/ws/snapshots/HD_1', '/ws/shims')
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = [
    "EXIT_STATUS",
    "HANDLE",
    "JOURNAL",
    "LAUNCHING",
    "OUTPUTS",
    "OUTPUTS_IN_TRIAL",
    "OUTPUTS_LOCATION",
    "RUNS",
    "SHIMS",
    "SNAPSHOTS",
    "STDERR",
    "STDOUT",
    "SUPERVISOR_RECORD",
    "SYSTEM",
    "WORKDIR",
    "journal_path",
    "outputs_dir",
    "outputs_of",
    "shims_dir",
    "snapshot_dir",
    "trial_dir",
    "workdir",
]

#: The metrics journal the trial appends to.
JOURNAL = "metrics.jsonl"
#: Samples of the trial's CPU, memory and GPU use (:mod:`hypersweep.execution.system_metrics`).
SYSTEM = "system.jsonl"
#: The script's standard output and error, appended.
STDOUT = "stdout.log"
STDERR = "stderr.log"
#: Written just before a launch starts the supervisor, which renames it to its record: a
#: launch that left only this never ran.
LAUNCHING = "launching"
#: The supervisor's record of itself (where it runs, included), written before it starts the
#: script.
SUPERVISOR_RECORD = "supervisor.json"
#: The handle the Dask executor returned, for people and tools; local trials' is the
#: supervisor's record (earlier versions wrote one for them too: still read).
HANDLE = "handle.json"
#: The script's exit: ``{"exit_code": ..., "end_time": ...}``.
EXIT_STATUS = "exit_status"
#: The trial's working copy (its cwd), inside the trial folder.
WORKDIR = "work"
#: The trial's outputs folder, inside its working copy.
OUTPUTS = "outputs"
#: The outputs folder relative to the trial folder, as file listings name it.
OUTPUTS_IN_TRIAL = f"{WORKDIR}/{OUTPUTS}"
#: On Dask with a shared folder: the path of the outputs, which stayed there.
OUTPUTS_LOCATION = "outputs_location"
#: The workspace's folder of trial folders.
RUNS = "runs"
#: The workspace's folder of source snapshots.
SNAPSHOTS = "snapshots"
#: The workspace's folder of the azureml shim's archives (a Dask worker keeps its own).
SHIMS = "shims"


def _component(kind: str, name: str) -> str:
    """``name`` when it is one plain path component (ids travel through records and URLs)."""
    if not name or name in (".", "..") or "/" in name or os.sep in name or "\0" in name:
        raise ValueError(f"{kind} {name!r} is not a single folder name")
    return name


def trial_dir(workspace_dir: str | os.PathLike[str], trial_id: str) -> Path:
    """The folder of trial ``trial_id``: ``<workspace>/runs/<trial-id>``."""
    return Path(workspace_dir) / RUNS / _component("trial id", trial_id)


def snapshot_dir(workspace_dir: str | os.PathLike[str], sweep_id: str) -> Path:
    """The source snapshot of sweep ``sweep_id``: ``<workspace>/snapshots/<sweep-id>``."""
    return Path(workspace_dir) / SNAPSHOTS / _component("sweep id", sweep_id)


def shims_dir(workspace_dir: str | os.PathLike[str]) -> Path:
    """Where the azureml shim's archives are kept: ``<workspace>/shims``."""
    return Path(workspace_dir) / SHIMS


def workdir(trial_folder: str | os.PathLike[str]) -> Path:
    """The trial's working copy and cwd: ``<trial folder>/work``."""
    return Path(trial_folder) / WORKDIR


def outputs_of(working_copy: str | os.PathLike[str]) -> Path:
    """The outputs folder of a working copy: ``<working copy>/outputs``."""
    return Path(working_copy) / OUTPUTS


def outputs_dir(trial_folder: str | os.PathLike[str]) -> Path:
    """The trial's outputs folder: ``<trial folder>/work/outputs``."""
    return outputs_of(workdir(trial_folder))


def journal_path(trial_folder: str | os.PathLike[str], attempt: int = 0) -> Path:
    """The trial's metrics journal: ``<trial folder>/metrics.jsonl``.

    On Dask a retried trial's later attempts each mirror their own journal,
    ``metrics.a<attempt>.jsonl``, beside the first.

    Examples
    --------
    >>> journal_path("/ws/runs/t", 2).name
    'metrics.a2.jsonl'
    """
    if attempt == 0:
        return Path(trial_folder) / JOURNAL
    stem, dot, suffix = JOURNAL.partition(".")
    return Path(trial_folder) / f"{stem}.a{attempt}{dot}{suffix}"
