"""The v2 ``early_termination`` mapping form: `policy_from_dict`, the inverse of ``to_dict``.

Examples
--------
>>> policy_from_dict({"type": "bandit", "slack_factor": 0.1, "delay_evaluation": 5})
BanditPolicy(slack_factor=0.1, slack_amount=None, evaluation_interval=1, delay_evaluation=5)
>>> policy_from_dict(None)
NoTerminationPolicy()
"""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from hypersweep.errors import ConfigError
from hypersweep.policies.base import EarlyTerminationPolicy
from hypersweep.policies.none import NoTerminationPolicy
from hypersweep.space.values import describe, did_you_mean

# v2 ``type`` -> (module, class). A policy's module is imported when its type is first named,
# so a sweep with no policy, or with one given as an object, loads none of the others.
_CLASSES = {
    "bandit": (".bandit", "BanditPolicy"),
    "median_stopping": (".median", "MedianStoppingPolicy"),
    "truncation_selection": (".truncation", "TruncationSelectionPolicy"),
    "asha": (".asha", "AshaPolicy"),
    "hyperband": (".hyperband", "HyperbandPolicy"),
    "none": (".none", "NoTerminationPolicy"),
}

if TYPE_CHECKING:
    POLICIES: dict[str, type[EarlyTerminationPolicy]]
    """v2 ``type`` to class (every policy module imported)."""


def policy_class(kind: str) -> type[EarlyTerminationPolicy]:
    """The policy class of a v2 ``type`` (one of `POLICY_TYPES`), its module imported now.

    Examples
    --------
    >>> policy_class("bandit").__name__
    'BanditPolicy'
    """
    module, name = _CLASSES[kind]
    cls: type[EarlyTerminationPolicy] = getattr(
        importlib.import_module(module, "hypersweep.policies"), name)
    return cls


POLICY_TYPES = tuple(_CLASSES)
"""The v2 ``type`` names, in the order errors list them."""


def __getattr__(name: str) -> Any:
    if name == "POLICIES":
        return {kind: policy_class(kind) for kind in POLICY_TYPES}
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

_ALIASES = {"no_termination": "none", "median": "median_stopping",
            "truncation": "truncation_selection"}





def policy_from_dict(mapping: Any) -> EarlyTerminationPolicy:
    """Build a policy from its v2 ``early_termination`` mapping.

    ``None`` (and ``{"type": "none"}``) mean no policy; a policy object is returned as is; a
    bare string is a ``type`` with no settings. Every error is a :class:`ConfigError` whose
    message starts with ``early_termination`` and names the key.

    Examples
    --------
    >>> policy_from_dict({"type": "bandit", "slack_factr": 0.1})
    Traceback (most recent call last):
      ...
    hypersweep.errors.ConfigError: early_termination: unknown key 'slack_factr' for bandit \
(did you mean 'slack_factor'? expected type, slack_factor, slack_amount, evaluation_interval, \
delay_evaluation)
    """
    if mapping is None:
        return NoTerminationPolicy()
    if isinstance(mapping, EarlyTerminationPolicy):
        return mapping
    data: dict[Any, Any]
    if isinstance(mapping, str):
        data = {"type": mapping}
    elif isinstance(mapping, Mapping):
        data = dict(mapping)
    else:
        raise ConfigError(f"early_termination: expected a mapping with a 'type' key "
                          f"(got {describe(mapping)})")
    if "type" not in data:
        raise ConfigError(f"early_termination: missing key 'type' "
                          f"(expected one of {', '.join(POLICY_TYPES)})")
    raw = data.pop("type")
    # YAML may give any value here, a list included (unhashable: no dict lookups with it)
    kind = raw.strip().lower() if isinstance(raw, str) else ""
    kind = _ALIASES.get(kind, kind)
    if kind not in _CLASSES:
        hint = did_you_mean(kind, list(POLICY_TYPES)) if kind else ""
        raise ConfigError(f"early_termination.type: unknown policy {describe(raw)} "
                          f"({hint}expected one of {', '.join(POLICY_TYPES)})")
    cls = policy_class(kind)
    keys = [f.name for f in dataclasses.fields(cls)]  # type: ignore[arg-type]
    for key in data:
        if key not in keys:
            hint = did_you_mean(key, keys) if isinstance(key, str) else ""
            expected = ", ".join(["type", *keys])
            raise ConfigError(f"early_termination: unknown key {describe(key)} for {kind} "
                              f"({hint}expected {expected})")
    try:
        return cls(**data)
    except ConfigError as err:
        raise ConfigError(f"early_termination.{err}") from None
    except TypeError as err:  # a required key is missing
        missing = [f.name for f in dataclasses.fields(cls)  # type: ignore[arg-type]
                   if f.name not in data and f.default is dataclasses.MISSING]
        if missing:
            raise ConfigError(f"early_termination.{missing[0]}: required for {kind}") from None
        raise ConfigError(f"early_termination: {err}") from None
