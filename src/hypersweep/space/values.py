"""Checks and conversions for the plain values a search space is built from.

Every check raises :class:`~hypersweep.errors.ConfigError` (never ``TypeError``), because a
search space usually comes from a user's YAML or notebook and the message is the whole UI.
The other packages check their own user-given text and values with the same functions
(`describe`, `check_text`, `text_problem`), so one rule and one wording hold everywhere.
"""

from __future__ import annotations

import math
import numbers
import re
import sys
from collections.abc import Iterable, Mapping
from typing import Any

from hypersweep.errors import ConfigError

Scalar = str | int | float | bool | None
"""A literal a parameter may take: what fits on a command line and in JSON."""


def describe(value: Any) -> str:
    """``repr`` of a value, shortened so a huge bad input cannot flood an error message."""
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


#: Linux's limit on one argument or one ``NAME=value`` environment string (MAX_ARG_STRLEN,
#: 32 pages), less its terminating NUL; ``execve`` fails with E2BIG beyond it.
MAX_ARGUMENT_BYTES = 131_071
#: Parameter names become option names and environment variable names.
MAX_NAME_LENGTH = 255
NUL_PROBLEM = "contains a NUL character, which no command line, environment or record can hold"


def text_problem(text: str) -> str | None:
    """Why ``text`` cannot reach a process (argv, environment) or a record, or ``None``.

    A NUL byte ends a C string, so ``execve`` and PostgreSQL refuse it; a lone surrogate
    (``"\\ud800"``, which YAML's escapes can produce) has no UTF-8 form.

    Examples
    --------
    >>> text_problem("a b"), text_problem("a\\x00b")[:21]
    (None, 'contains a NUL charac')
    """
    if "\x00" in text:
        return NUL_PROBLEM
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as err:
        return (f"contains a lone surrogate (U+{ord(text[err.start]):04X}), "
                "which is not text")
    return None


def check_text(text: str, what: str, *, argument: bool = False) -> str:
    """``text`` if a process and a record can take it, else a `ConfigError` naming ``what``.

    With ``argument``, also refuse text longer than one argument may be (`MAX_ARGUMENT_BYTES`).
    """
    problem = text_problem(text)
    if problem is not None:
        raise ConfigError(f"{what}: {problem}")
    size = len(text.encode("utf-8"))
    if argument and size > MAX_ARGUMENT_BYTES:
        raise ConfigError(f"{what}: {size} bytes is longer than the {MAX_ARGUMENT_BYTES} bytes "
                          "Linux passes to a process as one argument")
    return text


def _plain(value: Any) -> Any:
    """``value``, or the Python number a numpy scalar holds.

    numpy is not imported for this check (the config readers use this module): while it has
    not been imported, no value is a numpy scalar.
    """
    numpy = sys.modules.get("numpy")
    if numpy is not None and isinstance(value, numpy.generic):
        return value.item()
    return value


def number(value: Any, what: str, prefix: str) -> int | float:
    """Return ``value`` as a finite Python ``int`` or ``float``, keeping which of the two it is.

    ``bool`` is refused: ``uniform(False, True)`` is almost surely a mistake.
    """
    value = _plain(value)  # numpy scalars become plain Python numbers
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        hint = ""
        # PyYAML reads `1e-5` (no dot) as text, which is the usual way to get here.
        if isinstance(value, str) and re.fullmatch(r"\s*[+-]?\d+[eE][+-]?\d+\s*", value):
            hint = "; in YAML write 1e-5 as 1.0e-5"
        raise ConfigError(f"{prefix} expects {what} to be a number (got {describe(value)}{hint})")
    if isinstance(value, int):
        if abs(value) > 2**1023:  # must convert to float for sampling
            raise ConfigError(f"{prefix} expects {what} to be finite (got {describe(value)})")
    else:
        value = float(value)
        if not math.isfinite(value):
            raise ConfigError(f"{prefix} expects {what} to be finite (got {value})")
    return value


