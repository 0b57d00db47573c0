"""What a trial's environment needs so that unchanged Azure ML scripts log to hypersweep.

The machine that runs a trial calls :func:`trial_environment` at each launch (through
:func:`hypersweep.execution.environment.process_environment`: the controller's for local
trials, a Dask worker's for its own) and adds the variables it returns to the trial's
environment:

- ``MLFLOW_TRACKING_URI=hypersweep:`` when MLflow and hypersweep's MLflow store plugin are
  importable (the ``mlflow`` extra), so v2 scripts' ``mlflow.log_metric`` and autologging land
  in the trial's journal (see :mod:`hypersweep.tracking.mlflow_store`); with it
  ``MLFLOW_RUN_ID`` (the trial's id, as Azure sets it) and ``MLFLOW_EXPERIMENT_NAME``. Nothing
  MLflow-related is set when the user's environment variables already choose a tracking URI.
- ``PYTHONPATH`` extended with hypersweep's ``azureml`` shim when the real ``azureml-core`` is
  not installed, so v1 scripts' ``from azureml.core import Run`` reaches hypersweep's ``Run``.
  The shim exists only on that trial's path: nothing is installed, and the user's own
  interpreter never sees it.

The shim goes on the path as a zip archive (:func:`shim_archive`) rather than as its folder
(:data:`SHIM_DIR`): a ``PYTHONPATH`` entry is searched by every top-level import of the trial's
interpreter that reaches it, from its start on, and a zip's finder answers from the archive's
index (a dictionary read once) where a folder's stats the folder each time. Measured with
callgrind on a trial's ``from hypersweep import Run``: the folder cost 2.6M instructions a
trial, the archive 0.95M (an entry naming nothing costs 0.24M). The archive is built from the
package's own files by the process that launches trials, in a folder it writes anyway (a
workspace's ``shims/``, a Dask worker's folder), so a read-only installation needs nothing
written beside it.

Trials run on the interpreter of the process that launches them, so what it can import is what
a trial can. The checks are import-system look-ups, made once per process.

Examples
--------
>>> env = trial_environment({"MLFLOW_TRACKING_URI": "http://localhost:5000"})
>>> "MLFLOW_TRACKING_URI" in env
False
"""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import logging
import os
import stat
from collections.abc import Mapping
from pathlib import Path

__all__ = ["SHIM_ARCHIVE_PREFIX", "SHIM_DIR", "TRACKING_URI", "azureml_core_installed",
           "mlflow_plugin_available", "shim_archive", "shim_path", "trial_environment"]


def _shim_dir() -> str:
    # Located, never imported: the shims re-export hypersweep.api's Run, a floor above this one.
    # find_spec of a subpackage imports only its parent, hypersweep, which is imported already.
    spec = importlib.util.find_spec("hypersweep.shims")
    assert spec is not None and spec.submodule_search_locations, "hypersweep.shims is missing"
    return str(Path(next(iter(spec.submodule_search_locations))).resolve())


#: Folder holding the ``azureml`` shim package: the source of :func:`shim_archive`, and what
#: goes on a trial's ``PYTHONPATH`` where no archive can be written.
SHIM_DIR = _shim_dir()

#: How the shim's archives are named: ``hypersweep-shims-<content hash>.zip``. The hash names
#: the bytes, so an upgrade that changes the shim makes a new file and never rewrites one a
#: running trial reads; "shims" in the name says, in an ``ImportError`` or a traceback that
#: shows the path, that this ``azureml`` is hypersweep's stand-in.
SHIM_ARCHIVE_PREFIX = "hypersweep-shims-"

#: The tracking URI that selects :class:`hypersweep.tracking.mlflow_store.HypersweepStore`.
TRACKING_URI = "hypersweep:"

log = logging.getLogger("hypersweep.tracking.integrations")

_ENV_TRIAL_ID = "HYPERSWEEP_TRIAL_ID"
_ENV_EXPERIMENT = "HYPERSWEEP_EXPERIMENT"


def _has_module(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):  # a parent package that fails to import, or a bad spec
        return False


@functools.lru_cache(maxsize=1)
def mlflow_plugin_available() -> bool:
    """Whether MLflow is installed and will find hypersweep's store for ``hypersweep:``.

    MLflow loads tracking stores from the ``mlflow.tracking_store`` entry point group, so the
    plugin counts only when this installation of hypersweep declares that entry point.
    """
    if not _has_module("mlflow"):
        return False
    from importlib.metadata import entry_points

    return any(
        ep.name == "hypersweep" and ep.value.startswith("hypersweep.")
        for ep in entry_points(group="mlflow.tracking_store")
    )


@functools.lru_cache(maxsize=1)
def azureml_core_installed() -> bool:
    """Whether the real ``azureml.core`` is importable (then the shim stays out of the way).

    Checked in a process whose path does not hold the shim, i.e. the controller's.
    """
    return _has_module("azureml.core")


def _shim_zip() -> tuple[str, bytes]:
    """The shim's archive as (file name, bytes), made afresh from the files of :data:`SHIM_DIR`.

    The same files make the same bytes (fixed order, dates and modes; stored, not deflated,
    so importing from it never needs zlib), so the name is a hash of the bytes themselves.
    Read each time rather than kept: a process that outlives an upgrade builds the new shim.
    """
    import hashlib
    import io
    import zipfile

    root = Path(SHIM_DIR)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        # Only the azureml package: hypersweep.shims's own __init__ is not a module there.
        for source in sorted(root.joinpath("azureml").rglob("*.py")):
            entry = zipfile.ZipInfo(source.relative_to(root).as_posix())  # dated 1980-01-01
            entry.external_attr = 0o644 << 16
            archive.writestr(entry, source.read_bytes())
    data = buffer.getvalue()
    return f"{SHIM_ARCHIVE_PREFIX}{hashlib.sha256(data).hexdigest()[:20]}.zip", data


