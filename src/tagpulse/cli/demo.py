"""`tagpulse demo`: the whole pipeline against the sandbox, with a summary and charts."""

from __future__ import annotations

import sys
import threading
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from tagpulse.cli.common import console, err_console, friendly_errors
from tagpulse.cli.report import RichReporter, make_reporter
from tagpulse.cli.track import install_stop_handlers
from tagpulse.demo import PROFILE_INTERVAL_S, run_demo
from tagpulse.demo_after import DemoExtras, after_collection
from tagpulse.lake.query import LakeQuery

__all__ = ["demo"]


def _print_images(extras: DemoExtras) -> None:
    if extras.images is None:
        console.print(f"image labels skipped: {extras.missing}")
        return
    i = extras.images
    console.print(
        f"image enrichment: {i.labelled + i.reused:,} pictures labelled in {i.seconds:.0f} s "
        f"(model {i.model}); see `tagpulse insights classes --home …`"
    )


def _fmt(value: object) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _serve(home: Path, port: int) -> None:
    import uvicorn

    from tagpulse.config import Settings
    from tagpulse.service.app import ServiceOptions, create_app

    app = create_app(Settings(home=home, sandbox=True), ServiceOptions())
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


@friendly_errors
def demo(
    out: Annotated[Path, typer.Option("--out", help="Folder for the demo lake and charts")] = Path(
        "demo-out"
    ),
    days: Annotated[float, typer.Option("--days", help="Simulated days to track")] = 14.0,
    seconds: Annotated[float, typer.Option("--seconds", help="Wall seconds to take")] = 60.0,
    accounts: Annotated[int, typer.Option("--accounts")] = 3,
    serve: Annotated[
        bool | None,
        typer.Option(
            "--serve/--no-serve",
            help="Serve the dashboard on the demo lake at the end (default: when interactive)",
        ),
    ] = None,
    port: Annotated[int, typer.Option("--port", help="Port of the dashboard")] = 8000,
) -> None:
    """Track the demo tags for --days simulated days in about --seconds, then summarise."""
    stop = threading.Event()
    install_stop_handlers(stop)
    # One "no count" warning per #newyears snapshot is counted in the summary, not streamed.
    reporter = make_reporter(
        err_console, quiet=True, skip_kinds=frozenset({"payload_warning", "breaker_closed"})
    )
    console.print(
        f"tracking the demo watchlist for {days:g} simulated days in ~{seconds:g} s "
        "against the sandbox platform on loopback…"
    )
    try:
        result = run_demo(
            out, days=days, wall_seconds=seconds, accounts=accounts, reporter=reporter, stop=stop
        )
    finally:
        if isinstance(reporter, RichReporter):
            reporter.close()
    table = Table(title=f"Hashtags tracked for {result.simulated_days:g} simulated days")
    for col in ("tag", "first count", "last count", "growth/day", "snapshots", "warnings"):
        table.add_column(col, justify="left" if col == "tag" else "right")
    for row in result.summary:
        table.add_row(
            "#" + row["tag"],
            _fmt(row["first_count"]),
            _fmt(row["last_count"]),
            _fmt(row["growth_per_day"]),
            _fmt(row["snapshots"]),
            _fmt(row["warnings"]),
        )
    console.print(table)
    s = result.stats
    console.print(
        f"{s.requests} requests in {result.wall_seconds:.0f} s wall: {s.acknowledged} snapshots "
        f"stored, {s.throttles} throttles (accounts rotated), {s.quarantined} answers "
        f"quarantined, {s.slots_missed} slots missed"
    )
    posts = LakeQuery(result.home / "lake").rows(
        "SELECT count(*) AS n, count(DISTINCT post_id) AS d FROM posts"
    )[0]
    console.print(
        f"posts: {posts['n']:,} observations of {posts['d']:,} top/recent posts of the tags "
        "(table posts)"
    )
    if result.account_stats is not None:
        profiles = LakeQuery(result.home / "lake").rows(
            "SELECT count(DISTINCT handle) AS n FROM profiles"
        )[0]["n"]
        console.print(
            f"accounts: {profiles} of the sandbox's accounts (influencers, some that bought "
            f"followers, others posting about nike, adidas and puma): profiles re-read every "
            f"{PROFILE_INTERVAL_S / 86400:g} simulated days on a login account of their own, then "
            f"one pass over their newest posts, likers and pictures in "
            f"{result.account_stats.requests} requests"
        )
    console.print(f"lake: {result.home}\nchart: {result.chart_html} and {result.chart_png}")
    console.print(
        f"growth since day one: {result.chart_html.with_name('chart-growth.html')} (.png)"
    )
    console.print("enriching captions, comments and pictures, writing the report…")
    extras = after_collection(result.home, [r["tag"] for r in result.summary], out)
    t = extras.text
    console.print(
        f"text enrichment: {t.enriched:,} captions and comments in {t.seconds:.0f} s "
        f"(model {t.model}); campaign {extras.campaign.name}: "
        f"{extras.campaign.start:%Y-%m-%d %H:%M} to {extras.campaign.end:%Y-%m-%d %H:%M} UTC"
    )
    _print_images(extras)
    console.print(f"report: {extras.report}")
    login = extras.login
    url = f"http://127.0.0.1:{port}/"
    console.print(
        f"dashboard login: user [bold]{login.user}[/], password [bold]{login.password}[/] "
        f"(workspace {login.workspace})"
    )
    if serve if serve is not None else sys.stdin.isatty():
        console.print(f"dashboard: {url} (Ctrl-C stops it)")
        _serve(result.home, port)
    else:
        console.print(
            f"dashboard: run `tagpulse serve --demo --home {result.home} --port {port}` "
            f"and open {url}"
        )
