"""`Workspace` (where records live) and `Experiment` (a named group of sweeps)."""

from __future__ import annotations

import os
import threading
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hypersweep.config.validate import experiment_name
from hypersweep.errors import ConfigError, StoreError

if TYPE_CHECKING:
    from hypersweep.api.config import HyperDriveConfig
    from hypersweep.api.sweep_run import HyperDriveRun
    from hypersweep.spec import SweepSpec
    from hypersweep.store import Store


class Workspace:
    """A folder for trial files plus a record store.

    Parameters
    ----------
    path : str or path, default ".hypersweep"
        Folder for trial files (``runs/<trial-id>/``) and source snapshots; created on use.
    store : str, optional
        Database URL of the record store, e.g. ``postgresql://user@host/db``, or
        ``memory://`` for records kept in this process only (fastest; gone when it ends).
        Default: SQLite at ``<path>/hypersweep.db``.
    read_only : bool, default False
        Open a SQLite store read-only and create nothing: for reading a workspace on a
        read-only mount or an archived copy (the ``hypersweep`` read commands do).

    Examples
    --------
    >>> import tempfile
    >>> ws = Workspace(tempfile.mkdtemp())
    >>> ws.store_url.startswith("sqlite:///")
    True
    """

    def __init__(self, path: str | os.PathLike[str] = ".hypersweep", store: str | None = None,
                 *, read_only: bool = False):
        self.path = Path(path).expanduser().resolve()
        self.read_only = read_only
        if store is not None and (not isinstance(store, str) or "://" not in store):
            raise ConfigError(
                f"store: expected a database URL such as sqlite:///x.db (got {store!r})"
            )
        if store is not None:
            _check_store_url(store)
        self.store_url = store or f"sqlite:///{self.path / 'hypersweep.db'}"
        self._store: Store | None = None
        self._lock = threading.Lock()

    @classmethod
    def from_config(cls, path: str | os.PathLike[str] | None = None, **_: Any) -> Workspace:
        """The default workspace (Azure notebooks call this; there is no config file to read)."""
        return cls(path or ".hypersweep")

    @property
    def store(self) -> Store:
        """The record store, opened (and migrated) on first use."""
        with self._lock:
            if self._store is None:
                from hypersweep.store import MEMORY_URL, open_store

                if self.read_only:
                    from hypersweep.store.engine import read_only_url

                    try:
                        self._store = open_store(read_only_url(self.store_url))
                        return self._store
                    except StoreError:
                        # a database still being created (or of an older schema) needs a
                        # writer to migrate it: be that writer where the folder allows it
                        if not os.access(self.path, os.W_OK):
                            raise
                if self.store_url != MEMORY_URL:  # memory records need no folder
                    self.path.mkdir(parents=True, exist_ok=True)
                self._store = open_store(self.store_url)
            return self._store

    # The folder names are execution.layout's (imported on use: importing the workspace must
    # not import the executors).

    def trial_dir(self, trial_id: str) -> Path:
        """Folder of one trial: its logs, journal and working copy (``work/outputs``)."""
        from hypersweep.execution import layout

        return layout.trial_dir(self.path, trial_id)

    def outputs_dir(self, trial_id: str) -> Path:
        """A trial's ``outputs`` folder, in its working copy (script and function trials)."""
        from hypersweep.execution import layout

        return layout.outputs_dir(self.trial_dir(trial_id))

    def snapshot_dir(self, sweep_id: str) -> Path:
        """The copy of the source directory a sweep's trials run from."""
        from hypersweep.execution import layout

        return layout.snapshot_dir(self.path, sweep_id)

    def experiments(self) -> list[Experiment]:
        """Every experiment with at least one sweep in this workspace."""
        return [Experiment(self, name) for name in self.store.list_experiments()]

    def __repr__(self) -> str:
        return f"Workspace(path={str(self.path)!r}, store={self.store_url!r})"


def _check_store_url(url: str) -> None:
    """Refuse a store URL hypersweep cannot open now, not at the sweep's first write."""
    from hypersweep.store import store_class

    try:
        store_class(url).check_url(url)
    except StoreError as err:
        raise ConfigError(f"store: {err}") from None


