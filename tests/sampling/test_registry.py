"""Samplers register by v2 ``type``; sampler_from_dict builds them without knowing the classes."""

from __future__ import annotations

import ast
import inspect
from collections.abc import Mapping, Sequence
from typing import Any

import pytest

from hypersweep.errors import ConfigError
from hypersweep.sampling import SAMPLERS, FinishedTrial, Sampler, sampler_from_dict
from hypersweep.sampling import base as sampling_base
from hypersweep.sampling.base import register_sampler
from hypersweep.space import choice

SPACE = {"a": choice(1, 2, 3)}


def test_built_in_types_in_listing_order() -> None:
    assert list(SAMPLERS)[:4] == ["random", "grid", "bayesian", "tpe"]
    for kind, cls in SAMPLERS.items():
        assert cls.kind == kind
        assert sampler_from_dict(kind, SPACE).to_dict()["type"] == kind


def test_from_dict_does_not_import_the_concrete_samplers() -> None:
    tree = ast.parse(inspect.getsource(sampling_base))
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert not {m for m in imported if m and m.startswith("hypersweep.sampling.")}


@pytest.mark.parametrize(("data", "message"), [
    ("randm", "sampling_algorithm: unknown type 'randm' (did you mean 'random'? expected "
              "random, grid, bayesian or tpe)"),
    ("halton", "sampling_algorithm: unknown type 'halton' (expected random, grid, bayesian "
               "or tpe)"),
    ({"type": ["grid"]}, "sampling_algorithm: unknown type ['grid']"),
    ({"type": "tpe", "n_inital": 3}, "sampling_algorithm: unknown key 'n_inital' for tpe "
                                     "(did you mean 'n_initial'? expected type, seed, "
                                     "n_initial)"),
    ({"type": "grid", 7: 1}, "sampling_algorithm: unknown key 7 for grid (expected type)"),
])
def test_unknown_names_get_a_suggestion(data: object, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        sampler_from_dict(data, SPACE)
    assert str(info.value).startswith(message)


class _FirstOption(Sampler):
    """Always the first option of each parameter: a sampler registered from outside."""

    kind = "first-option"
    settings = ("repeat",)

    def __init__(self, parameter_space: Any, repeat: int = 1) -> None:
        self.space = sampling_base.as_space(parameter_space)
        self.repeat = repeat

    def propose(self, n: int, finished: Sequence[FinishedTrial] = (),
                pending: Sequence[Mapping[str, Any]] = ()) -> list[dict[str, Any]]:
        return [{name: 1 for name in self.space}] * min(n, self.repeat)

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.kind, "repeat": self.repeat}


def test_a_new_sampler_is_one_registration(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(SAMPLERS, "first-option", _FirstOption)
    sampler = sampler_from_dict({"type": "First-Option", "repeat": 2}, SPACE)
    assert sampler.preview(5) == [{"a": 1}, {"a": 1}]
    with pytest.raises(ValueError, match="'grid' is already registered"):
        register_sampler(type("OtherGrid", (_FirstOption,), {"kind": "grid"}))
