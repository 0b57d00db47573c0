"""The failure rules and error lines shared by script and function sweeps (no processes)."""

from __future__ import annotations

from datetime import datetime, timezone

from hypersweep.engine.failures import FailureRule, error_line, exit_error
from hypersweep.store import Status, TrialRecord

NOW = datetime.now(timezone.utc)


def ended(index: int, status: Status = Status.FAILED, error: str | None = None,
          reason: str | None = None) -> TrialRecord:
    trial_id = f"HD_abc_{index}"
    if error is None and status == Status.FAILED:
        error = f"exit code 2: python: can't open file '/ws/runs/{trial_id}/work/trian.py'"
    return TrialRecord(trial_id, "HD_abc", index, {}, status, NOW, error=error,
                       termination_reason=reason)


def verdicts(rule: FailureRule, records: list[TrialRecord]) -> list[str | None]:
    return [rule.ended(r) for r in records]


def test_error_line_is_the_last_printable_line_bounded() -> None:
    assert error_line("Traceback (most recent call last):\n  x\nValueError: bad\n\n  \n") == \
        "ValueError: bad"
    assert error_line("\x1b[2Jclear\x00me\x07") == "[2Jclear me"
    long = error_line("é" * 5000)
    assert len(long) == 300 and long.endswith("…")
    assert error_line(None) == error_line("") == error_line("\n \n") == ""


def test_exit_error_reads_as_one_line() -> None:
    tail = "warming up\nTraceback (most recent call last):\n  File x\nKeyError: 'lr'\n"
    assert exit_error(1, tail, None) == "exit code 1: KeyError: 'lr'"
    assert exit_error(-15, "", None) == "killed by signal 15"
    assert exit_error(0, "", "diverged\nat step 3") == \
        "the script called run.fail(): at step 3"
    assert exit_error(None, "", None).startswith("the trial ended while no controller")


def test_the_first_three_alike_fire_even_when_their_paths_name_each_trial() -> None:
    rule = FailureRule(None)
    out = verdicts(rule, [ended(0), ended(1), ended(2), ended(3)])
    assert out[:2] == [None, None] and out[2] == out[3]
    assert out[2] is not None and "HD_abc_0" in out[2]
    assert out[2].startswith("the first 3 trials failed with the same error: exit code 2")


def test_the_first_three_rule_stays_quiet_once_a_trial_succeeded_or_errors_differ() -> None:
    ok_first = FailureRule(None)
    assert verdicts(ok_first, [ended(0, Status.COMPLETED)] + [ended(i) for i in range(1, 9)]) \
        == [None] * 9
    different = FailureRule(None)
    records = [ended(0), ended(1, error="exit code 1: KeyError: 'lr'"), ended(2), ended(3)]
    assert verdicts(different, records) == [None] * 4
    canceled = FailureRule(None)
    assert verdicts(canceled, [ended(0), ended(1, Status.CANCELED), ended(2), ended(3)]) == \
        [None] * 4


def test_orphaned_trials_count_for_no_rule() -> None:
    orphan = "the trial's process ended while no controller watched it"
    rule = FailureRule(None)
    records = [ended(i, error=orphan, reason="orphaned") for i in range(5)]
    assert verdicts(rule, records) == [None] * 5
    capped = FailureRule(2)
    assert verdicts(capped, records) == [None] * 5


def test_a_cap_replaces_the_first_three_rule_and_names_the_last_error() -> None:
    rule = FailureRule(4)
    records = [ended(0), ended(1), ended(2), ended(3, Status.COMPLETED),
               ended(4, error="exit code 1: MemoryError")]
    out = verdicts(rule, records)
    assert out[:4] == [None] * 4
    assert out[4] == ("4 trials failed (max_failed_runs = 4); stopping the sweep. "
                      "The last error: exit code 1: MemoryError")
    assert rule.ended(ended(5, Status.COMPLETED)) == out[4]  # a verdict stays