def literal(value: Any, prefix: str) -> Scalar:
    """Return ``value`` as a plain literal option: str, int, float, bool or None.

    Lists are refused: an option must travel as one command-line argument.
    """
    value = _plain(value)
    if isinstance(value, str):
        problem = text_problem(value)
        if problem is not None:
            raise ConfigError(f"{prefix}: option {describe(value)} {problem}")
        size = len(value.encode("utf-8"))
        if size > MAX_ARGUMENT_BYTES:
            raise ConfigError(f"{prefix} expects options of at most {MAX_ARGUMENT_BYTES} bytes, "
                              f"the longest argument Linux passes to a process (got {size})")
        return value
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ConfigError(f"{prefix} expects finite numbers (got {value})")
        return value
    raise ConfigError(
        f"{prefix} expects options that are str, int, float, bool, None or a mapping "
        f"(got {describe(value)} of type {type(value).__name__})"
    )


def check_key(key: Any, prefix: str) -> str:
    """A parameter name: a non-empty ``str`` without ``.`` (dots separate nested names), ``=``
    (names become environment variable names) or NUL."""
    if not isinstance(key, str) or not key:
        raise ConfigError(f"{prefix} expects parameter names to be non-empty strings "
                          f"(got {describe(key)})")
    problem = text_problem(key)
    if problem is not None:
        raise ConfigError(f"{prefix}: parameter name {describe(key)} {problem}")
    if "." in key:
        raise ConfigError(f"{prefix} expects parameter names without '.' (got {describe(key)}); "
                          "dots join nested names such as 'model.C'")
    if len(key) > MAX_NAME_LENGTH:
        raise ConfigError(f"{prefix} expects parameter names of at most {MAX_NAME_LENGTH} "
                          f"characters (got {len(key)})")
    if "=" in key:
        raise ConfigError(f"{prefix} expects parameter names without '=' (got {describe(key)}); "
                          "each name becomes the environment variable AZUREML_SWEEP_<name>")
    return key


def canon(value: Any) -> Any:
    """A hashable key for a value that keeps ``1``, ``1.0``, ``True`` and ``"1"`` apart."""
    value = _plain(value)
    if isinstance(value, Mapping):
        return ("dict", tuple((k, canon(v)) for k, v in value.items()))
    return (type(value).__name__, value)


def config_key(params: Mapping[str, Any]) -> frozenset[tuple[str, Any]]:
    """Canonical, hashable identity of a flat configuration (order-insensitive, type-aware).

    Examples
    --------
    >>> config_key({"a": 1}) == config_key({"a": 1.0})
    False
    """
    return frozenset((k, canon(v)) for k, v in params.items())


def parse_logbase(logbase: Any, prefix: str = "logbase") -> float:
    """Return the base of the log expressions' exponents: ``"e"`` or a number > 0 and != 1."""
    if isinstance(logbase, str) and logbase.strip().lower() == "e":
        return math.e
    base = number(logbase, "logbase", prefix) if not isinstance(logbase, str) else None
    if base is None:
        raise ConfigError(f"{prefix} expects 'e' or a number > 0 and != 1 "
                          f"(got {describe(logbase)})")
    if base <= 0 or base == 1:
        raise ConfigError(f"{prefix} expects 'e' or a number > 0 and != 1 (got {base})")
    return float(base)


def decimals(q: float) -> int:
    """Decimal places of ``q`` as written (0.1 -> 1, 0.25 -> 2, 1e-7 -> 7, 2.0 -> 0)."""
    from decimal import Decimal  # only for a float q: decimal is half a millisecond to import

    exponent = Decimal(repr(q)).as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def did_you_mean(word: str, options: Iterable[str]) -> str:
    """``"did you mean 'x'? "`` for the option closest to a mistyped ``word``, else ``""``:
    the one wording every "unknown type" and "unknown key" message shares.

    Examples
    --------
    >>> did_you_mean("randm", ["random", "grid"]), did_you_mean("zzz", ["random"])
    ("did you mean 'random'? ", '')
    """
    import difflib  # only for a mistake: most of a small module's import time

    close = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    return f"did you mean {close[0]!r}? " if close else ""
