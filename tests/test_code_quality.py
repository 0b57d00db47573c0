"""The code checks the README promises, run with the tests so that CI keeps them true.

ruff (style and likely bugs), mypy (types, configured in pyproject.toml) and lint-imports (the
layer contracts of DESIGN.md, in pyproject.toml's ``[tool.importlinter]``) each run over the
checkout as a user would run them; a finding fails the test with the tool's own report.

One rule import-linter cannot express is checked here by reading the source: no module uses a
private (leading underscore) name or module of ANOTHER top-level package of hypersweep. A
package's private modules are its own business (``sampling/_gp.py`` serves ``sampling``); what
other packages may use is what the package publishes.
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"

# Private names used across packages today: (importing package, private name). Each is a to-do,
# named with the change that removes it; the list only shrinks (a fixed entry fails
# test_every_allowed_private_import_still_happens until its line is deleted).
ALLOWED_PRIVATE_IMPORTS: dict[tuple[str, str], str] = {}


def _run(*command: str) -> None:
    if shutil.which(command[0]) is None and command[0] != sys.executable:
        pytest.skip(f"{command[0]} is not installed (it comes with the test extra)")
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"{' '.join(command)}:\n{done.stdout}\n{done.stderr}"


def test_ruff_finds_nothing() -> None:
    _run("ruff", "check", "src", "tests")


@pytest.mark.slow
def test_mypy_finds_nothing() -> None:
    _run(sys.executable, "-m", "mypy")


def test_the_layer_contracts_hold() -> None:
    # No cache: several people edit one tree, and a cached graph can miss a new package.
    _run("lint-imports", "--no-cache")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _package_of(dotted: str) -> str:
    """The top-level hypersweep package a dotted name belongs to ('hypersweep' for the root)."""
    parts = dotted.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def _is_private(part: str) -> bool:
    return part.startswith("_") and not (part.startswith("__") and part.endswith("__"))


def _private_prefix(dotted: str) -> str | None:
    """``a.b._c.d`` -> ``a.b._c``: the name up to its first private part, if any."""
    parts = dotted.split(".")
    for index, part in enumerate(parts):
        if _is_private(part):
            return ".".join(parts[: index + 1])
    return None


def _imported_names(path: Path) -> Iterator[str]:
    """Every dotted name a module imports, anywhere in it (functions and TYPE_CHECKING too)."""
    module = _module_name(path)
    package_parts = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package_parts[: len(package_parts) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            yield from (f"{base}.{alias.name}" for alias in node.names)


def private_imports_across_packages() -> dict[tuple[str, str], list[str]]:
    """(importing package, private name) -> the modules that import it."""
    found: dict[tuple[str, str], list[str]] = {}
    for path in sorted(SRC.rglob("*.py")):
        importer = _module_name(path)
        for name in _imported_names(path):
            if name != "hypersweep" and not name.startswith("hypersweep."):
                continue
            private = _private_prefix(name)
            if private and _package_of(private) != _package_of(importer):
                key = (_package_of(importer), private)
                found.setdefault(key, []).append(importer)
    return found


def test_no_module_imports_a_private_name_of_another_package() -> None:
    found = private_imports_across_packages()
    new = {key: modules for key, modules in found.items() if key not in ALLOWED_PRIVATE_IMPORTS}
    assert not new, "private names used from another package (publish them instead): " + (
        "; ".join(f"{', '.join(sorted(set(m)))} -> {name}" for (_, name), m in sorted(new.items()))
    )


def test_every_allowed_private_import_still_happens() -> None:
    found = private_imports_across_packages()
    fixed = sorted(key for key in ALLOWED_PRIVATE_IMPORTS if key not in found)
    assert not fixed, (
        "fixed, so delete from ALLOWED_PRIVATE_IMPORTS in tests/test_code_quality.py: "
        + "; ".join(f"{package} -> {name}" for package, name in fixed)
    )


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("from hypersweep.space._values import describe", ("api", "hypersweep.space._values")),
        ("from hypersweep.space import _values", ("api", "hypersweep.space._values")),
        ("import hypersweep.store._x as x", ("api", "hypersweep.store._x")),
        (
            "from ..tracking.context import _BaseRun",
            ("api", "hypersweep.tracking.context._BaseRun"),
        ),
        (
            "def f():\n    from hypersweep.cli.main import _hidden",
            ("api", "hypersweep.cli.main._hidden"),
        ),
        ("from hypersweep.api._own import thing", None),
        ("from ._own import thing", None),
        ("from hypersweep.space import __version__", None),
    ],
)
def test_the_private_import_scan_sees_each_form(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, source: str, expected: tuple[str, str] | None
) -> None:
    # The scan itself is tested on a fake src tree, so a blind spot cannot hide a violation.
    package = tmp_path / "hypersweep" / "api"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "module.py").write_text(source + "\n")
    monkeypatch.setattr(sys.modules[__name__], "SRC", tmp_path)
    found = private_imports_across_packages()
    assert list(found) == ([expected] if expected else [])


def test_no_two_test_modules_share_a_name() -> None:
    """Test folders have no ``__init__.py``: pytest imports each test module by its bare name,
    so two ``test_x.py`` in different folders break collection of whichever comes second."""
    seen: dict[str, list[str]] = {}
    for path in (ROOT / "tests").rglob("test_*.py"):
        seen.setdefault(path.name, []).append(str(path.relative_to(ROOT)))
    assert {name: paths for name, paths in seen.items() if len(paths) > 1} == {}
