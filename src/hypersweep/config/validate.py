"""The checks of what a user wrote that both faces apply, beyond those of `SweepSpec`.

``HyperDriveConfig`` (v1 names) and the v2 YAML reader call the same function for the same
rule, passing the key as the user wrote it (``tags`` in Python and in YAML, ``executor``...),
so a bad value gets the same sentence from both; the YAML reader adds the file and line.
Counts, durations, goals and metric names are checked by `hypersweep.spec.checks`, which
`SweepSpec` itself uses; `metric_name` adds what a record can hold to that check.

Examples
--------
>>> metric_name(" accuracy ", "primary_metric_name")
'accuracy'
>>> metric_name("acc\\x00", "objective.primary_metric")
Traceback (most recent call last):
...
hypersweep.errors.ConfigError: objective.primary_metric: contains a NUL character, which no \
command line, environment or record can hold
>>> executor_uri("local")
'local'
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from hypersweep.errors import ConfigError
from hypersweep.space.values import check_text, describe
from hypersweep.spec import checks

__all__ = [
    "DEFAULT_TIMEOUT_SECONDS", "EXPERIMENT_NAME", "environment", "executor_uri",
    "experiment_name", "folder", "metadata", "metric_name", "path_is", "run_id",
]

#: A sweep without a timeout ends after 10080 minutes (a week), as Azure's HyperDrive does.
DEFAULT_TIMEOUT_SECONDS = 10080 * 60.0
#: Experiment names: what Azure accepts, and safe as a folder and a record key.
EXPERIMENT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,254}$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,254}$")


def metric_name(value: Any, key: str) -> str:
    """A metric name (`hypersweep.spec.checks.metric_name`) that a record can also hold."""
    return checks.metric_name(check_text(value, key) if isinstance(value, str) else value, key)


def environment(key: str, given: Mapping[str, Any] | None) -> dict[str, str]:
    """Environment variables every trial gets: POSIX names, values a process can take."""
    if given is not None and not isinstance(given, Mapping):
        raise ConfigError(f"{key}: expected a mapping (got {describe(given)})")
    env = dict(given or {})
    for name, value in env.items():
        if not isinstance(name, str) or not _ENV_NAME.match(name):
            raise ConfigError(f"{key}: invalid name {describe(name)} (expected up to 255 "
                              "letters, digits and '_', not starting with a digit)")
        if not isinstance(value, str):
            raise ConfigError(f"{key}.{name}: expected a string (got {describe(value)})")
        check_text(value, f"{key}.{name}", argument=True)
    return env


def folder(key: str, path: str | os.PathLike[str]) -> Path:
    """``path`` resolved, or a `ConfigError` naming ``key`` when no path can be made of it."""
    check_text(str(path), key)
    try:
        return Path(path).expanduser().resolve()
    except (OSError, RuntimeError) as err:  # too long, a symlink loop
        reason = getattr(err, "strerror", None) or str(err)
        raise ConfigError(f"{key}: cannot be used as a folder ({reason})") from None


def path_is(path: Path, kind: str, key: str) -> bool:
    """``path.is_dir()`` (``kind="dir"``) or ``is_file()``; a path the OS refuses to look at
    (a name too long) is a `ConfigError` naming ``key``."""
    try:
        return path.is_dir() if kind == "dir" else path.is_file()
    except OSError as err:
        what = "a folder" if kind == "dir" and not key.endswith(".path") else "a path"
        raise ConfigError(f"{key}: cannot be used as {what} ({err.strerror})") from None


def metadata(name: Any = None, display_name: Any = None, description: Any = None,
             tags: Any = None) -> dict[str, Any]:
    """The v2 job's descriptive keys that are set (stored with the sweep, shown by the CLI)."""
    out: dict[str, Any] = {}
    for key, value in (("name", name), ("display_name", display_name),
                       ("description", description)):
        if value is not None:
            if not isinstance(value, str):
                raise ConfigError(f"{key}: expected a string (got {describe(value)})")
            out[key] = check_text(value, key)
    if tags:
        if not isinstance(tags, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in tags.items()
        ):
            raise ConfigError(f"tags: expected a mapping of strings to strings "
                              f"(got {describe(tags)})")
        for k, v in tags.items():
            check_text(k, f"tags: key {describe(k)}")
            check_text(v, f"tags.{k}")
        out["tags"] = dict(tags)
    return out


def executor_uri(uri: Any, key: str = "executor") -> str | None:
    """Check an ``executor`` URI (``"local"`` or ``"dask://HOST:PORT"``) without connecting."""
    if uri is None or uri == "local":
        return uri
    if not isinstance(uri, str):
        raise ConfigError(f"{key}: expected 'local' or 'dask://HOST:PORT' (got {describe(uri)})")
    from hypersweep.execution.factory import parse_dask_uri

    try:
        parse_dask_uri(uri)
    except ValueError as err:
        raise ConfigError(str(err)) from None
    return uri


def run_id(key: str, run: Any) -> str:
    """A sweep or trial id: a run object (anything with ``.id``) or its ``HD_…`` string."""
    found = getattr(run, "id", run)
    if not isinstance(found, str) or not found.startswith("HD_"):
        raise ConfigError(f"{key}: expected a sweep or trial run or its 'HD_…' id "
                          f"(got {describe(run)})")
    return found


def experiment_name(name: Any, key: str = "name") -> str:
    """An experiment name (see `EXPERIMENT_NAME`); ``key`` may be empty (a name taken from
    the file's name)."""
    if not isinstance(name, str) or not EXPERIMENT_NAME.match(name):
        prefix = f"{key}: " if key else ""
        raise ConfigError(f"{prefix}experiment names are 1-255 letters, digits, '_', '-' or "
                          f"'.', starting with a letter or digit (got {describe(name)})")
    return name
