"""``hypersweep report`` writes the self-contained report; ``hypersweep ui`` serves the app."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from typing import Any

from click.testing import CliRunner

from hypersweep import Workspace
from hypersweep.cli import cli


def test_report_and_ui(synthetic: tuple[Workspace, str], tmp_path: Any) -> None:
    workspace, sweep_id = synthetic
    out = tmp_path / "report.html"
    result = CliRunner().invoke(cli, ["report", sweep_id, "--workspace", str(workspace.path),
                                      "--html", str(out)])
    assert result.exit_code == 0, result.output
    assert out.stat().st_size > 3_000_000 and "Plotly.newPlot(" in out.read_text()
    with socket.socket() as probe:  # a free port for the real server
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    ui = subprocess.Popen(
        [sys.executable, "-c", "from hypersweep.cli import main; main()", "ui",
         "--workspace", str(workspace.path), "--port", str(port), "--allow-cancel"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        cancel = urllib.request.Request(
            f"http://127.0.0.1:{port}/api/sweeps/{sweep_id}/cancel", method="POST",
            headers={"X-Hypersweep-Action": "1"})
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(cancel, timeout=5) as response:
                    body = json.loads(response.read())
                break
            except urllib.error.HTTPError:
                raise  # the server answered, and refused: --allow-cancel did not reach it
            except urllib.error.URLError:
                assert ui.poll() is None and time.monotonic() < deadline, "ui did not start"
                time.sleep(0.2)
        # --allow-cancel reached the server: a cancel is accepted (or the sweep had ended)
        assert body["status"] in ("CancelRequested", "Completed", "Failed", "Canceled")
    finally:
        ui.terminate()
        ui.wait(timeout=20)
    missing = CliRunner().invoke(cli, ["ui", "--workspace", str(tmp_path / "none")])
    assert missing.exit_code == 1 and "no hypersweep workspace" in missing.output
