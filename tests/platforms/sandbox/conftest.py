"""A sandbox world with a social side, its server on loopback, and helpers to pick accounts."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import httpx
import pytest

from tagpulse.platforms.sandbox.clock import utc_from_epoch
from tagpulse.platforms.sandbox.payloads import APP_ID
from tagpulse.platforms.sandbox.server import Limits, SandboxServer
from tagpulse.platforms.sandbox.social import SocialWorld
from tagpulse.platforms.sandbox.social_graph import SocialAccount
from tagpulse.platforms.sandbox.world import DAY, AccountSpec, World

IG_FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "instagram_web"
T0_OFFSET = 3 * DAY + 17.25


class ManualClock:
    """Simulated time that moves only when a test says so."""

    speed = 1.0

    def __init__(self, t: float) -> None:
        self.t = t

    def time(self) -> float:
        return self.t

    def now(self) -> datetime:
        return utc_from_epoch(self.t)

    def sleep(self, seconds: float, stop: threading.Event | None = None) -> bool:
        self.t += max(0.0, seconds)
        return bool(stop and stop.is_set())

    def advance(self, seconds: float) -> None:
        self.t += seconds


@pytest.fixture(scope="session")
def world() -> World:
    accounts = [
        AccountSpec("big", "sess-big", capacity=100_000, refill_per_hour=0),
        AccountSpec("small", "sess-small"),
    ]
    return World(seed=7, accounts=accounts)


@pytest.fixture(scope="session")
def social(world: World) -> SocialWorld:
    return world.social


@pytest.fixture
def clock(world: World) -> ManualClock:
    return ManualClock(world.start + T0_OFFSET)


@pytest.fixture
def server(world: World, clock: ManualClock) -> Iterator[SandboxServer]:
    with SandboxServer(world, clock, limits=Limits(ip_capacity=1_000_000)) as srv:
        yield srv


def client(server: SandboxServer, session: str | None = "sess-big") -> httpx.Client:
    return httpx.Client(
        base_url=server.base_url,
        headers={"X-IG-App-ID": APP_ID},
        cookies={"sessionid": session} if session else {},
        timeout=10.0,
    )


def public_account(
    social: SocialWorld, t: float, low: int, high: int, min_rate: float = 0.0
) -> SocialAccount:
    """An ordinary visible account with between ``low`` and ``high`` posts at ``t``."""
    for account in social.accounts:
        if (
            account.posts_per_week >= min_rate
            and not account.is_private
            and account.deleted_at is None
            and account.old_username is None
            and low <= social.post_count(account, t) <= high
            and social.followers(account, t)
        ):
            return account
    raise LookupError(f"no public account with {low}…{high} posts")
