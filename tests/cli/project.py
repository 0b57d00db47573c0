"""A project folder for the command-line tests: a trial script, its data, and sweep files.

A named module (not ``conftest``) so that test modules import it by one name however the
test folders are collected together.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from pathlib import Path

TRAIN = """\
import argparse, os, sys, time
from hypersweep import Run

p = argparse.ArgumentParser()
p.add_argument("--x", type=float, default=0.5)
p.add_argument("--data")
p.add_argument("--out")
p.add_argument("--kind", default="")
p.add_argument("--sleep", type=float, default=0.0)
a, _ = p.parse_known_args()
run = Run.get_context()
if a.data and a.out:
    text = open(a.data).read().strip()
    open(os.path.join(a.out, "model.txt"), "w").write(f"{text} {os.environ.get('GREETING')}")
for i in range(3):
    run.log("score", -(a.x - 0.3) ** 2 + i * 0.01)
    time.sleep(a.sleep)
print("trained", a.x, a.kind)
print("to stderr", file=sys.stderr)
"""


#: The smallest sweep file the config tests edit: one parameter, one metric, four trials.
MINIMAL_SWEEP = """\
type: sweep
trial:
  command: python train.py --x ${{search_space.x}}
search_space:
  x: {type: uniform, min_value: 0, max_value: 1}
objective: {primary_metric: score, goal: maximize}
limits: {max_total_trials: 4}
"""


@dataclass
class Project:
    """A folder with ``train.py`` and ``data/in.txt``; sweeps written and run from here."""

    root: Path

    def write(self, text: str, name: str = "sweep.yml") -> Path:
        path = self.root / name
        path.write_text(textwrap.dedent(text))
        return path

    @property
    def workspace(self) -> Path:
        return self.root / ".hypersweep"
