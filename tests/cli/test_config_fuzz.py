"""Fuzzing what ``validate`` reads: only a one-line `ConfigError` may escape, quickly.

Sweep files are mutated from real ones (the examples, and the files the CLI tests use):
keys deleted, duplicated or misspelt, values replaced by extremes (400-digit integers,
1e400, NaN, NUL, 100,000 characters, deep lists), objects shared (PyYAML then writes
anchors and aliases), bytes truncated, flipped or inserted (alias bombs, tags, brackets).
Each file goes the way of ``hypersweep validate``: load, preview, dump. The Python
constructors get the same treatment. Every example must end in a valid config or a
`ConfigError` of one line, within 2 s and 500 MB; a config that is accepted must be
launchable (no argument or environment string a process cannot take).

Run with ``-s`` to see how many configs ran and the slowest and largest.
"""

from __future__ import annotations

import contextlib
import copy
import gc
import json
import math
import os
import re
import time
import tracemalloc
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hypersweep.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]
MAX_SECONDS = 2.0
MAX_BYTES = 500 * 2**20
#: Examples per fuzzer: about 20 s in CI; HYPERSWEEP_FUZZ_EXAMPLES=5000 searches longer.
EXAMPLES = int(os.environ.get("HYPERSWEEP_FUZZ_EXAMPLES", "1000"))

RICH = """\
type: sweep
experiment_name: fuzz
display_name: every key
description: a sweep file with every section
tags: {team: vision, owner: me}
trial:
  code: .
  command: >-
    python train.py --x ${{search_space.x}} --data ${{inputs.data}}
    --out ${{outputs.model}} --kind "${{search_space.kind.name}}" '${{search_space.bs}}'
  environment_variables: {GREETING: hi, N: 3}
inputs:
  data: {type: uri_file, path: data/in.txt}
  nap: 0.1
outputs:
  model: {type: uri_folder}
search_space:
  x: {type: uniform, min_value: 0, max_value: 1}
  lr: {type: loguniform, min_value: -6, max_value: -1}
  q: {type: qnormal, mu: 10, sigma: 3, q: 1}
  bs: {type: choice, values: [16, 32, 64]}
  kind:
    type: choice
    values:
      - {name: svm, C: {type: uniform, min_value: 0.1, max_value: 10}}
      - {name: tree, depth: {type: randint, upper: 8}}
sampling_algorithm: {type: random, seed: 7, rule: sobol}
objective: {primary_metric: score, goal: maximize}
early_termination: {type: bandit, slack_factor: 0.1, evaluation_interval: 2,
                    delay_evaluation: 3}
limits: {max_total_trials: 8, max_concurrent_trials: 2, timeout: 600, trial_timeout: 60}
"""
SMALL = """\
type: sweep
trial:
  command: python train.py --x ${{search_space.x}}
search_space:
  x: {type: choice, values: [0.5, 1, 2]}
sampling_algorithm: grid
objective: {primary_metric: loss, goal: minimize}
early_termination: {type: truncation_selection, truncation_percentage: 20}
limits: {max_total_trials: 4}
"""
SEEDS = [(ROOT / "examples" / name / "sweep.yml").read_text()
         for name in ("sklearn_digits", "pytorch_cnn")] + [RICH, SMALL]
SEEDS += [SEEDS[0].replace("{type: random, seed: 7}", "{type: bayesian, seed: 1}"),
          SMALL.replace("grid", "tpe").replace("choice, values: [0.5, 1, 2]",
                                               "quniform, min_value: 0, max_value: 10, q: 0.5")
          .replace("truncation_selection, truncation_percentage: 20",
                                               "hyperband, max_resource: 27")]