class Experiment:
    """A named group of sweeps in a workspace.

    Examples
    --------
    >>> import tempfile
    >>> Experiment(Workspace(tempfile.mkdtemp()), "digits").name
    'digits'
    """

    def __init__(self, workspace: Workspace, name: str) -> None:
        if not isinstance(workspace, Workspace):
            raise ConfigError(f"workspace: expected a Workspace (got {workspace!r})")
        self.workspace = workspace
        self.name = experiment_name(name, "name")

    def submit(self, config: HyperDriveConfig | SweepSpec, *,
               start: bool = True) -> HyperDriveRun:
        """Start a sweep and return its run at once; the sweep runs in a background thread.

        ``config`` is a `HyperDriveConfig`, or a `SweepSpec` with a script or command trial
        (what ``hypersweep run sweep.yml`` submits: `hypersweep.config.load_sweep` reads
        one). A spec is checked as a `HyperDriveConfig` would be (`HyperDriveConfig.from_spec`):
        it needs a trial budget and one objective.

        Everything is checked before anything starts: a bad config raises `ConfigError`.
        With ``start=False`` the sweep is recorded ``Queued`` and left for another process to
        drive (``HyperDriveRun.resume()``); ``hypersweep run --detach`` does that.

        Examples
        --------
        >>> import tempfile, pathlib
        >>> from hypersweep import RandomParameterSampling, uniform
        >>> from hypersweep.spec import Limits, Objective, ScriptTrial, SweepSpec
        >>> src = pathlib.Path(tempfile.mkdtemp()); _ = (src / "train.py").write_text("")
        >>> spec = SweepSpec(RandomParameterSampling({"lr": uniform(0, 1)}, seed=0),
        ...                  (Objective("loss", "minimize"),), ScriptTrial(str(src), "train.py"),
        ...                  limits=Limits(max_total_trials=2))
        >>> run = Experiment(Workspace(tempfile.mkdtemp()), "doc").submit(spec, start=False)
        >>> run.get_status()
        'Queued'
        """
        from hypersweep.api.config import HyperDriveConfig
        from hypersweep.api.sweep_run import HyperDriveRun
        from hypersweep.execution import snapshot_source
        from hypersweep.spec import SweepSpec
        from hypersweep.store import Status, SweepRecord, new_sweep_id, utcnow

        if isinstance(config, SweepSpec):
            with warnings.catch_warnings():
                # a spec is checked data: what it warns about was told by whoever built it
                # (the YAML reader returns its warnings located in the file)
                warnings.simplefilter("ignore")
                config = HyperDriveConfig.from_spec(config)
        if not isinstance(config, HyperDriveConfig):
            raise ConfigError(f"config: expected a HyperDriveConfig or a SweepSpec "
                              f"(got {config!r})")
        spec = config.to_spec()
        store = self.workspace.store
        self._check_warm_start(spec)
        sweep_id = new_sweep_id()
        assert config.run_config is not None  # HyperDriveConfig refuses a config without one
        snapshot_source(config.run_config.source_directory,
                        self.workspace.snapshot_dir(sweep_id))
        store.create_sweep(SweepRecord(
            id=sweep_id, experiment=self.name, status=Status.QUEUED,
            config=spec.to_dict(), created_time=utcnow(),
        ))
        run = HyperDriveRun(self, sweep_id)
        if start:
            run._start_controller()
        return run

    def _check_warm_start(self, spec: SweepSpec) -> None:
        store = self.workspace.store
        for sweep_id in spec.warm_start.resume_from:
            try:
                store.get_sweep(sweep_id)
            except KeyError:
                raise ConfigError(f"resume_from: no sweep {sweep_id!r} in this workspace") from None
        for trial_id in spec.warm_start.resume_child_runs:
            try:
                store.get_trial(trial_id)
            except KeyError:
                raise ConfigError(
                    f"resume_child_runs: no trial {trial_id!r} in this workspace"
                ) from None

    def get_runs(self) -> list[HyperDriveRun]:
        """This experiment's sweeps, newest first."""
        from hypersweep.api.sweep_run import HyperDriveRun

        return [HyperDriveRun(self, s.id) for s in self.workspace.store.list_sweeps(self.name)]

    def __repr__(self) -> str:
        return f"Experiment(name={self.name!r}, workspace={self.workspace!r})"
