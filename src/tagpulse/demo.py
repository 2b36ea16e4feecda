"""The demo: a sandbox world tracked for two simulated weeks in about a minute of wall time.

Everything real but the platform: the sandbox HTTP server on loopback, the collector with its
accounts, token buckets and breakers, the raw archive, Parquet, the catalog, DuckDB, the charts.
"""

from __future__ import annotations

import shutil
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tagpulse.analysis.charts import GROWTH, write_chart
from tagpulse.analysis.timeline import growth_series, timeline_series
from tagpulse.collect.accounts import AccountSpec
from tagpulse.collect.breaker import BackoffPolicy
from tagpulse.collect.build import build_collector
from tagpulse.collect.runner import Collector, CollectorOptions, Reporter, RunStats
from tagpulse.config import Settings
from tagpulse.errors import ConfigError
from tagpulse.lake.catalog import Catalog
from tagpulse.lake.query import LakeQuery
from tagpulse.lake.tables import HASHTAG_SNAPSHOTS, LakeWriter
from tagpulse.platforms.sandbox.clock import AcceleratedClock
from tagpulse.platforms.sandbox.server import FaultConfig, SandboxServer
from tagpulse.platforms.sandbox.world import World, default_accounts

__all__ = ["DEMO_FAULTS", "PROFILE_INTERVAL_S", "DemoResult", "run_demo"]

DAY = 86_400.0
_MARKER = ".tagpulse-demo"

#: Enough trouble to see the breaker and the quarantine work, not enough to hide the data.
DEMO_FAULTS = FaultConfig(
    rate_limit_429=0.004,
    wait_401=0.002,
    login_redirect=0.001,
    checkpoint=0.0005,
    connection_reset=0.002,
    truncated_json=0.001,
    malformed_json=0.001,
    seed=11,
)


@dataclass(slots=True)
class DemoResult:
    home: Path
    tags_file: Path
    chart_html: Path
    chart_png: Path
    summary: list[dict[str, Any]]
    stats: RunStats
    wall_seconds: float
    simulated_days: float
    server_stats: dict[str, Any] = field(default_factory=dict)
    #: The one pass over some social accounts at the end (None when stopped before it).
    account_stats: RunStats | None = None


#: Accounts the demo reads once at the end: the world's influencers, those that bought
#: followers, and others posting about the competitor set.
DEMO_ACCOUNTS = 24
_DEMO_INTERESTS = frozenset({"nike", "adidas", "puma", "justdoit"})


def demo_handles(world: World, t: float) -> list[str]:
    social = world.social
    public = [a for a in social.accounts if not a.is_private and not a.deleted(t)]
    picked = [a for a in public if a.influencer or a.idx in social.bought]
    picked += [a for a in public if a not in picked and _DEMO_INTERESTS & set(a.interests)][
        : max(0, DEMO_ACCOUNTS - len(picked))
    ]
    return [a.username_at(t) for a in picked]


def _accounts_pass(
    world: World,
    out: Path,
    settings: Settings,
    specs: list[AccountSpec],
    clock: AcceleratedClock,
    reporter: Reporter | None,
    stop: threading.Event | None,
) -> RunStats:
    """One pass over some of the social world's accounts: profiles, their newest posts (with
    #nike, #adidas …), who liked the newest three, and their pictures, so the influencer and
    image insights have something to say about the demo."""
    handles_file = out / "accounts.txt"
    handles_file.write_text("".join(f"@{h}\n" for h in demo_handles(world, clock.time())))
    options = CollectorOptions(
        interval_s=86_400.0, once=True, max_posts=12, likers_posts=3, flush_every=500,
        flush_wall_s=2.0, max_wall_sleep_s=0.25, seed=7,
    )  # fmt: skip
    collector = build_collector(
        settings, handles_file, accounts=specs, options=options, clock=clock,
        reporter=reporter, stop=stop, policy=BackoffPolicy(),
    )  # fmt: skip
    try:
        return collector.run()
    finally:
        collector.pool.close()


#: The demo's accounts are re-read this often (profiles only), so follower jumps show.
PROFILE_INTERVAL_S = 2 * DAY


def _profile_watcher(
    world: World,
    out: Path,
    settings: Settings,
    specs: list[AccountSpec],
    clock: AcceleratedClock,
    until: float,
    reporter: Reporter | None,
    stop: threading.Event | None,
) -> Collector:
    """A second collector, on its own login account, that reads the demo accounts' profiles
    every two simulated days while the tags are tracked: the follower history the influencer
    insight needs to see a bought audience arrive (no pictures, no likers)."""
    handles_file = out / "accounts-watch.txt"
    handles_file.write_text("".join(f"@{h}\n" for h in demo_handles(world, clock.time())))
    options = CollectorOptions(
        interval_s=PROFILE_INTERVAL_S, until=until, max_posts=12, media=False, flush_every=500,
        flush_wall_s=2.0, max_wall_sleep_s=0.25, seed=8,
    )  # fmt: skip
    return build_collector(
        settings, handles_file, accounts=specs, options=options, clock=clock,
        reporter=reporter, stop=stop, policy=BackoffPolicy(),
    )  # fmt: skip


