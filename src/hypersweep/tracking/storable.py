"""What the store can hold: the one check for what a run logs and what a journal line says.

The store keeps a metric value as a 64-bit float (NaN and ±inf included: a diverged loss is a
real result), its step as a signed 64-bit integer, names and text as UTF-8 without the NUL
character (PostgreSQL's rule), a tag key in at most 255 characters; one ``log_list`` holds at
most 100,000 values (each is a row). A value outside those bounds has no faithful stored form,
so ``run.log`` refuses it in the trial with a :class:`MetricValueError` naming the metric and
the value, and the controller skips a journal line that carries one (see
:class:`~hypersweep.tracking.journal.JournalReader`). Negative steps are storable and allowed
(a baseline evaluated "before step 0", say).

Standard library only: training scripts import this.

Examples
--------
>>> check_record("metric", "loss", 0.5, step=3)
0.5
>>> check_record("metric", "loss", 10**400, step=None)
Traceback (most recent call last):
...
hypersweep.tracking.storable.MetricValueError: metric 'loss': 10000000000... (an integer of \
401 digits) is beyond the range of a 64-bit float (about ±1.8e308), the form the store keeps \
numbers in; log it as a string or log a logarithm
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = [
    "MAX_DEPTH",
    "MAX_LIST_VALUES",
    "MAX_TAG_KEY",
    "STEP_MAX",
    "STEP_MIN",
    "MetricValueError",
    "check_name",
    "check_record",
    "check_step",
    "describe",
    "printable_text",
    "to_json_value",
]

#: The store's step column is a signed 64-bit integer (BIGINT) on every backend.
STEP_MIN = -(2**63)
STEP_MAX = 2**63 - 1
#: Tag keys are a VARCHAR(255) in the store (``hypersweep.store.schema.ID_LENGTH``).
MAX_TAG_KEY = 255
#: Lists and dicts nested deeper than this are refused (JSON decoders recurse on them).
MAX_DEPTH = 32
#: The most values one ``log_list`` call may hold: each is a row in the store, written in one
#: transaction while the controller waits (100,000 take seconds; millions, minutes).
MAX_LIST_VALUES = 100_000

# Ints at or beyond this magnitude round to ±inf as a double, so float() overflows.
_FLOAT_INT_LIMIT = 2**1024 - 2**970
_LOG10_2 = 0.30102999566398120


class MetricValueError(ValueError):
    """A logged name, value or step that the store cannot hold.

    The message names the metric (or tag) and the value, e.g. ``metric 'loss': step
    18446744073709551616 is outside the signed 64-bit range ...``. Raised in the trial by
    ``run.log``, ``log_list``, ``log_row``, ``tag`` and ``set_tags``; nothing is logged.
    """


def describe(value: Any, width: int = 60) -> str:
    """A short, printable form of ``value`` for a message (huge ints and strings abbreviated).

    Examples
    --------
    >>> describe(10**400)
    '10000000000... (an integer of 401 digits)'
    >>> describe("a\\x00b")
    "'a\\\\x00b'"
    """
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 100:
        # str() of an int over 4,300 digits raises, so count the digits from its bit length.
        magnitude = -value if value < 0 else value
        digits = int(magnitude.bit_length() * _LOG10_2) + 1
        if magnitude < 10 ** (digits - 1):
            digits -= 1
        lead = magnitude // 10 ** (digits - 11)
        sign = "-" if value < 0 else ""
        return f"{sign}{lead}... (an integer of {digits} digits)"
    if isinstance(value, str) and len(value) > width:
        return repr(value[:width]) + f"... ({len(value)} characters)"
    text = repr(value)
    return text if len(text) <= width else text[:width] + "..."


def printable_text(text: str) -> str:
    """``text`` made storable: lone surrogates and NUL written as backslash escapes.

    For free text that must never be refused (``run.fail``'s details).

    Examples
    --------
    >>> printable_text("bad\\x00 \\ud800")
    'bad\\\\x00 \\\\ud800'
    """
    if not text.isascii():
        text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text.replace("\x00", "\\x00")


def _check_text(text: str, subject: str) -> None:
    """Refuse text with no UTF-8 form (a lone surrogate, e.g. from bytes decoded wrongly)."""
    if text.isascii():
        return
    try:
        text.encode("utf-8")  # only a lone surrogate has no UTF-8 form
    except UnicodeEncodeError as err:
        raise MetricValueError(
            f"{subject} {describe(text)} is not valid text: it has the lone surrogate "
            f"{text[err.start]!r} at index {err.start}, which has no UTF-8 form (decode "
            "bytes with errors='replace')"
        ) from None


def check_name(name: Any, what: str = "metric") -> str:
    """Return ``name`` if the store can keep it as a metric name or tag key; else raise.

    Empty names are allowed here (the journal's ``complete`` and ``fail`` records have one);
    the run's logging methods refuse them first.

    Examples
    --------
    >>> check_name("a\\x00b")
    Traceback (most recent call last):
    ...
    hypersweep.tracking.storable.MetricValueError: metric name 'a\\x00b' contains the NUL \
character (\\x00), which the store cannot keep
    """
    if not isinstance(name, str):
        raise MetricValueError(f"{what} name must be a string, got {describe(name)}")
    if "\x00" in name:
        raise MetricValueError(
            f"{what} name {describe(name)} contains the NUL character (\\x00), "
            "which the store cannot keep"
        )
    _check_text(name, f"{what} name")
    if what == "tag" and len(name) > MAX_TAG_KEY:
        raise MetricValueError(
            f"tag key {describe(name)} is {len(name)} characters long; the store keeps tag "
            f"keys of at most {MAX_TAG_KEY}"
        )
    return name


def check_step(name: str, step: Any) -> int | None:
    """Return ``step`` if it is None or an int the store's 64-bit step column takes."""
    if step is None:
        return None
    if not isinstance(step, int) or isinstance(step, bool):
        raise TypeError(f"metric {name!r}: step must be an int, got {describe(step)}")
    if not STEP_MIN <= step <= STEP_MAX:
        raise MetricValueError(
            f"metric {name!r}: step {describe(step)} is outside the signed 64-bit range the "
            f"store keeps steps in ({STEP_MIN} to {STEP_MAX})"
        )
    return step


def to_json_value(value: Any, name: str, what: str = "metric", *, _depth: int = 0) -> Any:
    """Convert a logged value into plain JSON data the store can hold, or raise naming ``name``.

    Python numbers, strings, booleans and None pass through. Array-library scalars (numpy,
    torch, jax) are unwrapped with ``.item()``; other objects that behave like numbers are
    converted with ``int()``/``float()``. Lists, tuples and dicts are converted element-wise.
    An int beyond the range of a float, or text with a lone surrogate, raises
    :class:`MetricValueError`; a value of any other type raises :class:`TypeError`.

    Examples
    --------
    >>> to_json_value((1, 2.5, "a"), "m")
    [1, 2.5, 'a']
    >>> to_json_value(object(), "loss")
    Traceback (most recent call last):
    ...
    TypeError: metric 'loss': cannot log a value of type object (expected a number, ...
    """
    # Fast path first: by far the common case is a plain float or int.
    if value is None or isinstance(value, (bool, float)):
        return value
    if isinstance(value, int):
        if not -_FLOAT_INT_LIMIT < value < _FLOAT_INT_LIMIT:
            raise MetricValueError(
                f"{what} {name!r}: {describe(value)} is beyond the range of a 64-bit float "
                "(about ±1.8e308), the form the store keeps numbers in; log it as a string "
                "or log a logarithm"
            )
        return value
    if isinstance(value, str):
        _check_text(value, f"{what} {name!r}:")
        return value
    if _depth >= MAX_DEPTH:
        raise TypeError(f"{what} {name!r}: value is nested too deeply to log "
                        f"(more than {MAX_DEPTH} levels of lists or dicts)")
    if isinstance(value, (list, tuple)):
        return [to_json_value(v, name, what, _depth=_depth + 1) for v in value]
    if isinstance(value, Mapping):
        out = {}
        for k, v in value.items():
            key = str(k)
            _check_text(key, f"{what} {name!r}: the key")
            out[key] = to_json_value(v, name, what, _depth=_depth + 1)
        return out
    item = getattr(value, "item", None)
    if callable(item):
        # numpy scalars and 0-d arrays, torch/jax one-element tensors. A multi-element array's
        # item() raises; fall through to tolist() so log_list(np.array(...)) works.
        try:
            inner = item()
        except (ValueError, TypeError, RuntimeError):
            inner = None
        else:
            if inner is not value:
                return to_json_value(inner, name, what, _depth=_depth + 1)
    tolist = getattr(value, "tolist", None)
    if callable(tolist):
        return to_json_value(tolist(), name, what, _depth=_depth + 1)
    if hasattr(value, "__index__"):
        return to_json_value(int(value), name, what, _depth=_depth + 1)
    if hasattr(value, "__float__"):
        return float(value)
    raise TypeError(
        f"{what} {name!r}: cannot log a value of type {type(value).__name__} "
        "(expected a number, str, bool, None, or a list/dict of those)"
    )


def check_record(kind: str, name: Any, value: Any, step: Any = None) -> Any:
    """The one check of a journal record: return its value as storable JSON data, or raise.

    Used by every run's logging methods before anything is written, and by the journal reader
    on every line, so the trial refuses exactly what the controller would have to skip.
    ``fail`` details are free text and never refused: they are made printable instead.

    Raises
    ------
    MetricValueError
        For a name, value or step outside what the store holds (a ``ValueError``).
    TypeError
        For a value of a type that cannot be logged, or a step that is not an int.
    """
    what = "tag" if kind == "tag" else "metric"
    check_name(name, what)
    if kind == "fail":
        return printable_text(value) if isinstance(value, str) else value
    value = to_json_value(value, name, what)
    if kind == "list" and isinstance(value, list) and len(value) > MAX_LIST_VALUES:
        raise MetricValueError(
            f"metric {name!r}: log_list() takes at most {MAX_LIST_VALUES} values, got "
            f"{len(value)}; log it in parts, or save it as a file in the outputs folder"
        )
    if what == "tag" and isinstance(value, str) and "\x00" in value:
        # Stored as raw text (metric strings are stored JSON-escaped, so NUL is fine there).
        raise MetricValueError(
            f"tag {name!r}: the value {describe(value)} contains the NUL character (\\x00), "
            "which the store cannot keep"
        )
    check_step(name, step)
    return value
