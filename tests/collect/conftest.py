"""A sandbox platform on loopback and a collector wired to it, both real."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from tagpulse.collect.accounts import AccountSpec
from tagpulse.collect.breaker import BackoffPolicy
from tagpulse.collect.build import build_collector
from tagpulse.collect.runner import Collector, CollectorOptions
from tagpulse.config import Settings
from tagpulse.lake.tables import LakeWriter
from tagpulse.platforms.sandbox.clock import AcceleratedClock, SteppedClock
from tagpulse.platforms.sandbox.server import FaultConfig, Limits, SandboxServer
from tagpulse.platforms.sandbox.world import HOUR, World, default_accounts


@dataclass
class Rig:
    world: World
    server: SandboxServer
    clock: AcceleratedClock | SteppedClock
    settings: Settings
    tags_file: Path
    handles_file: Path | None = None

    def collector(
        self,
        *,
        interval_s: float = 1800,
        hours: float = 6,
        rate_factor: float = 0.95,
        policy: BackoffPolicy | None = None,
        stop: threading.Event | None = None,
        extra_accounts: Sequence[AccountSpec] = (),
        **opts: object,
    ) -> Collector:
        specs = [
            AccountSpec(
                a.alias,
                a.session_id,
                requests_per_hour=a.refill_per_hour * rate_factor,
                burst=a.capacity,
            )
            for a in self.world.accounts
        ]
        specs += extra_accounts  # e.g. X apps, TikTok sessions
        options = CollectorOptions(
            interval_s=interval_s,
            until=self.clock.time() + hours * HOUR,
            flush_wall_s=0.5,
            max_wall_sleep_s=0.05,
            seed=1,
            **opts,  # type: ignore[arg-type]
        )
        return build_collector(
            self.settings,
            self.tags_file,
            accounts=specs,
            options=options,
            clock=self.clock,
            stop=stop,
            policy=policy,
            handles_path=self.handles_file,
        )


@pytest.fixture
def make_rig(tmp_path: Path) -> Iterator[Callable[..., Rig]]:
    servers: list[SandboxServer] = []

    def make(
        tags: str = "paris\nnike\nnewyears\nslowtag\n",
        *,
        accounts: int = 3,
        speed: float = 3 * 3600,
        faults: FaultConfig | None = None,
        limits: Limits | None = None,
        stepped: bool = True,
    ) -> Rig:
        world = World(seed=7, accounts=default_accounts(accounts))
        LakeWriter.warm_up()  # one-off imports must not eat simulated hours
        # Stepped time is exact (a sleep jumps ahead); accelerated time runs on its own, for the
        # tests that need a collector running in the background.
        clock: AcceleratedClock | SteppedClock = (
            SteppedClock(world.start + 2 * HOUR)
            if stepped
            else AcceleratedClock.starting_now(world.start + 2 * HOUR, speed)
        )
        server = SandboxServer(world, clock, faults=faults, limits=limits).start()
        servers.append(server)
        tags_file = tmp_path / "tags.txt"
        tags_file.write_text(tags)
        settings = Settings(
            home=tmp_path / "home",
            instagram_base_url=server.base_url,
            tiktok_base_url=server.base_url,  # the sandbox speaks every platform
            x_base_url=server.base_url,
            ig_graph_base_url=server.base_url + "/graph/v21.0",
            sandbox=True,
        )
        return Rig(world, server, clock, settings, tags_file)

    yield make
    for server in servers:
        server.stop()
