"""A ``${{...}}`` reference is exactly one argument, whatever quotes the user put around it.

Users write ``--name "${{search_space.name}}"`` or ``'${{search_space.name}}'`` out of habit;
a value must still arrive as the one argument it is (no literal quotes, no splitting) and no
value may ever run as shell code. These tests run real ``/bin/sh`` on real payloads.
"""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from hypersweep import Experiment, HyperDriveConfig, Workspace
from hypersweep.api.config import CommandJob
from hypersweep.controller.commands import ShellCommand
from hypersweep.errors import ConfigError
from hypersweep.sampling import GridParameterSampling
from hypersweep.space import choice

PRINT_ARGV = "import json, sys; print(json.dumps(sys.argv[1:]))"
PYTHON = shlex.quote(sys.executable)


def payloads(marker: Path) -> list[str]:
    """Values that break naive quoting; each would create ``marker`` if it ran as code."""
    touch = f"touch {marker}"
    return [
        f"a'; {touch}; '",          # closes a single quote
        f'a"; {touch}; "',          # closes a double quote
        f"$({touch})",              # command substitution
        f"`{touch}`",               # old-style command substitution
        f"; {touch}",               # command separator
        f"x\n{touch}",              # newline separator
        f"\\'; {touch}; \\",        # backslashes around a quote
        "back\\slash\\",            # trailing backslash
        "a b  c\td",                # blanks
        "*",                        # a glob
        "-n",                       # an option of echo
        f"&& {touch} || {touch} | {touch} &",
        "$HOME ${PATH} $1 $@",      # parameters
        "~/x",                      # tilde
        "",                         # the empty argument
        "héllo ✓ ${{search_space.p}}",  # unicode, and a reference inside a value
        # values written in place rather than through a variable (nothing in them is special)
        "0.001", "-1e-06", "log_loss", "a/b.c:d,e@f%g+h",
    ]


CONTEXTS = {
    "unquoted": ("python -c {code} ${{{{search_space.p}}}}", "{v}"),
    "double-quoted": ('python -c {code} "${{{{search_space.p}}}}"', "{v}"),
    "single-quoted": ("python -c {code} '${{{{search_space.p}}}}'", "{v}"),
    "inside a double-quoted word": ('python -c {code} "--p=${{{{search_space.p}}}}!"',
                                    "--p={v}!"),
    "inside a single-quoted word": ("python -c {code} '--p=${{{{search_space.p}}}}!'",
                                    "--p={v}!"),
    "glued to an unquoted word": ("python -c {code} --p=${{{{search_space.p}}}}", "--p={v}"),
    "after a comment with an apostrophe": (
        "# don't quote me; this comment's quotes are not shell quotes\n"
        "python -c {code} ${{{{search_space.p}}}}", "{v}"),
}


