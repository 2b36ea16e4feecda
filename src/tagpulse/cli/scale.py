"""`tagpulse scale …`: distributed collection on a Redis queue (scheduler and workers)."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Annotated

import typer

from tagpulse.analysis.timeline import parse_duration
from tagpulse.cli.common import HomeOption, console, friendly_errors, settings_for
from tagpulse.cli.track import install_stop_handlers
from tagpulse.collect.accounts import load_accounts_file
from tagpulse.collect.build import fetch_sandbox_clock, resolve_accounts
from tagpulse.collect.watchlist import Watchlist
from tagpulse.errors import InputError
from tagpulse.lake.catalog import Catalog
from tagpulse.platforms.sandbox.clock import Clock, SystemClock
from tagpulse.scale.queue import (
    SlotTask,
    enqueue_slots,
    make_broker,
    redis_client,
    slot_of,
)
from tagpulse.scale.worker import SlotCollector, WorkerOptions, run_worker

__all__ = ["app", "schedule", "worker"]

app = typer.Typer(
    help="Collect on many machines: a scheduler enqueues tasks in Redis, workers run them.",
    no_args_is_help=True,
)

RedisOption = Annotated[
    str, typer.Option("--redis", help="Redis URL of the shared queue, e.g. redis://host:6379/0")
]
SandboxClockOption = Annotated[
    bool, typer.Option("--sandbox-clock", help="Use the sandbox's (accelerated) clock")
]
BaseUrlOption = Annotated[
    str | None,
    typer.Option("--base-url", help="Platform base URL (env TAGPULSE_INSTAGRAM_BASE_URL)"),
]


def _clock(base_url: str, sandbox_clock: bool) -> Clock:
    return fetch_sandbox_clock(base_url) if sandbox_clock else SystemClock()


@friendly_errors
def schedule(
    tags_file: Annotated[Path, typer.Argument(help="Watchlist: one #tag per line")],
    redis: RedisOption,
    every: Annotated[str, typer.Option("--every", help="Interval between snapshots")] = "15m",
    once: Annotated[bool, typer.Option("--once", help="Enqueue the current slot, then exit")] = (
        False
    ),
    duration: Annotated[
        str | None, typer.Option("--for", help="Stop after this much (clock) time, e.g. 1d")
    ] = None,
    base_url: BaseUrlOption = None,
    sandbox_clock: SandboxClockOption = False,
    home: HomeOption = None,
) -> None:
    """Enqueue one collection task per tag and slot of --every (each slot once, however many
    schedulers run)."""
    settings = settings_for(home, instagram_base_url=base_url, sandbox=sandbox_clock or None)
    interval = parse_duration(every, field="--every")
    clock = _clock(settings.instagram_base_url, sandbox_clock)
    entries = Watchlist(tags_file).load()
    tags = [e for e in entries if e.platform == "instagram" and not e.tag.startswith("@")]
    if not tags:
        raise InputError("no Instagram hashtags to schedule", path=str(tags_file))
    broker = make_broker(redis)
    client = redis_client(redis)
    stop = threading.Event()
    install_stop_handlers(stop)
    until = clock.time() + parse_duration(duration, field="--for") if duration else None
    total = 0
    while not stop.is_set():
        slot = slot_of(clock.time(), interval)
        n = enqueue_slots(broker, client, (SlotTask(e.platform, e.tag, slot) for e in tags))
        total += n
        if n:
            console.print(f"slot {slot}: {n} tasks enqueued ({total} in all)")
        if once or (until is not None and clock.time() >= until):
            break
        clock.sleep(max(0.0, slot + interval - clock.time()) + 0.001, stop)
    broker.close()
    console.print(f"{total} tasks enqueued")


@friendly_errors
def worker(
    redis: RedisOption,
    accounts: Annotated[
        Path | None,
        typer.Option("--accounts", help="Accounts file (TOML); default: the catalog's accounts"),
    ] = None,
    threads: Annotated[int, typer.Option("--threads", help="Tasks run at once")] = 1,
    heartbeat_timeout: Annotated[
        float,
        typer.Option(
            "--heartbeat-timeout",
            help="Seconds without a heartbeat after which a worker is dead and its tasks requeued",
        ),
    ] = 60.0,
    route_per_hour: Annotated[
        float | None,
        typer.Option("--route-per-hour", help="Budget per proxy/source address (requests/hour)"),
    ] = None,
    no_tag_posts: Annotated[
        bool, typer.Option("--no-tag-posts", help="Counts only: do not store a tag's posts")
    ] = False,
    base_url: BaseUrlOption = None,
    sandbox_clock: SandboxClockOption = False,
    home: HomeOption = None,
) -> None:
    """Run collection tasks from the queue until SIGTERM/SIGINT, within global rate limits."""
    if threads < 1:
        raise InputError("must be 1 or more", field="--threads")
    settings = settings_for(home, instagram_base_url=base_url, sandbox=sandbox_clock or None)
    clock = _clock(settings.instagram_base_url, sandbox_clock)
    specs = load_accounts_file(accounts) if accounts else None
    chosen = resolve_accounts(Catalog(settings.catalog_path), settings, specs)
    stop = threading.Event()
    install_stop_handlers(stop)
    collector = SlotCollector(
        client=redis_client(redis),
        settings=settings,
        specs=chosen,
        clock=clock,
        options=WorkerOptions(route_per_hour=route_per_hour, tag_posts=not no_tag_posts),
    )
    broker = make_broker(redis, heartbeat_timeout_ms=int(heartbeat_timeout * 1000))
    console.print(f"worker {collector.options.worker_id}: {len(collector.specs)} accounts")
    run_worker(collector, broker, threads=threads, stop=stop)
    console.print(f"worker {collector.options.worker_id}: stopped")


app.command(name="schedule")(schedule)
app.command(name="worker")(worker)