def shim_archive(folder: str | os.PathLike[str]) -> str:
    """The ``azureml`` shim as a zip archive in ``folder`` (made there when missing); its path.

    What a trial's ``PYTHONPATH`` should hold for the shim (see the module's notes for why an
    archive). A file already there is used when its bytes are the shim's; anything else under
    that name (a truncated copy, an edit, a link, a FIFO) is replaced. Each write goes to a
    temporary file in ``folder`` renamed over the name, so sweeps making it at once never show
    a trial a partial archive, whichever rename lands last: the bytes are the same.

    Raises
    ------
    OSError
        ``folder`` cannot be made or written (:func:`shim_path` falls back to the folder).

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = shim_archive(tmp)
    ...     os.path.basename(path).startswith(SHIM_ARCHIVE_PREFIX), shim_archive(tmp) == path
    (True, True)
    """
    import tempfile

    name, data = _shim_zip()
    path = os.path.join(folder, name)
    if _holds(path, data):
        return path
    os.makedirs(folder, exist_ok=True)
    fd, temporary = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=folder)
    try:
        # mkstemp's 0600 would hide it from a trial run as another user of a shared folder;
        # it holds nothing but the package's own source.
        os.fchmod(fd, 0o644)
        with open(fd, "wb") as out:
            out.write(data)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    return path


def _holds(path: str, data: bytes) -> bool:
    """Whether ``path`` is a regular file of exactly ``data``. Never through a link, never
    blocking on a FIFO: a workspace's files are the user's (and their trials') to change."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:  # missing, a link, ...: made afresh
        return False
    try:
        return stat.S_ISREG(os.fstat(fd).st_mode) and os.read(fd, len(data) + 1) == data
    finally:
        os.close(fd)


def shim_path(folder: str | os.PathLike[str]) -> str:
    """What goes on a trial's ``PYTHONPATH`` for the shim: :func:`shim_archive` in ``folder``,
    or :data:`SHIM_DIR` itself where that cannot be written (slower, and as good) or where
    the real ``azureml-core`` is installed (then :func:`trial_environment` puts no shim on the
    path, and nothing is written).

    Examples
    --------
    >>> shim_path("/proc/no/such/folder") == SHIM_DIR
    True
    """
    if azureml_core_installed():
        return SHIM_DIR
    try:
        return shim_archive(folder)
    except OSError as err:
        log.warning("the azureml shim goes on trials' PYTHONPATH as its folder %s: no archive "
                    "could be written in %s (%s)", SHIM_DIR, folder, err)
        return SHIM_DIR


def trial_environment(base_env: Mapping[str, str], shim: str | None = SHIM_DIR,
                      machine: Mapping[str, str] | None = None) -> dict[str, str]:
    """The variables to add to (or override in) a trial's environment.

    Parameters
    ----------
    base_env : Mapping[str, str]
        The trial's environment so far: the user's ``environment_variables`` and what the
        controller sets (``HYPERSWEEP_TRIAL_ID`` …). Variables the user set win: a
        ``MLFLOW_TRACKING_URI`` there turns the MLflow part off, a ``PYTHONPATH`` there is
        kept (the shim is appended).
    shim : str or None
        What goes on ``PYTHONPATH`` for the ``azureml`` shim: a sweep passes its archive
        (:func:`shim_path`, made once per sweep); the folder :data:`SHIM_DIR` works too;
        None puts none.
    machine : Mapping[str, str], optional
        The environment of the machine the trial runs on, whose ``PYTHONPATH`` the shim
        extends when ``base_env`` has none (default: this process's).

    Returns
    -------
    dict[str, str]
        Only the variables to set; empty when there is nothing to do. Safe to call outside a
        sweep (then no ``MLFLOW_RUN_ID``).

    Examples
    --------
    >>> env = trial_environment({"HYPERSWEEP_TRIAL_ID": "HD_1_0", "PYTHONPATH": "/mine"})
    >>> env.get("PYTHONPATH", "/mine").startswith("/mine")
    True
    """
    out: dict[str, str] = {}
    if "MLFLOW_TRACKING_URI" not in base_env and mlflow_plugin_available():
        out["MLFLOW_TRACKING_URI"] = TRACKING_URI
        trial_id = base_env.get(_ENV_TRIAL_ID)
        # As on Azure: the trial is the MLflow run that mlflow.start_run() resumes.
        if trial_id and "MLFLOW_RUN_ID" not in base_env:
            out["MLFLOW_RUN_ID"] = trial_id
        experiment = base_env.get(_ENV_EXPERIMENT)
        if experiment and "MLFLOW_EXPERIMENT_NAME" not in base_env:
            out["MLFLOW_EXPERIMENT_NAME"] = experiment
    if shim is not None and not azureml_core_installed():
        # The trial inherits its machine's environment, so its PYTHONPATH is the base one
        # when the user set one, else the machine's.
        machine = os.environ if machine is None else machine
        current = base_env.get("PYTHONPATH", machine.get("PYTHONPATH", ""))
        parts = [p for p in current.split(os.pathsep) if p]
        if shim not in parts:
            parts.append(shim)
        out["PYTHONPATH"] = os.pathsep.join(parts)
    return out
