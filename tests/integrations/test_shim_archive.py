"""The azureml shim as a zip archive: what trials import, made once, atomically, per version."""

from __future__ import annotations

import multiprocessing
import os
import shutil
import subprocess
import sys
import textwrap
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from hypersweep import (
    Experiment,
    GridParameterSampling,
    HyperDriveConfig,
    ScriptRunConfig,
    Workspace,
    choice,
)
from hypersweep.tracking import integrations
from hypersweep.tracking.integrations import (
    SHIM_ARCHIVE_PREFIX,
    SHIM_DIR,
    shim_archive,
    shim_path,
    trial_environment,
)

SRC = str(Path(__file__).resolve().parents[2] / "src")

WHERE = """
    import os, sys
    from azureml.core import Run
    import azureml.core
    Run.get_context().log("accuracy", 0.5)
    print("shim:", azureml.core.__file__)
    print("path:", os.environ["PYTHONPATH"])
"""


def _zip_names(path: str) -> list[str]:
    with zipfile.ZipFile(path) as archive:
        return sorted(archive.namelist())


def test_archive_holds_the_azureml_package_and_is_named_by_its_bytes(tmp_path: Path) -> None:
    import hashlib

    path = shim_archive(tmp_path)
    assert Path(path).parent == tmp_path
    assert _zip_names(path) == ["azureml/__init__.py", "azureml/core/__init__.py",
                                "azureml/core/run.py"]
    with zipfile.ZipFile(path) as archive:
        assert {i.compress_type for i in archive.infolist()} == {zipfile.ZIP_STORED}
        assert archive.read("azureml/core/run.py") == Path(
            SHIM_DIR, "azureml", "core", "run.py").read_bytes()
    data = Path(path).read_bytes()
    assert Path(path).name == f"{SHIM_ARCHIVE_PREFIX}{hashlib.sha256(data).hexdigest()[:20]}.zip"
    assert os.stat(path).st_mode & 0o777 == 0o644  # readable by a trial run as another user


def test_an_existing_archive_is_used_as_it_is(tmp_path: Path) -> None:
    path = shim_archive(tmp_path)
    before = os.stat(path)
    assert shim_archive(tmp_path) == path
    after = os.stat(path)
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert os.listdir(tmp_path) == [Path(path).name]  # no temporary file left


@pytest.mark.parametrize("damage", [b"", b"PK\x03\x04 not a zip", "truncated"])
def test_a_damaged_file_under_the_name_is_replaced(tmp_path: Path, damage: bytes | str) -> None:
    path = shim_archive(tmp_path)
    good = Path(path).read_bytes()
    Path(path).write_bytes(good[:-10] if damage == "truncated" else damage)  # type: ignore[arg-type]
    assert shim_archive(tmp_path) == path
    assert Path(path).read_bytes() == good
    assert os.listdir(tmp_path) == [Path(path).name]


def test_a_link_or_a_fifo_under_the_name_is_replaced_not_followed(tmp_path: Path) -> None:
    path = Path(shim_archive(tmp_path / "shims"))
    good = path.read_bytes()
    elsewhere = tmp_path / "elsewhere.zip"
    elsewhere.write_bytes(good)  # even one with the right bytes: the name must be the file
    path.unlink()
    path.symlink_to(elsewhere)
    assert shim_archive(tmp_path / "shims") == str(path)
    assert not path.is_symlink() and path.read_bytes() == good
    path.unlink()
    os.mkfifo(path)  # an open that blocked would hang the sweep's start
    assert shim_archive(tmp_path / "shims") == str(path)
    assert path.is_file() and path.read_bytes() == good


