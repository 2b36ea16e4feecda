"""`tagpulse serve`: the REST API (and, later, the dashboard) over the lake."""

from __future__ import annotations

import shlex
import signal
import subprocess
import sys
from typing import Annotated

import typer

from tagpulse.cli.common import HomeOption, console, friendly_errors, settings_for
from tagpulse.service.app import ServiceOptions, create_app

__all__ = ["serve"]


def _exit_on_signal(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)


@friendly_errors
def serve(
    host: Annotated[str, typer.Option("--host")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port")] = 8000,
    demo: Annotated[
        bool,
        typer.Option("--demo", help="Allow the built-in secret (a demo on loopback only)"),
    ] = False,
    with_collector: Annotated[
        bool,
        typer.Option(
            "--with-collector",
            help="Also run `tagpulse track` on the workspaces' watchlists, as a child process",
        ),
    ] = False,
    collector_args: Annotated[
        str,
        typer.Option(
            "--collector-args",
            help='Options for the collector, e.g. "--accounts accounts.toml --every 15m"',
        ),
    ] = "",
    rate: Annotated[
        float, typer.Option("--rate", help="Requests a minute per API key or session")
    ] = 600.0,
    cache_ttl: Annotated[
        float, typer.Option("--cache-ttl", help="Seconds a timeline answer is reused")
    ] = 5.0,
    insecure_cookies: Annotated[
        bool,
        typer.Option(
            "--insecure-cookies", help="Send the session cookie over plain HTTP (not localhost)"
        ),
    ] = False,
    home: HomeOption = None,
) -> None:
    """Serve the API under /api/v1 (OpenAPI at /docs) until Ctrl-C."""
    import uvicorn

    settings = settings_for(home, sandbox=True) if demo else settings_for(home)
    watchlist = settings.home / "watchlist.txt"
    app = create_app(
        settings,
        ServiceOptions(
            rate_per_minute=rate, burst=max(20.0, rate / 5), secure_cookies=not insecure_cookies,
            watchlist_file=watchlist, cache_ttl_s=cache_ttl,
        ),
    )  # fmt: skip
    collector: subprocess.Popen[bytes] | None = None
    if with_collector:
        app.state.store.write_tags_file(watchlist)
        collector = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tagpulse",
                "track",
                str(watchlist),
                "--home",
                str(settings.home),
                *shlex.split(collector_args),
            ]
        )
        console.print(f"collector: pid {collector.pid}, watchlist {watchlist}")
    console.print(f"API: http://{host}:{port}/api/v1 (docs: http://{host}:{port}/docs)")
    # uvicorn stops on SIGTERM, then raises the signal again for the handler that was there
    # before it: make that handler an exit, so the collector below is stopped too.
    signal.signal(signal.SIGTERM, _exit_on_signal)
    try:
        uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)
    finally:
        if collector is not None:
            collector.terminate()
            collector.wait(timeout=30)
