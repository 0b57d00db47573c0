"""Names a package exports but imports only when first used (PEP 562).

``import hypersweep`` and the first ``tune`` stay cheap because a package's ``__init__`` names
what it exports and where it lives, and the defining module is imported on first access.

Examples
--------
>>> namespace: dict[str, object] = {}
>>> module_getattr, module_dir = lazy_exports("demo", {"dumps": "json"}, namespace)
>>> module_getattr("dumps")('x')
'"x"'
>>> "dumps" in namespace, module_dir()
(True, ['dumps'])
>>> module_getattr("loads")
Traceback (most recent call last):
...
AttributeError: module 'demo' has no attribute 'loads'
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["lazy_exports"]


def lazy_exports(package: str, exports: Mapping[str, str], namespace: dict[str, Any],
                 ) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """A package's ``__getattr__`` and ``__dir__`` for ``exports`` (name -> module path,
    absolute or relative to ``package``, as ``".sub"``).

    A name once found is stored in ``namespace`` (the package's ``globals()``), so later uses
    are ordinary attribute reads.
    """

    def module_getattr(name: str) -> Any:
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module, package), name)
        namespace[name] = value
        return value

    def module_dir() -> list[str]:
        return sorted({*(k for k in namespace if not k.startswith("_")), *exports})

    return module_getattr, module_dir
