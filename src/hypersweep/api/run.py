"""`Run`: one trial (child run) of a sweep, as the results API shows it.

``Run.get_context()`` is the other face of the same name: inside a training script it returns
the run to log to (or an offline run outside a sweep). It is kept import-light — nothing here
imports the store until a result is asked for — because every trial imports it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from hypersweep.store import MetricPoint, Store, TrialRecord
    from hypersweep.tracking import OfflineRun, TrialRun


class TrialWorkspace(Protocol):
    """What a `Run` reads of its workspace: the record store and the trial's folders.

    A `~hypersweep.api.workspace.Workspace` is one; it is not named here because the
    workspace's module imports, through the sweep's run, this one.
    """

    @property
    def path(self) -> Path: ...

    @property
    def store(self) -> Store: ...

    def trial_dir(self, trial_id: str) -> Path: ...

    def outputs_dir(self, trial_id: str) -> Path: ...


def iso_utc(moment: datetime | None) -> str | None:
    """Azure's timestamp form: ``2024-01-31T12:00:00.123456Z``."""
    if moment is None:
        return None
    return moment.isoformat().replace("+00:00", "Z")


def metrics_dict(points: Iterable[MetricPoint]) -> dict[str, Any]:
    """Azure's ``get_metrics()`` form: a value logged once is a scalar, more often a list;
    ``log_list`` gives a list; ``log_row`` gives ``{column: [values]}``."""
    grouped: dict[str, list[MetricPoint]] = {}
    for point in points:
        grouped.setdefault(point.name, []).append(point)
    result: dict[str, Any] = {}
    for name, series in grouped.items():
        values = [_point_value(p) for p in series]
        if series[0].kind == "row":
            table: dict[str, list[Any]] = {}
            for row in values:
                for column, cell in (row or {}).items():
                    table.setdefault(column, []).append(cell)
            result[name] = table
        elif series[0].kind == "list" or len(values) > 1:
            result[name] = values
        else:
            result[name] = values[0]
    return result


def placement_text(placement: Mapping[str, Any] | None) -> str:
    """How a trial's devices and cores read wherever a trial is shown (the CLI's ``show``,
    the dashboard): ``placement`` is `TrialRecord.placement` as stored; runs of consecutive
    numbers are shown as ranges. Empty when the trial holds nothing.

    >>> placement_text({"gpus": [2], "cores": [4, 5]})
    'gpu 2 · cores 4-5'
    >>> placement_text({"gpus": [0, 1, 2, 3, 6], "cores": []})
    'gpus 0-3,6'
    >>> placement_text({"cores": [7]}), placement_text(None)
    ('core 7', '')
    """
    parts = []
    for key, one, many in (("gpus", "gpu", "gpus"), ("cores", "core", "cores")):
        numbers = sorted({int(n) for n in (placement or {}).get(key) or ()})
        if numbers:
            parts.append(f"{one if len(numbers) == 1 else many} {_ranges(numbers)}")
    return " · ".join(parts)


def _ranges(numbers: list[int]) -> str:
    """``[0, 1, 2, 5, 7, 8]`` -> ``0-2,5,7-8`` (``numbers`` sorted, distinct)."""
    runs: list[list[int]] = []
    for number in numbers:
        if runs and number == runs[-1][1] + 1:
            runs[-1][1] = number
        else:
            runs.append([number, number])
    return ",".join(str(a) if a == b else f"{a}-{b}" for a, b in runs)


def _point_value(point: MetricPoint) -> Any:
    if point.value is not None:
        number = point.value
        return int(number) if number.is_integer() and abs(number) < 2**53 else number
    return None if point.text is None else json.loads(point.text)


