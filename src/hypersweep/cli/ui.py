"""``hypersweep ui`` (the web dashboard) and ``hypersweep report`` (a self-contained HTML file).

Both need the ``dashboard`` extra; without it they say what to install.

Examples
--------
>>> from click.testing import CliRunner
>>> CliRunner().invoke(cli, ["ui", "--help"]).exit_code
0
"""

from __future__ import annotations

from typing import Any

import click

from hypersweep.cli.main import CliError, cli, open_sweep, workspace_options


def _need_dashboard(*modules: str) -> None:
    """Say what to install when a module of the ``dashboard`` extra is missing."""
    import importlib.util

    for name in modules:
        if importlib.util.find_spec(name) is None:
            # hypersweep is installed from its source: name the packages themselves
            raise CliError(f"{name} is missing: the dashboard needs "
                           "pip install fastapi uvicorn jinja2 plotly scikit-learn")


def _check_port_free(host: str, port: int) -> None:
    """Refuse a port another program listens on now, in one line, before printing a URL that
    would not be this dashboard's (uvicorn would only log the bind error and exit)."""
    import errno
    import socket

    if port == 0:  # any free port
        return
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as err:
        raise CliError(f"--host {host!r}: {err.strerror}") from None
    family, _, _, _, address = infos[0]
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        # as uvicorn binds: a port in TIME_WAIT after a previous dashboard is free
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as err:
            if err.errno == errno.EADDRINUSE:
                raise CliError(f"port {port} on {host} is in use (another dashboard?); pick "
                               f"another with --port, e.g. --port {port + 1}") from None
            raise CliError(f"cannot listen on {host} port {port}: {err.strerror}") from None


@cli.command()
@workspace_options
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Interface to listen on; anything but loopback requires a token.")
@click.option("--port", default=8765, show_default=True, type=int)
@click.option("--token", envvar="HYPERSWEEP_UI_TOKEN", default=None,
              help="Access token (generated and printed when --host is not loopback).")
@click.option("--allow-cancel", is_flag=True,
              help="Enable the cancel buttons (read-only otherwise).")
def ui(workspace: Any, host: str, port: int, token: str | None, allow_cancel: bool) -> None:
    """Serve the web dashboard of this workspace (Ctrl-C to stop)."""
    _need_dashboard("fastapi", "uvicorn", "jinja2", "plotly")
    from hypersweep.dashboard import serve
    from hypersweep.dashboard.security import check_token

    try:
        check_token(token, "--token")
    except ValueError as err:
        raise CliError(str(err)) from None

    ws = workspace.open(read_only=True)
    store_url = ws.store_url
    if workspace.is_read_only():  # an archived or mounted workspace: browse it
        if allow_cancel:
            raise CliError(f"workspace {workspace.path} is read-only: --allow-cancel needs "
                           "to record cancels there")
        from hypersweep.store.engine import read_only_url

        store_url = read_only_url(store_url)
    _check_port_free(host, port)
    serve(store_url=store_url, workspace=ws.path, host=host, port=port, token=token,
          allow_cancel=allow_cancel)


@cli.command()
@workspace_options
@click.argument("sweep_id")
@click.option("--html", "html_path", required=True, type=click.Path(dir_okay=False),
              help="Write a self-contained HTML report here (plotly.js inlined).")
def report(workspace: Any, sweep_id: str, html_path: str) -> None:
    """Write an HTML report of SWEEP_ID: best trials and the main charts."""
    _need_dashboard("plotly")
    from hypersweep.viz import write_report

    path = write_report(open_sweep(workspace.open(read_only=True), sweep_id), html_path)
    click.echo(f"wrote {path}")
