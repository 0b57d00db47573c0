"""A dozen realistic mistakes in a sweep file, each refused with one exact line."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from click.testing import Result
from tests.cli.project import Project

GOOD = """\
type: sweep
trial:
  command: python train.py --x ${{search_space.x}} --data ${{inputs.data}}
inputs:
  data: {type: uri_file, path: data/in.txt}
search_space:
  x: {type: uniform, min_value: 0, max_value: 1}
  bs: {type: choice, values: [16, 32]}
sampling_algorithm: random
objective:
  primary_metric: score
  goal: maximize
limits:
  max_total_trials: 4
"""

CASES = [
    ("typo in a top-level key", ("search_space:", "serch_space:"), [],
     "sweep.yml:6: unknown key 'serch_space' (did you mean 'search_space'?)"),
    ("typo in a nested key", ("max_total_trials: 4", "max_total_trails: 4"), [],
     "sweep.yml:14: limits: unknown key 'max_total_trails' (did you mean 'max_total_trials'?)"),
    ("goal misspelled", ("goal: maximize", "goal: maximise"), [],
     "sweep.yml:12: objective.goal: expected 'maximize' or 'minimize' (got 'maximise')"),
    ("missing objective", ("objective:\n  primary_metric: score\n  goal: maximize\n", ""), [],
     "sweep.yml: missing required key 'objective'"),
    ("missing primary metric", ("  primary_metric: score\n", ""), [],
     "sweep.yml:10: objective: missing required key 'primary_metric'"),
    ("min > max", ("min_value: 0, max_value: 1", "min_value: 2, max_value: 1"), [],
     "sweep.yml:7: search_space.x: uniform expects min_value < max_value (got 2, 1)"),
    ("unknown expression type", ("{type: uniform,", "{type: unifrom,"), [],
     "sweep.yml:7: search_space.x.type: unknown expression type 'unifrom' "
     "(did you mean 'uniform'?)"),
    ("bad indentation", ("  goal: maximize", "   goal: maximize"), [],
     "sweep.yml:12: invalid YAML: mapping values are not allowed here"),
    ("negative max_total_trials", ("max_total_trials: 4", "max_total_trials: -4"), [],
     "sweep.yml:14: limits.max_total_trials: expected a positive integer (got -4)"),
    ("unknown sampling type", ("sampling_algorithm: random", "sampling_algorithm: randm"), [],
     "sweep.yml:9: sampling_algorithm: unknown sampling type 'randm' (did you mean 'random'?)"),
    ("command references an undefined input", ("${{inputs.data}}", "${{inputs.dataset}}"), [],
     "sweep.yml:3: trial.command: ${{inputs.dataset}} refers to an undefined input "
     "(did you mean 'data'?)"),
    ("command references an undefined parameter", ("${{search_space.x}}", "${{search_space.y}}"),
     [], "sweep.yml:3: trial.command: ${{search_space.y}} refers to an undefined parameter "
         "(declared: x, bs)"),
    ("grid with a uniform", ("sampling_algorithm: random", "sampling_algorithm: grid"), [],
     "sweep.yml:7: search_space.x: grid sampling supports only choice (got uniform(0, 1))"),
    ("input file missing", ("path: data/in.txt", "path: data/missing.txt"), [],
     "sweep.yml:5: inputs.data.path: no such file"),
    ("trial_timeout not positive",
     ("max_total_trials: 4", "max_total_trials: 4\n  trial_timeout: 0"), [],
     "sweep.yml:15: limits.trial_timeout: expected a positive number of seconds (got 0)"),
    ("bad --set value", None, ["--set", "limits.max_concurrent_trials=zero"],
     "sweep.yml: limits.max_concurrent_trials: expected a positive integer (got 'zero') "
     "(from --set)"),
    ("seed negative",
     ("sampling_algorithm: random", "sampling_algorithm: {type: random, seed: -1}"), [],
     "sweep.yml:9: sampling_algorithm.seed expects None or an int >= 0 (got -1)"),
    ("wrong job type", ("type: sweep", "type: command"), [],
     "sweep.yml:1: type: expected 'sweep' (got 'command')"),
    ("resources key misspelled", ("limits:\n", "resources_per_trial: {gpus: 1}\nlimits:\n"), [],
     "sweep.yml:13: resources_per_trial: unknown key 'gpus' (did you mean 'gpu'?)"),
    ("a GPU and a half", ("limits:\n", "resources_per_trial:\n  cpu: 2\n  gpu: 1.5\nlimits:\n"),
     [], "sweep.yml:15: resources_per_trial.gpu: a trial takes a fraction of one GPU or whole "
         "GPUs (got 1.5)"),
    ("an objective named twice",
     ("objective:\n  primary_metric: score\n  goal: maximize\n",
      "objective:\n  - {primary_metric: score, goal: maximize}\n"
      "  - {primary_metric: score, goal: minimize}\n"), [],
     "sweep.yml:12: objective[1].primary_metric: 'score' is named twice"),
    ("a constraint's unknown key",
     ("limits:\n", "constraints:\n  - {metric: ms, below: 3}\nlimits:\n"), [],
     "sweep.yml:14: constraints[0]: unknown key 'below' (expected one of: metric, max, min)"),
    ("a constraint without a bound", ("limits:\n", "constraints:\n  - {metric: ms}\nlimits:\n"),
     [], "sweep.yml:14: constraints[0]: 'ms' needs a bound: max, min or both"),
    ("bad --gpus", None, ["--gpus", "0,x"],
     "--gpus: expected device indices such as '0,1,3' (got '0,x')"),
]


@pytest.mark.parametrize(("case", "edit", "extra", "expected"), CASES,
                         ids=[c[0] for c in CASES])
def test_mistake_is_one_exact_line(
    project: Project, invoke: Callable[..., Result], case: str,
    edit: tuple[str, str] | None, extra: list[str], expected: str,
) -> None:
    text = GOOD
    if edit is not None:
        assert edit[0] in text, case
        text = text.replace(edit[0], edit[1], 1)
    project.write(text)
    for command in ("validate", "run"):
        if command == "validate" and "--gpus" in extra:
            continue  # a run's option
        result = invoke(command, "sweep.yml", *extra)
        assert result.exit_code == 1, (case, result.output)
        message = expected
        if case == "input file missing":
            message += f" ({str(project.root / 'data' / 'missing.txt')!r})"
        assert result.stderr == f"error: {message}\n"
        assert result.stdout == ""
    assert not project.workspace.exists()  # nothing was recorded, nothing started


def test_missing_file(project: Project, invoke: Callable[..., Result]) -> None:
    result = invoke("validate", "nope.yml")
    assert (result.exit_code, result.stderr) == (1, "error: nope.yml: no such file\n")


def test_unknown_ids(project: Project, invoke: Callable[..., Result]) -> None:
    result = invoke("show", "HD_nope")
    assert result.stderr == ("error: no hypersweep workspace at .hypersweep "
                             "(run a sweep first, or pass --workspace DIR)\n")
    project.write(GOOD)
    assert invoke("run", "sweep.yml", "--json").exit_code == 0
    for args, message in [
        (("show", "HD_nope"), "no sweep 'HD_nope' in this workspace"),
        (("best", "HD_nope"), "no sweep 'HD_nope' in this workspace"),
        (("logs", "HD_nope_0"), "no trial 'HD_nope_0' in this workspace"),
        (("cancel", "HD_nope"), "no sweep 'HD_nope' in this workspace"),
        (("export", "HD_nope", "--format", "csv"), "no sweep 'HD_nope' in this workspace"),
    ]:
        result = invoke(*args)
        assert (result.exit_code, result.stderr) == (1, f"error: {message}\n"), args


def test_ids_by_unique_prefix(project: Project, invoke: Callable[..., Result]) -> None:
    import json

    from hypersweep import Workspace
    from hypersweep.store import Status

    project.write(GOOD)
    result = invoke("run", "sweep.yml", "--json")
    sweep_id = json.loads(result.stdout)["sweep_id"]
    for short in (sweep_id[:11], sweep_id[3:11]):  # with and without HD_
        shown = invoke("show", short, "--json")
        assert shown.exit_code == 0, shown.stderr
        assert json.loads(shown.stdout)["sweep_id"] == sweep_id
    assert invoke("logs", f"{sweep_id[3:11]}_0").exit_code == 0
    # two sweeps sharing a prefix (ids no UUID can have), and a prefix too short to match
    store = Workspace(project.workspace).store
    record = store.get_sweep(sweep_id)
    for twin in ("HD_zzzz0001", "HD_zzzz0002"):
        store.create_sweep(record.replace(id=twin, status=Status.COMPLETED))
    for args, message in [
        (("show", "zzzz"), "'zzzz' matches 2 sweeps (HD_zzzz0001, HD_zzzz0002); "
                           "give more of the id"),
        (("show", "zzz"), "no sweep 'zzz': name a sweep by its id or at least 4 characters "
                          "of it (2 sweep ids start with 'zzz', e.g. zzzz0001)"),
        (("logs", "zzzz_0"), "no trial 'zzzz_0' in this workspace"),
    ]:
        result = invoke(*args)
        assert (result.exit_code, result.stderr) == (1, f"error: {message}\n"), args
    assert json.loads(invoke("show", "zzzz0002", "--json").stdout)["sweep_id"] == "HD_zzzz0002"
