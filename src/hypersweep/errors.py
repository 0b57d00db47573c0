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
