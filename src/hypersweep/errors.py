"""Exceptions shared by every layer of hypersweep."""

from __future__ import annotations


class ConfigError(ValueError):
    """A search space, sampling method, policy or sweep configuration is invalid.

    The message always names the offending key (a parameter name or config key) and the
    rule it breaks, e.g. ``"learning_rate: uniform expects min_value < max_value (got 1.0, 0.5)"``.
    Raised before any trial starts.

    Examples
    --------
    >>> from hypersweep import uniform
    >>> try:
    ...     uniform(1.0, 0.5)
    ... except ConfigError as err:
    ...     print(err)
    uniform expects min_value < max_value (got 1.0, 0.5)
    """


class StoreError(RuntimeError):
    """The record store could not be opened, migrated or written."""


class SweepBusyError(RuntimeError):
    """Another live controller drives the sweep: at most one may (the claim is atomic).

    The message names that controller's host and pid, e.g.
    ``"sweep HD_… is driven by a live controller (gpu-box, pid 4242)"``.
    """


class SweepEndedError(RuntimeError):
    """The sweep has ended, so it cannot be resumed; a new sweep can warm-start from it."""
