"""to_dict / policy_from_dict round trips and validation messages, word for word."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest
import yaml

from hypersweep.errors import ConfigError
from hypersweep.policies import (
    AshaPolicy,
    BanditPolicy,
    EarlyTerminationPolicy,
    HyperbandPolicy,
    MedianStoppingPolicy,
    NoTerminationPolicy,
    TruncationSelectionPolicy,
    policy_from_dict,
)

ALL: list[EarlyTerminationPolicy] = [
    BanditPolicy(slack_factor=0.1, evaluation_interval=1, delay_evaluation=5),
    BanditPolicy(slack_amount=0.2, evaluation_interval=3),
    MedianStoppingPolicy(evaluation_interval=1, delay_evaluation=5),
    TruncationSelectionPolicy(20, evaluation_interval=2, delay_evaluation=4,
                              exclude_finished_jobs=True),
    AshaPolicy(),
    AshaPolicy(min_resource=2, max_resource=50, reduction_factor=4, min_early_stopping_rate=1),
    HyperbandPolicy(),
    HyperbandPolicy(min_resource=1, max_resource=27, reduction_factor=3),
    NoTerminationPolicy(),
]


@pytest.mark.parametrize("policy", ALL, ids=repr)
def test_round_trip(policy: EarlyTerminationPolicy) -> None:
    data = policy.to_dict()
    assert policy_from_dict(data) == policy
    assert policy_from_dict(yaml.safe_load(yaml.safe_dump(data))).to_dict() == data


def test_v2_forms() -> None:
    assert BanditPolicy(slack_factor=0.1, delay_evaluation=5).to_dict() == {
        "type": "bandit", "slack_factor": 0.1, "evaluation_interval": 1, "delay_evaluation": 5}
    assert policy_from_dict(yaml.safe_load(
        "{type: median_stopping, evaluation_interval: 1, delay_evaluation: 5}")) \
        == MedianStoppingPolicy(delay_evaluation=5)
    assert policy_from_dict({"type": "truncation_selection", "truncation_percentage": 20.0}) \
        .to_dict() == {"type": "truncation_selection", "truncation_percentage": 20,
                       "evaluation_interval": 1, "delay_evaluation": 0,
                       "exclude_finished_jobs": False}
    assert policy_from_dict({"type": "Bandit", "slack_amount": 1}).slack_amount == 1  # type: ignore[attr-defined]
    assert policy_from_dict("asha") == AshaPolicy()
    assert policy_from_dict(None) == NoTerminationPolicy()
    assert policy_from_dict({"type": "none"}) == NoTerminationPolicy()
    p = BanditPolicy(slack_factor=0.2)
    assert policy_from_dict(p) is p


@pytest.mark.parametrize(("make", "message"), [
    (lambda: BanditPolicy(), "slack_factor: BanditPolicy expects exactly one of slack_factor and "
                             "slack_amount (got neither)"),
    (lambda: BanditPolicy(slack_factor=0.1, slack_amount=0.2),
     "slack_factor: BanditPolicy expects exactly one of slack_factor and slack_amount "
     "(got both: slack_factor=0.1, slack_amount=0.2)"),
    (lambda: BanditPolicy(slack_factor=0), "slack_factor: expected a finite number > 0 (got 0)"),
    (lambda: BanditPolicy(slack_amount=-1.0),
     "slack_amount: expected a finite number > 0 (got -1.0)"),
    (lambda: BanditPolicy(slack_factor="0.1"),
     "slack_factor: expected a finite number > 0 (got '0.1')"),
    (lambda: BanditPolicy(slack_factor=float("inf")),
     "slack_factor: expected a finite number > 0 (got inf)"),
    (lambda: BanditPolicy(slack_amount=10**400),
     f"slack_amount: expected a finite number > 0 (got {'1' + '0' * 76}...)"),
    (lambda: BanditPolicy(slack_factor=float("nan")),
     "slack_factor: expected a finite number > 0 (got nan)"),
    (lambda: MedianStoppingPolicy(evaluation_interval=10**400),
     f"evaluation_interval: expected an integer from 1 to 9007199254740992 "
     f"(got {'1' + '0' * 76}...)"),
    (lambda: MedianStoppingPolicy(delay_evaluation=2**53 + 1),
     "delay_evaluation: expected an integer from 0 to 9007199254740992 (got 9007199254740993)"),
    (lambda: AshaPolicy(max_resource=1e400),
     "max_resource: expected an integer from 1 to 9007199254740992 (got inf)"),
    (lambda: HyperbandPolicy(max_resource=10**400),
     f"max_resource: expected an integer from 1 to 9007199254740992 (got {'1' + '0' * 76}...)"),
    (lambda: TruncationSelectionPolicy(10**400),
     f"truncation_percentage: expected an integer from 1 to 99 (got {'1' + '0' * 76}...)"),
    (lambda: BanditPolicy(slack_factor=0.1, evaluation_interval=0),
     "evaluation_interval: expected an integer >= 1 (got 0)"),
    (lambda: MedianStoppingPolicy(evaluation_interval=1.5),
     "evaluation_interval: expected an integer >= 1 (got 1.5)"),
    (lambda: MedianStoppingPolicy(delay_evaluation=-1),
     "delay_evaluation: expected an integer >= 0 (got -1)"),
    (lambda: MedianStoppingPolicy(delay_evaluation=True),
     "delay_evaluation: expected an integer >= 0 (got True)"),
    (lambda: TruncationSelectionPolicy(0),
     "truncation_percentage: expected an integer from 1 to 99 (got 0)"),
    (lambda: TruncationSelectionPolicy(100),
     "truncation_percentage: expected an integer from 1 to 99 (got 100)"),
    (lambda: TruncationSelectionPolicy(12.5),
     "truncation_percentage: expected an integer from 1 to 99 (got 12.5)"),
    (lambda: TruncationSelectionPolicy(10, exclude_finished_jobs="yes"),
     "exclude_finished_jobs: expected true or false (got 'yes')"),
    (lambda: AshaPolicy(reduction_factor=1), "reduction_factor: expected an integer >= 2 (got 1)"),
    (lambda: AshaPolicy(min_resource=0), "min_resource: expected an integer >= 1 (got 0)"),
    (lambda: AshaPolicy(min_resource=3, max_resource=3),
     "max_resource: expected an integer > min_resource 3 (got 3)"),
    (lambda: HyperbandPolicy(reduction_factor=0),
     "reduction_factor: expected an integer >= 2 (got 0)"),
])
def test_validation_messages(make: Any, message: str) -> None:
    with pytest.raises(ConfigError) as err:
        make()
    assert str(err.value) == message


@pytest.mark.parametrize(("mapping", "message"), [
    ({"type": "bandit", "slack_factor": -1},
     "early_termination.slack_factor: expected a finite number > 0 (got -1)"),
    ({"type": ["bandit"], "slack_factor": 0.1},
     "early_termination.type: unknown policy ['bandit'] (expected one of bandit, "
     "median_stopping, truncation_selection, asha, hyperband, none)"),
    ({"type": {"a": 1}}, "early_termination.type: unknown policy {'a': 1} (expected one of "
                         "bandit, median_stopping, truncation_selection, asha, hyperband, none)"),
    ({"type": "bandit", ("k",): 1}, "early_termination: unknown key ('k',) for bandit "
     "(expected type, slack_factor, slack_amount, evaluation_interval, delay_evaluation)"),
    ({"type": "bandit", "slack_factr": 0.1},
     "early_termination: unknown key 'slack_factr' for bandit (did you mean 'slack_factor'? "
     "expected type, slack_factor, slack_amount, evaluation_interval, delay_evaluation)"),
    ({"type": "median_stopping", "delay": 5},
     "early_termination: unknown key 'delay' for median_stopping (expected type, "
     "evaluation_interval, delay_evaluation)"),
    ({"type": "bandt", "slack_factor": 0.1},
     "early_termination.type: unknown policy 'bandt' (did you mean 'bandit'? expected one of "
     "bandit, median_stopping, truncation_selection, asha, hyperband, none)"),
    ({"slack_factor": 0.1},
     "early_termination: missing key 'type' (expected one of bandit, median_stopping, "
     "truncation_selection, asha, hyperband, none)"),
    ({"type": "truncation_selection"},
     "early_termination.truncation_percentage: required for truncation_selection"),
    ({"type": "truncation_selection", "truncation_percentage": 120},
     "early_termination.truncation_percentage: expected an integer from 1 to 99 (got 120)"),
    ([1, 2], "early_termination: expected a mapping with a 'type' key (got [1, 2])"),
])
def test_from_dict_messages(mapping: Any, message: str) -> None:
    with pytest.raises(ConfigError) as err:
        policy_from_dict(mapping)
    assert str(err.value) == message


def test_every_type_names_the_class_that_loads_for_it() -> None:
    # The type -> module table is written by hand so no policy loads before it is named.
    from hypersweep.policies.serialize import POLICIES, POLICY_TYPES, policy_class

    assert {kind: policy_class(kind).type for kind in POLICY_TYPES} == {
        kind: kind for kind in POLICY_TYPES}
    assert set(POLICIES) == set(POLICY_TYPES)


def test_no_policy_loads_no_policy_module() -> None:
    code = ("import sys; from hypersweep.policies import policy_from_dict, policy_note; "
            "policy_from_dict(None); policy_note(None, ['a']); "
            "print(sorted(m for m in sys.modules if m.startswith('hypersweep.policies.')))")
    loaded = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                            text=True).stdout
    for module in ("asha", "bandit", "hyperband", "median", "truncation", "ranking"):
        assert f"hypersweep.policies.{module}'" not in loaded
