"""Hostile sweep files: each is refused by ``validate`` with one line naming the key, fast.

A sweep file is user input the way a web form is: an alias bomb, absurd nesting, control
characters, numbers past the float range or values no process can be given must each become
one ``ConfigError`` line (``file:line: key: what``), never a traceback, a hang or a crash of
the controller at launch.
"""

from __future__ import annotations

import time
import tracemalloc
from collections.abc import Callable

import pytest
from click.testing import Result
from tests.cli.project import MINIMAL_SWEEP, Project

BASE = MINIMAL_SWEEP
BIG = "9" * 400
SPACE_X = "x: {type: uniform, min_value: 0, max_value: 1}"


def _bomb(levels: int = 9) -> str:
    """The "billion laughs": each level is a list of nine aliases of the one before."""
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, levels):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]")
    return "\n".join(lines) + "\n"


def _edit(old: str, new: str) -> Callable[[str], str]:
    def apply(text: str) -> str:
        assert old in text, old
        return text.replace(old, new, 1)
    return apply


def _append(extra: str) -> Callable[[str], str]:
    return lambda text: text + extra


CASES: list[tuple[str, Callable[[str], str], str]] = [
    ("alias bomb", _append("tags:\n" + "".join(f"  {line}\n" for line in
                                                 _bomb().splitlines())),
     "sweep.yml:14: invalid YAML: aliases expand the document beyond 100000 values "
     "(an alias bomb?)"),
    ("1000 nested brackets", _append("tags: " + "[" * 1000 + "]" * 1000 + "\n"),
     "sweep.yml:8: invalid YAML: nested deeper than 100 levels"),
    ("recursive sequence alias", _append("tags: &r [*r]\n"),
     "sweep.yml:8: invalid YAML: recursive alias *r (an alias inside its own anchor)"),
    ("recursive mapping alias", _append("tags: &r {a: *r}\n"),
     "sweep.yml:8: invalid YAML: recursive alias *r (an alias inside its own anchor)"),
    ("NUL byte in the file", _edit("score", "sc\x00ore"),
     "sweep.yml:6: invalid YAML: unacceptable character U+0000 "
     "(control characters are not allowed)"),
    ("policy type is a list", _append("early_termination: {type: [bandit]}\n"),
     "sweep.yml:8: early_termination.type: unknown policy ['bandit'] (expected one of "
     "bandit, median_stopping, truncation_selection, asha, hyperband, none)"),
    ("400-digit timeout", _edit("max_total_trials: 4", f"max_total_trials: 4, timeout: {BIG}"),
     f"sweep.yml:7: limits.timeout: expected a positive number of seconds "
     f"(got {BIG[:77]}...)"),
    ("400-digit trial_timeout",
     _edit("max_total_trials: 4", f"max_total_trials: 4, trial_timeout: {BIG}"),
     f"sweep.yml:7: limits.trial_timeout: expected a positive number of seconds "
     f"(got {BIG[:77]}...)"),
    ("10,000-character trial.code", _edit("trial:\n", "trial:\n  code: " + "c" * 10_000 + "\n"),
     "sweep.yml:3: trial.code: cannot be used as a folder (File name too long)"),
    ("loguniform whose exp overflows",
     _edit(SPACE_X, "x: {type: loguniform, min_value: 0, max_value: 1000}"),
     "sweep.yml:5: search_space.x: loguniform expects max_value <= 709.78 so that e**max_value "
     "fits a float (got 1000)"),
    ("qloguniform whose exp overflows",
     _edit(SPACE_X, "x: {type: qloguniform, min_value: 0, max_value: 710, q: 1}"),
     "sweep.yml:5: search_space.x: qloguniform expects max_value <= 709.78 so that "
     "e**max_value fits a float (got 710)"),
    ("lognormal whose tail overflows",
     _edit(SPACE_X, "x: {type: lognormal, mu: 0, sigma: 100}"),
     "sweep.yml:5: search_space.x: lognormal expects mu + 8.21 * sigma <= 709.78 so that its "
     "largest draw fits a float (got mu=0, sigma=100)"),
    ("normal whose tail overflows",
     _edit(SPACE_X, "x: {type: normal, mu: 0, sigma: 1.0e308}"),
     "sweep.yml:5: search_space.x: normal expects |mu| + 8.21 * sigma to fit a float "
     "(got mu=0, sigma=1e+308)"),
    ("quniform whose value / q overflows",
     _edit(SPACE_X, "x: {type: quniform, min_value: 0, max_value: 1.0e300, q: 1.0e-300}"),
     "sweep.yml:5: search_space.x: quniform expects value / q to fit a float for every value "
     "(got min_value=0, max_value=1e+300, q=1e-300)"),
    ("normal with sigma 0", _edit(SPACE_X, "x: {type: normal, mu: 0, sigma: 0}"),
     "sweep.yml:5: search_space.x: normal expects sigma > 0 (got 0)"),
    ("lognormal with sigma 0", _edit(SPACE_X, "x: {type: lognormal, mu: 0, sigma: 0}"),
     "sweep.yml:5: search_space.x: lognormal expects sigma > 0 (got 0)"),
    ("qnormal with NaN mu", _edit(SPACE_X, "x: {type: qnormal, mu: .nan, sigma: 1, q: 1}"),
     "sweep.yml:5: search_space.x: qnormal expects mu to be finite (got nan)"),
    ("slack_factor 1e400", _append("early_termination: {type: bandit, slack_factor: 1e400}\n"),
     "sweep.yml:8: early_termination.slack_factor: expected a finite number > 0 (got inf)"),
    ("400-digit slack_factor",
     _append(f"early_termination: {{type: bandit, slack_factor: {BIG}}}\n"),
     f"sweep.yml:8: early_termination.slack_factor: expected a finite number > 0 "
     f"(got {BIG[:77]}...)"),
    ("400-digit slack_amount",
     _append(f"early_termination: {{type: bandit, slack_amount: {BIG}}}\n"),
     f"sweep.yml:8: early_termination.slack_amount: expected a finite number > 0 "
     f"(got {BIG[:77]}...)"),
    ("400-digit max_resource",
     _append(f"early_termination: {{type: hyperband, max_resource: {BIG}}}\n"),
     f"sweep.yml:8: early_termination.max_resource: expected an integer from 1 to "
     f"9007199254740992 (got {BIG[:77]}...)"),
    ("400-digit delay_evaluation",
     _append(f"early_termination: {{type: median_stopping, delay_evaluation: {BIG}}}\n"),
     f"sweep.yml:8: early_termination.delay_evaluation: expected an integer from 0 to "
     f"9007199254740992 (got {BIG[:77]}...)"),
    ("sobol as a sampling type", _append("sampling_algorithm: sobol\n"),
     "sweep.yml:8: sampling_algorithm: unknown sampling type 'sobol' (Sobol sequences are a "
     "rule of random sampling: write {type: random, rule: sobol})"),
    ("sobol as a mapping's type", _append("sampling_algorithm: {type: Sobol, seed: 3}\n"),
     "sweep.yml:8: sampling_algorithm.type: unknown sampling type 'Sobol' (Sobol sequences are "
     "a rule of random sampling: write {type: random, rule: sobol})"),
]


