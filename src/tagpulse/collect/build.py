"""Assemble a collector from settings: catalog, lake, accounts, clients, clock."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import httpx
import orjson

from tagpulse.collect.accounts import (
    AccountPool,
    AccountSpec,
    PoolSet,
    SecretBox,
    store_accounts,
    stored_accounts,
)
from tagpulse.collect.breaker import BackoffPolicy
from tagpulse.collect.runner import Collector, CollectorOptions, Reporter
from tagpulse.collect.watchlist import Watchlist
from tagpulse.config import Settings
from tagpulse.errors import ConfigError
from tagpulse.lake.catalog import Catalog
from tagpulse.lake.raw import RawArchive
from tagpulse.lake.tables import LakeWriter
from tagpulse.platforms.instagram.client import InstagramClient
from tagpulse.platforms.sandbox.clock import AcceleratedClock, Clock, SystemClock

__all__ = [
    "ANONYMOUS",
    "PLATFORMS",
    "build_collector",
    "fetch_sandbox_clock",
    "make_client",
    "resolve_accounts",
]

PLATFORMS = ("instagram", "tiktok", "x", "ig-graph")

ANONYMOUS = AccountSpec(alias="anonymous", session_id=None)


def fetch_sandbox_clock(base_url: str) -> Clock:
    """The sandbox's clock (accelerated or real), read from its control endpoint."""
    url = base_url.rstrip("/") + "/__sandbox/clock"
    try:
        answer = httpx.get(url, timeout=10)
        answer.raise_for_status()
        data = orjson.loads(answer.content)
    except (httpx.HTTPError, orjson.JSONDecodeError) as exc:
        raise ConfigError(f"cannot read the sandbox clock at {url}: {exc}") from exc
    if "sim_start" in data:
        return AcceleratedClock.from_dict(data)
    return SystemClock()


def resolve_accounts(
    catalog: Catalog, settings: Settings, specs: list[AccountSpec] | None
) -> list[AccountSpec]:
    """Store new specs (sealed) or load the stored ones; anonymous when there are none.

    Every platform's accounts: Instagram and TikTok may go anonymous, X cannot (its API wants
    a token), so an X pool is empty without X accounts.
    """
    box = SecretBox(settings.require_secret())
    if specs:
        store_accounts(catalog, box, specs)
        chosen = list(specs)
    else:
        chosen = [s for p in PLATFORMS for s in stored_accounts(catalog, box, p)]
    for platform in ("instagram", "tiktok"):
        if not any(s.platform == platform for s in chosen):
            chosen.append(
                AccountSpec(alias=f"anonymous-{platform}", session_id=None, platform=platform)
                if platform != "instagram"
                else ANONYMOUS
            )
    return chosen


def make_client(settings: Settings, spec: AccountSpec, clock: Clock | None = None) -> Any:
    """The HTTP client of one account on its platform."""
    base_url = settings.base_url(spec.platform)
    if spec.platform == "ig-graph":
        from tagpulse.platforms.instagram.graph_api import GraphClient
        from tagpulse.platforms.instagram.graph_quota import HashtagIdCache, HashtagQuota

        # The 30-hashtags-per-7-days quota is per business account and outlives runs.
        state = settings.home / "graph.sqlite"
        state.parent.mkdir(parents=True, exist_ok=True)
        now = (clock or SystemClock()).time
        return GraphClient(
            base_url,
            access_token=spec.session_id or "",
            ig_user_id=spec.ig_user_id or "",
            quota=HashtagQuota(state, now=now),
            hashtag_ids=HashtagIdCache(state, now=now),
            now=now,
            proxy=spec.proxy,
            source_address=spec.source_address,
        )
    if spec.platform == "x":
        from tagpulse.platforms.x.client import XClient

        return XClient(
            base_url,
            bearer_token=spec.session_id or "",
            proxy=spec.proxy,
            source_address=spec.source_address,
        )
    if spec.platform == "tiktok":
        from tagpulse.platforms.tiktok.client import TikTokClient

        return TikTokClient(
            base_url,
            cookies={"sessionid": spec.session_id} if spec.session_id else None,
            proxy=spec.proxy,
            source_address=spec.source_address,
        )
    return InstagramClient(
        base_url,
        session_id=spec.session_id,
        proxy=spec.proxy,
        source_address=spec.source_address,
    )


def build_collector(
    settings: Settings,
    tags_path: Path,
    *,
    accounts: list[AccountSpec] | None,
    options: CollectorOptions,
    clock: Clock | None = None,
    reporter: Reporter | None = None,
    stop: threading.Event | None = None,
    policy: BackoffPolicy | None = None,
    handles_path: Path | None = None,
) -> Collector:
    catalog = Catalog(settings.catalog_path)
    specs = resolve_accounts(catalog, settings, accounts)
    the_clock = clock or SystemClock()
    pools = PoolSet(
        {
            platform: AccountPool.build(
                [s for s in specs if s.platform == platform],
                lambda spec: make_client(settings, spec, the_clock),
                policy or BackoffPolicy(),
                seed=options.seed,
            )
            for platform in PLATFORMS
        }
    )
    return Collector(
        watchlist=Watchlist(tags_path, handles_path),
        pool=pools,
        catalog=catalog,
        writer=LakeWriter(settings.lake),
        archive=RawArchive(settings.lake),
        clock=the_clock,
        options=options,
        reporter=reporter,
        stop=stop,
        media_dir=settings.media_dir,
    )
