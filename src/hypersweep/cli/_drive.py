"""``python -m hypersweep.cli._drive WORKSPACE STORE SWEEP_ID``: drive one sweep to its end.

The background process behind ``hypersweep run --detach`` and ``resume --detach``: it takes
over the sweep (`HyperDriveRun.resume`) and waits for it. Killed, it leaves the sweep
resumable like any controller.
"""

from __future__ import annotations

import sys


def drive(workspace_dir: str, store_url: str, sweep_id: str) -> int:
    """Drive the sweep; the exit status is 0 when it completed, 1 otherwise."""
    from hypersweep.api.sweep_run import HyperDriveRun
    from hypersweep.api.workspace import Experiment, Workspace

    workspace = Workspace(workspace_dir, store=store_url)
    experiment = Experiment(workspace, workspace.store.get_sweep(sweep_id).experiment)
    run = HyperDriveRun(experiment, sweep_id)
    try:
        run.resume()
    except RuntimeError as err:  # busy (another resume won) or ended: one line in the log
        print(f"error: {err}", flush=True)
        return 1
    details = run.wait_for_completion(show_output=False, raise_on_error=False)
    error = f": {details['error']}" if details.get("error") else ""
    print(f"sweep {sweep_id} {details['status']}{error}", flush=True)
    return 0 if details["status"] == "Completed" else 1


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit("usage: python -m hypersweep.cli._drive WORKSPACE STORE SWEEP_ID")
    sys.exit(drive(*sys.argv[1:4]))