@pytest.mark.parametrize(("case", "edit", "expected"), CASES, ids=[c[0] for c in CASES])
def test_hostile_file_is_one_line_fast_and_small(
    project: Project, invoke: Callable[..., Result], case: str,
    edit: Callable[[str], str], expected: str,
) -> None:
    project.write(edit(BASE))
    tracemalloc.start()
    started = time.process_time()  # CPU: the machine is shared
    try:
        result = invoke("validate", "sweep.yml")
    finally:
        elapsed = time.process_time() - started
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert (result.exit_code, result.stderr, result.stdout) == (1, f"error: {expected}\n", "")
    assert elapsed < 2.0, f"{case}: {elapsed:.1f} s"
    assert peak < 100 * 2**20, f"{case}: {peak / 2**20:.0f} MB"


def test_a_large_honest_file_is_still_read(project: Project,
                                           invoke: Callable[..., Result]) -> None:
    """The bounds refuse bombs, not big sweeps: 20,000 choice options and modest aliases."""
    values = ", ".join(str(i) for i in range(20_000))
    text = BASE.replace(SPACE_X, f"x: {{type: choice, values: [{values}]}}")
    text += ("tags: &t {team: vision}\n"
             "description: deep\n")
    project.write(text)
    result = invoke("validate", "sweep.yml", "-n", "2")
    assert result.exit_code == 0, result.stderr
    project.write(BASE + "tags: " + "[" * 60 + "]" * 60 + "\n")  # deep, within the bound
    assert invoke("validate", "sweep.yml").stderr == (
        f"error: sweep.yml:8: tags: expected a mapping (got {'[' * 60 + ']' * 17}...)\n")
