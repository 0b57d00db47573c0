"""A trial cannot make the dashboard or the CLI serve files outside its folder: links swapped
in for ``work/outputs``, ``stdout.log``, ``stderr.log`` or a folder on
the way are refused over real HTTP and by the real CLI; listings stay bounded."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from tests.dashboard.raw_http import get_json, request

from hypersweep import Workspace
from hypersweep.cli import cli
from hypersweep.dashboard import ServerThread
from hypersweep.execution.trial_files import (
    UnsafePathError,
    list_trial_files,
    open_trial_file,
)


def _secret(tmp_path: Path) -> Path:
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    (folder / "passwd").write_text("root:x:0:0:secret\n")
    return folder


def _first_trial(workspace: Workspace, sweep_id: str) -> tuple[str, Path]:
    trial = workspace.store.list_trials(sweep_id)[0]
    folder = workspace.trial_dir(trial.id)
    folder.mkdir(parents=True, exist_ok=True)
    return trial.id, folder


def test_symlinked_outputs_folder_is_neither_listed_nor_served(
        synthetic: tuple[Workspace, str], serve: Callable[..., ServerThread],
        tmp_path: Path) -> None:
    workspace, sweep_id = synthetic
    trial_id, folder = _first_trial(workspace, sweep_id)
    (folder / "work").mkdir()
    os.symlink(_secret(tmp_path), folder / "work" / "outputs")
    server = serve(workspace)
    status, _, body = request(server, f"/api/trials/{trial_id}/outputs/passwd")
    assert status in (403, 404) and b"root:" not in body
    status, _, body = request(server, f"/api/trials/{trial_id}/outputs")
    assert status in (200, 403) and b"passwd" not in body
    os.symlink("/etc/passwd", folder / "stdout.log")
    os.symlink("/etc/passwd", folder / "stderr.log")
    for stream in ("stdout", "stderr"):
        status, _, body = request(server, f"/api/trials/{trial_id}/log?stream={stream}")
        assert status == 403 and b"root:" not in body, (stream, body)
        assert b"leads out of the trial folder" in body


def test_outputs_linked_to_the_filesystem_root_lists_fast(
        synthetic: tuple[Workspace, str], serve: Callable[..., ServerThread]) -> None:
    workspace, sweep_id = synthetic
    trial_id, folder = _first_trial(workspace, sweep_id)
    (folder / "work").mkdir()
    os.symlink("/", folder / "work" / "outputs")
    server = serve(workspace)
    started = time.monotonic()
    status, _, body = request(server, f"/api/trials/{trial_id}/outputs")
    assert time.monotonic() - started < 5  # was 27 s, then a failure
    assert status in (200, 403) and b"passwd" not in body
    status, _, body = request(server, f"/api/trials/{trial_id}/outputs/etc/passwd")
    assert status in (403, 404) and b"root:" not in body


def test_symlinked_parent_folder_is_refused(
        synthetic: tuple[Workspace, str], serve: Callable[..., ServerThread],
        tmp_path: Path) -> None:
    workspace, sweep_id = synthetic
    trial_id, folder = _first_trial(workspace, sweep_id)
    outside = _secret(tmp_path)
    # the whole working copy is a link out; and, in a second trial, a folder inside outputs
    (outside / "outputs").mkdir()
    (outside / "outputs" / "passwd").write_text("root:x:0:0:secret\n")
    os.symlink(outside, folder / "work")
    trial2 = workspace.store.list_trials(sweep_id)[1].id
    outputs2 = workspace.outputs_dir(trial2)
    outputs2.mkdir(parents=True)
    (outputs2 / "model.txt").write_text("weights")
    os.symlink(outside, outputs2 / "sub")
    server = serve(workspace)
    for path in (f"/api/trials/{trial_id}/outputs/passwd",
                 f"/api/trials/{trial2}/outputs/sub/passwd"):
        status, _, body = request(server, path)
        assert status in (403, 404) and b"root:" not in body, path
    assert b"passwd" not in request(server, f"/api/trials/{trial_id}/outputs")[2]
    listed = get_json(server, f"/api/trials/{trial2}/outputs")
    assert [f["path"] for f in listed["files"]] == ["model.txt"]


def test_links_inside_the_trial_folder_are_served(
        synthetic: tuple[Workspace, str], serve: Callable[..., ServerThread]) -> None:
    workspace, sweep_id = synthetic
    trial_id, _ = _first_trial(workspace, sweep_id)
    outputs = workspace.outputs_dir(trial_id)
    (outputs / "checkpoints").mkdir(parents=True)
    (outputs / "checkpoints" / "epoch3.pt").write_bytes(b"w3")
    os.symlink("checkpoints/epoch3.pt", outputs / "best.pt")
    (outputs.parent.parent / "stdout.log").write_text("the trial's own log")
    server = serve(workspace)
    listed = get_json(server, f"/api/trials/{trial_id}/outputs")["files"]
    assert {f["path"]: f["size"] for f in listed} == {"best.pt": 2, "checkpoints/epoch3.pt": 2}
    # the outputs endpoint serves the outputs folder: a path that climbs out of it is refused
    # even when it would stay in the trial folder
    for climb in ("../../stdout.log", "..%2F..%2Fstdout.log", "checkpoints/../../../stdout.log"):
        status, _, body = request(server, f"/api/trials/{trial_id}/outputs/{climb}")
        assert status in (403, 404) and b"own log" not in body, climb
    status, headers, body = request(server, f"/api/trials/{trial_id}/outputs/best.pt")
    assert (status, body) == (200, b"w3")
    assert headers["content-disposition"].startswith("attachment")


def test_listing_is_bounded(tmp_path: Path) -> None:
    outputs = tmp_path / "trial" / "work" / "outputs"
    deep = outputs
    for i in range(30):
        deep = deep / f"d{i}"
    deep.mkdir(parents=True)
    for i in range(300):
        (outputs / f"f{i:03}.txt").write_text("x")
    files, truncated = list_trial_files(tmp_path / "trial", "work/outputs", limit=100)
    assert truncated and len(files) == 100
    files, truncated = list_trial_files(tmp_path / "trial", "work/outputs", max_visited=50)
    assert truncated and len(files) <= 50
    files, truncated = list_trial_files(tmp_path / "trial", "work/outputs")
    assert not truncated and len(files) == 300


def test_a_fifo_or_a_linked_trial_folder_is_refused(tmp_path: Path) -> None:
    trial = tmp_path / "trial"
    trial.mkdir()
    os.mkfifo(trial / "stdout.log")  # opening it for reading would block forever
    with pytest.raises(UnsafePathError, match="not a regular file"):
        open_trial_file(trial, "stdout.log")
    os.symlink(trial, tmp_path / "linked")
    with pytest.raises(UnsafePathError):
        open_trial_file(tmp_path / "linked", "stdout.log")
    with pytest.raises(UnsafePathError):
        open_trial_file(trial, "../trial/stdout.log/..")
    with pytest.raises(FileNotFoundError):
        open_trial_file(trial, "stderr.log")


@pytest.mark.parametrize("stream", ["stdout", "stderr"])
def test_cli_logs_refuses_a_link_out(synthetic: tuple[Workspace, str], stream: str) -> None:
    workspace, sweep_id = synthetic
    trial_id, folder = _first_trial(workspace, sweep_id)
    os.symlink("/etc/passwd", folder / f"{stream}.log")
    args = ["logs", trial_id, "--workspace", str(workspace.path)]
    result = CliRunner().invoke(cli, [*args, "--stderr"] if stream == "stderr" else args)
    assert result.exit_code == 1, result.output
    assert "root:" not in result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and f"{stream}.log" in lines[0]
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_cli_logs_still_prints_a_real_log(synthetic: tuple[Workspace, str]) -> None:
    workspace, sweep_id = synthetic
    trial_id, folder = _first_trial(workspace, sweep_id)
    (folder / "stdout.log").write_text("epoch 1\n")
    result = CliRunner().invoke(cli, ["logs", trial_id, "--workspace", str(workspace.path)])
    assert result.exit_code == 0 and result.output == "epoch 1\n"


def test_run_get_file_names_follows_no_link_out(synthetic: tuple[Workspace, str]) -> None:
    from hypersweep import Run

    workspace, sweep_id = synthetic
    trial_id, folder = _first_trial(workspace, sweep_id)
    (folder / "work").mkdir()
    os.symlink("/", folder / "work" / "outputs")
    started = time.monotonic()
    assert Run(workspace, trial_id).get_file_names() == []
    assert time.monotonic() - started < 5
    trial2 = workspace.store.list_trials(sweep_id)[1].id
    outputs = workspace.outputs_dir(trial2)
    (outputs / "sub").mkdir(parents=True)
    (outputs / "sub" / "model.txt").write_text("w")
    os.symlink("/etc", outputs / "etc")
    assert Run(workspace, trial2).get_file_names() == ["outputs/sub/model.txt"]
