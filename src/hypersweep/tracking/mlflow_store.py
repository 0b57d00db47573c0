"""MLflow tracking store ``hypersweep:``: MLflow calls become the trial's journal records.

Azure ML v2 training scripts log through MLflow (``mlflow.log_metric``, ``log_metrics``,
``log_param``, ``set_tag``, autologging). Inside a trial the controller sets
``MLFLOW_TRACKING_URI=hypersweep:`` (see :mod:`hypersweep.tracking.integrations`), and MLflow
finds this store through its own plugin mechanism — the ``mlflow.tracking_store`` entry point
for the ``hypersweep`` scheme — so nothing in MLflow is patched and an unchanged script's calls
arrive here.

How MLflow's calls map to journal records (:class:`~hypersweep.tracking.TrialRun`):

========================================  ==================================================
MLflow                                    journal
========================================  ==================================================
metric ``(key, value, step)``             ``metric`` record, value a float; step as given,
                                          except MLflow's default step 0 counts logs instead
                                          (MLflow turns "no step" into 0 before a store sees
                                          it, and the controller's interval logic wants
                                          0, 1, 2, … for a metric logged in a loop)
param ``(key, value)``                    ``tag`` record (params are strings, like tags, and
                                          the trial has no other place for them)
tag ``(key, value)``                      ``tag`` record; MLflow's context tags that
                                          ``start_run`` adds on its own (``mlflow.user``,
                                          ``mlflow.source.*``, …) are kept in memory only
run start/end, inputs, models, traces     nothing: the trial's status is its process's, as
                                          on Azure
========================================  ==================================================

Every MLflow run of the process — the one ``mlflow.start_run()`` (or the first
``mlflow.log_metric``) creates, later ones, and nested ones from autologging — is the same
trial. The first top-level run takes the trial's id, like ``MLFLOW_RUN_ID`` on Azure. Params and
tags of nested runs stay in memory (a grid search's children would otherwise overwrite the
trial's own params); their metrics are the trial's. Runs, params, tags and metric histories
are also kept in memory, so ``mlflow.get_run``, ``search_runs`` and ``get_metric_history``
answer within the process. Artifacts and models are written under the trial's ``outputs``
folder by MLflow's own local artifact repository.

Outside a sweep the calls go to an offline run, which prints them.

Examples
--------
>>> import mlflow                                     # doctest: +SKIP
>>> mlflow.set_tracking_uri("hypersweep:")            # doctest: +SKIP
>>> mlflow.log_metric("accuracy", 0.9)                # doctest: +SKIP
Attempted to log scalar metric accuracy:
0.9
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlflow.entities import (
    Experiment,
    LifecycleStage,
    LoggedModel,
    LoggedModelStatus,
    Metric,
    Param,
    Run,
    RunData,
    RunInfo,
    RunStatus,
    RunTag,
    ViewType,
)
from mlflow.exceptions import MlflowException
from mlflow.protos.databricks_pb2 import RESOURCE_DOES_NOT_EXIST
from mlflow.store.entities.paged_list import PagedList
from mlflow.store.tracking.abstract_store import AbstractStore
from mlflow.utils.search_utils import SearchUtils

from hypersweep.tracking.context import (
    DEFAULT_OUTPUTS,
    ENV_EXPERIMENT,
    ENV_OUTPUTS,
    ENV_TRIAL_ID,
    get_context,
)

__all__ = ["SCHEME", "HypersweepStore"]

#: The URI scheme this store is registered for: ``MLFLOW_TRACKING_URI=hypersweep:``.
SCHEME = "hypersweep"

#: Every experiment name resolves to this one id: a trial belongs to one sweep, and a script's
#: ``mlflow.set_experiment("x")`` must not make ``start_run`` refuse the trial's run.
EXPERIMENT_ID = "0"

#: Tags ``start_run`` computes by itself; recorded in memory, not as the trial's tags.
_CONTEXT_TAG_PREFIX = "mlflow."


def _now_ms() -> int:
    return int(time.time() * 1000)


@dataclass
class _RunState:
    """What this process knows about one MLflow run."""

    run_id: str
    experiment_id: str
    user_id: str
    start_time: int
    run_name: str
    artifact_uri: str
    parent_id: str | None = None
    status: str = "RUNNING"
    end_time: int | None = None
    lifecycle_stage: str = LifecycleStage.ACTIVE
    params: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    history: dict[str, list[Metric]] = field(default_factory=dict)

    def to_run(self) -> Run:
        info = RunInfo(
            run_id=self.run_id, experiment_id=self.experiment_id, user_id=self.user_id,
            status=self.status, start_time=self.start_time, end_time=self.end_time,
            lifecycle_stage=self.lifecycle_stage, artifact_uri=self.artifact_uri,
            run_name=self.run_name,
        )
        # The latest value: highest step, then time, then the last logged.
        latest = [max(reversed(series), key=lambda m: (m.step, m.timestamp))
                  for series in self.history.values()]
        data = RunData(
            metrics=latest,
            params=[Param(k, v) for k, v in self.params.items()],
            tags=[RunTag(k, v) for k, v in self.tags.items()],
        )
        return Run(run_info=info, run_data=data)


class _State:
    """Runs and models of this process, shared by every store instance (MLflow caches one per
    URI, but a script may build its own ``MlflowClient``)."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.runs: dict[str, _RunState] = {}
        self.models: dict[str, LoggedModel] = {}
        self.trial_run_taken = False


