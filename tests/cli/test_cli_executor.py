"""Where trials run, from the sweep file (``executor:``, ours) or ``run --executor``."""

from __future__ import annotations

import textwrap
from pathlib import Path

from click.testing import CliRunner

from hypersweep import HyperDriveConfig
from hypersweep.cli import cli

SWEEP = """\
type: sweep
trial:
  command: python train.py --x ${{search_space.x}}
search_space:
  x: {type: choice, values: [1, 2]}
objective: {primary_metric: a, goal: maximize}
limits: {max_total_trials: 2}
"""


def write(tmp_path: Path, extra: str = "") -> Path:
    (tmp_path / "train.py").write_text("print(1)\n")
    path = tmp_path / "sweep.yml"
    path.write_text(SWEEP + textwrap.dedent(extra))
    return path


def test_the_executor_key_is_read_checked_and_written_back(tmp_path: Path) -> None:
    path = write(tmp_path, "executor: dask://127.0.0.1:8786\n")
    config = HyperDriveConfig.from_yaml(path)
    assert config.executor == "dask://127.0.0.1:8786"
    assert "executor: dask://127.0.0.1:8786" in config.to_yaml()
    result = CliRunner().invoke(cli, ["validate", str(path)])
    assert result.exit_code == 0, result.output
    bad = CliRunner().invoke(cli, ["validate", str(path), "--set", "executor=ftp://x"])
    assert bad.exit_code == 1
    assert bad.stderr.strip() == (
        f"error: {path}: executor: expected 'local' or 'dask://HOST:PORT' (got 'ftp://x')"
        " (from --set)")


def test_run_refuses_a_bad_executor_before_anything_starts(tmp_path: Path) -> None:
    path = write(tmp_path)
    result = CliRunner().invoke(cli, ["run", str(path), "--executor", "nowhere",
                                      "--workspace", str(tmp_path / "ws")])
    assert result.exit_code == 1
    assert "executor: expected 'local' or 'dask://HOST:PORT' (got 'nowhere')" in result.stderr
    assert "HD_" not in result.stdout  # no sweep was created
