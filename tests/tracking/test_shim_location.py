"""The azureml shim lives in hypersweep.shims, above api; tracking finds it without importing it."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

from setuptools import find_packages

from hypersweep.tracking.integrations import SHIM_DIR

SRC = Path(__file__).resolve().parents[2] / "src"


def test_the_shim_folder_is_hypersweep_shims() -> None:
    spec = importlib.util.find_spec("hypersweep.shims")
    assert spec is not None and spec.submodule_search_locations is not None
    assert Path(SHIM_DIR) == Path(next(iter(spec.submodule_search_locations))).resolve()
    assert Path(SHIM_DIR, "azureml", "core", "run.py").is_file()


def test_the_shim_packages_ship_in_the_wheel() -> None:
    packages = set(find_packages(str(SRC)))
    assert {"hypersweep.shims", "hypersweep.shims.azureml",
            "hypersweep.shims.azureml.core"} <= packages


def test_locating_the_shim_imports_neither_it_nor_the_api() -> None:
    code = ("import sys, hypersweep.tracking.integrations as i\n"
            "print(sorted(m for m in sys.modules if m.startswith(('hypersweep.shims', "
            "'hypersweep.api', 'azureml'))))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, check=True)
    assert done.stdout.strip() == "[]"