def _deep(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = [value]
    return value


EXTREMES: list[Any] = [
    10**400, -10**400, 2**63, 2**53 + 1, -1, 0, 1e400, -1e400, float("nan"), 1e-320, 1e308,
    "", "\x00", "a\x00b", "\ud800", "x" * 100_000, "a=b", "'", '"', "\n", "${{search_space.x}}",
    "2001-02-30", "sobol", ".", "-", "e", [], {}, [1] * 1000, None, True, False,
    {"type": "choice", "values": []}, {"type": ["bandit"]}, {"type": "normal", "mu": 0,
                                                              "sigma": 0},
    _deep(150), _deep(60), {"a": {"b": {"c": {"d": [None]}}}},
]
FRAGMENTS = [
    "&a ", "*a", "*nope", "<<: *a\n", "[" * 200, "{" * 50, "]", "!!python/object:os.system ",
    "!!binary ", "!!set ", "? ", "---\n", "...\n", "%YAML 1.1\n", "\t", ": :", "\x00", "\x1b",
    "\ufeff", "'", '"', "#", "- ", "\\", "9" * 500, "1e999", ".nan", "~",
    "b: &b [" + ", ".join(["*a"] * 9) + "]\n",
]


def _bomb() -> str:
    lines = ['z0: &z0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 9):
        lines.append(f"z{i}: &z{i} [" + ", ".join([f"*z{i - 1}"] * 9) + "]")
    return "\n".join(lines) + "\n"


FRAGMENTS.append(_bomb())


def _paths(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield path
    if len(path) > 12:  # deep extremes are mutated as a whole
        return
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*path, key))
    elif isinstance(value, list) and len(value) < 50:
        for i, item in enumerate(value):
            yield from _paths(item, (*path, i))


def _get(value: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        value = value[part]
    return value


@st.composite
def mutated_data(draw: st.DrawFn, data: Any) -> Any:
    """One structural change at a random place of the document."""
    paths = list(_paths(data))
    path = draw(st.sampled_from(paths))
    if not path:
        return data
    parent, key = _get(data, path[:-1]), path[-1]
    op = draw(st.sampled_from(["delete", "extreme", "share", "rename", "wrap", "copy"]))
    if op == "delete":
        del parent[key]
    elif op == "extreme":
        parent[key] = copy.deepcopy(draw(st.sampled_from(EXTREMES)))  # mutated later
    elif op == "share":  # the same object twice: safe_dump writes an anchor and an alias
        source = draw(st.sampled_from(paths))
        if source != path[:len(source)]:  # not an ancestor: no cycles
            parent[key] = _get(data, source)
    elif op == "rename" and isinstance(parent, dict):
        new = draw(st.sampled_from([f"{key}s", str(key)[:-1], str(key).upper(), "", 7,
                                    f"{key}\x00", "a.b", "a=b", "k" * 100_000]))
        parent[new] = parent.pop(key)
    elif op == "wrap":
        parent[key] = draw(st.sampled_from([[parent[key]], {"type": parent[key]},
                                            {"value": parent[key]}]))
    elif op == "copy" and isinstance(parent, dict):
        sibling = draw(st.sampled_from(list(parent)))
        parent[key] = parent[sibling]
    return data


@st.composite
def sweep_texts(draw: st.DrawFn) -> str:
    text = draw(st.sampled_from(SEEDS))
    data = yaml.safe_load(text)
    for _ in range(draw(st.integers(0, 3))):
        data = draw(mutated_data(data))
    with contextlib.suppress(yaml.YAMLError, RecursionError):  # else keep the seed's text
        text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
    for _ in range(draw(st.integers(0, 2))):
        at = draw(st.integers(0, len(text)))
        op = draw(st.sampled_from(["truncate", "flip", "insert", "duplicate line"]))
        if op == "truncate":
            text = text[:at]
        elif op == "flip" and at < len(text):
            text = text[:at] + chr(draw(st.integers(0, 0x10FFFF))) + text[at + 1:]
        elif op == "insert":
            text = text[:at] + draw(st.sampled_from(FRAGMENTS)) + text[at:]
        elif op == "duplicate line":
            lines = text.splitlines(keepends=True) or [""]
            i = draw(st.integers(0, len(lines) - 1))
            text = "".join(lines[:i + 1] + lines[i:])
    return text


def _status(field: str) -> int:
    text = Path("/proc/self/status").read_text()
    match = re.search(rf"^{field}:\s+(\d+) kB", text, re.M)
    assert match is not None, field
    return int(match.group(1)) * 1024


@contextlib.contextmanager
def _peak_memory() -> Iterator[list[int]]:
    """Bytes the peak resident set grew by inside the block (tracemalloc where Linux's
    ``clear_refs`` is not available)."""
    grown = [0]
    try:
        Path("/proc/self/clear_refs").write_text("5")  # peak RSS := current RSS
    except OSError:
        tracemalloc.start()
        try:
            yield grown
            grown[0] = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        return
    before = _status("VmRSS")
    yield grown
    grown[0] = max(0, _status("VmHWM") - before)


class Budget:
    """Time and traced memory of every example; the counts and extremes for the report."""

    def __init__(self) -> None:
        self.runs = {"yaml": 0, "python": 0}
        self.outcomes: dict[str, int] = {}
        self.slowest = (0.0, "")
        self.largest = (0, "")
        self.seconds = 0.0

    def measure(self, kind: str, what: str, call: Callable[[], str]) -> None:
        # CPU time, not wall time: six other test runs share this machine's two cores.
        # Memory as the growth of the peak resident set (Linux lets a process reset its
        # peak); tracemalloc would slow PyYAML's character loop thirtyfold and skew the time.
        # The harness's own heap (hypothesis keeps every example) is frozen out of the
        # garbage collector, which would otherwise bill a full pass over it to the example.
        gc.freeze()
        try:
            with _peak_memory() as peak:
                started = time.process_time()
                outcome = call()
                elapsed = time.process_time() - started
        finally:
            gc.unfreeze()
        self.runs[kind] += 1
        self.seconds += elapsed
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1
        if elapsed > self.slowest[0]:
            self.slowest = (elapsed, what[:120])
        if peak[0] > self.largest[0]:
            self.largest = (peak[0], what[:120])
        assert elapsed < MAX_SECONDS, f"{elapsed:.2f} s of CPU for {what[:300]!r}"
        assert peak[0] < MAX_BYTES, f"{peak[0] / 2**20:.0f} MB for {what[:300]!r}"

    def summary(self) -> str:
        outcomes = dict(sorted(self.outcomes.items()))
        return (f"fuzzed configs: {self.runs['yaml']} sweep files, {self.runs['python']} Python "
                f"constructions ({self.seconds:.1f} s of CPU in all); outcomes {outcomes}; "
                f"slowest {self.slowest[0]:.3f} s ({self.slowest[1]!r}); largest "
                f"{self.largest[0] / 2**20:.1f} MB ({self.largest[1]!r})")


BUDGET = Budget()


@pytest.fixture(scope="module", autouse=True)
def _traced(folder: Path) -> Iterator[None]:
    # Each seed once, untimed: the first call imports the samplers, scipy and the rest.
    for text in SEEDS:
        (folder / "warm.yml").write_text(text)
        assert _validate(folder / "warm.yml") == "valid", text
    try:
        yield
    finally:
        print("\n" + BUDGET.summary())
        report = os.environ.get("HYPERSWEEP_FUZZ_REPORT")
        if report:
            Path(report).write_text(BUDGET.summary() + "\n")


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("fuzz")
    (root / "data").mkdir()
    (root / "data" / "in.txt").write_text("hello\n")
    (root / "train.py").write_text("print(1)\n")
    return root


def _launchable(config: Any) -> None:
    """What the controller will pass to each trial: argv and environment it can exec.

    ``config`` is a HyperDriveConfig or the SweepSpec a sweep file gives."""
    from hypersweep.controller.commands import sweep_environment, trial_command
    from hypersweep.spec import SweepSpec

    spec = config if isinstance(config, SweepSpec) else config.to_spec()
    # what the controller reads back from the sweep's record
    trial = SweepSpec.from_dict(json.loads(json.dumps(spec.to_dict()))).trial
    command = trial_command(trial)
    for params in spec.new_sampler().preview(3):
        argv = command.argv(command.arguments(params))
        env = {**trial.environment_variables, **sweep_environment(params)}
        for text in [*argv, *env.values()]:
            assert "\x00" not in text and len(os.fsencode(text)) < 131072, argv
        for name in env:
            assert name and "=" not in name and "\x00" not in name, name


def _outcome(build: Callable[[], object]) -> str:
    """``"valid"``, or ``"refused"`` with one short `ConfigError` line; anything else escapes."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            build()
    except ConfigError as err:
        message = str(err)
        assert message and "\n" not in message and len(message) < 2000, message
        return "refused"
    return "valid"


def _validate(path: Path) -> str:
    """What ``hypersweep validate`` does; the outcome's name."""
    from hypersweep.config import load_sweep, sweep_to_yaml

    def validate() -> None:
        loaded = load_sweep(path)
        loaded.spec.new_sampler().preview(5)
        sweep_to_yaml(loaded.spec)
        _launchable(loaded.spec)

    return _outcome(validate)


@pytest.mark.slow
@settings(max_examples=EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                 HealthCheck.large_base_example])
@given(text=sweep_texts())
def test_mutated_sweep_files_give_a_config_or_one_line(text: str, folder: Path) -> None:
    path = folder / "sweep.yml"
    path.write_bytes(text.encode("utf-8", "surrogatepass"))
    BUDGET.measure("yaml", text, lambda: _validate(path))


# --------------------------------------------------------------------- Python constructors
ANY = st.one_of(st.sampled_from(EXTREMES[:-3]), st.integers(), st.floats(),
                st.text(max_size=20), st.none(), st.booleans(),
                st.lists(st.integers(), max_size=3), st.sampled_from(["e", 10, 0.5, "random"]))
SANE = st.one_of(st.integers(-5, 50), st.floats(-5, 50, allow_nan=False))
NUMBER = st.one_of(SANE, SANE, SANE, ANY)  # mostly plausible, so some configs are valid
STRINGS = st.one_of(st.sampled_from(["ok", "ok", "", "\x00", "a=b", "x" * 200_000, "\ud800"]),
                    st.text(max_size=8))
KEYS = st.one_of(st.sampled_from(["x", "lr", "bs", "a=b", "a\x00", "", "a.b", "-n"]),
                 st.text(max_size=5))
def _mostly(valid: Any, bad: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Four in five draws are ``valid``: the parts of a config each fail on their own."""
    good = valid if isinstance(valid, st.SearchStrategy) else st.just(valid)
    # not one_of(good, good, ...): equal branches count once
    return st.integers(0, 4).flatmap(lambda i: bad if i == 4 else good)


FACTORIES = {"uniform": 2, "loguniform": 2, "normal": 2, "lognormal": 2, "quniform": 3,
             "qloguniform": 3, "qnormal": 3, "qlognormal": 3, "randint": 1}
# An expression to build later: (factory name, arguments); a choice's options may hold some.
SPECS = st.recursive(
    st.sampled_from(sorted(FACTORIES)).flatmap(
        lambda name: st.tuples(st.just(name), st.lists(NUMBER, min_size=FACTORIES[name],
                                                       max_size=FACTORIES[name]))),
    lambda inner: st.tuples(st.just("choice"), _mostly(
        st.lists(st.one_of(SANE, st.text(max_size=4), st.dictionaries(
            st.sampled_from(["C", "depth"]), inner, min_size=1, max_size=2)), min_size=1,
            max_size=4, unique_by=lambda v: (type(v).__name__, repr(v))),
        st.lists(st.one_of(ANY, STRINGS, st.dictionaries(KEYS, st.one_of(ANY, inner),
                                                         max_size=2)), max_size=4))),
    max_leaves=4)


def _expression(spec: Any) -> Any:
    from hypersweep import space

    name, args = spec
    if name == "choice":
        return space.choice(*[
            {k: _expression(v) if isinstance(v, tuple) else v for k, v in option.items()}
            if isinstance(option, dict) else option for option in args])
    return getattr(space, name)(*args)


@dataclass
class Plan:
    """Everything drawn for one Python construction; built only in the test, timed."""

    space: dict[Any, Any]
    sampler: str
    seed: Any
    extra: Any
    rule: Any
    logbase: Any
    policy: str
    policy_args: list[Any]
    policy_kwargs: dict[str, Any]
    policy_dict: Any
    job: str
    command: str
    env: dict[Any, Any]
    arguments: Any
    input: Any
    metric: Any
    limits: list[Any]

    def build(self, folder: Path) -> Any:
        from hypersweep import (
            AshaPolicy,
            BanditPolicy,
            BayesianParameterSampling,
            GridParameterSampling,
            HyperbandPolicy,
            HyperDriveConfig,
            MedianStoppingPolicy,
            RandomParameterSampling,
            ScriptRunConfig,
            TruncationSelectionPolicy,
        )
        from hypersweep.api.config import CommandJob
        from hypersweep.policies import policy_from_dict

        space = {k: _expression(v) if isinstance(v, tuple) else v for k, v in self.space.items()}
        if self.sampler == "random":
            sampler: Any = RandomParameterSampling(space, seed=self.seed, rule=self.rule,
                                                   logbase=self.logbase)
        elif self.sampler == "grid":
            sampler = GridParameterSampling(space)
        else:
            sampler = BayesianParameterSampling(space, seed=self.seed, n_initial=self.extra)
        sampler.preview(3)
        policy = {
            "bandit": lambda: BanditPolicy(**self.policy_kwargs),
            "median": lambda: MedianStoppingPolicy(*self.policy_args[:2]),
            "truncation": lambda: TruncationSelectionPolicy(*self.policy_args),
            "asha": lambda: AshaPolicy(*self.policy_args),
            "hyperband": lambda: HyperbandPolicy(*self.policy_args),
            "from dict": lambda: policy_from_dict(self.policy_dict),
        }[self.policy]()
        if self.job == "script":
            run: Any = ScriptRunConfig(folder, "train.py", self.arguments,
                                       environment_variables=self.env)
        else:
            run = CommandJob(self.command, code=folder, inputs={"a": self.input},
                             environment_variables=self.env)
        config = HyperDriveConfig(sampler, self.metric, "maximize", *self.limits,
                                  policy=policy, run_config=run)
        _launchable(config)
        return config


@st.composite
def python_configs(draw: st.DrawFn) -> Plan:
    """Arguments for a space, a sampler, a policy and a whole config (built later)."""
    sane_space = st.dictionaries(st.sampled_from(["x", "lr", "bs"]), SPECS, min_size=1,
                                 max_size=3)
    return Plan(
        space=draw(_mostly(sane_space, st.dictionaries(KEYS, st.one_of(SPECS, ANY),
                                                       max_size=2))),
        sampler=draw(st.sampled_from(["random", "random", "grid", "bayesian"])),
        seed=draw(_mostly(st.integers(0, 2**32), ANY)),
        extra=draw(_mostly(None, ANY)),
        rule=draw(_mostly(st.sampled_from(["random", "sobol"]), ANY)),
        logbase=draw(_mostly("e", st.one_of(st.sampled_from([10, 2, 0.5, 1, 0, -2]), ANY))),
        policy=draw(st.sampled_from(["bandit", "median", "truncation", "asha", "hyperband",
                                     "from dict"])),
        policy_args=draw(_mostly([10, 1, 0], st.lists(NUMBER, min_size=3, max_size=3))),
        policy_kwargs=draw(_mostly({"slack_factor": 0.1}, st.dictionaries(st.sampled_from(
            ["slack_factor", "slack_amount", "evaluation_interval", "delay_evaluation"]),
            NUMBER, max_size=3))),
        policy_dict=draw(_mostly({"type": "bandit", "slack_amount": 0.2}, st.one_of(
            ANY, st.fixed_dictionaries(
                {"type": st.sampled_from(["bandit", "asha", "hyperband", "median", ["x"]])},
                optional={"slack_factor": NUMBER, "max_resource": NUMBER,
                          "reduction_factor": NUMBER})))),
        job=draw(st.sampled_from(["script", "command"])),
        command=draw(_mostly("python train.py ${{inputs.a}}", st.sampled_from([
            "echo \x00", "", "cat <<'E'\n${{inputs.a}}\nE",
            "echo '${{inputs.a}}' \"${{inputs.a}}\" ${{inputs.a}}"]))),
        env=draw(_mostly({}, st.dictionaries(STRINGS, st.one_of(STRINGS, ANY), max_size=2))),
        arguments=draw(_mostly([], st.one_of(st.lists(st.one_of(STRINGS, ANY), max_size=3),
                                             ANY))),
        input=draw(_mostly("ok", st.one_of(STRINGS, ANY, st.just(
            {"type": "uri_file", "path": "x" * 5000})))),
        metric=draw(_mostly("score", STRINGS)),
        limits=draw(_mostly([4, None, 60], st.lists(NUMBER, min_size=3, max_size=3))),
    )


def _construct(plan: Plan, folder: Path) -> str:
    return _outcome(lambda: plan.build(folder))


@pytest.mark.slow
@settings(max_examples=EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(plan=python_configs())
def test_python_constructors_give_a_config_or_one_config_error(plan: Plan, folder: Path) -> None:
    BUDGET.measure("python", repr(plan), lambda: _construct(plan, folder))


def test_the_fuzzers_reach_both_outcomes() -> None:
    """Guard against a fuzzer that only ever produces garbage (or only valid files)."""
    if not BUDGET.runs["yaml"]:
        pytest.skip("run with the fuzz tests")
    assert BUDGET.outcomes.get("valid", 0) > 20 and BUDGET.outcomes.get("refused", 0) > 100
    assert math.isfinite(BUDGET.slowest[0])
