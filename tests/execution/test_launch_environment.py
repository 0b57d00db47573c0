"""A launch's environment: the copy of the process's own follows every change to it, and what
Popen refuses is refused alike, with the first offending item's reason."""

from __future__ import annotations

import os

import pytest

from hypersweep.execution.launcher import check_exec_arguments
from hypersweep.execution.local import _environment


def test_the_copy_follows_the_process_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert _environment() == dict(os.environ)
    monkeypatch.setenv("HS_TEST_ENV", "one")
    assert _environment()["HS_TEST_ENV"] == "one"
    monkeypatch.setenv("HS_TEST_ENV", "two")
    copy = _environment()
    assert copy == dict(os.environ) and copy["HS_TEST_ENV"] == "two"
    copy["HS_TEST_ENV"] = "changed by a caller"
    copy["HS_OTHER"] = "added by a caller"
    again = _environment()  # a fresh copy: a caller's changes stay its own
    assert again["HS_TEST_ENV"] == "two" and "HS_OTHER" not in again
    monkeypatch.delenv("HS_TEST_ENV")
    assert "HS_TEST_ENV" not in _environment()
    assert _environment() == dict(os.environ)


@pytest.mark.parametrize(("env", "argv", "reason"), [
    ({"A": "1", "B": ""}, ["ls", ""], None),
    ({"": "1"}, ["ls"], "illegal environment variable name"),
    ({"A=B": "1"}, ["ls"], "illegal environment variable name"),
    ({"A\0": "1"}, ["ls"], "embedded null byte"),
    ({"A": "1\0"}, ["ls"], "embedded null byte"),
    ({"A": "1\0", "B=C": "1"}, ["ls"], "embedded null byte"),  # the first item's reason
    ({"B=C": "1", "A": "1\0"}, ["ls"], "illegal environment variable name"),
    ({"A": "1"}, ["l\0s"], "embedded null byte"),
])
def test_refused_as_popen_refuses(env: dict[str, str], argv: list[str],
                                  reason: str | None) -> None:
    if reason is None:
        check_exec_arguments(argv, env)
        return
    with pytest.raises(ValueError, match=reason):
        check_exec_arguments(argv, env)
