"""What a sweep shows of itself while it runs and when displayed: one snapshot, two views.

`SweepProgress` is the live view `HyperDriveRun.wait_for_completion(show_output=True)` shows.
In a terminal: a live table (counts by status, the best so far, the latest trials; when the
sweep has ended, its best trials). Piped to a file: the same, printed once at the end, wide
enough that no line breaks mid-phrase. In a notebook without ``ipywidgets`` (which rich's
live display needs there): one plain progress line, updated in place.

`summary_html` is the same snapshot as the HTML a notebook shows for a `HyperDriveRun`
(charts are `hypersweep.viz`'s, which reads the same records).
"""

from __future__ import annotations

import html
import importlib.util
import sys
from collections import Counter
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Protocol

from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

if TYPE_CHECKING:
    from hypersweep.spec import SweepSpec
    from hypersweep.store import Store, SweepRecord


class SweepRun(Protocol):
    """What the views read of a sweep: its id, its store, its spec and its ranked trials
    (a `HyperDriveRun` is one; the views do not name it, so it may name them)."""

    @property
    def id(self) -> str: ...

    @property
    def store(self) -> Store: ...

    @property
    def spec(self) -> SweepSpec: ...

    def get_children_sorted_by_primary_metric(self) -> list[dict[str, Any]]: ...

_STATUS_STYLE = {
    "Queued": "dim", "Running": "cyan", "Completed": "green", "Failed": "red",
    "Canceled": "yellow",
}

#: Columns of the view when it is not a terminal (a file, a pipe, CI logs): wide enough for
#: a sweep id, counts and the budget on one line.
PIPED_WIDTH = 160

# Azure's max_duration_minutes default (7 days): every script sweep records a timeout, and
# this one means the user set none, so there is nothing worth counting down.
_DEFAULT_TIMEOUT_S = 10080 * 60.0


