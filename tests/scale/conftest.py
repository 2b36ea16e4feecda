"""A local cluster: redis-server on a free loopback port and the sandbox platform on loopback."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tagpulse.scale.local import LocalRedis


@pytest.fixture
def local_redis() -> Iterator[LocalRedis]:
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed (make test installs it with apt)")
    with LocalRedis() as server:
        yield server


def write_accounts(path: Path, accounts: list[tuple[str, str, float, float]]) -> Path:
    """An accounts file: (alias, sessionid, requests_per_hour, burst) each."""
    lines = []
    for alias, session, per_hour, burst in accounts:
        lines += [
            "[[account]]",
            f'alias = "{alias}"',
            f'sessionid = "{session}"',
            f"requests_per_hour = {per_hour}",
            f"burst = {burst}",
            "",
        ]
    path.write_text("\n".join(lines))
    return path
