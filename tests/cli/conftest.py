"""A sandbox on loopback for CLI tests, and a way to run `tagpulse` as a real process."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tagpulse.lake.tables import LakeWriter
from tagpulse.platforms.sandbox.clock import AcceleratedClock
from tagpulse.platforms.sandbox.server import SandboxServer
from tagpulse.platforms.sandbox.world import HOUR, World, default_accounts


@dataclass
class Sandbox:
    world: World
    server: SandboxServer
    clock: AcceleratedClock
    home: Path
    tags_file: Path
    accounts_file: Path

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["TAGPULSE_HOME"] = str(self.home)
        env["TAGPULSE_SECRET_KEY"] = "cli-test-secret-0123456789abcdef"
        env["TAGPULSE_INSTAGRAM_BASE_URL"] = self.server.base_url
        env.pop("TAGPULSE_SANDBOX", None)
        return env

    def track_args(self, *extra: str) -> list[str]:
        return [
            sys.executable, "-m", "tagpulse", "track", str(self.tags_file),
            "--accounts", str(self.accounts_file), "--sandbox-clock", *extra,
        ]  # fmt: skip

    def run(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "tagpulse", *args],
            env=self.env(), capture_output=True, text=True, timeout=timeout, check=False,
        )  # fmt: skip


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[Sandbox]:
    world = World(seed=7, accounts=default_accounts(3))
    LakeWriter.warm_up()
    clock = AcceleratedClock.starting_now(world.start + 2 * HOUR, 1800)
    server = SandboxServer(world, clock).start()
    tags_file = tmp_path / "tags.txt"
    tags_file.write_text("# test watchlist\n#Paris\nnike\nnewyears\nslowtag\n")
    accounts_file = tmp_path / "accounts.toml"
    accounts_file.write_text(
        "".join(
            f'[[account]]\nalias = "{a.alias}"\nsessionid = "{a.session_id}"\n'
            f"requests_per_hour = {a.refill_per_hour * 0.95}\nburst = {a.capacity}\n\n"
            for a in world.accounts
        )
    )
    yield Sandbox(world, server, clock, tmp_path / "home", tags_file, accounts_file)
    server.stop()
