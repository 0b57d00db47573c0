"""Every example in a docstring of hypersweep runs, and says what it prints.

Each module under src/hypersweep is imported by name (as a user imports it, so a module named
like a third-party package, ``execution/dask.py``, is no problem) and its doctests run with
``doctest``; one test per module, so a failure names the module. The examples run in a fresh
temporary folder (a ``Workspace()`` there writes nothing into the checkout), without any
``HYPERSWEEP_*`` variable of the surrounding shell, with Python's and NumPy's global random
generators seeded: the same output on every machine.

An example commented out (``>>> # run.wait_for_completion()``) is an example nobody checks, so
it fails too, except in the files listed below while their examples are being revived.
"""

from __future__ import annotations

import doctest
import importlib
import os
import pkgutil
import random
import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

import hypersweep

PACKAGE_DIR = Path(hypersweep.__file__).resolve().parent

# Same flags as a reader assumes: "..." stands for any text, line breaks in output are spaces.
OPTION_FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE

# Modules that are scripts for a separate `python -I` process and must not be imported here.
SCRIPTS: dict[str, str] = {}

# Doctests that fail today: each a to-do. strict: a fixed one fails until its line is deleted.
KNOWN_FAILING: dict[str, str] = {}

# Files that still carry commented-out examples (paths under src/hypersweep): each a to-do.
# Only shrinks: a file revived fails test_listed_files_still_comment_out_an_example.
COMMENTED_OUT_EXAMPLES: set[str] = set()

COMMENTED_OUT = re.compile(r"^\s*>>> #", re.MULTILINE)


def _module_names(path: Path, prefix: str) -> Iterator[str]:
    # pkgutil.iter_modules level by level instead of pkgutil.walk_packages: walk_packages
    # imports each package to look inside it, so one broken import would fail collection
    # instead of that module's own test.
    for info in pkgutil.iter_modules([str(path)], prefix):
        yield info.name
        if info.ispkg:
            yield from _module_names(path / info.name.rsplit(".", 1)[1], info.name + ".")


MODULES = ["hypersweep", *_module_names(PACKAGE_DIR, "hypersweep.")]


def _param(name: str) -> object:
    if name in SCRIPTS:
        return pytest.param(name, marks=pytest.mark.skip(reason=SCRIPTS[name]))
    if name in KNOWN_FAILING:
        return pytest.param(name, marks=pytest.mark.xfail(reason=KNOWN_FAILING[name], strict=True))
    return name


@pytest.mark.parametrize("module_name", [_param(name) for name in MODULES])
def test_doctests_pass(module_name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for variable in [name for name in os.environ if name.startswith("HYPERSWEEP_")]:
        monkeypatch.delenv(variable)
    monkeypatch.chdir(tmp_path)
    random.seed(0)
    np.random.seed(0)
    module = importlib.import_module(module_name)
    report: list[str] = []
    runner = doctest.DocTestRunner(optionflags=OPTION_FLAGS)
    for test in doctest.DocTestFinder().find(module, module_name):
        runner.run(test, out=report.append)
    assert runner.failures == 0, "".join(report)


def _files_commenting_out_examples() -> set[str]:
    return {
        path.relative_to(PACKAGE_DIR).as_posix()
        for path in PACKAGE_DIR.rglob("*.py")
        if COMMENTED_OUT.search(path.read_text(encoding="utf-8"))
    }


def test_no_example_is_commented_out() -> None:
    new = sorted(_files_commenting_out_examples() - COMMENTED_OUT_EXAMPLES)
    assert not new, f"'>>> #' lines (make them run, or delete them) in: {', '.join(new)}"


def test_listed_files_still_comment_out_an_example() -> None:
    revived = sorted(COMMENTED_OUT_EXAMPLES - _files_commenting_out_examples())
    assert not revived, (
        "no '>>> #' line left, so delete from COMMENTED_OUT_EXAMPLES in tests/test_doctests.py: "
        + ", ".join(revived)
    )


def test_every_module_is_collected() -> None:
    # Every .py file inside a package (nested packages and private modules too) is a module
    # above: a doctest cannot hide from the walk.
    def in_a_package(path: Path) -> bool:
        return all(
            (folder / "__init__.py").exists()
            for folder in path.parents
            if folder.is_relative_to(PACKAGE_DIR)
        )

    files = {path for path in PACKAGE_DIR.rglob("*.py") if in_a_package(path)}
    expected = {
        ".".join(["hypersweep", *path.relative_to(PACKAGE_DIR).with_suffix("").parts]).removesuffix(
            ".__init__"
        )
        for path in files
    }
    # Walked again here: other modules may have appeared since collection.
    assert expected == {"hypersweep", *_module_names(PACKAGE_DIR, "hypersweep.")}