def _format(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def _duration(seconds: float) -> str:
    """``75`` → ``1m15s``: short enough for one status line."""
    seconds = max(0, int(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m"
    return f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"


def _budget(sweep: SweepRecord, spec: SweepSpec, started: int) -> str:
    """Elapsed time and what is left of the budget (trials to start, time to a timeout the
    user set). A sweep without a trial budget (``Sweep``/``tune`` without
    ``max_total_runs``) says so instead of counting down."""
    if sweep.start_time is None:
        return "not started"
    end = sweep.end_time or datetime.now(timezone.utc)
    elapsed = (end - sweep.start_time).total_seconds()
    total = spec.limits.max_total_trials
    left = "no trial budget" if total is None else f"{max(total - started, 0)} trials left"
    text = f"elapsed {_duration(elapsed)}  {left}"
    timeout = spec.limits.timeout
    if timeout is not None and timeout != _DEFAULT_TIMEOUT_S and sweep.end_time is None:
        text += f"  {_duration(timeout - elapsed)} left of the timeout"
    return text


def _of_total(count: int, total: int | None) -> str:
    """``3/20 trials``, or ``3 trials`` when the sweep has no trial budget."""
    return f"{count} trials" if total is None else f"{count}/{total} trials"


def last_line(error: str | None) -> str:
    """The line of a trial's error worth showing in a table: its last non-empty one (the
    controller records ``exit code N: <last line of stderr>``)."""
    lines = [line.strip() for line in (error or "").splitlines() if line.strip()]
    return lines[-1] if lines else ""


def _console() -> Console:
    console = Console()
    if not console.is_terminal and not console.is_jupyter:
        console = Console(width=max(console.width, PIPED_WIDTH))
    return console


def _notebook_without_widgets(console: Console) -> bool:
    return console.is_jupyter and importlib.util.find_spec("ipywidgets") is None


class _Snapshot:
    """What the view shows at one moment, read from the store once."""

    def __init__(self, run: SweepRun) -> None:
        store = run.store
        self.run_id = run.id
        self.sweep = store.get_sweep(run.id)
        self.trials = store.list_trials(run.id)
        self.spec = run.spec
        self.metric = self.spec.objective.metric
        self.goal = self.spec.objective.goal
        self.total = self.spec.limits.max_total_trials
        self.rows = run.get_children_sorted_by_primary_metric()
        self.counts = Counter(t.status.value for t in self.trials)
        scored = [r for r in self.rows if r["best_primary_metric"] is not None]
        if self.spec.constraints:  # the best so far is a feasible trial
            from hypersweep.spec import sweep_outcomes

            feasible = {o.trial_id for o in sweep_outcomes(store, run.id, self.spec)
                        if o.feasible}
            scored = [r for r in scored if r["run_id"] in feasible]
        self.best = scored[0] if scored else None

    def budget(self) -> str:
        return _budget(self.sweep, self.spec, len(self.trials))

    def best_text(self) -> str:
        if self.best is None:
            return "none yet"
        text = f"{_format(self.best['best_primary_metric'])} (trial {self.best['run_id']}"
        if self.best["status"] == "Failed":  # its metric was logged before it failed
            text += ", Failed"
        return text + ")"

    def line(self) -> str:
        """The whole state in one plain line (the notebook fallback)."""
        counts = ", ".join(f"{n} {s}" for s, n in sorted(self.counts.items()))
        return (f"{self.run_id}  {self.sweep.status.value}  "
                f"{_of_total(len(self.trials), self.total)} ({counts or 'none yet'})  "
                f"best {self.metric}: {self.best_text()}  {self.budget()}")


class SweepProgress:
    """A live table of a sweep's trials: counts by status, best so far, the latest trials."""

    max_rows = 12

    def __init__(self, run: SweepRun, console: Console | None = None) -> None:
        self.run = run
        self.console = console or _console()
        self._live: Live | None = None
        self._line: _ProgressLine | None = None
        if _notebook_without_widgets(self.console):
            self._line = _ProgressLine()
            self._line.show(_Snapshot(run).line())
        else:
            self._live = Live(self._render(), console=self.console, refresh_per_second=4,
                              transient=False)
            self._live.start()

    def _render(self, final: bool = False) -> Group:
        snap = _Snapshot(self.run)
        sweep = snap.sweep
        head = Text.assemble(
            (f"{snap.run_id}", "bold"), f"  {sweep.status.value}  ",
            f"{_of_total(len(snap.trials), snap.total)}  ",
            *[(f"{n} {s}  ", _STATUS_STYLE.get(s, "")) for s, n in sorted(snap.counts.items())],
            no_wrap=True, overflow="ellipsis",
        )
        head.append(snap.budget(), style="dim")
        best_line = Text(f"best {snap.metric} ({snap.goal}): ", no_wrap=True,
                         overflow="ellipsis")
        if snap.best is None:
            best_line.append("none yet", style="dim")
        else:
            best = snap.best
            params = ", ".join(f"{k}={_format(v)}" for k, v in best["hyperparameters"].items())
            best_line.append(_format(best["best_primary_metric"]), style="bold green")
            best_line.append(f"  {best['run_id']}  {params}")
            if best["status"] == "Failed":
                best_line.append("  (this trial Failed)", style="bold red")
        parts: list[Any] = [head, best_line, *self._table(snap, final)]
        parts += [Text(f"warning: {w}", style="bold yellow") for w in sweep.warnings]
        return Group(*parts)

    def _table(self, snap: _Snapshot, final: bool) -> list[Any]:
        """The trials worth a row: while running, the latest; at the end, the best first."""
        by_id = {t.id: t for t in snap.trials}
        best_of = {r["run_id"]: r["best_primary_metric"] for r in snap.rows}
        if final and snap.best is not None:
            shown = [by_id[r["run_id"]] for r in snap.rows[:self.max_rows]]
            caption = (f"top {len(shown)} of {len(snap.trials)} trials "
                       f"(best {snap.metric} first)")
        elif final:  # nothing to rank by
            shown = snap.trials[:self.max_rows]
            caption = (f"first {len(shown)} of {len(snap.trials)} trials "
                       f"(none logged {snap.metric})")
        else:
            shown = snap.trials[-self.max_rows:]
            caption = f"latest {len(shown)} of {len(snap.trials)} trials"
        if not shown:
            return []
        errors = {t.id: last_line(t.error) for t in shown if t.status.value == "Failed"}
        table = Table(box=None, pad_edge=False, show_edge=False)
        table.add_column("trial", justify="right", no_wrap=True)
        table.add_column("status", no_wrap=True)
        table.add_column(snap.metric, justify="right", no_wrap=True)
        params_names = sorted({k for t in snap.trials for k in t.params})
        for name in params_names:
            table.add_column(name, justify="right", no_wrap=True)
        rows: list[list[Any]] = []
        for t in shown:
            value = best_of.get(t.id)
            rows.append([
                str(t.index), Text(t.status.value, style=_STATUS_STYLE.get(t.status.value, "")),
                "" if value is None else _format(value),
                *[_format(t.params[n]) if n in t.params else "" for n in params_names],
            ])
        if any(errors.values()):
            # the error takes what the other columns leave of the width, cut with an ellipsis
            used = sum(max(len(str(c.header)), *(len(str(r[i])) for r in rows)) + 2
                       for i, c in enumerate(table.columns))
            table.add_column("error", no_wrap=True, overflow="ellipsis",
                             max_width=max(self.console.width - used, 20))
            for t, row in zip(shown, rows, strict=True):
                row.append(Text(errors.get(t.id, ""), style="red"))
        for row in rows:
            table.add_row(*row)
        return [Text(caption, style="dim", no_wrap=True, overflow="ellipsis"), table]

    def update(self) -> None:
        if self._line is not None:
            self._line.show(_Snapshot(self.run).line())
        elif self._live is not None:
            self._live.update(self._render())

    def close(self) -> None:
        if self._line is not None:
            self._line.show(_Snapshot(self.run).line())
            self._line.close()
            return
        assert self._live is not None
        self._live.update(self._render(final=True))
        self._live.stop()
        if not self.console.is_terminal:  # a terminal ends the live view's line itself
            self.console.line()


def summary_html(run: SweepRun, top: int = 10) -> str:
    """The sweep as an HTML fragment: status and counts, the best ``top`` trials, and the
    command that runs the best one again. Every user string is escaped."""
    from hypersweep.api.reproduce import reproduce_command

    snap = _Snapshot(run)

    def cell(value: Any) -> str:
        return html.escape("" if value is None else _format(value))

    counts = ", ".join(f"{n} {s.lower()}" for s, n in sorted(snap.counts.items()))
    names = sorted({k for t in snap.trials for k in t.params})
    ranked = [r for r in snap.rows if r["best_primary_metric"] is not None][:top]
    by_id = {t.id: t for t in snap.trials}
    head = "".join(f"<th>{html.escape(n)}</th>"
                   for n in ["#", "status", snap.metric, *names])
    rows = "".join(
        "<tr>" + "".join(f"<td>{cell(v)}</td>" for v in (
            by_id[r["run_id"]].index, r["status"], r["best_primary_metric"],
            *[r["hyperparameters"].get(n) for n in names])) + "</tr>"
        for r in ranked)
    parts = [
        '<div class="hs-summary">',
        f"<h3>{cell(snap.sweep.experiment)} · {cell(snap.run_id)} · "
        f"{cell(snap.sweep.status.value)}</h3>",
        f"<p>{cell(_of_total(len(snap.trials), snap.total))} ({cell(counts or 'none yet')}); "
        f"primary metric {cell(snap.metric)} ({cell(snap.goal)})</p>",
    ]
    if ranked:
        parts.append(f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>")
        best = by_id[ranked[0]["run_id"]]
        command = reproduce_command(snap.spec.trial, best.arguments, best.params)
        parts.append(f"<p>reproduce the best: <code>{cell(command)}</code></p>")
    parts += [f"<p>warning: {cell(w)}</p>" for w in snap.sweep.warnings]
    parts.append("</div>")
    return "\n".join(parts)


class _ProgressLine:
    """One line of text updated in place: an IPython display when there is one (a notebook
    without ipywidgets), else a carriage-return line on stdout."""

    def __init__(self) -> None:
        self._handle: Any = None
        self._last = ""

    def show(self, text: str) -> None:
        if text == self._last:
            return
        self._last = text
        if self._handle is not None:
            self._handle.update(_Plain(text))
            return
        try:
            from IPython.display import display
        except ImportError:
            pass
        else:
            self._handle = display(_Plain(text), display_id=True)
            if self._handle is not None:  # None outside a running IPython
                return
        sys.stdout.write("\r" + text)
        sys.stdout.flush()

    def close(self) -> None:
        if self._handle is None and self._last:
            sys.stdout.write("\n")
            sys.stdout.flush()


class _Plain:
    """Shown as its text alone (a str would be shown with quotes, as its repr)."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(self.text)
