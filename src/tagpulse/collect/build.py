"""Assemble a collector from settings: catalog, lake, accounts, clients, clock."""

from __future__ import annotations

import threading
from pathlib import Path

import httpx
import orjson

from tagpulse.collect.accounts import (
    AccountPool,
    AccountSpec,
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

__all__ = ["ANONYMOUS", "build_collector", "fetch_sandbox_clock", "resolve_accounts"]

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
    """Store new specs (sealed) or load the stored ones; anonymous when there are none."""
    box = SecretBox(settings.require_secret())
    if specs:
        store_accounts(catalog, box, specs)
        return specs
    stored = stored_accounts(catalog, box, "instagram")
    return stored or [ANONYMOUS]


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
    base_url = settings.instagram_base_url

    def make_client(spec: AccountSpec) -> InstagramClient:
        return InstagramClient(
            base_url,
            session_id=spec.session_id,
            proxy=spec.proxy,
            source_address=spec.source_address,
        )

    pool = AccountPool.build(specs, make_client, policy or BackoffPolicy(), seed=options.seed)
    return Collector(
        watchlist=Watchlist(tags_path, handles_path),
        pool=pool,
        catalog=catalog,
        writer=LakeWriter(settings.lake_dir),
        archive=RawArchive(settings.lake_dir),
        clock=clock or SystemClock(),
        options=options,
        reporter=reporter,
        stop=stop,
    )
