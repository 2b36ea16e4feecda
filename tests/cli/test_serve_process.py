"""`tagpulse serve --with-collector` as real processes: the API adds a tag to a workspace's
watchlist, the collector (a child process) picks it up from the sandbox, and the API answers
its timeline while the collector writes; stopping the server stops the collector."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tagpulse.service.watchlists import WatchlistStore
from tests.cli.conftest import Sandbox
from tests.service.conftest import _free_port

pytestmark = [pytest.mark.subprocess, pytest.mark.slow]


def _series(client: httpx.Client, tag: str) -> list[list[object]]:
    answer = client.get("/workspaces/brand/timelines", params={"tag": tag, "interval": "1h"})
    assert answer.status_code == 200, answer.text
    points: list[list[object]] = answer.json()["series"][tag]
    return points


def test_serve_with_collector(sandbox: Sandbox, tmp_path: Path) -> None:
    store = WatchlistStore(sandbox.home / "catalog.sqlite")
    store.create_user("ana", "correct horse battery", workspace="brand", role="analyst")
    key = store.create_key("ana", workspace="brand", scope="write")
    store.add("brand", "nike", interval_s=900, user="ana")
    store.close()
    port = _free_port()
    log = tmp_path / "serve.log"
    collector_args = (
        f"--accounts {sandbox.accounts_file} --sandbox-clock --every 10m --flush-secs 0.2 --quiet"
    )
    server = subprocess.Popen(
        [sys.executable, "-m", "tagpulse", "serve", "--port", str(port), "--with-collector",
         "--collector-args", collector_args, "--cache-ttl", "0"],
        env=sandbox.env(), stdout=log.open("wb"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}/api/v1"
    try:
        with httpx.Client(base_url=base, headers={"X-API-Key": key}, timeout=60) as client:
            deadline = time.monotonic() + 180
            while True:
                try:
                    if client.get("/health").status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                assert server.poll() is None and time.monotonic() < deadline, "no API"
                time.sleep(0.2)
            # The collector fills nike's timeline; the API reads it while it is written.
            deadline = time.monotonic() + 180
            while len(_series(client, "nike")) < 3:
                assert time.monotonic() < deadline, "the collector stored no nike counts"
                time.sleep(0.3)
            # A tag added through the API reaches the running collector.
            assert (
                client.post("/workspaces/brand/watchlist", json={"entry": "paris"}).status_code
                == 201
            )
            deadline = time.monotonic() + 180
            while not _series(client, "paris"):
                assert time.monotonic() < deadline, "the collector never picked up #paris"
                time.sleep(0.3)
            counts = [c for _, c in _series(client, "nike")]
            assert counts == sorted(counts) and counts[0] > 100_000_000  # nike's world count
    finally:
        server.terminate()
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            server.kill()
            raise AssertionError(log.read_text()[-3000:]) from None
    output = log.read_text()
    # Secrets never reach the logs.
    assert key.split("_", 2)[2] not in output and "correct horse battery" not in output
    assert "collector: pid" in output
    pid = int(output.split("collector: pid ")[1].split(",")[0])
    # The collector child is gone too.
    assert subprocess.run(["kill", "-0", str(pid)], capture_output=True).returncode != 0
