"""Fresh subprocesses of a bench import compiled bytecode, as an installed package does.

pip compiles ``.pyc`` files at install, so Optuna's come from site-packages; ours, run from a
source tree where ``PYTHONDONTWRITEBYTECODE`` may be set, would be compiled from source in
every fresh process (~0.08 s of CPU for ~80 modules) and the comparison would be unfair.
"""

from __future__ import annotations

import os
from pathlib import Path


def use_compiled_bytecode(folder: Path) -> None:
    """Let this process's children write and read bytecode in ``folder`` (a cache of the run:
    the first child that imports a module compiles it, the others load it)."""
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    os.environ["PYTHONPYCACHEPREFIX"] = str(folder)
