"""What ``validate`` accepts can launch: values no process can be given are refused up front.

A NUL byte cannot be part of an argument or an environment variable, ``=`` cannot be part of
an environment variable's name, a lone surrogate is not text, and Linux refuses a single
argument over 128 KiB. Each used to pass ``validate`` and then crash the controller at launch
(again on every resume); now each is a one-line `ConfigError` naming the key, from YAML and
from the Python constructors alike.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from tests.cli.project import MINIMAL_SWEEP, Project

from hypersweep import (
    BanditPolicy,
    HyperDriveConfig,
    RandomParameterSampling,
    ScriptRunConfig,
    choice,
    uniform,
)
from hypersweep.api.config import CommandJob
from hypersweep.errors import ConfigError

BASE = MINIMAL_SWEEP
NUL = "contains a NUL character, which no command line, environment or record can hold"

YAML_CASES = [
    ("NUL in an environment value",
     ("trial:\n", 'trial:\n  environment_variables: {A: "x\\0y"}\n'),
     f"sweep.yml:3: trial.environment_variables.A: {NUL}"),
    ("NUL in trial.command",
     ("command: python train.py --x ${{search_space.x}}",
      'command: "python train.py\\0 --x ${{search_space.x}}"'),
     f"sweep.yml:3: trial.command: {NUL}"),
    ("NUL in a choice value",
     ("  x: {", '  c: {type: choice, values: [ok, "a\\0b"]}\n  x: {'),
     f"sweep.yml:5: search_space.c.values[1]: {NUL}"),
    ("NUL in a parameter name",
     ("  x: {", '  "c\\0": {type: choice, values: [1]}\n  x: {'),
     f"sweep.yml:5: search_space: key 'c\\x00' {NUL}"),
    ("lone surrogate in a choice value",
     ("  x: {", '  c: {type: choice, values: ["\\ud800"]}\n  x: {'),
     "sweep.yml:5: search_space.c.values[0]: contains a lone surrogate (U+D800), "
     "which is not text"),
    ("= in a parameter name",
     ("  x: {", "  a=b: {type: choice, values: [1]}\n  x: {"),
     "sweep.yml:5: search_space.a=b: search_space expects parameter names without '=' "
     "(got 'a=b'); each name becomes the environment variable AZUREML_SWEEP_<name>"),
    ("= in a nested option's name",
     ("  x: {", "  m: {type: choice, values: [{a=b: 1}]}\n  x: {"),
     "sweep.yml:5: search_space.m: choice expects parameter names without '=' (got 'a=b'); "
     "each name becomes the environment variable AZUREML_SWEEP_<name>"),
    ("environment variable name with a space",
     ("trial:\n", 'trial:\n  environment_variables: {"MY VAR": x}\n'),
     "sweep.yml:3: trial.environment_variables: invalid name 'MY VAR' (expected up to 255 "
     "letters, digits and '_', not starting with a digit)"),
    ("environment variable name with =",
     ("trial:\n", 'trial:\n  environment_variables: {"A=B": x}\n'),
     "sweep.yml:3: trial.environment_variables: invalid name 'A=B' (expected up to 255 "
     "letters, digits and '_', not starting with a digit)"),
    ("choice value over 128 KiB",
     ("  x: {", "  c: {type: choice, values: [" + "v" * 140_000 + "]}\n  x: {"),
     "sweep.yml:5: search_space.c: choice expects options of at most 131071 bytes, the "
     "longest argument Linux passes to a process (got 140000)"),
]


@pytest.mark.parametrize(("case", "edit", "expected"), YAML_CASES,
                         ids=[c[0] for c in YAML_CASES])
def test_unlaunchable_yaml_is_refused(
    project: Project, invoke: Callable[..., Result], case: str, edit: tuple[str, str],
    expected: str,
) -> None:
    assert edit[0] in BASE
    text = BASE.replace(*edit, 1)
    project.write(text)
    for command in ("validate", "run"):
        result = invoke(command, "sweep.yml")
        assert (result.exit_code, result.stderr) == (1, f"error: {expected}\n"), command
    assert not project.workspace.exists()


def _source(tmp: Path) -> Path:
    (tmp / "train.py").write_text("print(1)\n")
    return tmp


PYTHON_CASES: list[tuple[str, Callable[[Path], Any], str]] = [
    ("choice with NUL", lambda _: choice("ok", "a\x00b"),
     f"choice: option 'a\\x00b' {NUL}"),
    ("nested choice with NUL", lambda _: choice({"k": "a\x00"}),
     f"choice (k): option 'a\\x00' {NUL}"),
    ("choice with a surrogate", lambda _: choice("\udc80"),
     "choice: option '\\udc80' contains a lone surrogate (U+DC80), which is not text"),
    ("parameter name with =", lambda _: RandomParameterSampling({"a=b": choice(1)}),
     "search_space expects parameter names without '=' (got 'a=b'); each name becomes the "
     "environment variable AZUREML_SWEEP_<name>"),
    ("parameter name with NUL", lambda _: RandomParameterSampling({"a\x00": uniform(0, 1)}),
     f"search_space: parameter name 'a\\x00' {NUL}"),
    ("nested name with =", lambda _: choice({"a=b": 1}),
     "choice expects parameter names without '=' (got 'a=b'); each name becomes the "
     "environment variable AZUREML_SWEEP_<name>"),
    ("parameter name too long", lambda _: choice({"k" * 300: 1}),
     "choice expects parameter names of at most 255 characters (got 300)"),
    ("script env value with NUL",
     lambda tmp: ScriptRunConfig(_source(tmp), "train.py", environment_variables={"A": "\x00"}),
     f"environment_variables.A: {NUL}"),
    ("script env name with =",
     lambda tmp: ScriptRunConfig(_source(tmp), "train.py", environment_variables={"A=B": "x"}),
     "environment_variables: invalid name 'A=B' (expected up to 255 letters, digits and '_', "
     "not starting with a digit)"),
    ("script argument with NUL",
     lambda tmp: ScriptRunConfig(_source(tmp), "train.py", arguments=["--a", "b\x00"]),
     f"arguments[1]: {NUL}"),
    ("script name with NUL", lambda tmp: ScriptRunConfig(_source(tmp), "train\x00.py"),
     f"script: {NUL}"),
    ("source_directory with NUL", lambda tmp: ScriptRunConfig(f"{tmp}\x00", "train.py"),
     f"source_directory: {NUL}"),
    ("source_directory too long", lambda tmp: ScriptRunConfig("d" * 10_000, "train.py"),
     "source_directory: cannot be used as a folder (File name too long)"),
    ("command with NUL", lambda tmp: CommandJob("echo \x00", code=tmp),
     f"trial.command: {NUL}"),
    ("command code too long", lambda tmp: CommandJob("echo", code="c" * 10_000),
     "trial.code: cannot be used as a folder (File name too long)"),
    ("command env value with NUL",
     lambda tmp: CommandJob("echo", code=tmp, environment_variables={"A": "\x00"}),
     f"trial.environment_variables.A: {NUL}"),
    ("command input literal with NUL",
     lambda tmp: CommandJob("echo ${{inputs.a}}", code=tmp, inputs={"a": "\x00"}),
     f"inputs.a: {NUL}"),
    ("input path too long",
     lambda tmp: CommandJob("echo", code=tmp, inputs={"a": {"path": "p" * 10_000}}),
     "inputs.a.path: cannot be used as a path (File name too long)"),
    ("metric name with NUL", lambda tmp: HyperDriveConfig(
        RandomParameterSampling({"x": uniform(0, 1)}), "m\x00", "maximize", 2,
        run_config=ScriptRunConfig(_source(tmp), "train.py")),
     f"primary_metric_name: {NUL}"),
    ("tag with NUL", lambda tmp: HyperDriveConfig(
        RandomParameterSampling({"x": uniform(0, 1)}), "m", "maximize", 2,
        run_config=ScriptRunConfig(_source(tmp), "train.py"), tags={"a": "\x00"}),
     f"tags.a: {NUL}"),
    ("policy argument beyond floats", lambda _: BanditPolicy(slack_factor=10**400),
     f"slack_factor: expected a finite number > 0 (got {'1' + '0' * 76}...)"),
]


@pytest.mark.parametrize(("case", "build", "expected"), PYTHON_CASES,
                         ids=[c[0] for c in PYTHON_CASES])
def test_unlaunchable_python_config_is_refused(
    tmp_path: Path, case: str, build: Callable[[Path], Any], expected: str,
) -> None:
    with pytest.raises(ConfigError) as caught:
        build(tmp_path)
    assert str(caught.value) == expected
