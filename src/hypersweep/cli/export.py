"""``hypersweep export``: a sweep's trials as CSV, JSON or Parquet (`hypersweep.cli._export`,
`hypersweep.cli._parquet`).

A command of its own module: an export reads records and writes text, so it imports neither
the tables ``ls``/``show``/``best`` print with nor the sweep's sampler, policy and space (and
numpy with them) unless the sweep's several objectives need its Pareto front.

Examples
--------
>>> from click.testing import CliRunner
>>> CliRunner().invoke(cli, ["export", "--help"]).exit_code
0
"""

from __future__ import annotations

import click

from hypersweep.cli._export import TrialExport, write_csv, write_json
from hypersweep.cli._parquet import write_parquet
from hypersweep.cli.main import CliError, WorkspaceRef, cli, open_sweep, workspace_options


@cli.command()
@click.argument("sweep_id")
@click.option("--format", "fmt", type=click.Choice(["csv", "json", "parquet"]), default="csv",
              show_default=True, help="File format.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="File to write "
              "[default: standard output; required for parquet].")
@workspace_options
def export(sweep_id: str, fmt: str, output: str | None, workspace: WorkspaceRef) -> None:
    """Export a sweep's trials (one row each: id, status, parameters, best metric, ...).

    Every number reads back exactly. JSON is strict: NaN and infinities are the strings
    "NaN", "Infinity", "-Infinity". CSV writes floats in Python's shortest exact form
    (nan, inf, -inf for the non-finite) and leaves a missing value empty. Parquet columns
    are float64, int64, or decimal128(38, 0) for integers beyond 64 bits.
    """
    if fmt == "parquet":
        try:
            import pyarrow  # noqa: F401
        except ImportError:
            raise CliError("parquet export needs pyarrow: pip install pyarrow") from None
        if output is None:
            raise CliError("parquet export needs -o FILE")
    run = open_sweep(workspace.open(read_only=True), sweep_id)
    trials = TrialExport(run)
    if fmt == "parquet":
        assert output is not None
        count = write_parquet(trials.columns, trials.chunks, output, trials.types)
    else:
        write = write_json if fmt == "json" else write_csv
        if output is None:
            echo = _Echo()
            count = write(trials.columns, trials.chunks(), echo)
            echo.flush()
        else:
            with open(output, "w", encoding="utf-8") as out:
                count = write(trials.columns, trials.chunks(), out)
    if output is not None:
        click.echo(f"wrote {count} trials to {output}", err=True)


class _Echo:
    """Standard output as a file for the writers: text goes out through ``click.echo``
    (which the test runner captures) every 64 kB, not a call a row."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.size = 0

    def write(self, text: str) -> int:
        self.parts.append(text)
        self.size += len(text)
        if self.size > 1 << 16:
            self.flush()
        return len(text)

    def flush(self) -> None:
        if self.parts:
            click.echo("".join(self.parts), nl=False)
            self.parts, self.size = [], 0