def test_a_changed_shim_gets_a_new_archive_and_the_old_one_stays(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    # An upgrade that changes the shim: a trial of the old version may still read its archive.
    folder = tmp_path / "shims"
    old = shim_archive(folder)
    upgraded = tmp_path / "site-packages" / "shims"
    shutil.copytree(SHIM_DIR, upgraded)
    run_py = upgraded / "azureml" / "core" / "run.py"
    run_py.write_text(run_py.read_text() + "\n# upgraded\n")
    monkeypatch.setattr(integrations, "SHIM_DIR", str(upgraded))
    new = shim_archive(folder)
    assert new != old and Path(new).name.startswith(SHIM_ARCHIVE_PREFIX)
    assert sorted(os.listdir(folder)) == sorted([Path(old).name, Path(new).name])
    with zipfile.ZipFile(new) as archive:
        assert archive.read("azureml/core/run.py").endswith(b"# upgraded\n")
    with zipfile.ZipFile(old) as archive:
        assert b"# upgraded" not in archive.read("azureml/core/run.py")


def _build_after(folder: str, start: float, out: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    time.sleep(max(0.0, start - time.time()))
    out.put(shim_archive(folder))


def test_sweeps_making_it_at_once_agree(tmp_path: Path) -> None:
    folder = str(tmp_path / "shims")  # missing: every process makes it
    context = multiprocessing.get_context("fork")
    out = context.Queue()
    start = time.time() + 0.5  # all started by then: they race for the same name
    workers = [context.Process(target=_build_after, args=(folder, start, out)) for _ in range(6)]
    for w in workers:
        w.start()
    paths = {out.get(timeout=60) for _ in workers}
    for w in workers:
        w.join(timeout=60)
        assert w.exitcode == 0
    assert len(paths) == 1
    (path,) = paths
    assert os.listdir(folder) == [Path(path).name]
    assert _zip_names(path)[-1] == "azureml/core/run.py"


def _rebuild_forever(folder: str, until: float) -> None:
    while time.time() < until:
        path = shim_archive(folder)
        with_wrong_bytes = f"{path}.{os.getpid()}"
        # Break it the way only a rename can (whole file at once), so a rebuild follows.
        Path(with_wrong_bytes).write_bytes(b"stale")
        os.replace(with_wrong_bytes, path)


def test_a_reader_never_sees_a_partial_archive(tmp_path: Path) -> None:
    """Builders keep replacing the file under a reader: it sees the old bytes or the new ones."""
    folder = str(tmp_path)
    good = Path(shim_archive(folder)).read_bytes()
    path = shim_archive(folder)
    context = multiprocessing.get_context("fork")
    until = time.time() + 1.5
    builders = [context.Process(target=_rebuild_forever, args=(folder, until)) for _ in range(3)]
    for b in builders:
        b.start()
    seen: set[bytes] = set()
    while time.time() < until:
        with open(path, "rb") as f:
            seen.add(f.read())
    for b in builders:
        b.join(timeout=30)
        assert b.exitcode == 0
    assert good in seen and seen <= {good, b"stale"}
    assert sorted(os.listdir(folder)) == [Path(path).name]  # every temporary file renamed


def test_where_no_archive_can_be_written_the_folder_serves(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    assert shim_path(blocker / "shims") == SHIM_DIR


def _run(tmp_path: Path, code: str, pythonpath: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "train.py").write_text(textwrap.dedent(code))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HYPERSWEEP_", "MLFLOW_"))}
    env["PYTHONPATH"] = pythonpath
    return subprocess.run([sys.executable, "train.py"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=60)


def test_a_script_imports_the_shim_from_the_archive(tmp_path: Path) -> None:
    archive = shim_archive(tmp_path / "shims")
    pythonpath = trial_environment({"PYTHONPATH": SRC}, archive)["PYTHONPATH"]
    assert pythonpath.split(os.pathsep) == [SRC, archive]
    done = _run(tmp_path, WHERE, pythonpath)
    assert done.returncode == 0, done.stderr
    assert f"shim: {archive}{os.sep}azureml{os.sep}core{os.sep}__init__.py" in done.stdout
    assert "Attempted to log scalar metric accuracy" in done.stdout  # the offline Run


def test_other_names_say_it_is_the_shim_from_the_archive(tmp_path: Path) -> None:
    archive = shim_archive(tmp_path / "shims")
    done = _run(tmp_path, "from azureml.core import Workspace\n", f"{SRC}{os.pathsep}{archive}")
    assert done.returncode != 0
    assert "cannot import name 'Workspace'" in done.stderr and "shims" in done.stderr


@pytest.mark.slow
def test_a_sweeps_trials_import_the_workspace_archive(
    sqlite_workspace: Workspace, make_source: Callable[..., Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The user's PYTHONPATH stays first; the archive is made once, in the workspace.
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([SRC, "/the/users/own"]))
    config = HyperDriveConfig(
        run_config=ScriptRunConfig(source_directory=make_source(WHERE), script="train.py"),
        hyperparameter_sampling=GridParameterSampling({"lr": choice(0.1, 0.2, 0.3)}),
        primary_metric_name="accuracy", primary_metric_goal="maximize", max_total_runs=3,
    )
    run = Experiment(sqlite_workspace, "v1").submit(config)
    assert run.wait_for_completion()["status"] == "Completed"
    (archive,) = (sqlite_workspace.path / "shims").iterdir()
    for child in run.get_children():
        assert child.get_metrics()["accuracy"] == 0.5
        log = child.log_path.read_text()
        assert f"shim: {archive}{os.sep}azureml" in log
        assert f"path: {SRC}{os.pathsep}/the/users/own{os.pathsep}{archive}\n" in log