class Run:
    """A trial of a sweep: its hyperparameters, status, metrics, log and outputs.

    You get these from a `HyperDriveRun` (``get_children()``,
    ``get_best_run_by_primary_metric()``); inside a training script, use
    ``Run.get_context()`` instead.

    Examples
    --------
    >>> run = Run.get_context()          # outside a sweep: an offline run
    >>> run.log("accuracy", 0.9)         # printed, as Azure's offline run does
    Attempted to log scalar metric accuracy:
    0.9
    """

    def __init__(self, workspace: TrialWorkspace, run_id: str) -> None:
        self.workspace = workspace
        self.id = run_id

    @staticmethod
    def get_context() -> TrialRun | OfflineRun:
        """The run of the current trial, or an offline run that prints what it is given."""
        from hypersweep.tracking import get_context

        return get_context()

    # ---------------------------------------------------------------- records
    def _record(self) -> TrialRecord:
        return self.workspace.store.get_trial(self.id)

    @property
    def parent_id(self) -> str:
        """Id of the sweep this trial belongs to."""
        return self._record().sweep_id

    def get_status(self) -> str:
        """``Queued``, ``Running``, ``Completed``, ``Failed`` or ``Canceled``."""
        return str(self._record().status.value)

    def get_hyperparameters(self) -> dict[str, Any]:
        """The trial's hyperparameters, dotted names for nested ones."""
        return dict(self._record().params)

    def get_metrics(self, name: str | None = None) -> dict[str, Any]:
        """Everything the trial logged, in Azure's form (see `metrics_dict`)."""
        return metrics_dict(self.workspace.store.get_metrics(self.id, name))

    def get_tags(self) -> dict[str, str]:
        """Tags the trial set with ``run.tag``."""
        return self.workspace.store.get_tags(self.id)

    def get_details(self) -> dict[str, Any]:
        """Azure's details mapping: ids, status, times, the definition and any error.

        Beyond Azure's keys, ``"placement"`` says which devices and cores the trial held,
        as stored (``{"gpus": [2], "cores": [4, 5]}``), only when it asked for some
        (``resources_per_trial``); `placement_text` is its readable form.
        """
        record = self._record()
        details: dict[str, Any] = {
            "runId": record.id,
            "parentRunId": record.sweep_id,
            "status": record.status.value,
            "startTimeUtc": iso_utc(record.start_time),
            "endTimeUtc": iso_utc(record.end_time),
            "properties": {"hyperparameters": dict(record.params), "index": record.index},
            "runDefinition": {"arguments": list(record.arguments)},
            "logFiles": {"stdout": str(self.log_path), "stderr": str(self.stderr_path)},
        }
        if record.exit_code is not None:
            details["exitCode"] = record.exit_code
        if record.termination_reason:
            details["terminationReason"] = record.termination_reason
        if record.termination_detail:
            details["terminationDetail"] = dict(record.termination_detail)
        if record.error:
            details["error"] = record.error
        if record.resumed_from:
            details["properties"]["resumed_from"] = record.resumed_from
        placement = record.placement
        if placement and placement_text(placement):  # holding nothing: no key, as before
            details["placement"] = {"gpus": list(placement.get("gpus") or []),
                                    "cores": list(placement.get("cores") or [])}
        return details

    # ---------------------------------------------------------------- files
    @property
    def log_path(self) -> Path:
        """The trial's captured standard output."""
        from hypersweep.execution.layout import STDOUT

        return self.workspace.trial_dir(self.id) / STDOUT

    @property
    def stderr_path(self) -> Path:
        """The trial's captured standard error."""
        from hypersweep.execution.layout import STDERR

        return self.workspace.trial_dir(self.id) / STDERR

    @property
    def outputs_path(self) -> Path:
        """The trial's ``./outputs`` folder."""
        return self.workspace.outputs_dir(self.id)

    def get_system_metrics(self) -> list[dict[str, Any]]:
        """What the trial used of its machine while it ran, oldest sample first.

        One sample every few seconds (``HYPERSWEEP_SYSTEM_INTERVAL``, 5 s by default), for
        trials run as local processes: ``time`` (epoch seconds), ``cpu_percent`` (100 is one
        busy core), ``rss_mib`` (resident memory of all its processes), ``processes``, and for
        a trial holding GPUs ``gpus``, ``gpu_util_percent``, ``gpu_memory_mib``,
        ``gpu_memory_total_mib`` and ``gpu_memory_of`` (``"processes"``: its own;
        ``"devices"``: all used on its devices). See `hypersweep.execution.system_metrics`.
        A trial that left no samples (a Dask trial, or sampling turned off) gives ``[]``.
        """
        from hypersweep.execution.system_metrics import read_system_metrics

        return read_system_metrics(self.workspace.trial_dir(self.id))

    def get_file_names(self) -> list[str]:
        """Files the trial wrote under ``outputs/``, relative to its working folder.

        No link out of the trial's folder is followed (see `hypersweep.execution.trial_files`):
        a trial that made ``outputs`` a link to ``/`` lists nothing, at once.
        """
        from hypersweep.execution.trial_files import UnsafePathError, list_trial_files

        trial_dir = self.workspace.trial_dir(self.id)
        outputs = self.outputs_path.relative_to(trial_dir)
        try:
            files, _ = list_trial_files(trial_dir, outputs, limit=1_000_000)
        except UnsafePathError:
            return []
        return [f"{outputs.name}/{f.path}" for f in files]

    def __repr__(self) -> str:
        return f"Run(id={self.id!r})"

    def _repr_html_(self) -> str:
        """Jupyter: status, parameters and each metric's last, min and max (curves:
        ``hypersweep.viz.RunDetails(run).show()``). Every user string is escaped."""
        import html

        def cell(value: Any) -> str:
            return html.escape("—" if value is None else f"{value:.6g}"
                               if isinstance(value, float) else str(value))

        record = self._record()
        series: dict[str, list[float]] = {}
        for point in self.workspace.store.get_metrics(self.id):
            if point.value is not None:
                series.setdefault(point.name, []).append(point.value)
        reason = f" · {cell(record.termination_reason)}" if record.termination_reason else ""
        # a None value is shown as None (a choice may offer it), a missing one as —
        params = "".join(f"<tr><th>{cell(k)}</th><td>{cell('None' if v is None else v)}"
                         "</td></tr>" for k, v in record.params.items())
        stats = "".join(f"<tr><th>{cell(k)}</th><td>{cell(v[-1])}</td><td>{cell(min(v))}</td>"
                        f"<td>{cell(max(v))}</td></tr>" for k, v in series.items())
        return (f'<div class="hs-summary"><h3>{cell(self.id)} · {cell(record.status.value)}'
                f"{reason}</h3><table>{params}</table><table><tr><th>metric</th><th>last</th>"
                f"<th>min</th><th>max</th></tr>{stats}</table></div>")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Run) and other.id == self.id

    def __hash__(self) -> int:
        return hash(self.id)
