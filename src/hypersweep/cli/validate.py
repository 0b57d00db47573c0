"""``hypersweep validate SWEEP.yml``: check a sweep file without running anything.

Prints the warnings, the resolved sweep (as v2 YAML, paths made absolute) and the first
configurations a fresh sweep would try (`Sampler.preview`). Without a seed in the file the
preview is one draw among many, and the run makes another: a note says so.

Examples
--------
>>> from click.testing import CliRunner
>>> CliRunner().invoke(cli, ["validate", "--help"]).exit_code
0
"""

from __future__ import annotations

import click

from hypersweep.cli._format import echo_json, fmt_value
from hypersweep.cli.main import cli


@cli.command()
@click.argument("sweep_file", metavar="SWEEP.yml")
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE",
              help="Override a YAML key by dotted path (as for `run`). Repeatable.")
@click.option("-n", "count", default=5, show_default=True,
              help="How many first configurations to preview.")
@click.option("--json", "as_json", is_flag=True,
              help="Print JSON: experiment, warnings, seeded, preview, and config: the sweep as "
                   "`run` stores it (the versioned SweepSpec form, version 2: `objectives`, "
                   "`warm_start`, `metadata` replace version 1's `objective` and top-level "
                   "keys).")
def validate(sweep_file: str, overrides: tuple[str, ...], count: int, as_json: bool) -> None:
    """Check SWEEP.yml; print the resolved sweep and the first configurations it would try."""
    from hypersweep.config import load_sweep, sweep_to_yaml

    loaded = load_sweep(sweep_file, overrides)
    spec = loaded.spec
    preview = spec.new_sampler().preview(max(count, 0))
    seed = getattr(spec.sampling, "seed", None)
    # A sampler without a seed in the file draws one when it is built: a second reading
    # that draws another shows that the run, which reads the file again, will not match.
    seeded = seed is None or getattr(
        load_sweep(sweep_file, overrides).spec.sampling, "seed", None) == seed
    if as_json:  # "config" is what `run` would store
        echo_json({"experiment": loaded.experiment_name, "warnings": loaded.warnings,
                   "config": spec.to_dict(), "seeded": seeded, "preview": preview})
        return
    for message in loaded.warnings:
        click.echo(f"warning: {message}", err=True)
    if not seeded:
        click.echo(f"note: sampling_algorithm has no seed: this preview drew seed {seed}; "
                   "`hypersweep run` draws its own, so its trials will differ "
                   "(add `seed: N` to sampling_algorithm to fix them)", err=True)
    click.echo(f"# {sweep_file}: valid (experiment {loaded.experiment_name})")
    click.echo(sweep_to_yaml(spec), nl=False)
    click.echo(f"# first {len(preview)} configurations:")
    for i, params in enumerate(preview):
        click.echo(f"#  {i}: " + ", ".join(f"{k}={fmt_value(v)}" for k, v in params.items()))