def _fresh_home(out: Path) -> Path:
    home = out / "tagpulse-data"
    if home.exists():
        if not (home / _MARKER).exists():
            raise ConfigError(f"{home} exists and is not a demo lake; choose another --out")
        shutil.rmtree(home)
    home.mkdir(parents=True)
    (home / _MARKER).write_text("made by `tagpulse demo`; safe to delete\n")
    return home


def run_demo(
    out: Path,
    *,
    days: float = 14.0,
    wall_seconds: float = 60.0,
    interval_s: float = 1800.0,
    accounts: int = 3,
    faults: FaultConfig = DEMO_FAULTS,
    reporter: Reporter | None = None,
    stop: threading.Event | None = None,
) -> DemoResult:
    """Run the whole pipeline against a fresh sandbox; returns what it made."""
    out.mkdir(parents=True, exist_ok=True)
    home = _fresh_home(out)
    # One more login account than asked: the profile watcher's, so it never slows the tags.
    world = World(seed=7, accounts=default_accounts(accounts + 1))
    tags_file = out / "tags.txt"
    tags_file.write_text(
        "# tagpulse demo watchlist: a city, a competitor set, a campaign tag, a seasonal tag,\n"
        "# a tag whose count the platform hides, and a slow one\n"
        + "".join(f"#{name}\n" for name in world.tags)
    )
    LakeWriter.warm_up()
    speed = days * DAY / wall_seconds
    clock = AcceleratedClock.starting_now(world.start, speed)
    started = time.monotonic()
    account_stats: RunStats | None = None
    with SandboxServer(world, clock, faults=faults).start() as server:
        settings = Settings(home=home, instagram_base_url=server.base_url, sandbox=True)
        # The collector's budget sits just under each sandbox account's, as a careful user sets.
        specs = [
            AccountSpec(
                alias=a.alias,
                session_id=a.session_id,
                requests_per_hour=a.refill_per_hour * 0.95,
                burst=a.capacity,
            )
            for a in world.accounts
        ]
        until = world.start + days * DAY
        watcher = _profile_watcher(
            world, out, settings, specs[-1:], clock, until, reporter, stop
        )  # fmt: skip
        watching = threading.Thread(target=watcher.run, name="demo-profiles", daemon=True)
        watching.start()
        options = CollectorOptions(
            interval_s=interval_s,
            until=until,
            flush_every=500,
            flush_wall_s=2.0,
            max_wall_sleep_s=0.25,
            seed=7,
        )
        collector = build_collector(
            settings,
            tags_file,
            accounts=specs[:-1],
            options=options,
            clock=clock,
            reporter=reporter,
            stop=stop,
            policy=BackoffPolicy(),
        )
        try:
            stats = collector.run()
        finally:
            collector.pool.close()
            watching.join()
            watcher.pool.close()
        if stop is None or not stop.is_set():
            account_stats = _accounts_pass(world, out, settings, specs, clock, reporter, stop)
        server_stats = server.stats()
    wall = time.monotonic() - started
    LakeWriter(settings.lake_dir).compact(HASHTAG_SNAPSHOTS)
    query = LakeQuery(settings.lake_dir)
    summary = query.tag_summary()
    warnings = Catalog(settings.catalog_path).warning_counts()
    for row in summary:
        row["warnings"] = warnings.get((row["platform"], row["tag"]), 0)
    series = timeline_series(query, list(world.tags), interval_s=3600, since=None, until=None)
    title = f"tagpulse demo: post count per tag, {days:g} simulated days"
    html = write_chart(series, out / "chart.html", title=title, interval_s=3600, log_scale=True)
    png = write_chart(series, out / "chart.png", title=title, interval_s=3600, log_scale=True)
    # The same data as growth since day one, where the campaign burst and the seasonality show.
    growth = growth_series(series)
    growth_title = f"tagpulse demo: growth per tag, {days:g} simulated days"
    for suffix in (".html", ".png"):
        write_chart(
            growth,
            out / f"chart-growth{suffix}",
            title=growth_title,
            interval_s=3600,
            log_scale=False,
            measure=GROWTH,
        )
    return DemoResult(
        home=home,
        tags_file=tags_file,
        chart_html=html,
        chart_png=png,
        summary=summary,
        stats=stats,
        wall_seconds=wall,
        simulated_days=days,
        server_stats=server_stats,
        account_stats=account_stats,
    )
