"""`tagpulse track`: collect hashtag snapshots for a watchlist."""

from __future__ import annotations

import signal
import threading
from pathlib import Path
from types import FrameType
from typing import Annotated

import typer

from tagpulse.analysis.timeline import parse_duration, parse_since
from tagpulse.cli.common import HomeOption, console, err_console, friendly_errors, settings_for
from tagpulse.cli.report import RichReporter, make_reporter
from tagpulse.collect.accounts import load_accounts_file
from tagpulse.collect.build import build_collector, fetch_sandbox_clock
from tagpulse.collect.runner import CollectorOptions
from tagpulse.errors import InputError
from tagpulse.platforms.instagram.client import HashtagEndpoint
from tagpulse.platforms.sandbox.clock import utc_from_epoch

__all__ = ["install_stop_handlers", "track"]


def install_stop_handlers(stop: threading.Event) -> None:
    """SIGINT/SIGTERM finish the request in flight, flush and exit; a second one exits now."""

    def handler(signum: int, frame: FrameType | None) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        err_console.print(
            f"[bold]{signal.Signals(signum).name}[/]: finishing the request in flight, flushing…"
        )
        stop.set()

    signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGTERM, handler)


@friendly_errors
def track(
    tags_file: Annotated[
        Path, typer.Argument(help="Watchlist: one hashtag a line (@handle lines: accounts)")
    ],
    handles: Annotated[
        Path | None,
        typer.Option("--handles", help="Accounts watchlist (accounts.txt): one handle a line"),
    ] = None,
    max_posts: Annotated[
        int, typer.Option("--max-posts", help="Posts to read per account and pass (pages of 12)")
    ] = 12,
    followers: Annotated[
        int,
        typer.Option(
            "--followers", help="Per account and pass: read up to N followers and N followed"
        ),
    ] = 0,
    comments: Annotated[
        int,
        typer.Option("--comments", help="Per account and pass: comments of the N newest posts"),
    ] = 0,
    comment_pages: Annotated[
        int,
        typer.Option("--comment-pages", help="Comments pages (24 each) per post for --comments"),
    ] = 1,
    likers: Annotated[
        int,
        typer.Option("--likers", help="Per account and pass: who liked its N newest posts"),
    ] = 0,
    posts_since: Annotated[
        str | None,
        typer.Option("--since", help="Read an account's posts back to this date (or e.g. 30d)"),
    ] = None,
    every: Annotated[str, typer.Option("--every", help="Interval between snapshots of a tag")] = (
        "30m"
    ),
    once: Annotated[bool, typer.Option("--once", help="One pass over the watchlist, then exit")] = (
        False
    ),
    accounts: Annotated[
        Path | None,
        typer.Option("--accounts", help="Accounts file (TOML); stored encrypted in the catalog"),
    ] = None,
    base_url: Annotated[
        str | None,
        typer.Option(
            "--base-url",
            help="Platform base URL (env TAGPULSE_INSTAGRAM_BASE_URL); default the real platform",
        ),
    ] = None,
    endpoint: Annotated[
        str, typer.Option("--endpoint", help="web_info (current) or legacy (?__a=1 graphql)")
    ] = "web_info",
    sandbox_clock: Annotated[
        bool,
        typer.Option("--sandbox-clock", help="Use the sandbox's (accelerated) clock"),
    ] = False,
    duration: Annotated[
        str | None,
        typer.Option("--for", help="Stop after this much (clock) time, e.g. 14d"),
    ] = None,
    flush_secs: Annotated[
        float, typer.Option("--flush-secs", help="Wall seconds between flushes to the lake")
    ] = 5.0,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only warnings and errors")] = False,
    no_tag_posts: Annotated[
        bool,
        typer.Option("--no-tag-posts", help="Counts only: do not store a tag's top/recent posts"),
    ] = False,
    no_media: Annotated[
        bool, typer.Option("--no-media", help="Do not download accounts' post images")
    ] = False,
    home: HomeOption = None,
) -> None:
    """Track the tags (and accounts) of TAGS_FILE: one observation each every --every."""
    if endpoint not in ("web_info", "legacy"):
        raise InputError("must be web_info or legacy", field="--endpoint")
    settings = settings_for(home, instagram_base_url=base_url, sandbox=sandbox_clock or None)
    interval = parse_duration(every, field="--every")
    clock = fetch_sandbox_clock(settings.instagram_base_url) if sandbox_clock else None
    specs = load_accounts_file(accounts) if accounts else None
    stop = threading.Event()
    install_stop_handlers(stop)
    reporter = make_reporter(err_console, quiet=quiet)
    ep: HashtagEndpoint = "web_info" if endpoint == "web_info" else "legacy"
    for name, value in (
        ("--max-posts", max_posts),
        ("--followers", followers),
        ("--comments", comments),
    ):
        if value < 0:
            raise InputError("must be 0 or more", field=name)
    options = CollectorOptions(
        interval_s=interval,
        endpoint=ep,
        once=once,
        flush_wall_s=flush_secs,
        max_posts=max_posts,
        followers=followers,
        comments_posts=comments,
        comment_pages=comment_pages,
        likers_posts=likers,
        media=not no_media,
        tag_posts=not no_tag_posts,
    )
    collector = build_collector(
        settings,
        tags_file,
        handles_path=handles,
        accounts=specs,
        options=options,
        clock=clock,
        reporter=reporter,
        stop=stop,
    )
    if posts_since is not None:
        since = parse_since(posts_since, utc_from_epoch(collector.clock.time()), field="--since")
        collector.options.posts_since = since.timestamp()
    if duration is not None:
        collector.options.until = collector.clock.time() + parse_duration(duration)
    try:
        stats = collector.run()
    finally:
        if isinstance(reporter, RichReporter):
            reporter.close()
        collector.pool.close()
    console.print(
        f"{stats.snapshots} snapshots ({stats.acknowledged} stored), {stats.requests} requests, "
        f"{stats.throttles} throttled, {stats.warnings} warnings, "
        f"{stats.quarantined} quarantined, {stats.media_stored} images and "
        f"{stats.avatars_stored} profile pictures stored → {settings.lake}"
    )
