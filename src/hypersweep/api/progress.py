"""The live view `HyperDriveRun.wait_for_completion(show_output=True)` shows."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

if TYPE_CHECKING:
    from hypersweep.api.sweep_run import HyperDriveRun

_STATUS_STYLE = {
    "Queued": "dim", "Running": "cyan", "Completed": "green", "Failed": "red",
    "Canceled": "yellow",
}


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


def _budget(sweep: Any, started: int, total: int) -> str:
    """Elapsed time and what is left of the budget (trials to start, time to the timeout)."""
    from datetime import datetime, timezone

    if sweep.start_time is None:
        return "not started"
    end = sweep.end_time or datetime.now(timezone.utc)
    elapsed = (end - sweep.start_time).total_seconds()
    text = f"elapsed {_duration(elapsed)}  {max(total - started, 0)} trials left"
    timeout = sweep.config.get("limits", {}).get("timeout")
    if timeout is not None and sweep.end_time is None:
        text += f"  {_duration(float(timeout) - elapsed)} left of the timeout"
    return text


class SweepProgress:
    """A live table of a sweep's trials: counts by status, best so far, the latest trials."""

    max_rows = 12

    def __init__(self, run: HyperDriveRun, console: Console | None = None) -> None:
        self.run = run
        self.console = console or Console()
        self._shown_warnings: set[str] = set()
        self._live = Live(self._render(), console=self.console, refresh_per_second=4,
                          transient=False)
        self._live.start()

    def _render(self) -> Group:
        run = self.run
        store = run.experiment.workspace.store
        sweep = store.get_sweep(run.id)
        trials = store.list_trials(run.id)
        metric = sweep.config["objective"]["primary_metric"]
        goal = sweep.config["objective"]["goal"]
        total = sweep.config["limits"]["max_total_trials"]
        rows = run.get_children_sorted_by_primary_metric()
        best_of = {r["run_id"]: r["best_primary_metric"] for r in rows}
        counts = Counter(t.status.value for t in trials)
        head = Text.assemble(
            (f"{run.id}", "bold"), f"  {sweep.status.value}  ",
            f"{len(trials)}/{total} trials  ",
            *[(f"{n} {s}  ", _STATUS_STYLE.get(s, "")) for s, n in sorted(counts.items())],
        )
        head.append(_budget(sweep, len(trials), total), style="dim")
        best = rows[0] if rows and rows[0]["best_primary_metric"] is not None else None
        best_line = Text(f"best {metric} ({goal}): ")
        if best is None:
            best_line.append("none yet", style="dim")
        else:
            params = ", ".join(f"{k}={_format(v)}" for k, v in best["hyperparameters"].items())
            best_line.append(_format(best["best_primary_metric"]), style="bold green")
            best_line.append(f"  {best['run_id']}  {params}")
        table = Table(box=None, pad_edge=False, show_edge=False)
        table.add_column("trial", justify="right")
        table.add_column("status")
        table.add_column(metric, justify="right")
        params_names = sorted({k for t in trials for k in t.params})
        for name in params_names:
            table.add_column(name, justify="right")
        for t in trials[-self.max_rows:]:
            value = best_of.get(t.id)
            table.add_row(
                str(t.index), Text(t.status.value, style=_STATUS_STYLE.get(t.status.value, "")),
                "" if value is None else _format(value),
                *[_format(t.params[n]) if n in t.params else "" for n in params_names],
            )
        parts: list[Any] = [head, best_line, table]
        parts += [Text(f"warning: {w}", style="bold yellow") for w in sweep.warnings]
        return Group(*parts)

    def update(self) -> None:
        self._live.update(self._render())

    def close(self) -> None:
        self._live.update(self._render())
        self._live.stop()
        if not self.console.is_terminal:  # a terminal ends the live view's line itself
            self.console.line()
