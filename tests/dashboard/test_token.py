"""The dashboard token: an empty token is refused at start, and a token
the server cannot compare (non-ASCII) is answered 401, never 500."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable

import pytest
from tests.dashboard.raw_http import request

from hypersweep import Workspace
from hypersweep.dashboard import ServerThread, create_app


@pytest.mark.parametrize("token", ["", "   "])
def test_ui_refuses_an_empty_token(synthetic: tuple[Workspace, str], token: str) -> None:
    workspace, _ = synthetic
    # a subprocess: the unfixed command serves (forever) instead of refusing
    done = subprocess.run(
        [sys.executable, "-c", "from hypersweep.cli import main; main()", "ui",
         "--workspace", str(workspace.path), "--port", "0", "--token", token],
        capture_output=True, text=True, timeout=60)
    assert done.returncode == 1, done.stdout + done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: --token"), done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""


@pytest.mark.parametrize("token", ["", " ", "tök", "a b", "x\n"])
def test_create_app_refuses_an_unusable_token(tmp_path: object, token: str) -> None:
    with pytest.raises(ValueError, match="token"):
        create_app(workspace=str(tmp_path), token=token)


def test_non_ascii_token_gets_401(synthetic: tuple[Workspace, str],
                                  serve: Callable[..., ServerThread]) -> None:
    workspace, _ = synthetic
    server = serve(workspace, token="s3cret-token")
    attempts = [
        {"X-Hypersweep-Token": "s3cret-tökén"},
        {"X-Hypersweep-Token": "ünïcödé"},
        {"Authorization": "Bearer ü"},
        {"Cookie": "hypersweep_token=é"},
    ]
    for headers in attempts:
        status, _, body = request(server, "/api/sweeps", headers=headers)
        assert status == 401, (headers, status, body)
        assert b"Traceback" not in body
    for query in ("token=%C3%A4", "token=%FF", "token=%00"):
        status, _, _ = request(server, f"/api/sweeps?{query}")
        assert status == 401, query
    assert request(server, "/api/sweeps",
                   headers={"X-Hypersweep-Token": "s3cret-token"})[0] == 200