def _run(command: str, params: dict[str, object], cwd: Path,
         inputs: dict[str, object] | None = None,
         outputs: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    # "python" in the commands above is this interpreter, whatever PATH says
    shell = ShellCommand(command.replace("python -c", f"{PYTHON} -c"), inputs, outputs)
    return subprocess.run(shell.argv(shell.arguments(params)), cwd=cwd, capture_output=True,
                          text=True, timeout=30)


@pytest.mark.parametrize("context", list(CONTEXTS))
def test_each_payload_is_one_argument_in_every_quoting_context(
    tmp_path: Path, context: str,
) -> None:
    marker = tmp_path / "pwned"
    template, expected = CONTEXTS[context]
    command = template.format(code=f"'{PRINT_ARGV}'")
    for value in payloads(marker):
        done = _run(command, {"p": value}, tmp_path)
        assert done.returncode == 0, (value, done.stderr)
        assert json.loads(done.stdout) == [expected.format(v=value)], value
        assert not marker.exists(), value


def test_plain_values_are_written_in_place_and_others_through_a_variable() -> None:
    shell = ShellCommand("python t.py --lr ${{search_space.lr}} --kind '${{search_space.k}}'")
    assert shell.arguments({"lr": 0.001, "k": "rbf"}) == ["python t.py --lr 0.001 --kind 'rbf'"]
    line = shell.arguments({"lr": 0.001, "k": "a b"})[0]
    assert line == "__hs_k='a b'; python t.py --lr 0.001 --kind ''\"${__hs_k}\"''"
    # '=' could turn a command's first word into an assignment: never written in place
    assert shell.arguments({"lr": "a=b", "k": "x"})[0].startswith("__hs_lr=")


def test_inputs_and_outputs_are_one_argument_too(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    for value in payloads(marker):
        command = (f"python -c '{PRINT_ARGV}' ${{{{inputs.a}}}} \"${{{{inputs.a}}}}\" "
                   f"'${{{{inputs.a}}}}' '${{{{outputs.model}}}}' \"${{{{outputs.model}}}}\"")
        done = _run(command, {}, tmp_path, inputs={"a": value},
                    outputs={"model": "outputs/model"})
        assert json.loads(done.stdout) == [value] * 3 + ["outputs/model"] * 2, value
        assert not marker.exists(), value


def test_nested_shell_syntax_keeps_values_inert(tmp_path: Path) -> None:
    """Command substitution, here-documents and ${var:-...} around a reference."""
    marker = tmp_path / "pwned"
    command = (
        f"python -c '{PRINT_ARGV}' \"$(printf %s ${{{{search_space.p}}}})\" "
        "\"${UNSET_VAR:-${{search_space.p}}}\"\n"
        "cat <<EOF\n[${{search_space.p}}]\nEOF\n"
        "cat <<-EOF\n\t[${{search_space.p}}]\n\tEOF\n"
    )
    for value in payloads(marker):
        if "\n" in value:
            continue  # the output is read line by line
        done = _run(command, {"p": value}, tmp_path)
        lines = done.stdout.split("\n")
        assert json.loads(lines[0]) == [value] * 2, (value, done.stderr)
        assert lines[1:] == [f"[{value}]", f"[{value}]", ""], value
        assert not marker.exists(), value


def test_a_reference_in_a_quoted_here_document_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        CommandJob("cat <<'EOF'\n${{inputs.a}}\nEOF", code=tmp_path, inputs={"a": 1})
    assert str(caught.value) == (
        "trial.command: ${{inputs.a}} is inside a quoted here-document (<<'EOF'), where no "
        "value can be substituted safely; write the delimiter unquoted (<<EOF)")


def test_the_recorded_command_runs_by_hand(tmp_path: Path) -> None:
    """The recorded line is self-contained: pasted into a shell it runs the same trial."""
    shell = ShellCommand(f"{PYTHON} -c 'import sys; print(sys.argv[1:])' "
                         "\"${{search_space.p}}\"")
    [line] = shell.arguments({"p": "it's 1"})
    done = subprocess.run(["/bin/sh", "-c", line], capture_output=True, text=True, timeout=30)
    assert done.stdout == '["it\'s 1"]\n'


def test_a_whole_sweep_delivers_every_payload(tmp_path: Path) -> None:
    """Real controller, real trials: each trial's argv holds its value three times."""
    marker = tmp_path / "pwned"
    values = payloads(marker)
    code = tmp_path / "code"
    code.mkdir()
    (code / "argv.py").write_text(
        "import json, os, sys\n"
        "from hypersweep import Run\n"
        "open(os.path.join(os.environ['HYPERSWEEP_OUTPUTS'], 'argv.json'), 'w')"
        ".write(json.dumps(sys.argv[1:]))\n"
        "Run.get_context().log('m', 1.0)\n")
    job = CommandJob(f"{sys.executable} argv.py ${{{{search_space.p}}}} "
                     "\"${{search_space.p}}\" '${{search_space.p}}'", code=code)
    config = HyperDriveConfig(GridParameterSampling({"p": choice(values)}), "m", "maximize",
                              len(values), max_concurrent_runs=4, run_config=job)
    run = Experiment(Workspace(tmp_path / "ws"), "quoting").submit(config)
    run.wait_for_completion()
    seen = {}
    for child in run.get_children():
        got = json.loads((child.outputs_path / "argv.json").read_text())
        seen[child.get_hyperparameters()["p"]] = got
    assert seen == {v: [v, v, v] for v in values}
    assert not marker.exists()