_STATE = _State()


def _outputs_dir() -> Path:
    return Path(os.environ.get(ENV_OUTPUTS) or DEFAULT_OUTPUTS).resolve()


def _experiment_name() -> str:
    return os.environ.get(ENV_EXPERIMENT) or "Default"


class HypersweepStore(AbstractStore):
    """MLflow tracking store for ``hypersweep:`` URIs: the trial's journal, and memory.

    MLflow builds it (``store_uri``, ``artifact_uri`` keyword arguments) when a script's
    tracking URI has the ``hypersweep`` scheme; nobody calls it directly.

    Parameters
    ----------
    store_uri : str, optional
        The tracking URI, ``hypersweep:``; nothing after the scheme is used.
    artifact_uri : str, optional
        Ignored: artifacts go to the trial's outputs folder.

    Examples
    --------
    >>> store = HypersweepStore("hypersweep:")                       # doctest: +SKIP
    >>> run = store.create_run("0", "me", 0, [], "r")                # doctest: +SKIP
    >>> store.log_metric(run.info.run_id, Metric("loss", 0.5, 0, 3)) # doctest: +SKIP
    """

    def __init__(self, store_uri: str | None = None, artifact_uri: str | None = None) -> None:
        super().__init__()
        self.store_uri = store_uri or f"{SCHEME}:"

    @property
    def _state(self) -> _State:
        return _STATE

    # ------------------------------------------------------------------ experiments
    def _experiment(self, experiment_id: str = EXPERIMENT_ID, name: str | None = None
                    ) -> Experiment:
        return Experiment(
            experiment_id=experiment_id, name=name or _experiment_name(),
            artifact_location=_outputs_dir().as_uri(), lifecycle_stage=LifecycleStage.ACTIVE,
            tags=[],
        )

    def search_experiments(
        self,
        view_type: int = ViewType.ACTIVE_ONLY,
        max_results: int | None = None,
        filter_string: str | None = None,
        order_by: list[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList:
        """The one experiment of the trial."""
        return PagedList([self._experiment()], None)

    def create_experiment(self, name: str, artifact_location: Any = None, tags: Any = None) -> str:
        """Every experiment is the trial's: return its id."""
        return EXPERIMENT_ID

    def get_experiment(self, experiment_id: str) -> Experiment:
        """The trial's experiment, whatever id is asked for."""
        return self._experiment(str(experiment_id))

    def get_experiment_by_name(self, experiment_name: str) -> Experiment:
        """The trial's experiment under the name asked for (so ``set_experiment`` works)."""
        return self._experiment(EXPERIMENT_ID, experiment_name)

    def delete_experiment(self, experiment_id: str) -> None:
        """Nothing to delete: the sweep owns the experiment."""

    def restore_experiment(self, experiment_id: str) -> None:
        """Nothing to restore."""

    def rename_experiment(self, experiment_id: str, new_name: str) -> None:
        """Ignored: the sweep names the experiment."""

    # ------------------------------------------------------------------ runs
    def _get(self, run_id: str) -> _RunState:
        with self._state.lock:
            state = self._state.runs.get(run_id)
            if state is None and run_id == os.environ.get(ENV_TRIAL_ID):
                # MLFLOW_RUN_ID names the trial: start_run resumes it with get_run first.
                state = self._new_run(run_id, EXPERIMENT_ID, "", _now_ms(), run_id, None)
                self._state.trial_run_taken = True
            if state is None:
                raise MlflowException(
                    f"Run {run_id!r} not found in this trial", RESOURCE_DOES_NOT_EXIST
                )
            return state

    def _new_run(
        self, run_id: str, experiment_id: str, user_id: str, start_time: int, run_name: str,
        parent_id: str | None,
    ) -> _RunState:
        state = _RunState(
            run_id=run_id, experiment_id=experiment_id, user_id=user_id,
            start_time=start_time, run_name=run_name, artifact_uri=_outputs_dir().as_uri(),
            parent_id=parent_id,
        )
        self._state.runs[run_id] = state
        return state

    def create_run(
        self, experiment_id: str, user_id: str, start_time: int | None, tags: list[RunTag] | None,
        run_name: str | None,
    ) -> Run:
        """A new MLflow run of this trial: the first top-level one takes the trial's id."""
        tags = list(tags or [])
        tag_map = {t.key: t.value for t in tags}
        parent_id = tag_map.get("mlflow.parentRunId")
        with self._state.lock:
            trial_id = os.environ.get(ENV_TRIAL_ID)
            if (parent_id is None and trial_id and not self._state.trial_run_taken
                    and trial_id not in self._state.runs):
                run_id = trial_id
                self._state.trial_run_taken = True
            else:
                run_id = uuid.uuid4().hex
            name = run_name or tag_map.get("mlflow.runName") or run_id
            state = self._new_run(
                run_id, str(experiment_id or EXPERIMENT_ID), user_id or "",
                start_time or _now_ms(), name, parent_id,
            )
            state.tags.update(tag_map)
            state.tags.setdefault("mlflow.runName", name)
        # The tags a user passed to start_run(tags=...) are the trial's; MLflow's own are not.
        user_tags = [t for t in tags if not t.key.startswith(_CONTEXT_TAG_PREFIX)]
        if parent_id is None and user_tags:
            context = get_context()
            for tag in user_tags:
                context.tag(tag.key, tag.value)
        return state.to_run()

    def get_run(self, run_id: str) -> Run:
        """The run as this process knows it (the trial's own run even before it started)."""
        with self._state.lock:
            return self._get(run_id).to_run()

    def update_run_info(
        self, run_id: str, run_status: Any, end_time: int | None, run_name: str | None
    ) -> RunInfo:
        """Record the status in memory; the trial's status stays its process's (as on Azure),
        so that a script's traceback, not ``end_run("FAILED")``, explains a failed trial."""
        with self._state.lock:
            state = self._get(run_id)
            state.status = (
                run_status if isinstance(run_status, str) else RunStatus.to_string(run_status)
            )
            state.end_time = end_time
            if run_name:
                state.run_name = run_name
                state.tags["mlflow.runName"] = run_name
            return state.to_run().info

    def delete_run(self, run_id: str) -> None:
        """Mark the run deleted in memory (the trial's logged values stay)."""
        with self._state.lock:
            self._get(run_id).lifecycle_stage = LifecycleStage.DELETED

    def restore_run(self, run_id: str) -> None:
        """Undo :meth:`delete_run`."""
        with self._state.lock:
            self._get(run_id).lifecycle_stage = LifecycleStage.ACTIVE

    def _search_runs(
        self,
        experiment_ids: list[str],
        filter_string: str | None,
        run_view_type: int,
        max_results: int,
        order_by: list[str] | None,
        page_token: str | None,
    ) -> tuple[list[Run], str | None]:
        with self._state.lock:
            runs = [
                s.to_run() for s in self._state.runs.values()
                if LifecycleStage.matches_view_type(run_view_type, s.lifecycle_stage)
            ]
        # MLflow's own in-memory search, as its file store does.
        filtered = SearchUtils.filter(runs, filter_string)
        ordered = SearchUtils.sort(filtered, order_by)
        page, token = SearchUtils.paginate(ordered, page_token, max_results)
        return list(page), token

    # ------------------------------------------------------------------ logging
    def log_batch(
        self, run_id: str, metrics: list[Metric], params: list[Param], tags: list[RunTag]
    ) -> None:
        """Append the metrics (and a top-level run's params and tags) to the trial's journal."""
        with self._state.lock:
            state = self._get(run_id)
            for metric in metrics:
                state.history.setdefault(metric.key, []).append(metric)
            for param in params:
                state.params[param.key] = param.value
            for tag in tags:
                state.tags[tag.key] = tag.value
            nested = state.parent_id is not None
        context = get_context()
        for metric in metrics:
            step = int(metric.step or 0)
            # MLflow's default step is 0: then number the values as Run.log does.
            context.log(metric.key, float(metric.value), step=step or None)
        if nested:
            return
        for param in params:
            context.tag(param.key, param.value)
        for tag in tags:
            context.tag(tag.key, tag.value)

    def get_metric_history(
        self, run_id: str, metric_key: str, max_results: int | None = None,
        page_token: str | None = None,
    ) -> PagedList:
        """Every value of the metric logged by this process for that run."""
        with self._state.lock:
            series = list(self._get(run_id).history.get(metric_key, []))
        return PagedList(series, None)

    def log_inputs(self, run_id: str, datasets: Any = None, models: Any = None) -> None:
        """Datasets and model inputs are not tracked."""

    def log_outputs(self, run_id: str, models: Any) -> None:
        """Model outputs are not tracked (the model's files are in the outputs folder)."""

    def record_logged_model(self, run_id: str, mlflow_model: Any) -> None:
        """Nothing to record: the model's files are in the outputs folder."""

    def set_experiment_tag(self, experiment_id: str, tag: Any) -> None:
        """Ignored: the sweep owns the experiment."""

    def delete_tag(self, run_id: str, key: str) -> None:
        """Forget the tag in memory (the journal is append-only)."""
        with self._state.lock:
            self._get(run_id).tags.pop(key, None)

    def link_traces_to_run(self, trace_ids: list[str], run_id: str) -> None:
        """Traces are not tracked."""

    # ------------------------------------------------------------------ logged models
    # MLflow 3's log_model (and so autologging) creates a "logged model" whose files MLflow
    # writes to its artifact_location; ours is a folder under the trial's outputs.
    def create_logged_model(
        self,
        experiment_id: str = EXPERIMENT_ID,
        name: str | None = None,
        source_run_id: str | None = None,
        tags: Any = None,
        params: Any = None,
        model_type: str | None = None,
    ) -> LoggedModel:
        """A model whose files go to ``outputs/models/<model_id>``."""
        model_id = f"m-{uuid.uuid4().hex}"
        now = _now_ms()
        model = LoggedModel(
            experiment_id=str(experiment_id), model_id=model_id, name=name or model_id,
            artifact_location=(_outputs_dir() / "models" / model_id).as_uri(),
            creation_timestamp=now, last_updated_timestamp=now, model_type=model_type,
            source_run_id=source_run_id, status=LoggedModelStatus.PENDING, tags=tags,
            params=params,
        )
        with self._state.lock:
            self._state.models[model_id] = model
        return model

    def get_logged_model(self, model_id: str, allow_deleted: bool = False) -> LoggedModel:
        """A model created by this process."""
        with self._state.lock:
            model = self._state.models.get(model_id)
        if model is None:
            raise MlflowException(f"Model {model_id!r} not found", RESOURCE_DOES_NOT_EXIST)
        return model

    def finalize_logged_model(self, model_id: str, status: Any) -> LoggedModel:
        """Set the model's status (``READY`` once its files are written)."""
        model = self.get_logged_model(model_id)
        model.status = status
        return model

    def set_logged_model_tags(self, model_id: str, tags: list[Any]) -> None:
        """Tags of a model, kept in memory."""
        model = self.get_logged_model(model_id)
        model.tags.update({t.key: t.value for t in tags})

    def delete_logged_model_tag(self, model_id: str, key: str) -> None:
        """Forget a model's tag."""
        self.get_logged_model(model_id).tags.pop(key, None)

    def log_logged_model_params(self, model_id: str, params: list[Any]) -> None:
        """Params of a model, kept in memory."""
        model = self.get_logged_model(model_id)
        model.params.update({p.key: p.value for p in params})

    def delete_logged_model(self, model_id: str) -> None:
        """Forget a model (its files stay in the outputs folder)."""
        with self._state.lock:
            self._state.models.pop(model_id, None)

    def search_logged_models(
        self, experiment_ids: list[str], filter_string: str | None = None,
        datasets: Any = None, max_results: int | None = None, order_by: Any = None,
        page_token: str | None = None,
    ) -> PagedList:
        """The models this process created."""
        with self._state.lock:
            return PagedList(list(self._state.models.values()), None)


def _reset_state() -> None:
    """Forget every run and model (for tests that reuse one process)."""
    global _STATE
    _STATE = _State()
